/**
 * What a compressed file's frames decode to, read from the container and frame headers without decoding: channels,
 * sample rate, and how many samples per channel the decoder can produce at most. container.ts reports these so
 * decodeAudio refuses a decompression bomb (a few bytes per frame that each expand to thousands of samples, or a
 * header declaring hundreds of channels) before a decoder allocates for it. Bounds count every frame or packet the
 * decoder could accept, so they hold even when a header's declared length lies.
 */

/** Channels, rate and lengths a file declares; any may be unknown (null). */
export interface StreamInfo {
  channels: number | null;
  sampleRate: number | null;
  /** Samples per channel the file holds, near enough to refuse a too-long input (frame counts, Ogg granule). */
  approxFrames: number | null;
  /** Most samples per channel the decoder can produce (every frame or packet at its largest). */
  maxFrames: number | null;
}

const u16be = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const u32be = (b: Uint8Array, o: number) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
const u32le = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
const fourcc = (b: Uint8Array, o: number) => String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3]);

// --------------------------------------------------------------------------------------------------------------- FLAC

/** CRC-8 (polynomial 0x07) of a FLAC frame header, as the decoder checks it. */
function crc8(b: Uint8Array, from: number, to: number): number {
  let crc = 0;
  for (let i = from; i < to; i++) {
    crc ^= b[i];
    for (let k = 0; k < 8; k++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}

/** Samples per channel of the FLAC frame whose header starts at pos, or null if no valid header (CRC-8 checked) is there. */
export function flacFrameSamples(b: Uint8Array, pos: number, end = b.length): number | null {
  if (pos + 6 > end || b[pos] !== 0xff || (b[pos + 1] & 0xfe) !== 0xf8) return null;
  const bsCode = b[pos + 2] >> 4;
  const srCode = b[pos + 2] & 0x0f;
  const channelCode = b[pos + 3] >> 4;
  if (bsCode === 0 || srCode === 15 || channelCode > 10 || ((b[pos + 3] >> 1) & 7) === 3 || b[pos + 3] & 1) return null;
  // The frame or sample number, UTF-8 style: leading ones of the first byte give its length.
  let p = pos + 4;
  let extra = 0;
  while (extra < 8 && b[p] & (0x80 >> extra)) extra++;
  if (extra === 1 || extra === 8) return null;
  const numberBytes = extra === 0 ? 1 : extra;
  if (p + numberBytes > end) return null;
  for (let i = 1; i < numberBytes; i++) if ((b[p + i] & 0xc0) !== 0x80) return null;
  p += numberBytes;
  let samples: number;
  if (bsCode === 1) samples = 192;
  else if (bsCode <= 5) samples = 576 << (bsCode - 2);
  else if (bsCode === 6) samples = b[p++] + 1;
  else if (bsCode === 7) samples = u16be(b, (p += 2) - 2) + 1;
  else samples = 256 << (bsCode - 8);
  p += srCode === 12 ? 1 : srCode === 13 || srCode === 14 ? 2 : 0;
  if (p + 1 > end || crc8(b, pos, p) !== b[p]) return null;
  return samples;
}

/**
 * Most samples per channel a FLAC stream's frames decode to: the block sizes of every valid frame header from `from`
 * on. FLAC frames carry no length, so every sync code is tried; a false one only adds to the bound.
 */
export function flacMaxFrames(b: Uint8Array, from: number): number {
  let total = 0;
  for (let i = from; i + 1 < b.length; i++) {
    if (b[i] !== 0xff || (b[i + 1] & 0xfe) !== 0xf8) continue;
    total += flacFrameSamples(b, i) ?? 0;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------------------------- Ogg

/** Samples (at 48 kHz) an Opus packet decodes to, from its TOC byte and frame count (RFC 6716 3.1). */
function opusPacketSamples(packet: Uint8Array, length: number): number {
  if (length < 1) return 0;
  const config = packet[0] >> 3;
  const frame = config < 12 ? [480, 960, 1920, 2880][config & 3] : config < 16 ? [480, 960][config & 1] : [120, 240, 480, 960][config & 3];
  const code = packet[0] & 3;
  const frames = code === 0 ? 1 : code < 3 ? 2 : length >= 2 ? packet[1] & 0x3f : 0;
  return Math.min(frames * frame, 5760); // a packet is at most 120 ms
}

interface OggStream {
  codec: 'vorbis' | 'opus' | 'flac' | null;
  packets: number;
  channels: number;
  sampleRate: number;
  /** Vorbis: half the long block, the most one packet adds. */
  vorbisPacket: number;
  preSkip: number;
  granule: number;
  maxFrames: number;
  /** First bytes of the packet being assembled, and its length so far. */
  head: Uint8Array;
  length: number;
}

/** Identifies a logical stream from its first packet (the codec's ID header). */
function identify(s: OggStream, p: Uint8Array, n: number): void {
  if (n >= 30 && p[0] === 1 && fourcc(p, 1) === 'vorb' && p[5] === 0x69 && p[6] === 0x73) {
    s.codec = 'vorbis';
    s.channels = p[11];
    s.sampleRate = u32le(p, 12);
    s.vorbisPacket = (1 << (p[28] >> 4)) / 2;
  } else if (n >= 19 && fourcc(p, 0) === 'Opus' && fourcc(p, 4) === 'Head') {
    s.codec = 'opus';
    s.channels = p[9];
    s.sampleRate = 48000; // Opus always decodes at 48 kHz
    s.preSkip = p[10] | (p[11] << 8);
  } else if (n >= 51 && p[0] === 0x7f && fourcc(p, 1) === 'FLAC' && fourcc(p, 9) === 'fLaC') {
    s.codec = 'flac';
    s.sampleRate = (p[27] << 12) | (p[28] << 4) | (p[29] >> 4);
    s.channels = ((p[29] >> 1) & 7) + 1;
  }
}

/** Adds what one complete packet of a known stream can decode to. */
function countPacket(s: OggStream, p: Uint8Array, n: number): void {
  if (s.codec === 'vorbis' && n > 0 && (p[0] & 1) === 0) s.maxFrames += s.vorbisPacket;
  else if (s.codec === 'opus' && s.packets >= 2) s.maxFrames += opusPacketSamples(p, n);
  else if (s.codec === 'flac' && n >= 2 && p[0] === 0xff) s.maxFrames += flacFrameSamples(p, 0, Math.min(n, p.length)) ?? 65536;
}

/** Channels, rate and bounds of an Ogg file's Vorbis, Opus and FLAC streams (chained streams add up). */
export function oggInfo(b: Uint8Array): StreamInfo {
  const streams = new Map<number, OggStream>();
  let pos = 0;
  while (pos + 27 <= b.length && fourcc(b, pos) === 'OggS') {
    const serial = u32le(b, pos + 14);
    const granule = u32le(b, pos + 6) + u32le(b, pos + 10) * 2 ** 32;
    let s = streams.get(serial);
    if (!s) {
      s = { codec: null, packets: 0, channels: 0, sampleRate: 0, vorbisPacket: 0, preSkip: 0, granule: 0, maxFrames: 0, head: new Uint8Array(64), length: 0 };
      streams.set(serial, s);
    }
    if (granule !== 2 ** 64 - 1 && granule !== 2 ** 64) s.granule = Math.max(s.granule, granule); // all ones: no packet ends here
    const nSegs = b[pos + 26];
    let body = pos + 27 + nSegs;
    for (let i = 0; i < nSegs; i++) {
      const lacing = b[pos + 27 + i];
      const take = Math.min(lacing, s.head.length - s.length, b.length - body);
      if (take > 0) s.head.set(b.subarray(body, body + take), Math.min(s.length, s.head.length));
      s.length += lacing;
      body += lacing;
      if (lacing < 255) {
        if (s.packets === 0) identify(s, s.head, s.length);
        else countPacket(s, s.head, s.length);
        s.packets++;
        s.length = 0;
      }
    }
    pos = body;
  }
  const known = [...streams.values()].filter((s) => s.codec !== null);
  if (known.length === 0) return { channels: null, sampleRate: null, approxFrames: null, maxFrames: null };
  return {
    channels: Math.max(...known.map((s) => s.channels)),
    sampleRate: known[0].sampleRate,
    approxFrames: known.reduce((sum, s) => sum + Math.max(0, s.granule - s.preSkip), 0),
    maxFrames: known.reduce((sum, s) => sum + s.maxFrames, 0),
  };
}

// ------------------------------------------------------------------------------------------------------------- ADTS

const ADTS_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** An ADTS (raw AAC) frame header at pos: its length, rate, channels (null: in a PCE) and raw blocks; or null. */
export function adtsFrame(b: Uint8Array, pos: number): { length: number; sampleRate: number; channels: number | null; blocks: number } | null {
  if (pos + 7 > b.length || b[pos] !== 0xff || (b[pos + 1] & 0xf6) !== 0xf0) return null;
  const rateIndex = (b[pos + 2] >> 2) & 0x0f;
  const length = ((b[pos + 3] & 0x03) << 11) | (b[pos + 4] << 3) | (b[pos + 5] >> 5);
  if (rateIndex >= ADTS_RATES.length || length < 7) return null;
  const channelConfig = ((b[pos + 2] & 0x01) << 2) | (b[pos + 3] >> 6);
  return { length, sampleRate: ADTS_RATES[rateIndex], channels: channelConfig === 0 ? null : channelConfig === 7 ? 8 : channelConfig, blocks: (b[pos + 6] & 0x03) + 1 };
}

// ---------------------------------------------------------------------------------------------------------------- MP4

/** Child boxes of [start, end): type and payload range. */
function* boxes(b: Uint8Array, start: number, end: number): Generator<{ type: string; start: number; end: number }> {
  let pos = start;
  while (pos + 8 <= end) {
    let size = u32be(b, pos);
    let header = 8;
    if (size === 1) {
      if (pos + 16 > end) return;
      size = u32be(b, pos + 8) * 2 ** 32 + u32be(b, pos + 12);
      header = 16;
    } else if (size === 0) size = end - pos;
    if (size < header || pos + size > end) return;
    yield { type: fourcc(b, pos + 4), start: pos + header, end: pos + size };
    pos += size;
  }
}

function child(b: Uint8Array, box: { start: number; end: number }, type: string): { start: number; end: number } | null {
  for (const c of boxes(b, box.start, box.end)) if (c.type === type) return c;
  return null;
}

/** An MPEG-4 descriptor's tag and payload range at pos (length in 1-4 bytes of 7 bits). */
function descriptor(b: Uint8Array, pos: number, end: number): { tag: number; start: number; end: number } | null {
  if (pos + 2 > end) return null;
  let length = 0;
  let p = pos + 1;
  for (let i = 0; i < 4 && p < end; i++) {
    length = (length << 7) | (b[p] & 0x7f);
    if (!(b[p++] & 0x80)) break;
  }
  return p + length <= end ? { tag: b[pos], start: p, end: p + length } : null;
}

/**
 * Samples per AAC access unit from an mp4a entry's esds (children from `from`): 1024, or 2048 when SBR may double the
 * rate (HE-AAC signalled, or a core rate of 24 kHz or less, where decoders also look for SBR in the stream). Unreadable
 * configs count 2048.
 */
function aacFrameSamples(b: Uint8Array, from: number, end: number, sampleRate: number | null): number {
  const esds = child(b, { start: from, end }, 'esds');
  const es = esds && descriptor(b, esds.start + 4, esds.end);
  if (es?.tag !== 3 || es.start + 3 > es.end) return 2048;
  const flags = b[es.start + 2];
  const configAt = es.start + 3 + (flags & 0x80 ? 2 : 0) + (flags & 0x40 ? 1 + b[es.start + 3] : 0) + (flags & 0x20 ? 2 : 0);
  const decoderConfig = descriptor(b, configAt, es.end);
  const specific = decoderConfig && decoderConfig.tag === 4 ? descriptor(b, decoderConfig.start + 13, decoderConfig.end) : null;
  if (specific?.tag !== 5 || specific.start + 2 > specific.end) return 2048;
  const objectType = b[specific.start] >> 3;
  return objectType === 5 || objectType === 29 || objectType === 31 || !sampleRate || sampleRate <= 24000 ? 2048 : 1024;
}

/**
 * The first sound track of an MP4/M4A: channels and rate of its sample entry, its length (mdhd), and for AAC the most
 * it decodes to: its access units (stsz) times their samples.
 */
export function mp4Info(b: Uint8Array): StreamInfo {
  const none: StreamInfo = { channels: null, sampleRate: null, approxFrames: null, maxFrames: null };
  const moov = child(b, { start: 0, end: b.length }, 'moov');
  if (!moov) return none;
  for (const trak of boxes(b, moov.start, moov.end)) {
    if (trak.type !== 'trak') continue;
    const mdia = child(b, trak, 'mdia');
    const hdlr = mdia && child(b, mdia, 'hdlr');
    if (!mdia || !hdlr || hdlr.start + 12 > hdlr.end || fourcc(b, hdlr.start + 8) !== 'soun') continue;
    const minf = child(b, mdia, 'minf');
    const stbl = minf && child(b, minf, 'stbl');
    const stsd = stbl && child(b, stbl, 'stsd');
    const entry = stsd && stsd.start + 8 + 36 <= stsd.end ? stsd.start + 8 : null;
    if (entry === null || !stbl || !stsd) return none;
    const format = fourcc(b, entry + 4);
    const version = u16be(b, entry + 16);
    const channels = version < 2 ? u16be(b, entry + 24) : null;
    const sampleRate = version < 2 ? u32be(b, entry + 32) >>> 16 : null;
    const mdhd = child(b, mdia, 'mdhd');
    let approxFrames: number | null = null;
    const v1 = mdhd !== null && b[mdhd.start] === 1;
    if (mdhd && sampleRate && mdhd.start + (v1 ? 32 : 20) <= mdhd.end) {
      const timescale = u32be(b, mdhd.start + (v1 ? 20 : 12));
      const duration = v1 ? u32be(b, mdhd.start + 24) * 2 ** 32 + u32be(b, mdhd.start + 28) : u32be(b, mdhd.start + 16);
      if (timescale > 0) approxFrames = Math.round((duration / timescale) * sampleRate);
    }
    const stsz = child(b, stbl, 'stsz') ?? child(b, stbl, 'stz2');
    const units = stsz && stsz.start + 12 <= stsz.end ? u32be(b, stsz.start + 8) : null;
    const perUnit = format === 'mp4a' && version === 0 ? aacFrameSamples(b, entry + 36, Math.min(stsd.end, entry + u32be(b, entry)), sampleRate) : null;
    // No units in stsz: a fragmented file (moof boxes), whose samples are checked on the decoded output.
    return { channels, sampleRate, approxFrames, maxFrames: perUnit !== null && units ? units * perUnit : null };
  }
  return none;
}

// --------------------------------------------------------------------------------------------------------------- WebM

/** EBML variable-length integer at pos: its byte length and value (value null for the reserved "unknown" size). */
export function ebmlVint(b: Uint8Array, pos: number, keepMarker: boolean): { length: number; value: number | null } | null {
  if (pos >= b.length) return null;
  const first = b[pos];
  let length = 1;
  while (length <= 8 && !(first & (0x80 >> (length - 1)))) length++;
  if (length > 8 || pos + length > b.length) return null;
  let value = keepMarker ? first : first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    value = value * 256 + b[pos + i];
    if (b[pos + i] !== 0xff) allOnes = false;
  }
  return { length, value: !keepMarker && allOnes ? null : value };
}

const EBML = { segment: 0x18538067, info: 0x1549a966, tracks: 0x1654ae6b, cluster: 0x1f43b675, trackEntry: 0xae, trackType: 0x83, audio: 0xe1, channels: 0x9f, rate: 0xb5, scale: 0x2ad7b1, duration: 0x4489 };

/** Elements of [start, end): id and payload range (an unknown size runs to `end`). */
function* elements(b: Uint8Array, start: number, end: number): Generator<{ id: number; start: number; end: number }> {
  let pos = start;
  while (pos < end) {
    const id = ebmlVint(b, pos, true);
    const size = id && ebmlVint(b, pos + id.length, false);
    if (!id || !size || id.value === null) return;
    const from = pos + id.length + size.length;
    const to = size.value === null ? end : Math.min(end, from + size.value);
    yield { id: id.value, start: from, end: to };
    pos = to;
  }
}

function ebmlUint(b: Uint8Array, e: { start: number; end: number }): number {
  let v = 0;
  for (let i = e.start; i < e.end; i++) v = v * 256 + b[i];
  return v;
}

function ebmlFloat(b: Uint8Array, e: { start: number; end: number }): number {
  const view = new DataView(b.buffer, b.byteOffset + e.start, e.end - e.start);
  return e.end - e.start === 4 ? view.getFloat32(0) : e.end - e.start === 8 ? view.getFloat64(0) : NaN;
}

/** The first audio track of a WebM/Matroska file: channels, rate and Info's duration (its clusters are not counted). */
export function webmInfo(b: Uint8Array): StreamInfo {
  const info: StreamInfo = { channels: null, sampleRate: null, approxFrames: null, maxFrames: null };
  let scale = 1e6;
  let duration: number | null = null;
  for (const top of elements(b, 0, b.length)) {
    if (top.id !== EBML.segment) continue;
    for (const el of elements(b, top.start, top.end)) {
      if (el.id === EBML.cluster) break; // Info and Tracks come first
      if (el.id === EBML.info) {
        for (const f of elements(b, el.start, el.end)) {
          if (f.id === EBML.scale) scale = ebmlUint(b, f);
          else if (f.id === EBML.duration) duration = ebmlFloat(b, f);
        }
      } else if (el.id === EBML.tracks && info.channels === null) {
        for (const track of elements(b, el.start, el.end)) {
          if (track.id !== EBML.trackEntry) continue;
          const fields = [...elements(b, track.start, track.end)];
          const audio = fields.find((f) => f.id === EBML.audio);
          if (!audio || ebmlUint(b, fields.find((f) => f.id === EBML.trackType) ?? { start: 0, end: 0 }) !== 2) continue;
          info.channels = 1; // Matroska's default
          info.sampleRate = 8000;
          for (const f of elements(b, audio.start, audio.end)) {
            if (f.id === EBML.channels) info.channels = ebmlUint(b, f);
            else if (f.id === EBML.rate) info.sampleRate = ebmlFloat(b, f);
          }
          break;
        }
      }
    }
    break;
  }
  if (duration !== null && info.sampleRate && Number.isFinite(duration)) info.approxFrames = Math.round(((duration * scale) / 1e9) * info.sampleRate);
  return info;
}
