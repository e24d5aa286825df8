/**
 * Training-time augmentation, pure: waveforms (Float32Array at AUDIO.sampleRate) or mel dB images
 * (Float32Array, row-major [nMels][nFrames], as shared/audio produces). Every function returns a new array and takes
 * its randomness from a seeded Rng, so an augmented epoch is reproducible.
 */
import FFT from 'fft.js';
import { resample } from '../audio/resample.ts';
import { invalidArgument } from '../errors.ts';
import type { Rng } from './random.ts';

function checkWaveform(name: string, x: unknown): asserts x is Float32Array {
  if (!(x instanceof Float32Array)) throw invalidArgument(`${name} must be a Float32Array`);
}

/**
 * A window of exactly `length` samples at a random position: a random crop of a longer clip (a random time shift of
 * the event inside the window), or a shorter clip placed at a random offset in silence (zeros, like librosa's
 * padding). Same length: an unchanged copy.
 */
export function randomCrop(x: Float32Array, length: number, rng: Rng): Float32Array {
  checkWaveform('waveform', x);
  if (!Number.isInteger(length) || length <= 0) throw invalidArgument(`crop length is ${String(length)}, expected a positive integer`);
  if (x.length >= length) {
    const start = rng.int(0, x.length - length);
    return x.slice(start, start + length);
  }
  const out = new Float32Array(length);
  out.set(x, rng.int(0, length - x.length));
  return out;
}

/** Root mean square, accumulated in double precision. */
export function rms(x: Float32Array): number {
  if (x.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i] * x[i];
  return Math.sqrt(sum / x.length);
}

/**
 * signal + g * background, with g set so that 20 log10(rms(signal) / rms(g * background)) = snrDb over the whole
 * window. The background is looped (or truncated) to the signal's length; crop it with randomCrop first for variety.
 *
 * Mixing, not a gain change, is the loudness augmentation: the mel front end uses power_to_db(ref=max), so scaling a
 * clip by any gain cancels out and the model would see the identical input. No clipping is applied for the same
 * reason (the level is irrelevant downstream; a caller writing 16-bit audio normalises first).
 * A silent background adds nothing; a silent signal stays silent (no SNR is defined relative to nothing).
 */
export function mixAtSnr(signal: Float32Array, background: Float32Array, snrDb: number): Float32Array {
  checkWaveform('signal', signal);
  checkWaveform('background', background);
  if (!Number.isFinite(snrDb)) throw invalidArgument(`snrDb is ${String(snrDb)}, expected a finite number`);
  if (background.length === 0) throw invalidArgument('background is empty');
  const n = signal.length;
  const bg = new Float32Array(n);
  for (let i = 0; i < n; i++) bg[i] = background[i % background.length];
  const out = Float32Array.from(signal);
  const signalRms = rms(signal);
  const backgroundRms = rms(bg);
  if (signalRms === 0 || backgroundRms === 0) return out;
  const gain = signalRms / (backgroundRms * 10 ** (snrDb / 20));
  for (let i = 0; i < n; i++) out[i] += gain * bg[i];
  return out;
}

export interface SpecAugmentOptions {
  /** Number of frequency masks (bands of mel rows). */
  freqMasks: number;
  /** Largest frequency mask width in mel bands; each width is uniform in [0, freqWidth]. */
  freqWidth: number;
  /** Number of time masks (runs of frames). */
  timeMasks: number;
  /** Largest time mask width in frames; each width is uniform in [0, timeWidth]. */
  timeWidth: number;
  /** Value written into masked cells; default the image's minimum dB (silence in that image, e.g. -80). */
  fillValue?: number;
}

/**
 * SpecAugment's frequency and time masking (Park et al. 2019; no time warping) on a mel dB image laid out row-major
 * [nMels][nFrames]. Masks may overlap. The default fill is the minimum dB so a mask reads as silence, not as energy
 * (filling with 0 dB would paint the loudest possible band).
 */
export function specAugment(
  melDb: Float32Array,
  nMels: number,
  nFrames: number,
  rng: Rng,
  options: SpecAugmentOptions,
): Float32Array {
  if (!(melDb instanceof Float32Array)) throw invalidArgument('melDb must be a Float32Array');
  if (!Number.isInteger(nMels) || !Number.isInteger(nFrames) || nMels <= 0 || nFrames <= 0 || melDb.length !== nMels * nFrames) {
    throw invalidArgument(`melDb has ${melDb.length} values, expected nMels * nFrames = ${nMels} * ${nFrames}`, {
      length: melDb.length,
      nMels,
      nFrames,
    });
  }
  const { freqMasks, freqWidth, timeMasks, timeWidth } = options;
  const count = (name: string, v: number, max = Infinity) => {
    if (!Number.isInteger(v) || v < 0 || v > max) {
      throw invalidArgument(`specAugment ${name} is ${String(v)}, expected an integer in [0, ${max}]`);
    }
  };
  count('freqMasks', freqMasks);
  count('timeMasks', timeMasks);
  count('freqWidth', freqWidth, nMels);
  count('timeWidth', timeWidth, nFrames);
  let fill = options.fillValue;
  if (fill === undefined) {
    fill = Infinity;
    for (let i = 0; i < melDb.length; i++) if (melDb[i] < fill) fill = melDb[i];
  } else if (!Number.isFinite(fill)) throw invalidArgument(`fillValue is ${String(fill)}, expected a finite number`);

  const out = Float32Array.from(melDb);
  for (let m = 0; m < freqMasks; m++) {
    const width = rng.int(0, freqWidth);
    const start = rng.int(0, nMels - width);
    out.fill(fill, start * nFrames, (start + width) * nFrames);
  }
  for (let m = 0; m < timeMasks; m++) {
    const width = rng.int(0, timeWidth);
    const start = rng.int(0, nFrames - width);
    for (let row = 0; row < nMels; row++) out.fill(fill, row * nFrames + start, row * nFrames + start + width);
  }
  return out;
}

/**
 * The clip played `factor` times faster (> 1: shorter and higher; < 1: longer and lower), as a tape at another speed:
 * read as if recorded at factor x the rate, resampled back. Pitch and tempo move together, like a smaller or larger
 * voice: the classic speed perturbation of speech training.
 */
export function changeSpeed(x: Float32Array, factor: number): Float32Array {
  if (!(factor > 0)) throw invalidArgument(`speed factor must be positive, got ${factor}`);
  // Only the ratio matters to the resampler; as a fraction over 100 (1.05 = 21/20) its exact polyphase table stays
  // small, where 22050 x 1.05 Hz would round and need the ~2x slower interpolated filter.
  return resample(x, Math.round(factor * 100), 100);
}

/**
 * The clip as a recorder at `lowRate` Hz would have kept it: resampled down (its anti-alias filter removes everything
 * above lowRate / 2) and back up to `rate`. Phones (8 kHz), VoIP and low-rate codecs (16 kHz) cut the top this way.
 */
export function bandLimit(x: Float32Array, rate: number, lowRate: number): Float32Array {
  checkWaveform('waveform', x);
  if (!(lowRate > 0) || !(lowRate < rate)) throw invalidArgument(`band-limit rate ${lowRate} must be below the clip's ${rate} Hz`);
  const y = resample(resample(x, rate, lowRate), lowRate, rate);
  return y.length === x.length ? y : fitLength(y, x.length);
}

function fitLength(y: Float32Array, length: number): Float32Array {
  // Rounding in the two resamplings can leave a sample more or less: trim or zero-pad the end.
  const out = new Float32Array(length);
  out.set(y.subarray(0, length));
  return out;
}

/**
 * The clip in a room: convolved with a synthetic impulse response (a direct path plus exponentially decaying noise
 * that falls 60 dB in `rt60` seconds), the reverberant part `drrDb` below the direct one. Convolution by FFT (fft.js):
 * a 1 s tail at 32 kHz over a 3 s window would be 3e9 multiply-adds directly.
 */
export function reverberate(x: Float32Array, rate: number, rt60: number, drrDb: number, rng: Rng): Float32Array {
  checkWaveform('waveform', x);
  if (!(rt60 > 0) || !Number.isFinite(drrDb)) throw invalidArgument(`reverberation needs rt60 > 0 and a finite DRR, got ${rt60}, ${drrDb}`);
  const tailLength = Math.max(1, Math.round(rt60 * rate));
  const tail = new Float64Array(tailLength);
  let energy = 0;
  for (let i = 0; i < tailLength; i++) {
    // Gaussian noise (Box-Muller) under a 60 dB decay over rt60.
    const g = Math.sqrt(-2 * Math.log(1 - rng.uniform())) * Math.cos(2 * Math.PI * rng.uniform());
    tail[i] = g * Math.exp((-6.908 * i) / tailLength);
    energy += tail[i] * tail[i];
  }
  // Direct path has unit energy; the tail's energy is drrDb below it.
  const tailGain = Math.sqrt(10 ** (-drrDb / 10) / energy);
  let n = 1;
  while (n < x.length + tailLength) n <<= 1;
  const fft = new FFT(n);
  const a = fft.createComplexArray() as number[];
  const b = fft.createComplexArray() as number[];
  const input = new Float64Array(2 * n);
  for (let i = 0; i < x.length; i++) input[2 * i] = x[i];
  fft.transform(a, Array.from(input));
  input.fill(0);
  for (let i = 0; i < tailLength; i++) input[2 * i] = tail[i] * tailGain;
  fft.transform(b, Array.from(input));
  const product = fft.createComplexArray() as number[];
  for (let k = 0; k < n; k++) {
    const ar = a[2 * k], ai = a[2 * k + 1], br = b[2 * k], bi = b[2 * k + 1];
    product[2 * k] = ar * br - ai * bi;
    product[2 * k + 1] = ar * bi + ai * br;
  }
  const wet = fft.createComplexArray() as number[];
  fft.inverseTransform(wet, product);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] + wet[2 * i];
  return out;
}

/** The clip `db` decibels louder or quieter: the AudioSet front end takes the log of raw power, so level matters there. */
export function applyGain(x: Float32Array, db: number): Float32Array {
  checkWaveform('waveform', x);
  if (!Number.isFinite(db)) throw invalidArgument(`gain is ${String(db)} dB, expected a finite number`);
  const g = 10 ** (db / 20);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] * g;
  return out;
}
