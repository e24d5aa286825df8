/**
 * The decode budget (config DECODE): what one input may decode to. decode.ts checks it on what a container declares
 * before decoding and on the decoder's output after; analyse() checks that the front end's features are finite, so a
 * clip the model cannot read is refused on its own instead of failing the micro-batch it would have joined.
 */
import { DECODE } from '../config.js';
import { AudioError } from './errors.js';

/** What an input decodes (or may decode) to. */
export interface AudioShape {
  channels: number;
  sampleRate: number;
  /** Frames (samples per channel) or an upper bound on them; null when not known yet. */
  frames: number | null;
}

export interface BudgetOptions {
  /** Most samples (all channels) accepted; default DECODE.maxDecodedSamples. */
  maxDecodedSamples?: number;
}

/** Throws too_many_channels, unsupported_sample_rate or too_large; `what` names the input ("The WAV file"). */
export function checkAudioShape(shape: AudioShape, what: string, options: BudgetOptions = {}): void {
  const { channels, sampleRate, frames } = shape;
  const { maxChannels, minSampleRate, maxSampleRate } = DECODE;
  const budget = options.maxDecodedSamples ?? DECODE.maxDecodedSamples;
  if (channels > maxChannels) {
    throw new AudioError('too_many_channels', `${what} has ${channels} channels; at most ${maxChannels} are accepted.`, { channels, maxChannels });
  }
  if (!(sampleRate >= minSampleRate && sampleRate <= maxSampleRate)) {
    throw new AudioError(
      'unsupported_sample_rate',
      `${what} has a sample rate of ${sampleRate} Hz; ${minSampleRate}-${maxSampleRate} Hz is accepted.`,
      { sampleRate, minSampleRate, maxSampleRate },
    );
  }
  if (frames !== null && frames * channels > budget) {
    throw new AudioError(
      'too_large',
      `${what} decodes to up to ${frames * channels} samples (${channels} channel(s) of ${frames}); at most ${budget} are accepted (10 min of 48 kHz stereo).`,
      { decodedSamples: frames * channels, maxDecodedSamples: budget },
    );
  }
}

/** Decoded samples within ±DECODE.maxSampleMagnitude: float files far outside [-1, 1] are not audio any front end can read. */
export function checkSampleRange(samples: Float32Array): void {
  const limit = DECODE.maxSampleMagnitude;
  for (let i = 0; i < samples.length; i++) {
    const x = samples[i];
    if (!(x <= limit && x >= -limit)) {
      throw new AudioError('invalid_samples', `The audio's samples are out of range: ${x} at sample ${i} (float samples should lie within [-1, 1]).`, { sample: i, limit });
    }
  }
}

/** After the front end: every feature of every window is finite (float samples far beyond ±1 overflow the spectrum). */
export function checkFiniteWindows(windows: readonly { start: number; db: Float32Array }[]): void {
  for (let w = 0; w < windows.length; w++) {
    const db = windows[w].db;
    for (let i = 0; i < db.length; i++) {
      if (!Number.isFinite(db[i])) {
        throw new AudioError(
          'invalid_samples',
          `The audio's samples are out of range: its spectrogram at ${windows[w].start.toFixed(2)} s is not finite (float samples should lie within [-1, 1]).`,
          { window: w, start: windows[w].start },
        );
      }
    }
  }
}
