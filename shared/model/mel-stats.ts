/**
 * Acoustic statistics of one window, computed in the model graph from its grey input image, beside the backbone's
 * embedding (classifier.ts): per mel band the mean, spread, mean frame-to-frame change and 90th percentile of the dB;
 * the mean, spread, minimum and maximum over time of the frame energy, spectral centroid and spectral flatness; the
 * spectral contrast of 8 band groups (versions below).
 *
 * Why: the ImageNet embedding learns dev's recording sources as much as their sounds. Trained without one source and
 * tested on it (`train --source-cv`), a head on these statistics ranked the unseen source's screams far better
 * than one on the 1280-d embedding (README, Model), and both together beat either on dev's group CV.
 *
 * Input: the 'grey128' image ([n, 128, 130, 3], dB of [-topDb, 0] mapped linearly to [-1, 1], channels equal;
 * rows are mel bands, high frequencies first), or with `input: 'logmel'` the AudioSet backbone's Kaldi log-mel
 * ([n, 128, 300, 1], band 0 the lowest; opt-in, `train --mel-stats`). Output: [n, melStatsDim(version, rows)]. Plain tf ops, the same in
 * serving, in Node and in the browser; a registered layer class so a saved model reloads with it. Training computes
 * the same numbers in plain loops from the mel (melStatsOf), held equal to the graph by tests.
 */
import * as tf from './tf.ts';
import { KALDI_MEL, MEL } from '../config.ts';
import { SentinelError } from '../errors.ts';

/**
 * Versions of the statistics, so a saved model keeps computing what its head was trained on:
 * 1: per band mean, spread, mean |change| (3 x bands), then energy, centroid, flatness x mean, spread, min, max (12);
 * 2: version 1, then per band the 90th percentile over time (bands) and, per group of CONTRAST_BANDS bands, the mean
 *    over time of (loudest band - mean band) in dB (bands / CONTRAST_BANDS). The loud part of a window and how peaked
 *    its spectrum is: on dev (README, Model) they raised the unseen-source ranking and group CV of a linear head.
 */
export type MelStatsVersion = 1 | 2;
/** What new models get. */
export const MEL_STATS_VERSION: MelStatsVersion = 2;
/** Bands per spectral-contrast group: 8 groups of 16 of the 128 mel bands. */
export const CONTRAST_BANDS = 16;
/** The percentile of each band's dB over time in version 2. */
const PERCENTILE = 0.9;

export function melStatsDim(version: MelStatsVersion, bands: number = MEL.nMels): number {
  return 3 * bands + 12 + (version >= 2 ? bands + bands / CONTRAST_BANDS : 0);
}

/** Width of the current version's statistics. */
export const MEL_STATS_DIM = melStatsDim(MEL_STATS_VERSION);

/** The version whose statistics are `dim` wide (a head's extra inputs), or undefined. */
export function melStatsVersionOfDim(dim: number, bands: number = MEL.nMels): MelStatsVersion | undefined {
  return ([1, 2] as const).find((v) => melStatsDim(v, bands) === dim);
}

/** Where the percentile falls among `frames` sorted values (numpy's linear interpolation). */
function percentilePosition(frames: number): { lo: number; frac: number } {
  const pos = PERCENTILE * (frames - 1);
  const lo = Math.floor(pos);
  return { lo, frac: pos - lo };
}

/** What the statistics read: MobileNetV2's grey image, or the AudioSet backbone's Kaldi log-mel. */
export type MelStatsInput = 'grey' | 'logmel';

/** dB of a Kaldi log-mel's values ((ln(power + offset) + shift) / scale, config KALDI_MEL), as melStatsOf reads them. */
export function logMelToDb(mel: ArrayLike<number>): Float32Array {
  const k = 10 / Math.LN10;
  return Float32Array.from(mel, (v) => k * (v * KALDI_MEL.scale - KALDI_MEL.shift));
}

/** The statistics of a batch of grey images, [n, h, w, 3] -> [n, melStatsDim(version, h)]. */
export function melStats(image: tf.Tensor4D, version: MelStatsVersion = MEL_STATS_VERSION): tf.Tensor2D {
  return tf.tidy(() => {
    const half = MEL.topDb / 2;
    // Back to dB: [n, bands, frames]. The channels are equal; their mean is ~20x cheaper on wasm than slicing one out.
    return statsOfDb(image.mean(3).add(1).mul(half).sub(MEL.topDb) as tf.Tensor3D, version);
  });
}

/**
 * The statistics of a batch of Kaldi log-mels, [n, bands, frames, 1] (band 0 the lowest) -> [n, melStatsDim]: in
 * dB and with the high bands first, as melStatsOf(logMelToDb(mel)) orders them.
 */
export function logMelStats(mel: tf.Tensor4D, version: MelStatsVersion = MEL_STATS_VERSION): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, h, w] = mel.shape;
    const db = mel.reshape([n, h, w]).mul(KALDI_MEL.scale).sub(KALDI_MEL.shift).mul(10 / Math.LN10).reverse(1) as tf.Tensor3D;
    return statsOfDb(db, version);
  });
}

/** The statistics of dB images [n, bands, frames], the highest band first. */
function statsOfDb(db: tf.Tensor3D, version: MelStatsVersion): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, h, w] = db.shape;
    const { mean, variance } = tf.moments(db, 2);
    const change = db.slice([0, 0, 1], [n, h, w - 1]).sub(db.slice([0, 0, 0], [n, h, w - 1])).abs().mean(2);
    const power = db.mul(Math.LN10 / 10).exp() as tf.Tensor3D; // 10^(dB/10)
    const meanPower = power.mean(1); // [n, frames]
    const energyDb = meanPower.add(1e-10).log().mul(10 / Math.LN10);
    // Centroid in mel-band units counted from the lowest band (the image's bottom row).
    const band = tf.range(h - 1, -1, -1).reshape([1, h, 1]);
    const centroid = power.mul(band).sum(1).div(power.sum(1).add(1e-10));
    const flatness = power.add(1e-10).log().mean(1).exp().div(meanPower.add(1e-10));
    const series = [energyDb, centroid, flatness].map((s) => {
      const m = tf.moments(s, 1);
      return tf.stack([m.mean, m.variance.sqrt(), s.min(1), s.max(1)], 1);
    });
    const v1 = [mean, variance.sqrt(), change, ...series];
    if (version === 1) return tf.concat(v1, 1) as tf.Tensor2D;
    // The percentile from the top k values (descending): sorted[lo] and sorted[lo + 1] are the last two.
    const { lo, frac } = percentilePosition(w);
    const top = tf.topk(db, w - lo).values; // [n, h, w - lo]
    const below = top.slice([0, 0, w - lo - 1], [n, h, 1]).reshape([n, h]);
    const above = top.slice([0, 0, w - lo - 2], [n, h, 1]).reshape([n, h]);
    const percentile = below.add(above.sub(below).mul(frac));
    const groups = db.reshape([n, h / CONTRAST_BANDS, CONTRAST_BANDS, w]);
    const contrast = groups.max(2).sub(groups.mean(2)).mean(2);
    return tf.concat([...v1, percentile, contrast], 1) as tf.Tensor2D;
  });
}

/** The k-th smallest value (0-based) of `a`, rearranging `a` so that a[i] <= a[k] <= a[j] for i < k < j (quickselect). */
function select(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i++] = a[j];
        a[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k];
}

function minFrom(a: Float64Array, from: number): number {
  let m = Infinity;
  for (let i = from; i < a.length; i++) m = Math.min(m, a[i]);
  return m;
}

/**
 * melStats in plain loops on one window's mel dB ([band][frame], band 0 the lowest: the pipeline's layout), in the
 * same order (image rows, high bands first). Training computes the statistics of every view this way, from the mel
 * it already has: ~1.0 ms a view against ~1.2 ms for the graph at batch 8 on wasm (and no image readback); tests
 * hold it equal to the graph's.
 */
export function melStatsOf(mel: Float32Array, frames: number, version: MelStatsVersion = MEL_STATS_VERSION): Float32Array {
  const bands = mel.length / frames;
  const out = new Float32Array(melStatsDim(version, bands));
  const row = new Float64Array(frames);
  const { lo, frac } = percentilePosition(frames);
  for (let b = 0; b < bands; b++) {
    const r = bands - 1 - b; // image row
    let s = 0;
    let s2 = 0;
    let d = 0;
    for (let t = 0; t < frames; t++) {
      const v = mel[b * frames + t];
      row[t] = v;
      s += v;
      s2 += v * v;
      if (t > 0) d += Math.abs(v - mel[b * frames + t - 1]);
    }
    const m = s / frames;
    out[r] = m;
    out[bands + r] = Math.sqrt(Math.max(0, s2 / frames - m * m));
    out[2 * bands + r] = d / (frames - 1);
    if (version >= 2) {
      const below = select(row, lo);
      out[3 * bands + 12 + r] = below + (lo + 1 < frames ? minFrom(row, lo + 1) - below : 0) * frac;
    }
  }
  const energy = new Float64Array(frames);
  const centroid = new Float64Array(frames);
  const flatness = new Float64Array(frames);
  for (let t = 0; t < frames; t++) {
    let p = 0;
    let pb = 0;
    let logs = 0;
    for (let b = 0; b < bands; b++) {
      const power = Math.exp((mel[b * frames + t] * Math.LN10) / 10);
      p += power;
      pb += power * b;
      logs += Math.log(power + 1e-10);
    }
    energy[t] = 10 * Math.log10(p / bands + 1e-10);
    centroid[t] = pb / (p + 1e-10);
    flatness[t] = Math.exp(logs / bands) / (p / bands + 1e-10);
  }
  [energy, centroid, flatness].forEach((series, k) => {
    let s = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const v of series) (s += v), (min = Math.min(min, v)), (max = Math.max(max, v));
    const m = s / frames;
    let v2 = 0;
    for (const v of series) v2 += (v - m) ** 2;
    out.set([m, Math.sqrt(v2 / frames), min, max], 3 * bands + 4 * k);
  });
  if (version >= 2) {
    const groups = bands / CONTRAST_BANDS;
    for (let g = 0; g < groups; g++) {
      // Image group g holds image rows g*C .. g*C+C-1, i.e. bands counted from the top.
      let sum = 0;
      for (let t = 0; t < frames; t++) {
        let max = -Infinity;
        let mean = 0;
        for (let k = 0; k < CONTRAST_BANDS; k++) {
          const v = mel[(bands - 1 - (g * CONTRAST_BANDS + k)) * frames + t];
          max = Math.max(max, v);
          mean += v;
        }
        sum += max - mean / CONTRAST_BANDS;
      }
      out[4 * bands + 12 + g] = sum / frames;
    }
  }
  return out;
}

/**
 * melStats as a layer: the classifier's second branch, saved with the model by class name. `bands` fixes its width
 * even on a size-agnostic backbone input ([null, null, 3]); an image of another height is an error.
 */
export class MelStats extends tf.layers.Layer {
  static className = 'SentinelMelStats';
  readonly bands: number;
  /** Absent in models saved before versions existed: those compute version 1. */
  readonly version: MelStatsVersion;
  /** Absent in models saved before the AudioSet backbone could have statistics: those read the grey image. */
  readonly reads: MelStatsInput;

  constructor(config: { name?: string; bands?: number; version?: MelStatsVersion; input?: MelStatsInput } = {}) {
    super(config);
    this.bands = config.bands ?? MEL.nMels;
    this.version = config.version ?? 1;
    this.reads = config.input ?? 'grey';
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0], melStatsDim(this.version, this.bands)];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const image = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    if (image.shape[1] !== this.bands) {
      throw new SentinelError('INVALID_ARGUMENT', `Acoustic statistics read ${this.bands} mel bands; the image has ${image.shape[1]} rows.`);
    }
    return this.reads === 'logmel' ? logMelStats(image, this.version) : melStats(image, this.version);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), bands: this.bands, version: this.version, ...(this.reads === 'logmel' ? { input: this.reads } : {}) };
  }
}
tf.serialization.registerClass(MelStats);
