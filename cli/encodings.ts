/**
 * The encodings `sentinel eval-robust` compares one recording in: 16 kHz and 44.1 kHz 16-bit WAV, and 128 kbit/s
 * MP3 at 44.1 kHz. MP3 is made in JS by lamejs on every machine (this one has no ffmpeg), so figures from two
 * machines come from the same encoder.
 */
import { encodeWav, resample } from '../shared/audio/index.ts';

export const ENCODING_NAMES = ['wav16k', 'wav44k', 'mp3'] as const;
export type EncodingName = (typeof ENCODING_NAMES)[number];

export const ENCODING_LABELS: Readonly<Record<EncodingName, string>> = {
  wav16k: '16 kHz WAV',
  wav44k: '44.1 kHz WAV',
  mp3: '128k MP3',
};

export const MP3_KBPS = 128;
/** What made the MP3s, for the command's output. */
export const MP3_ENCODER = `lamejs (@breezystack/lamejs), ${MP3_KBPS} kbit/s CBR, 44.1 kHz mono`;

/** The 16-bit PCM codes encodeWav writes: round(clip(x, -1, 1) * 32767). */
function toInt16(x: Float32Array): Int16Array {
  const out = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.round(Math.max(-1, Math.min(1, x[i] || 0)) * 32767);
  return out;
}

/** A mono signal as a constant-bitrate MP3 file. */
export async function encodeMp3(mono: Float32Array, sampleRate: number, kbps: number = MP3_KBPS): Promise<Uint8Array> {
  // A devDependency: loaded here, not at the top, so `sentinel`'s other commands run on an install without it.
  const { Mp3Encoder } = await import('@breezystack/lamejs');
  const encoder = new Mp3Encoder(1, sampleRate, kbps);
  const pcm = toInt16(mono);
  const parts: Uint8Array[] = [];
  const frame = 1152; // samples per MPEG-1 layer III frame
  // encodeBuffer returns a view of the encoder's own buffer: copy each part before the next call.
  for (let i = 0; i < pcm.length; i += frame) parts.push(encoder.encodeBuffer(pcm.subarray(i, i + frame)).slice());
  parts.push(encoder.flush().slice());
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** One mono recording in each encoding, each made from `mono` at its own rate (resampled when it differs). */
export async function encodeAll(mono: Float32Array, sampleRate: number): Promise<Record<EncodingName, Uint8Array>> {
  const at44k = resample(mono, sampleRate, 44100);
  return {
    wav16k: encodeWav(resample(mono, sampleRate, 16000), 16000, { bitDepth: 16 }),
    wav44k: encodeWav(at44k, 44100, { bitDepth: 16 }),
    mp3: await encodeMp3(at44k, 44100),
  };
}
