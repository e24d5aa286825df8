/**
 * Acoustic statistics of one window, computed in the model graph from its grey input image, beside the backbone's
 * embedding (classifier.ts): per mel band the mean, spread and mean frame-to-frame change of the dB, and the mean,
 * spread, minimum and maximum over time of the frame energy, spectral centroid and spectral flatness.
 *
 * Why: the ImageNet embedding learns dev's recording sources as much as their sounds. Trained without one source and
 * tested on it (`train --source-cv`), a head on these 396 numbers ranked the unseen source's screams far better
 * than one on the 1280-d embedding (README, Model), and both together beat either on dev's group CV.
 *
 * Input: the 'grey128' image ([n, 128, 130, 3], dB of [-topDb, 0] mapped linearly to [-1, 1], channels equal;
 * rows are mel bands, high frequencies first). Output: [n, 3 * rows + 12]. Plain tf ops, the same in training and
 * serving, in Node and in the browser; a registered layer class so a saved model reloads with it.
 */
import * as tf from '@tensorflow/tfjs';
import { MEL } from '../config.ts';
import { SentinelError } from '../errors.ts';

/** Per-band statistics (3) times mel bands plus 3 frame series times 4 statistics. */
export const MEL_STATS_DIM = 3 * MEL.nMels + 12;

/** The statistics of a batch of grey images, [n, h, w, 3] -> [n, 3h + 12]. */
export function melStats(image: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, h, w] = image.shape;
    const half = MEL.topDb / 2;
    // Channel 0 back to dB: [n, bands, frames].
    const db = image.slice([0, 0, 0, 0], [n, h, w, 1]).reshape([n, h, w]).add(1).mul(half).sub(MEL.topDb) as tf.Tensor3D;
    const { mean, variance } = tf.moments(db, 2);
    const change = db.slice([0, 0, 1], [n, h, w - 1]).sub(db.slice([0, 0, 0], [n, h, w - 1])).abs().mean(2);
    const power = tf.pow(10, db.div(10)) as tf.Tensor3D;
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
    return tf.concat([mean, variance.sqrt(), change, ...series], 1) as tf.Tensor2D;
  });
}

/**
 * melStats as a layer: the classifier's second branch, saved with the model by class name. `bands` fixes its width
 * even on a size-agnostic backbone input ([null, null, 3]); an image of another height is an error.
 */
export class MelStats extends tf.layers.Layer {
  static className = 'SentinelMelStats';
  readonly bands: number;

  constructor(config: { name?: string; bands?: number } = {}) {
    super(config);
    this.bands = config.bands ?? MEL.nMels;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0], 3 * this.bands + 12];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const image = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    if (image.shape[1] !== this.bands) {
      throw new SentinelError('INVALID_ARGUMENT', `Acoustic statistics read ${this.bands} mel bands; the image has ${image.shape[1]} rows.`);
    }
    return melStats(image);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), bands: this.bands };
  }
}
tf.serialization.registerClass(MelStats);
