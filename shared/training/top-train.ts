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
import * as tf from '@tensorflow/tfjs';
import { MODEL, TRAINING } from '../config.ts';
import { invalidArgument } from '../errors.ts';
import { buildHead } from '../model/classifier.ts';
import type { HeadConfig } from '../model/types.ts';
import { classWeights } from './class-weights.ts';
import { foldStandardisation, standardiser, unfoldStandardisation, weightedBce, type EpochLog } from './head.ts';
import { createRng } from './random.ts';
import { dense, type TopNet } from './top.ts';

/** Cut-layer feature maps of every view, one row each. */
export interface FeatureMaps {
  /** [height, width, channels] of one map. */
  shape: [number, number, number];
  row(i: number): Float32Array;
}

export interface TopTrainingOptions {
  top: TopNet;
  maps: FeatureMaps;
  train: { rows: readonly number[]; y: readonly number[] };
  /** Early stopping set (rows and labels); without it the run trains for exactly `epochs`. */
  validation?: { rows: readonly number[]; y: readonly number[] };
  epochs?: number;
  patience?: number;
  batchSize?: number;
  head?: Partial<HeadConfig>;
  seed?: number;
  /** Start from this head (a parent model's; its folded standardisation is re-expressed for this run's). */
  initialHead?: tf.LayersModel;
  onEpoch?: (e: EpochLog) => void;
}

export interface TopTrainingResult {
  /** The head, taking raw pooled features (standardisation folded in), with a sigmoid output. */
  head: tf.LayersModel;
  history: EpochLog[];
  bestEpoch: number;
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

export async function trainTop(options: TopTrainingOptions): Promise<TopTrainingResult> {
  const { top, maps, train } = options;
  const n = train.rows.length;
  if (train.y.length !== n) throw invalidArgument(`${n} rows but ${train.y.length} labels`);
  if (!train.y.includes(0) || !train.y.includes(1)) throw invalidArgument('training data needs both classes (safe and danger clips)', { n });
  const epochs = options.epochs ?? TRAINING.maxEpochs;
  const patience = options.patience ?? TRAINING.topPatience;
  const batchSize = options.batchSize ?? TRAINING.batchSize;
  const config = { ...MODEL.head, ...options.head };
  const rng = createRng(options.seed ?? TRAINING.seed);
  const weights = classWeights(train.y);
  const dim = top.outputChannels;

  // Standardise the pooled features as they are before training (the head's input scale), like head mode.
  const stats = standardiser(await pooledFeatures(top, maps, train.rows), n, dim);
  const head = buildHead({ embeddingDim: dim, head: config, seed: Math.floor(rng.uniform() * 2 ** 31) });
  if (options.initialHead) {
    head.setWeights(options.initialHead.getWeights());
    unfoldStandardisation(head, stats);
  }
  const headVars = head.getWeights().map((w) => tf.variable(w.clone()));
  const mean = tf.tensor1d(stats.mean);
  const invStd = tf.tensor1d(stats.std).reciprocal();
  const logits = (x: tf.Tensor4D, training: boolean): tf.Tensor2D => {
    let h = top.apply(x).mean([1, 2]).sub(mean).mul(invStd) as tf.Tensor2D;
    if (config.hiddenUnits > 0) {
      h = dense(h, headVars[0] as unknown as tf.Tensor2D).add(headVars[1]).relu() as tf.Tensor2D;
      if (training && config.dropout > 0) h = tf.dropout(h, config.dropout, undefined, Math.floor(rng.uniform() * 2 ** 31)) as tf.Tensor2D;
    }
    const [w, b] = config.hiddenUnits > 0 ? headVars.slice(2) : headVars;
    return dense(h, w as unknown as tf.Tensor2D).add(b) as tf.Tensor2D;
  };
  const optimisers = [tf.train.adam(TRAINING.topLearningRate), tf.train.adam(TRAINING.learningRate)];
  const groups = [top.variables, headVars];
  const history: EpochLog[] = [];
  let best = { loss: Infinity, epoch: 0, top: [] as tf.Tensor[], head: [] as tf.Tensor[] };
  const snapshot = (loss: number, epoch: number) => {
    tf.dispose([...best.top, ...best.head]);
    best = { loss, epoch, top: top.snapshot(), head: headVars.map((v) => v.clone()) };
  };
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const order = rng.shuffle(Array.from({ length: n }, (_, i) => i));
      let lossSum = 0;
      for (let i = 0; i < n; i += batchSize) {
        const idx = order.slice(i, i + batchSize);
        const x = mapsBatch(maps, idx.map((j) => train.rows[j]));
        const y = tf.tensor2d(idx.map((j) => train.y[j]), [idx.length, 1]);
        const w = tf.tensor2d(idx.map((j) => weights[train.y[j] as 0 | 1]), [idx.length, 1]);
        const { value, grads } = tf.variableGrads(() => tf.losses.sigmoidCrossEntropy(y, logits(x, true), w) as tf.Scalar, [...top.variables, ...headVars]);
        groups.forEach((vars, k) => optimisers[k].applyGradients(Object.fromEntries(vars.map((v) => [v.name, grads[v.name]])) as Record<string, tf.Variable>));
        lossSum += (await value.data())[0] * idx.length;
        tf.dispose([x, y, w, value, ...Object.values(grads)]);
      }
      const log: EpochLog = { epoch, loss: lossSum / n };
      if (options.validation) {
        const p = await probabilities(options.validation.rows);
        log.valLoss = weightedBce(p, options.validation.y, weights);
        if (log.valLoss < best.loss - 1e-4) snapshot(log.valLoss, epoch);
      }
      history.push(log);
      options.onEpoch?.(log);
      if (options.validation && epoch - best.epoch >= patience) break;
    }
    if (options.validation && best.top.length > 0) {
      top.restore(best.top);
      headVars.forEach((v, i) => v.assign(best.head[i]));
    }
    head.setWeights(headVars);
    foldStandardisation(head, stats);
    return { head, history, bestEpoch: options.validation ? best.epoch : history.length };
  } finally {
    tf.dispose([...best.top, ...best.head, ...headVars, mean, invStd]);
    optimisers.forEach((o) => o.dispose());
  }

  async function probabilities(rows: readonly number[]): Promise<Float32Array> {
    const out = new Float32Array(rows.length);
    for (let i = 0; i < rows.length; i += 256) {
      const p = tf.tidy(() => tf.sigmoid(logits(mapsBatch(maps, rows.slice(i, i + 256)), false)));
      out.set(await p.data(), i);
      p.dispose();
    }
    return out;
  }
}
