/**
 * Container-level sanity checks run around audio-decode, which returns partial or empty audio without throwing for
 * some truncated or damaged files. Each check walks the container's own framing (no decoding) and reports what the
 * file declares, so decodeAudio can tell "short recording" from "cut-off upload".
 */
import { adtsFrame, ebmlVint, flacMaxFrames, mp4Info, oggInfo, webmInfo, type StreamInfo } from './frames.js';
import { readWavHeader, wavFrames, wavLayoutProblem, type WavHeader } from './wav.js';

export type ContainerFormat = 'wav' | 'mp3' | 'flac' | 'ogg' | 'mp4' | 'webm' | 'aac';

/** How formats are named in messages. */
export const FORMAT_LABEL: Readonly<Record<ContainerFormat, string>> = {
  wav: 'WAV',
  mp3: 'MP3',
  flac: 'FLAC',
  ogg: 'Ogg',
  mp4: 'MP4/M4A',
  webm: 'WebM',
  aac: 'AAC (ADTS)',
};

export interface ContainerReport {
  format: ContainerFormat;
  /** Why the container is damaged, as a phrase ("the last frame needs 12 more bytes (cut off)"), or null. */
  problem: string | null;
  /** Sample frames the container declares, when exact (WAV data size, FLAC STREAMINFO); MP3's Xing/Info frame count
   *  includes encoder padding, so it is checked inside inspectMp3 instead. */
  declaredFrames: number | null;
  /** Sample rate the header declares, when known before decoding. */
  sampleRate: number | null;
  /** Channels the header declares (the most of any stream), when known before decoding. */
  channels: number | null;
  /** Samples per channel the file holds, near enough to refuse a too-long input before decoding (frames.ts). */
  approxFrames: number | null;
  /** Most samples per channel the decoder can produce, from every frame or packet (frames.ts); the decode budget. */
  maxFrames: number | null;
  /** WAV only: the parsed header (used to match librosa's integer-PCM scaling). */
  wav?: WavHeader;
}

function fourcc(b: Uint8Array, o: number): string {
  return String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3]);
}

/** Container family from magic bytes; null when unknown here (audio-decode may still know it). */
export function sniffContainer(b: Uint8Array): ContainerFormat | null {
  if (b.length >= 12 && fourcc(b, 0) === 'RIFF' && fourcc(b, 8) === 'WAVE') return 'wav';
  if (b.length >= 4 && fourcc(b, 0) === 'fLaC') return 'flac';
  if (b.length >= 4 && fourcc(b, 0) === 'OggS') return 'ogg';
  if (b.length >= 8 && fourcc(b, 4) === 'ftyp') return 'mp4';
  if (b.length >= 4 && b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) return 'webm';
  if (b.length >= 3 && fourcc(b, 0).startsWith('ID3')) return adtsFrame(b, tagsLength(b)) ? 'aac' : 'mp3';
  if (b.length >= 4 && mp3Frame(b, 0) !== null) return 'mp3';
  if (adtsFrame(b, 0)) return 'aac';
  return null;
}

export function inspectContainer(b: Uint8Array): ContainerReport | null {
  switch (sniffContainer(b)) {
    case 'wav':
      return inspectWav(b);
    case 'flac':
      return inspectFlac(b);
    case 'ogg':
      return inspectOgg(b);
    case 'mp4':
      return inspectMp4(b);
    case 'webm':
      return inspectWebm(b);
    case 'mp3':
      return inspectMp3(b);
    case 'aac':
      return inspectAdts(b);
    default:
      return null;
  }
}

function report(format: ContainerFormat, problem: string | null, extra: Partial<ContainerReport> = {}): ContainerReport {
  return { format, problem, declaredFrames: null, sampleRate: null, channels: null, approxFrames: null, maxFrames: null, ...extra };
}

/** A report with what frames.ts read (its nulls do not overwrite what the caller knows). */
function withInfo(format: ContainerFormat, info: StreamInfo, extra: Partial<ContainerReport> = {}): ContainerReport {
  const known = Object.fromEntries(Object.entries(info).filter(([, v]) => v !== null));
  return report(format, null, { ...extra, ...known });
}

// ---------------------------------------------------------------------------------------------------------------- WAV

function inspectWav(b: Uint8Array): ContainerReport {
  const h = readWavHeader(b);
  if (!h) return report('wav', 'the header is incomplete (no fmt or data chunk)');
  const layout = h.blockAlign === 0 || h.channels === 0 ? 'the header declares zero channels or a zero block size' : wavLayoutProblem(h);
  if (layout) return report('wav', layout, { sampleRate: h.sampleRate, channels: h.channels, wav: h });
  // A "read to the end" size declares nothing: the bytes present are what the codec decodes.
  const declaredFrames = h.declaredDataBytes === null ? null : wavFrames(h, h.declaredDataBytes);
  const frames = declaredFrames ?? wavFrames(h, h.availableDataBytes);
  const extra = { sampleRate: h.sampleRate, channels: h.channels, approxFrames: frames, maxFrames: frames, wav: h };
  if (h.declaredDataBytes !== null && h.availableDataBytes < h.declaredDataBytes) {
    return report(
      'wav',
      `the data chunk declares ${h.declaredDataBytes} bytes but only ${h.availableDataBytes} are present (cut off)`,
      { ...extra, declaredFrames },
    );
  }
  return report('wav', null, { ...extra, declaredFrames });
}

// --------------------------------------------------------------------------------------------------------------- FLAC

function inspectFlac(b: Uint8Array): ContainerReport {
  let pos = 4;
  let declaredFrames: number | null = null;
  let sampleRate: number | null = null;
  let channels: number | null = null;
  for (;;) {
    if (pos + 4 > b.length) return report('flac', 'the metadata is cut off', { declaredFrames, sampleRate });
    const last = (b[pos] & 0x80) !== 0;
    const type = b[pos] & 0x7f;
    const size = (b[pos + 1] << 16) | (b[pos + 2] << 8) | b[pos + 3];
    if (pos + 4 + size > b.length) return report('flac', 'the metadata is cut off', { declaredFrames, sampleRate });
    if (type === 0 && size >= 34) {
      const s = pos + 4 + 10;
      sampleRate = (b[s] << 12) | (b[s + 1] << 4) | (b[s + 2] >> 4);
      channels = ((b[s + 2] >> 1) & 7) + 1;
      const total = (b[s + 3] & 0x0f) * 2 ** 32 + ((b[s + 4] << 24) >>> 0) + (b[s + 5] << 16) + (b[s + 6] << 8) + b[s + 7];
      declaredFrames = total > 0 ? total : null; // 0 = unknown
    }
    pos += 4 + size;
    if (last) break;
  }
  if (pos >= b.length) return report('flac', 'it has metadata but no audio frames', { declaredFrames, sampleRate });
  const maxFrames = flacMaxFrames(b, pos);
  return report('flac', null, { declaredFrames, sampleRate, channels, approxFrames: declaredFrames ?? maxFrames, maxFrames });
}

// ---------------------------------------------------------------------------------------------------------------- Ogg

function inspectOgg(b: Uint8Array): ContainerReport {
  let pos = 0;
  let sawEos = false;
  let pages = 0;
  while (pos < b.length) {
    if (pos + 27 > b.length || fourcc(b, pos) !== 'OggS') {
      return report('ogg', pages === 0 ? 'the first page header is damaged' : `the stream is cut off or damaged after page ${pages}`);
    }
    const nSegs = b[pos + 26];
    if (pos + 27 + nSegs > b.length) return report('ogg', 'the last page header is incomplete (cut off)');
    let body = 0;
    for (let i = 0; i < nSegs; i++) body += b[pos + 27 + i];
    const end = pos + 27 + nSegs + body;
    if (end > b.length) return report('ogg', `page ${pages + 1} ends past the end of the file (cut off)`);
    sawEos = (b[pos + 5] & 0x04) !== 0;
    pos = end;
    pages++;
  }
  if (!sawEos) return report('ogg', 'there is no end-of-stream page (cut off)');
  return withInfo('ogg', oggInfo(b));
}

// ---------------------------------------------------------------------------------------------------------------- MP4

function inspectMp4(b: Uint8Array): ContainerReport {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let pos = 0;
  while (pos + 8 <= b.length) {
    let size = view.getUint32(pos);
    const type = fourcc(b, pos + 4);
    if (size === 1) {
      if (pos + 16 > b.length) return report('mp4', `box '${type}' is cut off`);
      size = view.getUint32(pos + 8) * 2 ** 32 + view.getUint32(pos + 12);
    } else if (size === 0) {
      return withInfo('mp4', mp4Info(b)); // last box runs to the end of the file
    }
    if (size < 8) return report('mp4', `box '${type}' has an invalid size ${size}`);
    if (pos + size > b.length) {
      return report('mp4', `box '${type}' declares ${size} bytes but the file ends ${pos + size - b.length} bytes early (cut off)`);
    }
    pos += size;
  }
  if (pos !== b.length) return report('mp4', 'the file ends inside a box header (cut off)');
  return withInfo('mp4', mp4Info(b));
}

// --------------------------------------------------------------------------------------------------------------- WebM

function inspectWebm(b: Uint8Array): ContainerReport {
  let pos = 0;
  while (pos < b.length) {
    const id = ebmlVint(b, pos, true);
    const size = id && ebmlVint(b, pos + id.length, false);
    if (!id || !size) return report('webm', 'an element header is cut off');
    const start = pos + id.length + size.length;
    if (size.value === null) return withInfo('webm', webmInfo(b)); // unknown-size (live) segment: nothing declared to check
    if (start + size.value > b.length) {
      return report('webm', `an element declares ${size.value} bytes but the file ends ${start + size.value - b.length} bytes early (cut off)`);
    }
    pos = start + size.value;
  }
  return withInfo('webm', webmInfo(b));
}

// ---------------------------------------------------------------------------------------------------------------- MP3

const MP3_BITRATES = {
  v1l1: [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  v1l2: [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  v1l3: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  v2l1: [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  v2l23: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const MP3_RATES: Record<number, number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

interface Mp3Frame {
  length: number;
  samples: number;
  sampleRate: number;
  mpeg1: boolean;
  mono: boolean;
}

/** MPEG audio frame header at pos, or null if the 4 bytes there are not a valid (non-free-format) header. */
function mp3Frame(b: Uint8Array, pos: number): Mp3Frame | null {
  if (pos + 4 > b.length || b[pos] !== 0xff || (b[pos + 1] & 0xe0) !== 0xe0) return null;
  const version = (b[pos + 1] >> 3) & 3; // 3 = MPEG1, 2 = MPEG2, 0 = MPEG2.5
  const layer = (b[pos + 1] >> 1) & 3; // 3 = I, 2 = II, 1 = III
  const brIndex = b[pos + 2] >> 4;
  const srIndex = (b[pos + 2] >> 2) & 3;
  if (version === 1 || layer === 0 || brIndex === 0 || brIndex === 15 || srIndex === 3) return null;
  const mpeg1 = version === 3;
  const table = mpeg1 ? (layer === 3 ? MP3_BITRATES.v1l1 : layer === 2 ? MP3_BITRATES.v1l2 : MP3_BITRATES.v1l3) : layer === 3 ? MP3_BITRATES.v2l1 : MP3_BITRATES.v2l23;
  const bitrate = table[brIndex] * 1000;
  const sampleRate = MP3_RATES[version][srIndex];
  const padding = (b[pos + 2] >> 1) & 1;
  const mono = b[pos + 3] >> 6 === 3;
  if (layer === 3) return { length: (Math.floor((12 * bitrate) / sampleRate) + padding) * 4, samples: 384, sampleRate, mpeg1, mono };
  const samples = layer === 1 && !mpeg1 ? 576 : 1152;
  return { length: Math.floor(((samples / 8) * bitrate) / sampleRate) + padding, samples, sampleRate, mpeg1, mono };
}

/** A header at pos that is confirmed by the next one (or by the end of the data): guards against false syncs. */
function confirmedMp3Frame(b: Uint8Array, pos: number, end: number): Mp3Frame | null {
  const f = mp3Frame(b, pos);
  if (!f) return null;
  const next = pos + f.length;
  if (next === end) return f;
  const g = mp3Frame(b, next);
  return g && g.sampleRate === f.sampleRate ? f : null;
}

/** Bytes of the ID3v2 tags at the start of the file. */
function tagsLength(b: Uint8Array): number {
  let pos = 0;
  while (id3v2Length(b, pos) > 0) pos += id3v2Length(b, pos);
  return pos;
}

function id3v2Length(b: Uint8Array, pos: number): number {
  if (pos + 10 > b.length || fourcc(b, pos).slice(0, 3) !== 'ID3') return 0;
  const size = ((b[pos + 6] & 0x7f) << 21) | ((b[pos + 7] & 0x7f) << 14) | ((b[pos + 8] & 0x7f) << 7) | (b[pos + 9] & 0x7f);
  return 10 + size + (b[pos + 5] & 0x10 ? 10 : 0);
}

/** Xing/Info tag frame count in the first frame (LAME, ffmpeg write one), excluding the tag frame itself. */
function xingFrames(b: Uint8Array, pos: number, f: Mp3Frame): number | null {
  const sideInfo = f.mpeg1 ? (f.mono ? 17 : 32) : f.mono ? 9 : 17;
  const at = pos + 4 + sideInfo;
  if (at + 12 > b.length) return null;
  const tag = fourcc(b, at);
  if (tag !== 'Xing' && tag !== 'Info') return null;
  const flags = ((b[at + 4] << 24) | (b[at + 5] << 16) | (b[at + 6] << 8) | b[at + 7]) >>> 0;
  if (!(flags & 1)) return null;
  return ((b[at + 8] << 24) | (b[at + 9] << 16) | (b[at + 10] << 8) | b[at + 11]) >>> 0;
}

/** Bytes of known trailing tags at the end of an MP3 (ID3v1, APEv2), so they are not mistaken for junk. */
function isMp3Trailer(b: Uint8Array, pos: number): boolean {
  const tag = fourcc(b, pos);
  return tag.startsWith('TAG') || tag === 'APET' || tag === 'LYRI' || tag.startsWith('ID3');
}

function inspectMp3(b: Uint8Array): ContainerReport {
  let pos = tagsLength(b);
  if (pos > b.length) return report('mp3', 'the ID3 tag runs past the end of the file (cut off)');
  const end = b.length;
  let frames = 0;
  let junk = 0;
  let first: Mp3Frame | null = null;
  let declared: number | null = null;
  let xingFrame = false;
  let samples = 0;
  let channels = 1;
  while (pos < end) {
    const f = frames === 0 ? confirmedMp3Frame(b, pos, end) : mp3Frame(b, pos);
    if (f) {
      if (pos + f.length > end) {
        return report('mp3', `the last frame needs ${pos + f.length - end} more bytes (cut off)`, { sampleRate: f.sampleRate });
      }
      if (!first) {
        first = f;
        const x = xingFrames(b, pos, f);
        if (x !== null) {
          declared = x * f.samples;
          xingFrame = true;
        }
      }
      frames++;
      samples += f.samples;
      if (!f.mono) channels = 2;
      pos += f.length;
      continue;
    }
    if (end - pos >= 3 && isMp3Trailer(b, pos)) break;
    // Lost sync: skip to the next confirmed header, counting the skipped bytes.
    const from = pos;
    pos++;
    while (pos < end && !confirmedMp3Frame(b, pos, end)) pos++;
    junk += pos - from;
  }
  const sampleRate = first?.sampleRate ?? null;
  if (!first) return report('mp3', 'no MPEG audio frames found');
  // The decoder may find frames in skipped junk or after a tag too: at most 24 samples a byte (a 24-byte frame of 576).
  const uncounted = junk + (end - pos);
  const counts = { sampleRate, channels, approxFrames: samples, maxFrames: samples + 24 * uncounted };
  const audioFrames = frames - (xingFrame ? 1 : 0);
  if (declared !== null && audioFrames * first.samples < declared) {
    return report('mp3', `its Xing/Info header declares ${declared / first.samples} frames but only ${audioFrames} are present (cut off)`, { sampleRate });
  }
  if (junk > 0.1 * end) return report('mp3', `${junk} of ${end} bytes are not valid MPEG frames`, { sampleRate });
  return report('mp3', null, counts);
}

// -------------------------------------------------------------------------------------------------------- AAC (ADTS)

/** Raw AAC: every ADTS frame walked (1024 samples per raw block, 2048 with HE-AAC's SBR doubling the rate). */
function inspectAdts(b: Uint8Array): ContainerReport {
  let pos = tagsLength(b);
  let blocks = 0;
  let first: ReturnType<typeof adtsFrame> = null;
  while (pos < b.length) {
    const f = adtsFrame(b, pos);
    if (!f) {
      if (b.length - pos >= 3 && isMp3Trailer(b, pos)) break;
      return report('aac', first ? `the stream is damaged after ${blocks} blocks` : 'no ADTS frames found');
    }
    if (pos + f.length > b.length) return report('aac', `the last frame needs ${pos + f.length - b.length} more bytes (cut off)`);
    first ??= f;
    blocks += f.blocks;
    pos += f.length;
  }
  if (!first) return report('aac', 'no ADTS frames found');
  return report('aac', null, { sampleRate: first.sampleRate, channels: first.channels, approxFrames: blocks * 1024, maxFrames: blocks * 2048 });
}
