/**
 * Trains the classifier head on cached embeddings ('head' mode): standardise the features, fit with class weights
 * and early stopping on a validation set (best epoch's weights kept), then fold the standardisation into the first
 * dense layer so the head takes raw embeddings, exactly what backbone -> GAP produces at serving time.
 */
import * as tf from '@tensorflow/tfjs';
import { TRAINING } from '../config.ts';
import { invalidArgument } from '../errors.ts';
import { buildHead, headConfigOf, HEAD_LAYERS } from '../model/classifier.ts';
import type { HeadConfig } from '../model/types.ts';
import { classWeights } from './class-weights.ts';
import { createRng, type Rng } from './random.ts';

export interface HeadTrainingOptions {
  /** Embeddings, row-major [n][dim]. */
  x: Float32Array;
  y: ArrayLike<number>;
  dim: number;
  /** Early stopping set; without it the head trains for exactly `epochs`. */
  validation?: { x: Float32Array; y: ArrayLike<number> };
  epochs?: number;
  patience?: number;
  batchSize?: number;
  learningRate?: number;
  head?: Partial<HeadConfig>;
  seed?: number;
  /** Start from these head weights (continue training a parent model's head). */
  initialHead?: tf.LayersModel;
  onEpoch?: (e: EpochLog) => void;
}

export interface EpochLog {
  epoch: number;
  loss: number;
  valLoss?: number;
}

export interface HeadTrainingResult {
  head: tf.LayersModel;
  history: EpochLog[];
  /** Epochs actually used (the best epoch with early stopping). */
  bestEpoch: number;
}

/**
 * Runs `fn` with Math.random replaced by a seeded generator. tfjs draws its unseeded randomness (initialisers,
 * dropout masks) from Math.random, and a fixed per-layer seed would freeze the dropout mask for every step;
 * seeding Math.random instead makes a training run reproducible with fresh masks per step.
 */
export async function withSeededMathRandom<T>(rng: Rng, fn: () => Promise<T>): Promise<T> {
  const original = Math.random;
  Math.random = () => rng.uniform();
  try {
    return await fn();
  } finally {
    Math.random = original;
  }
}

export function standardiser(x: Float32Array, n: number, dim: number): { mean: Float32Array; std: Float32Array } {
  const mean = new Float32Array(dim);
  const std = new Float32Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j] += x[i * dim + j];
  for (let j = 0; j < dim; j++) mean[j] /= n;
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) std[j] += (x[i * dim + j] - mean[j]) ** 2;
  // Floor relative to the largest feature's spread: many ReLU6 features are ~always 0, and dividing by their tiny
  // std would blow their noise up; relative, so a backbone with small activations (random init) still trains.
  let maxStd = 0;
  for (let j = 0; j < dim; j++) maxStd = Math.max(maxStd, (std[j] = Math.sqrt(std[j] / n)));
  const floor = Math.max(maxStd * TRAINING.minFeatureStdRatio, Number.MIN_VALUE);
  for (let j = 0; j < dim; j++) std[j] = Math.max(std[j], floor);
  return { mean, std };
}

function standardise(x: Float32Array, dim: number, s: { mean: Float32Array; std: Float32Array }): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (x[i] - s.mean[i % dim]) / s.std[i % dim];
  return out;
}

/** Rewrites the first dense layer so that W'x + b' on raw x equals W((x - mean) / std) + b. */
export function foldStandardisation(head: tf.LayersModel, s: { mean: Float32Array; std: Float32Array }): void {
  const first = head.layers.find((l) => l.name === HEAD_LAYERS.hidden) ?? head.getLayer(HEAD_LAYERS.output);
  const [kernel, bias] = first.getWeights();
  const folded = tf.tidy(() => {
    const invStd = tf.tensor1d(s.std).reciprocal();
    const k = kernel.mul(invStd.expandDims(1));
    const b = bias.sub(tf.tensor1d(s.mean).mul(invStd).expandDims(0).matMul(kernel).squeeze([0]));
    return [k, b];
  });
  first.setWeights(folded);
  folded.forEach((t) => t.dispose());
}

/** Inverse of foldStandardisation: W = W' * std (per input row), b = b' + mean . W'. */
export function unfoldStandardisation(head: tf.LayersModel, s: { mean: Float32Array; std: Float32Array }): void {
  const first = head.layers.find((l) => l.name === HEAD_LAYERS.hidden) ?? head.getLayer(HEAD_LAYERS.output);
  const [kernel, bias] = first.getWeights();
  const unfolded = tf.tidy(() => [
    kernel.mul(tf.tensor1d(s.std).expandDims(1)),
    bias.add(tf.tensor1d(s.mean).expandDims(0).matMul(kernel).squeeze([0])),
  ]);
  first.setWeights(unfolded);
  unfolded.forEach((t) => t.dispose());
}

export function weightedBce(p: Float32Array, y: ArrayLike<number>, w: { 0: number; 1: number }): number {
  let sum = 0;
  let norm = 0;
  for (let i = 0; i < p.length; i++) {
    const q = Math.min(Math.max(p[i], 1e-7), 1 - 1e-7);
    const wi = y[i] === 1 ? w[1] : w[0];
    sum -= wi * (y[i] === 1 ? Math.log(q) : Math.log(1 - q));
    norm += wi;
  }
  return sum / Math.max(norm, 1e-12);
}

export async function trainHead(options: HeadTrainingOptions): Promise<HeadTrainingResult> {
  const { x, y, dim } = options;
  const n = y.length;
  if (x.length !== n * dim) throw invalidArgument(`x has ${x.length} values, expected ${n} x ${dim}`);
  const labels = Array.from(y);
  if (!labels.includes(0) || !labels.includes(1)) {
    throw invalidArgument('training data needs both classes (safe and danger clips)', { n });
  }
  const epochs = options.epochs ?? TRAINING.maxEpochs;
  const patience = options.patience ?? TRAINING.patience;
  const batchSize = options.batchSize ?? TRAINING.batchSize;
  const rng = createRng(options.seed ?? TRAINING.seed);
  const weights = classWeights(labels);
  const stats = standardiser(x, n, dim);

  return withSeededMathRandom(rng.fork(), async () => {
    // A warm start continues the parent's head as it is (its width may differ from the default: see mergeHeads).
    const head = buildHead({ embeddingDim: dim, head: options.initialHead ? headConfigOf(options.initialHead) : options.head });
    if (options.initialHead) {
      head.setWeights(options.initialHead.getWeights());
      // A trained head takes raw embeddings (its standardisation was folded in): re-express it for standardised input.
      unfoldStandardisation(head, stats);
    }
    head.compile({ optimizer: tf.train.adam(options.learningRate ?? TRAINING.learningRate), loss: 'binaryCrossentropy' });
    const xs = tf.tensor2d(standardise(x, dim, stats), [n, dim]);
    const ys = tf.tensor2d(Float32Array.from(labels), [n, 1]);
    const val = options.validation
      ? tf.tensor2d(standardise(options.validation.x, dim, stats), [options.validation.y.length, dim])
      : undefined;
    const history: EpochLog[] = [];
    let best = { loss: Infinity, epoch: 0, weights: [] as tf.Tensor[] };
    try {
      for (let epoch = 1; epoch <= epochs; epoch++) {
        // Our own seeded shuffle: tfjs' shuffle is not reproducible.
        const order = tf.tensor1d(Int32Array.from(rng.shuffle(Array.from({ length: n }, (_, i) => i))), 'int32');
        const [bx, by] = [xs.gather(order), ys.gather(order)];
        order.dispose();
        const h = await head.fit(bx, by, { epochs: 1, batchSize, shuffle: false, classWeight: { 0: weights[0], 1: weights[1] }, verbose: 0 });
        bx.dispose();
        by.dispose();
        const log: EpochLog = { epoch, loss: h.history.loss[0] as number };
        if (val && options.validation) {
          const p = tf.tidy(() => head.predict(val) as tf.Tensor);
          log.valLoss = weightedBce((await p.data()) as Float32Array, options.validation.y, weights);
          p.dispose();
          if (log.valLoss < best.loss - 1e-4) {
            best.weights.forEach((t) => t.dispose());
            best = { loss: log.valLoss, epoch, weights: head.getWeights().map((t) => t.clone()) };
          }
        }
        history.push(log);
        options.onEpoch?.(log);
        if (val && epoch - best.epoch >= patience) break;
      }
      if (val && best.weights.length > 0) head.setWeights(best.weights);
      foldStandardisation(head, stats);
      return { head, history, bestEpoch: val ? best.epoch : history.length };
    } finally {
      best.weights.forEach((t) => t.dispose());
      xs.dispose();
      ys.dispose();
      val?.dispose();
    }
  });
}

/**
 * Several heads (same input, different seeds) as one: the hidden layers side by side, the output the mean of their
 * logits. Exact, so the serving model keeps the one-head architecture, only wider; averaging members trained from
 * different seeds removes most of the seed-to-seed spread of a single small head (README, Model).
 */
export function mergeHeads(heads: readonly tf.LayersModel[]): tf.LayersModel {
  if (heads.length === 0) throw invalidArgument('mergeHeads needs at least one head');
  if (heads.length === 1) return heads[0];
  const configs = heads.map(headConfigOf);
  const hidden = configs.reduce((s, c) => s + c.hiddenUnits, 0);
  if (configs.some((c) => (c.hiddenUnits === 0) !== (hidden === 0))) throw invalidArgument('mergeHeads needs heads of one kind (all with or all without a hidden layer)');
  const dim = heads[0].inputs[0].shape[1] as number;
  const merged = buildHead({ embeddingDim: dim, head: { hiddenUnits: hidden, dropout: configs[0].dropout } });
  const k = heads.length;
  const values = tf.tidy(() => {
    const w = heads.map((h) => h.getWeights());
    if (hidden === 0) return [tf.addN(w.map((x) => x[0])).div(k), tf.addN(w.map((x) => x[1])).div(k)];
    return [tf.concat(w.map((x) => x[0]), 1), tf.concat(w.map((x) => x[1])), tf.concat(w.map((x) => x[2])).div(k), tf.addN(w.map((x) => x[3])).div(k)];
  });
  merged.setWeights(values);
  tf.dispose(values);
  return merged;
}
