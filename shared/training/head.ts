/**
 * Trains the classifier head on cached embeddings ('head' mode): standardise the features, fit with class weights
 * and early stopping on a validation set (best epoch's weights kept), then fold the standardisation into the first
 * dense layer so the head takes raw embeddings, exactly what backbone -> GAP produces at serving time.
 */
import * as tf from '../model/tf.ts';
import { TRAINING } from '../config.ts';
import { invalidArgument } from '../errors.ts';
import { buildHead, headConfigOf, headInputDim, HEAD_LAYERS } from '../model/classifier.ts';
import type { HeadConfig } from '../model/types.ts';
import { classWeights } from './class-weights.ts';
import { createRng, type Rng } from './random.ts';
import { dense, inputDense } from './top.ts';

/** Knobs of a training run, shared by head and top modes (defaults: TRAINING, MODEL.head). */
export interface TrainingRunOptions {
  epochs?: number;
  patience?: number;
  batchSize?: number;
  head?: Partial<HeadConfig>;
  seed?: number;
  /** Start from these head weights (continue training a parent model's head; its folded standardisation is
   *  re-expressed for this run's). */
  initialHead?: tf.LayersModel;
  /** Per-row weights of the training rows, multiplying the class weights (trainer.ts sourceWeights); default 1. */
  rowWeights?: ArrayLike<number>;
  /** L2 penalty on the head's kernels (on standardised inputs), added to the mean weighted loss; default 0. */
  l2?: number;
  onEpoch?: (e: EpochLog) => void;
}

export interface HeadTrainingOptions extends TrainingRunOptions {
  /** Embeddings, row-major [n][dim]. */
  x: Float32Array;
  y: ArrayLike<number>;
  dim: number;
  /** Early stopping set; without it the head trains for exactly `epochs`. */
  validation?: { x: Float32Array; y: ArrayLike<number> };
  learningRate?: number;
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

/**
 * The head a run starts from: a fresh one, or (warm start) the parent's as it is, width included (see mergeHeads),
 * re-expressed for this run's standardised input.
 */
export function startingHead(dim: number, stats: { mean: Float32Array; std: Float32Array }, options: TrainingRunOptions, seed?: number): tf.LayersModel {
  const head = buildHead({ embeddingDim: dim, head: options.initialHead ? headConfigOf(options.initialHead) : options.head, seed });
  if (options.initialHead) {
    head.setWeights(options.initialHead.getWeights());
    unfoldStandardisation(head, stats);
  }
  return head;
}

/** Trainable copies of a head's weights, and its logit as tf ops on them (for fitLogits). */
export interface HeadVariables {
  variables: tf.Variable[];
  /** Logit of standardised pooled features [n, dim]; dropout only when training. */
  logits(x: tf.Tensor2D, training: boolean): tf.Tensor2D;
  /** The kernels (not the biases): what an L2 penalty shrinks. */
  kernels: tf.Variable[];
  /** Writes the variables back into the head model. */
  writeBack(): void;
  dispose(): void;
}

/**
 * `input`: 'data' when the head's input is fixed data (head mode: cached embeddings), so the first layer skips the
 * gradient for its input; 'computed' when gradients must flow back through it ('top' mode trains what feeds it).
 */
export function headVariables(head: tf.LayersModel, rng: Rng, input: 'data' | 'computed'): HeadVariables {
  const config = headConfigOf(head);
  const first = input === 'data' ? inputDense : dense;
  const variables = head.getWeights().map((w) => tf.variable(w.clone()));
  return {
    variables,
    logits(x, training) {
      if (config.hiddenUnits === 0) return first(x, variables[0] as unknown as tf.Tensor2D).add(variables[1]) as tf.Tensor2D;
      let h = first(x, variables[0] as unknown as tf.Tensor2D).add(variables[1]).relu() as tf.Tensor2D;
      if (training && config.dropout > 0) h = tf.dropout(h, config.dropout, undefined, Math.floor(rng.uniform() * 2 ** 31)) as tf.Tensor2D;
      return dense(h, variables[2] as unknown as tf.Tensor2D).add(variables[3]) as tf.Tensor2D;
    },
    kernels: config.hiddenUnits > 0 ? [variables[0], variables[2]] : [variables[0]],
    writeBack: () => head.setWeights(variables),
    dispose: () => variables.forEach((v) => v.dispose()),
  };
}

export interface FitLogitsOptions {
  n: number;
  y: ArrayLike<number>;
  /** Model input of some training rows. */
  batch(rows: number[]): tf.Tensor;
  logits(x: tf.Tensor, training: boolean): tf.Tensor2D;
  /** Variables with their Adam learning rates. */
  groups: { variables: tf.Variable[]; learningRate: number }[];
  validation?: { n: number; y: ArrayLike<number>; batch(rows: number[]): tf.Tensor };
  /** Per-row weights multiplying the class weights; default all 1. */
  rowWeights?: ArrayLike<number>;
  /** Variables `run.l2` penalises (a head's kernels). */
  penalised?: tf.Variable[];
  /** The caller's knobs (epochs, patience, batch size, onEpoch; TRAINING defaults) and its patience default. */
  run: TrainingRunOptions;
  defaultPatience: number;
  rng: Rng;
}

/**
 * The training loop of 'head' and 'top' modes: seeded shuffles, mini-batch Adam per variable group on the
 * class-weighted sigmoid cross-entropy of logits (a saturated output still has a gradient, unlike tfjs'
 * binaryCrossentropy on probabilities), early stopping on the weighted validation loss with the best epoch's values
 * restored. Plain tf ops with `dense` rather than LayersModel.fit: wasm's transposed matMul made fit ~2 s per epoch
 * on 6,000 embeddings.
 */
export async function fitLogits(o: FitLogitsOptions): Promise<{ history: EpochLog[]; bestEpoch: number }> {
  const epochs = o.run.epochs ?? TRAINING.maxEpochs;
  const patience = o.run.patience ?? o.defaultPatience;
  const batchSize = o.run.batchSize ?? TRAINING.batchSize;
  const l2 = o.run.l2 ?? 0;
  const weights = classWeights(o.y);
  const variables = o.groups.flatMap((g) => g.variables);
  const optimisers = o.groups.map((g) => tf.train.adam(g.learningRate));
  const history: EpochLog[] = [];
  let best = { loss: Infinity, epoch: 0, values: [] as tf.Tensor[] };
  const rowsOf = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const order = o.rng.shuffle(rowsOf(0, o.n));
      let lossSum = 0;
      for (let i = 0; i < o.n; i += batchSize) {
        const idx = order.slice(i, i + batchSize);
        const x = o.batch(idx);
        const y = tf.tensor2d(idx.map((j) => o.y[j]), [idx.length, 1]);
        const w = tf.tensor2d(idx.map((j) => weights[o.y[j] as 0 | 1] * (o.rowWeights ? o.rowWeights[j] : 1)), [idx.length, 1]);
        const { value, grads } = tf.variableGrads(() => {
          const loss = tf.losses.sigmoidCrossEntropy(y, o.logits(x, true), w) as tf.Scalar;
          if (!l2 || !o.penalised?.length) return loss;
          return loss.add(tf.addN(o.penalised.map((v) => v.square().sum())).mul(l2)) as tf.Scalar;
        }, variables);
        o.groups.forEach((g, k) => optimisers[k].applyGradients(Object.fromEntries(g.variables.map((v) => [v.name, grads[v.name]])) as Record<string, tf.Variable>));
        lossSum += (await value.data())[0] * idx.length;
        tf.dispose([x, y, w, value, ...Object.values(grads)]);
      }
      const log: EpochLog = { epoch, loss: lossSum / o.n };
      if (o.validation) {
        const p = new Float32Array(o.validation.n);
        for (let i = 0; i < o.validation.n; i += 512) {
          const q = tf.tidy(() => tf.sigmoid(o.logits(o.validation!.batch(rowsOf(i, Math.min(o.validation!.n, i + 512))), false)));
          p.set(await q.data(), i);
          q.dispose();
        }
        log.valLoss = weightedBce(p, o.validation.y, weights);
        if (log.valLoss < best.loss - 1e-4) {
          tf.dispose(best.values);
          best = { loss: log.valLoss, epoch, values: variables.map((v) => v.clone()) };
        }
      }
      history.push(log);
      o.run.onEpoch?.(log);
      if (o.validation && epoch - best.epoch >= patience) break;
    }
    if (o.validation && best.values.length > 0) variables.forEach((v, i) => v.assign(best.values[i]));
    return { history, bestEpoch: o.validation ? best.epoch : history.length };
  } finally {
    tf.dispose(best.values);
    optimisers.forEach((opt) => opt.dispose());
  }
}

/** fitLogits on a head's variables, then the trained values back into the head with the standardisation folded in. */
export async function fitHeadVariables(
  head: tf.LayersModel,
  vars: HeadVariables,
  stats: { mean: Float32Array; std: Float32Array },
  fit: FitLogitsOptions,
): Promise<HeadTrainingResult> {
  const { history, bestEpoch } = await fitLogits(fit);
  vars.writeBack();
  foldStandardisation(head, stats);
  return { head, history, bestEpoch };
}

export async function trainHead(options: HeadTrainingOptions): Promise<HeadTrainingResult> {
  const { x, y, dim } = options;
  const n = y.length;
  if (x.length !== n * dim) throw invalidArgument(`x has ${x.length} values, expected ${n} x ${dim}`);
  const labels = Array.from(y);
  if (!labels.includes(0) || !labels.includes(1)) {
    throw invalidArgument('training data needs both classes (safe and danger clips)', { n });
  }
  const rng = createRng(options.seed ?? TRAINING.seed);
  const stats = standardiser(x, n, dim);

  return withSeededMathRandom(rng.fork(), async () => {
    const head = startingHead(dim, stats, options);
    const vars = headVariables(head, rng, 'data');
    const xs = standardise(x, dim, stats);
    const val = options.validation && standardise(options.validation.x, dim, stats);
    // Rows copied in JS, not tf.gather: wasm's gather of 32 rows x 1280 took ~1.4 ms, a quarter of a head's step.
    const gather = (t: Float32Array) => (rows: number[]) => {
      const out = new Float32Array(rows.length * dim);
      rows.forEach((r, i) => out.set(t.subarray(r * dim, (r + 1) * dim), i * dim));
      return tf.tensor2d(out, [rows.length, dim]);
    };
    try {
      return await fitHeadVariables(head, vars, stats, {
        n,
        y: labels,
        batch: gather(xs),
        logits: (b, training) => vars.logits(b as tf.Tensor2D, training),
        groups: [{ variables: vars.variables, learningRate: options.learningRate ?? TRAINING.learningRate }],
        validation: val && options.validation ? { n: options.validation.y.length, y: options.validation.y, batch: gather(val) } : undefined,
        rowWeights: options.rowWeights,
        penalised: vars.kernels,
        run: options,
        defaultPatience: TRAINING.patience,
        rng,
      });
    } finally {
      vars.dispose();
    }
  });
}

/** A head trained on some columns of the merged head's input, and its share of the merged logit. */
export interface HeadPart {
  head: tf.LayersModel;
  /** First input column it reads; it reads as many as its own input is wide. */
  from: number;
  weight: number;
}

/**
 * Heads as one head on `dim` inputs: their hidden layers side by side (each reading only its own columns), the
 * output the weighted sum of their logits. Exact, so the serving model keeps the one-head architecture, only wider.
 * A head without a hidden layer (logistic regression) becomes two ReLU units, z = relu(z) - relu(-z), so heads of
 * both kinds merge. Dropout is the first hidden head's (it acts only in training).
 */
export function mergeHeadParts(parts: readonly HeadPart[], dim: number): tf.LayersModel {
  if (parts.length === 0) throw invalidArgument('mergeHeadParts needs at least one head');
  const configs = parts.map((p) => headConfigOf(p.head));
  const widths = configs.map((c) => (c.hiddenUnits === 0 ? 2 : c.hiddenUnits));
  const hidden = widths.reduce((s, w) => s + w, 0);
  parts.forEach((p) => {
    if (p.from < 0 || p.from + headInputDim(p.head) > dim) throw invalidArgument(`a head reads columns beyond the merged input's ${dim}`);
  });
  const merged = buildHead({ embeddingDim: dim, head: { hiddenUnits: hidden, dropout: configs.find((c) => c.hiddenUnits > 0)?.dropout ?? configs[0].dropout } });
  const values = tf.tidy(() => {
    const kernels: tf.Tensor[] = [];
    const biases: tf.Tensor[] = [];
    const outs: tf.Tensor[] = [];
    let outBias = tf.scalar(0);
    parts.forEach((p, i) => {
      const w = p.head.getWeights();
      const inDim = headInputDim(p.head);
      let [k, b, ok, ob] = configs[i].hiddenUnits > 0 ? w : [tf.concat([w[0], w[0].neg()], 1), tf.concat([w[1], w[1].neg()]), tf.tensor2d([1, -1], [2, 1]), tf.zeros([1])];
      k = tf.pad(k, [[p.from, dim - p.from - inDim], [0, 0]]);
      kernels.push(k);
      biases.push(b);
      outs.push(ok.mul(p.weight));
      outBias = outBias.add(ob.mul(p.weight));
    });
    return [tf.concat(kernels, 1), tf.concat(biases), tf.concat(outs, 0), outBias.reshape([1])];
  });
  merged.setWeights(values);
  tf.dispose(values);
  return merged;
}

/**
 * Several heads on the same input (different seeds) as one, the output the mean of their logits (mergeHeadParts):
 * averaging members trained from different seeds removes most of the seed-to-seed spread of a single small head.
 */
export function mergeHeads(heads: readonly tf.LayersModel[]): tf.LayersModel {
  if (heads.length === 0) throw invalidArgument('mergeHeads needs at least one head');
  if (heads.length === 1) return heads[0];
  return mergeHeadParts(heads.map((head) => ({ head, from: 0, weight: 1 / heads.length })), headInputDim(heads[0]));
}
