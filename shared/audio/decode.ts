/**
 * Bytes -> PCM with audio-decode (pure JS/WASM: works in Node and the browser), plus the validation it lacks. WAV, the
 * hot path, goes straight to audio-decode's own synchronous WAV codec (@audio/decode-wav): the umbrella re-imports
 * its codec module on every call (a dynamic import, ~0.5 ms under a loader such as tsx). audio-decode
 * returns empty or partial audio for some truncated or damaged files without throwing, so every result is checked
 * against what the container declares (container.ts) and against basic invariants. What an input may decode to is
 * bounded (config DECODE: channels, sample rate, samples in all): checked from the container's headers and frames
 * before decoding, so a bomb is refused before a decoder allocates for it, and on the decoder's output after.
 * Formats container.ts does not recognise are refused rather than handed to audio-decode's other codecs (tracker
 * modules, for one, render minutes of audio from a few bytes). All failures are AudioErrors.
 */
import decodeWav from '@audio/decode-wav';
import decode from 'audio-decode';
import { AUDIO } from '../config.js';
import { FORMAT_LABEL, inspectContainer, type ContainerReport } from './container.js';
import { AudioError } from './errors.js';
import { checkAudioShape } from './limits.js';
import type { WavHeader } from './wav.js';

export interface DecodeOptions {
  /** Reject longer inputs (too_long). Default AUDIO.maxDurationSeconds. */
  maxDurationSeconds?: number;
  /** Reject shorter inputs (too_short). Default AUDIO.minDurationSeconds. */
  minDurationSeconds?: number;
  /** Reject inputs decoding to more samples, all channels (too_large). Default DECODE.maxDecodedSamples. */
  maxDecodedSamples?: number;
}

export interface DecodedAudio {
  /** One array per channel, all the same length; samples nominally in [-1, 1]. */
  channels: Float32Array[];
  sampleRate: number;
  /** Seconds: samples per channel / sampleRate. */
  duration: number;
}

const SUPPORTED = 'WAV, MP3, FLAC, Ogg Vorbis, Opus, WebM, M4A/AAC, AAC (ADTS)';

function hexPrefix(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

function toBytes(input: Uint8Array | ArrayBuffer): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) {
    const v = input as ArrayBufferView;
    return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }
  throw new AudioError('unsupported_format', 'Audio input must be bytes (Uint8Array or ArrayBuffer).');
}

/**
 * librosa reads integer WAV through libsndfile, which scales every code by 1/2^(bits-1); audio-decode scales positive
 * codes by 1/(2^(bits-1) - 1). Re-scale the positive half so 16-bit WAVs give librosa's exact float32 values (the
 * difference is a 3e-5 relative distortion, visible as ~0.1 dB in quiet mel bands).
 */
function matchLibsndfileScaling(channels: Float32Array[], bits: number): void {
  const pos = 2 ** (bits - 1) - 1;
  const inv = 2 ** -(bits - 1); // exact: multiplying by it is exact division by 2^(bits-1)
  for (const ch of channels) {
    if (bits <= 16) {
      // 8/16-bit codes are exactly recoverable from the float32 value: round back to the code, rescale.
      for (let i = 0; i < ch.length; i++) if (ch[i] > 0) ch[i] = Math.round(ch[i] * pos) * inv;
    } else {
      const ratio = pos * inv;
      for (let i = 0; i < ch.length; i++) if (ch[i] > 0) ch[i] *= ratio;
    }
  }
}

/** Whether Int16Array reads little-endian, as WAV stores its samples (every platform Node and browsers run on). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * 16-bit integer PCM behind the canonical 44-byte header (fmt then data, nothing between: the chunk walk of
 * audio-decode's codec and of wav.ts agree on it), the usual upload: code / 32768 per sample, what the codec plus
 * matchLibsndfileScaling give (tested to the bit), in one pass instead of three. Null for any other layout.
 */
function decodePcm16(bytes: Uint8Array, wav: WavHeader): Float32Array[] | null {
  const { channels } = wav;
  if (wav.formatTag !== 1 || wav.bitsPerSample !== 16 || wav.dataOffset !== 44 || channels < 1 || wav.blockAlign !== 2 * channels) return null;
  const frames = Math.floor(wav.availableDataBytes / wav.blockAlign);
  const out = Array.from({ length: channels }, () => new Float32Array(frames));
  const start = bytes.byteOffset + wav.dataOffset;
  const scale = 2 ** -15;
  if (LITTLE_ENDIAN && start % 2 === 0) {
    const codes = new Int16Array(bytes.buffer, start, frames * channels);
    for (let c = 0; c < channels; c++) for (let x = out[c], i = 0, k = c; i < frames; i++, k += channels) x[i] = codes[k] * scale;
  } else {
    const view = new DataView(bytes.buffer, start, frames * wav.blockAlign);
    for (let c = 0; c < channels; c++) for (let x = out[c], i = 0, k = 2 * c; i < frames; i++, k += 2 * channels) x[i] = view.getInt16(k, true) * scale;
  }
  return out;
}

function checkDuration(duration: number, min: number, max: number, what: string): void {
  if (duration > max) {
    throw new AudioError('too_long', `${what} is ${duration.toFixed(2)} s long; the limit is ${max} s.`, {
      durationSeconds: duration,
      maxDurationSeconds: max,
    });
  }
  if (duration < min) {
    throw new AudioError('too_short', `${what} is ${duration.toFixed(3)} s long; at least ${min} s is needed.`, {
      durationSeconds: duration,
      minDurationSeconds: min,
    });
  }
}

/**
 * Before decoding: what the container declares is within the budget (channels, rate, samples the decoder can
 * produce) and not too long. Unknown values are checked on the decoder's output instead.
 */
function checkDeclared(c: ContainerReport, what: string, maxSeconds: number, maxDecodedSamples?: number): void {
  if (c.sampleRate === null) return;
  // Channels unknown (an AAC program config element): the budget per channel still holds.
  checkAudioShape({ channels: c.channels ?? 1, sampleRate: c.sampleRate, frames: c.maxFrames }, what, { maxDecodedSamples });
  const frames = c.declaredFrames ?? c.approxFrames;
  if (frames !== null && frames / c.sampleRate > maxSeconds) checkDuration(frames / c.sampleRate, 0, maxSeconds, what);
}

/**
 * Decode an audio file's bytes. Throws AudioError: unsupported_format, empty, corrupt, too_long, too_short, and the
 * decode budget's too_many_channels, unsupported_sample_rate, too_large.
 */
export async function decodeAudio(input: Uint8Array | ArrayBuffer, options: DecodeOptions = {}): Promise<DecodedAudio> {
  const bytes = toBytes(input);
  const max = options.maxDurationSeconds ?? AUDIO.maxDurationSeconds;
  const min = options.minDurationSeconds ?? AUDIO.minDurationSeconds;
  if (bytes.length === 0) throw new AudioError('empty', 'The audio file is empty (0 bytes).');

  const container: ContainerReport | null = inspectContainer(bytes);
  if (!container) {
    throw new AudioError('unsupported_format', `Unrecognised audio format (first bytes: ${hexPrefix(bytes)}). Supported: ${SUPPORTED}.`);
  }
  const what = `${FORMAT_LABEL[container.format]} file`;
  checkDeclared(container, `The ${what}`, max, options.maxDecodedSamples);
  if (container.problem) {
    throw new AudioError('corrupt', `The ${FORMAT_LABEL[container.format]} file is damaged: ${container.problem}.`, {
      format: container.format,
    });
  }
  const wav = container.wav;
  if (wav && wav.availableDataBytes === 0) {
    throw new AudioError('empty', 'The WAV file has a header but no audio samples.', { format: 'wav' });
  }

  const pcm16 = wav ? decodePcm16(bytes, wav) : null;
  let decoded: { channelData: Float32Array[]; sampleRate: number };
  try {
    decoded = pcm16 ? { channelData: pcm16, sampleRate: wav!.sampleRate } : wav ? decodeWav(bytes) : await decode(bytes);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (wav && /unsupported wav/i.test(message)) {
      throw new AudioError('unsupported_format', `Unsupported WAV encoding: ${message}.`, { format: 'wav' }, { cause: err });
    }
    throw new AudioError('corrupt', `Could not decode the ${what}: ${message}.`, undefined, { cause: err });
  }

  const { channelData: channels, sampleRate } = decoded;
  if (!channels?.length || !channels[0]?.length) {
    throw new AudioError('corrupt', `The ${what} decoded to no audio (damaged or cut off).`);
  }
  if (!(sampleRate > 0) || !Number.isFinite(sampleRate)) {
    throw new AudioError('corrupt', `The ${what} declares an invalid sample rate (${sampleRate}).`);
  }
  const length = channels[0].length;
  checkAudioShape({ channels: channels.length, sampleRate, frames: length }, `The ${what}`, options);
  const integerPcm = wav !== undefined && wav.formatTag === 1 && [8, 16, 24, 32].includes(wav.bitsPerSample);
  for (const ch of channels) {
    if (ch.length !== length) throw new AudioError('corrupt', `The ${what} decoded to channels of different lengths.`);
    if (integerPcm) continue; // integer codes cannot decode to NaN or infinity
    for (let i = 0; i < ch.length; i++) {
      if (!Number.isFinite(ch[i])) {
        throw new AudioError('corrupt', `The ${what} contains non-finite samples (NaN or infinity) at sample ${i}.`);
      }
    }
  }
  if (container.declaredFrames && length < container.declaredFrames) {
    throw new AudioError(
      'corrupt',
      `The ${what} declares ${container.declaredFrames} samples per channel but only ${length} decoded (damaged or cut off).`,
    );
  }
  if (integerPcm && !pcm16) matchLibsndfileScaling(channels, wav.bitsPerSample);
  const duration = length / sampleRate;
  checkDuration(duration, min, max, `The ${what}`);
  return { channels, sampleRate, duration };
}
