/**
 * 'top' mode: trains the backbone's last blocks (a TopNet, see top.ts) together with the classifier head, on cached
 * cut-layer feature maps, on CPU. Same recipe as the head (class weights, early stopping on a validation set, best
 * epoch kept, standardised pooled features folded into the head at the end) plus:
 * - the top learns 30x more slowly than the head (TRAINING.topLearningRate): it starts from ImageNet features and
 *   only needs nudging, and a few hundred clips overfit it within a few epochs otherwise;
 * - the loss is computed on logits (sigmoid cross-entropy), so a confident head still passes gradient to the top
 *   (tfjs' binaryCrossentropy on probabilities clips them and stops the gradient of saturated outputs).
 * The top's variables end at the best epoch's values.
 */
import * as tf from '../model/tf.ts';
import { TRAINING } from '../config.ts';
import { invalidArgument } from '../errors.ts';
import { fitHeadVariables, headVariables, standardiser, startingHead, type HeadTrainingResult, type TrainingRunOptions } from './head.ts';
import { createRng } from './random.ts';
import type { TopNet } from './top.ts';

/** Cut-layer feature maps of every view, one row each. */
export interface FeatureMaps {
  /** [height, width, channels] of one map. */
  shape: [number, number, number];
  row(i: number): Float32Array;
}

export interface TopTrainingOptions extends TrainingRunOptions {
  top: TopNet;
  maps: FeatureMaps;
  train: { rows: readonly number[]; y: readonly number[] };
  /** Early stopping set (rows and labels); without it the run trains for exactly `epochs`. */
  validation?: { rows: readonly number[]; y: readonly number[] };
}

export function mapsBatch(maps: FeatureMaps, rows: readonly number[]): tf.Tensor4D {
  const per = maps.shape[0] * maps.shape[1] * maps.shape[2];
  const buf = new Float32Array(rows.length * per);
  rows.forEach((r, j) => buf.set(maps.row(r), j * per));
  return tf.tensor4d(buf, [rows.length, ...maps.shape]);
}

/** Pooled features (GAP of the top's output) of some rows, [rows][channels]. */
export async function pooledFeatures(top: TopNet, maps: FeatureMaps, rows: readonly number[], batch = 256): Promise<Float32Array> {
  const out = new Float32Array(rows.length * top.outputChannels);
  for (let i = 0; i < rows.length; i += batch) {
    const p = tf.tidy(() => top.apply(mapsBatch(maps, rows.slice(i, i + batch))).mean([1, 2]));
    out.set(await p.data(), i * top.outputChannels);
    p.dispose();
  }
  return out;
}

export async function trainTop(options: TopTrainingOptions): Promise<HeadTrainingResult> {
  const { top, maps, train } = options;
  const n = train.rows.length;
  if (train.y.length !== n) throw invalidArgument(`${n} rows but ${train.y.length} labels`);
  if (!train.y.includes(0) || !train.y.includes(1)) throw invalidArgument('training data needs both classes (safe and danger clips)', { n });
  const rng = createRng(options.seed ?? TRAINING.seed);
  const dim = top.outputChannels;

  // Standardise the pooled features as they are before training (the head's input scale), like head mode.
  const stats = standardiser(await pooledFeatures(top, maps, train.rows), n, dim);
  const head = startingHead(dim, stats, options, Math.floor(rng.uniform() * 2 ** 31));
  const vars = headVariables(head, rng, 'computed');
  const mean = tf.tensor1d(stats.mean);
  const invStd = tf.tensor1d(stats.std).reciprocal();
  const logits = (x: tf.Tensor, training: boolean) => vars.logits(top.apply(x as tf.Tensor4D).mean([1, 2]).sub(mean).mul(invStd) as tf.Tensor2D, training);
  try {
    return await fitHeadVariables(head, vars, stats, {
      n,
      y: train.y,
      batch: (rows) => mapsBatch(maps, rows.map((j) => train.rows[j])),
      logits,
      groups: [
        { variables: top.variables, learningRate: TRAINING.topLearningRate },
        { variables: vars.variables, learningRate: TRAINING.learningRate },
      ],
      validation: options.validation && {
        n: options.validation.rows.length,
        y: options.validation.y,
        batch: (rows) => mapsBatch(maps, rows.map((j) => options.validation!.rows[j])),
      },
      rowWeights: options.rowWeights,
      run: options,
      defaultPatience: TRAINING.topPatience,
      rng,
    });
  } finally {
    vars.dispose();
    tf.dispose([mean, invStd]);
  }
}
