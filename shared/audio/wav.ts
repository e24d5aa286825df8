/**
 * WAV (RIFF/WAVE) writing, and the header reading decodeAudio needs to validate what audio-decode returns.
 * Decoding itself is audio-decode's job.
 */
import { invalidArgument } from '../errors.js';

export type WavBitDepth = 8 | 16 | 24 | 32;

export interface EncodeWavOptions {
  /** Bits per sample. 8-bit is unsigned (WAV convention), 16/24/32 signed; 32 may also be float. */
  bitDepth: WavBitDepth;
  /** IEEE float samples (bitDepth must be 32). Default false (integer PCM). */
  float?: boolean;
  /** Channels interleaved in `samples` (frame-major: L R L R ...). Default 1. */
  channels?: number;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_IEEE_FLOAT = 3;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** numpy's np.round: half to even, so integer WAVs match ones written by the golden-data script bit for bit. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Encode samples as a WAV file. Integer PCM quantises as round(clip(x, -1, 1) * (2^(bits-1) - 1)) with round half to
 * even (8-bit adds the 128 offset), the convention of the golden data's writer.
 */
export function encodeWav(samples: Float32Array, sampleRate: number, options: EncodeWavOptions): Uint8Array {
  const { bitDepth, float = false, channels = 1 } = options;
  if (![8, 16, 24, 32].includes(bitDepth)) throw invalidArgument(`Unsupported WAV bit depth ${bitDepth}.`, { bitDepth });
  if (float && bitDepth !== 32) throw invalidArgument('Float WAV needs bitDepth 32.', { bitDepth });
  if (!Number.isInteger(channels) || channels < 1 || channels > 65535) {
    throw invalidArgument(`channels must be an integer from 1 to 65535, got ${channels}.`, { channels });
  }
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) {
    throw invalidArgument(`sampleRate must be a positive integer, got ${sampleRate}.`, { sampleRate });
  }
  if (samples.length % channels !== 0) {
    throw invalidArgument(`${samples.length} interleaved samples are not a whole number of ${channels}-channel frames.`, {
      samples: samples.length,
      channels,
    });
  }
  const bytesPerSample = bitDepth / 8;
  const dataBytes = samples.length * bytesPerSample;
  const fmtBytes = float ? 18 : 16; // non-PCM formats carry cbSize (= 0) and a fact chunk
  const factBytes = float ? 12 : 0;
  const headerBytes = 12 + 8 + fmtBytes + factBytes + 8;
  const padByte = dataBytes % 2; // RIFF chunks are word aligned
  const out = new Uint8Array(headerBytes + dataBytes + padByte);
  const view = new DataView(out.buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) out[offset + i] = text.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(4, out.length - 8, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, fmtBytes, true);
  view.setUint16(20, float ? WAVE_FORMAT_IEEE_FLOAT : WAVE_FORMAT_PCM, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * channels * bytesPerSample, true);
  view.setUint16(32, channels * bytesPerSample, true);
  view.setUint16(34, bitDepth, true);
  let pos = 36;
  if (float) {
    view.setUint16(pos, 0, true);
    pos += 2;
    ascii(pos, 'fact');
    view.setUint32(pos + 4, 4, true);
    view.setUint32(pos + 8, samples.length / channels, true);
    pos += 12;
  }
  ascii(pos, 'data');
  view.setUint32(pos + 4, dataBytes, true);
  pos += 8;

  if (float) {
    for (let i = 0; i < samples.length; i++, pos += 4) view.setFloat32(pos, samples[i], true);
    return out;
  }
  const scale = 2 ** (bitDepth - 1) - 1;
  for (let i = 0; i < samples.length; i++) {
    const x = samples[i];
    const clipped = x > 1 ? 1 : x < -1 ? -1 : x === x ? x : 0; // NaN -> 0
    const q = roundHalfEven(clipped * scale);
    if (bitDepth === 8) out[pos] = q + 128;
    else if (bitDepth === 16) view.setInt16(pos, q, true);
    else if (bitDepth === 24) {
      out[pos] = q & 0xff;
      out[pos + 1] = (q >> 8) & 0xff;
      out[pos + 2] = (q >> 16) & 0xff;
    } else view.setInt32(pos, q, true);
    pos += bytesPerSample;
  }
  return out;
}

/** What a WAV header declares (first `fmt ` and `data` chunks). */
export interface WavHeader {
  /** Format tag, with WAVE_FORMAT_EXTENSIBLE resolved to its sub-format (1 = integer PCM, 3 = float, ...). */
  formatTag: number;
  channels: number;
  sampleRate: number;
  /** Bytes per frame (all channels). */
  blockAlign: number;
  bitsPerSample: number;
  /** Byte offset of the sample data. */
  dataOffset: number;
  /** Data chunk size as declared; null for streaming placeholders (0 or 0xFFFFFFFF: "read to the end"). */
  declaredDataBytes: number | null;
  /** Data bytes actually present in the buffer. */
  availableDataBytes: number;
  /** ADPCM (format 2 or 0x11) only: samples per block from the fmt extension, or null when it gives none. */
  samplesPerBlock?: number | null;
}

const WAVE_FORMAT_ADPCM = 2;
const WAVE_FORMAT_IMA_ADPCM = 0x11;
/** Bytes per sample of the fixed-size encodings audio-decode's WAV codec reads, by format tag and bits per sample. */
const SAMPLE_BYTES: Readonly<Record<number, Readonly<Record<number, number>>>> = {
  [WAVE_FORMAT_PCM]: { 8: 1, 16: 2, 24: 3, 32: 4 },
  [WAVE_FORMAT_IEEE_FLOAT]: { 32: 4, 64: 8 },
  6: { 8: 1 }, // A-law
  7: { 8: 1 }, // μ-law
};

/** Most samples per channel an ADPCM block of `blockAlign` bytes holds (4-bit codes after each channel's header). */
function adpcmBlockSamples(h: Pick<WavHeader, 'formatTag' | 'channels' | 'blockAlign'>): number {
  const { channels, blockAlign } = h;
  return h.formatTag === WAVE_FORMAT_IMA_ADPCM ? 1 + ((blockAlign - 4 * channels) * 2) / channels : 2 + ((blockAlign - 7 * channels) * 2) / channels;
}

/**
 * Why the header's frame layout cannot be decoded as declared (a phrase), or null. audio-decode's WAV codec trusts
 * block align: a frame smaller than its channels' samples makes it read past the data (NaN samples, and memory
 * for every channel of every byte).
 */
export function wavLayoutProblem(h: WavHeader): string | null {
  const { formatTag, channels, blockAlign, bitsPerSample } = h;
  if (formatTag === WAVE_FORMAT_ADPCM || formatTag === WAVE_FORMAT_IMA_ADPCM) {
    const most = Math.floor(adpcmBlockSamples(h));
    if (most < 1) return `the header declares ${blockAlign}-byte ADPCM blocks, too small for ${channels} channel(s)`;
    if (h.samplesPerBlock && h.samplesPerBlock > most) {
      return `the header declares ${h.samplesPerBlock} samples per ADPCM block, but a ${blockAlign}-byte block holds at most ${most}`;
    }
    return null;
  }
  const bytes = SAMPLE_BYTES[formatTag]?.[bitsPerSample];
  if (bytes === undefined) return null; // an encoding the codec refuses itself (unsupported_format)
  if (blockAlign !== channels * bytes) {
    return `the header declares ${blockAlign}-byte frames, but ${channels} channel(s) of ${bitsPerSample}-bit samples take ${channels * bytes}`;
  }
  return null;
}

/** Frames (samples per channel) audio-decode's WAV codec makes of `dataBytes` bytes of a header without a layout problem. */
export function wavFrames(h: WavHeader, dataBytes: number): number {
  const blocks = Math.floor(dataBytes / h.blockAlign);
  if (h.formatTag !== WAVE_FORMAT_ADPCM && h.formatTag !== WAVE_FORMAT_IMA_ADPCM) return blocks;
  return blocks * (h.samplesPerBlock || Math.floor(adpcmBlockSamples(h)));
}

function fourcc(b: Uint8Array, o: number): string {
  return String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3]);
}

/**
 * Read a WAV header. Returns null if `bytes` is not RIFF/WAVE or its `fmt `/`data` chunks cannot be found (the caller
 * decides what that means); never throws.
 */
export function readWavHeader(bytes: Uint8Array): WavHeader | null {
  if (bytes.length < 12 || fourcc(bytes, 0) !== 'RIFF' || fourcc(bytes, 8) !== 'WAVE') return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 12;
  let fmt: Omit<WavHeader, 'dataOffset' | 'declaredDataBytes' | 'availableDataBytes'> | null = null;
  while (pos + 8 <= bytes.length) {
    const id = fourcc(bytes, pos);
    const size = view.getUint32(pos + 4, true);
    if (id === 'fmt ') {
      if (pos + 24 > bytes.length) return null;
      let formatTag = view.getUint16(pos + 8, true);
      if (formatTag === WAVE_FORMAT_EXTENSIBLE) {
        if (pos + 34 > bytes.length) return null;
        formatTag = view.getUint16(pos + 32, true);
      }
      fmt = {
        formatTag,
        channels: view.getUint16(pos + 10, true),
        sampleRate: view.getUint32(pos + 12, true),
        blockAlign: view.getUint16(pos + 20, true),
        bitsPerSample: view.getUint16(pos + 22, true),
      };
      if (formatTag === WAVE_FORMAT_ADPCM || formatTag === WAVE_FORMAT_IMA_ADPCM) {
        // cbSize >= 2 carries samples per block (the codec reads the same field).
        fmt.samplesPerBlock = size >= 20 && pos + 28 <= bytes.length && view.getUint16(pos + 24, true) >= 2 ? view.getUint16(pos + 26, true) : null;
      }
    } else if (id === 'data') {
      if (!fmt) return null;
      const dataOffset = pos + 8;
      const present = bytes.length - dataOffset;
      const placeholder = size === 0 || size === 0xffffffff;
      // A 0 size with no bytes after it is a real empty data chunk, not a placeholder.
      const declaredDataBytes = placeholder && present > 0 ? null : size;
      return {
        ...fmt,
        dataOffset,
        declaredDataBytes,
        availableDataBytes: declaredDataBytes === null ? present : Math.min(present, declaredDataBytes),
      };
    }
    pos += 8 + size + (size % 2);
  }
  return null;
}
