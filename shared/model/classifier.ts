/**
 * The danger classifier: backbone (MobileNetV2 feature map) -> GlobalAveragePooling2D -> small head -> P(danger).
 *
 * Two ways to train it (shared/training decides):
 * - 'head' mode: `embed` the clips once with the frozen backbone (inference mode), train `buildHead` on the cached
 *   1280-d embeddings, then `buildClassifier({ backbone, head: trainedHead })` copies the head's weights in.
 * - fine-tuning: `buildClassifier` + `setBackboneTrainable` + compile + fit on images.
 *
 * Frozen BatchNormalization: tfjs-layers runs every layer with training=true during fit, and its
 * BatchNormalization then normalises with the batch statistics and updates its moving mean/variance even when
 * the layer is not trainable (tfjs-layers 4.22 normalization.js; shown by tests/unit/model-classifier.test.ts).
 * Keras 2.x/3 instead runs non-trainable BN in inference mode. `keepFrozenBatchNormInInferenceMode` restores the
 * Keras behaviour per layer instance; buildClassifier installs it on every BN layer of the backbone.
 */
import * as tf from './tf.ts';
import { MODEL } from '../config.ts';
import { SentinelError } from '../errors.ts';
import { melToModelInput, type InputRepresentation, type ModelInput } from './input.ts';
import { MEL_STATS_VERSION, MelStats, melStatsDim, melStatsVersionOfDim, type MelStatsVersion } from './mel-stats.ts';
// Registers the AudioSet backbone's custom layer (hardswish) by name, so classifiers on it load anywhere
// (Node, Lambda, browser, training threads).
import './backbones/efficientat.ts';
import { ClassMax } from './class-prior.ts';
import type { HeadConfig } from './types.ts';

/** Layer names of the head; `buildHead` and `buildClassifier` use the same ones so weights move by name. */
export const HEAD_LAYERS = Object.freeze({
  input: 'embedding',
  pool: 'global_average_pooling',
  /** The acoustic statistics branch (mel-stats.ts) and the concatenation of it with the pooled embedding. */
  melStats: 'mel_stats',
  /** The backbone's danger score from its class logits (class-prior.ts). */
  classPrior: 'class_prior',
  features: 'head_features',
  hidden: 'head_dense',
  dropout: 'head_dropout',
  output: 'head_output',
});

function headLayers(config: HeadConfig, seed: number | undefined): tf.layers.Layer[] {
  const { hiddenUnits, dropout } = config;
  if (!Number.isInteger(hiddenUnits) || hiddenUnits < 0) {
    throw new SentinelError('INVALID_ARGUMENT', `head.hiddenUnits must be an integer >= 0, got ${hiddenUnits}.`);
  }
  if (!(dropout >= 0 && dropout < 1)) {
    throw new SentinelError('INVALID_ARGUMENT', `head.dropout must be in [0, 1), got ${dropout}.`);
  }
  const init = (offset: number) => tf.initializers.glorotUniform(seed === undefined ? {} : { seed: seed + offset });
  const layers: tf.layers.Layer[] = [];
  if (hiddenUnits > 0) {
    layers.push(
      tf.layers.dense({ units: hiddenUnits, activation: 'relu', kernelInitializer: init(0), name: HEAD_LAYERS.hidden }),
    );
  }
  if (dropout > 0) layers.push(tf.layers.dropout({ rate: dropout, seed, name: HEAD_LAYERS.dropout }));
  layers.push(tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: init(1), name: HEAD_LAYERS.output }));
  return layers;
}

function applyAll(layers: tf.layers.Layer[], x: tf.SymbolicTensor): tf.SymbolicTensor {
  return layers.reduce((h, l) => l.apply(h) as tf.SymbolicTensor, x);
}

/** Reads a head's hidden units and dropout back from a model built by buildHead. */
export function headConfigOf(head: tf.LayersModel): HeadConfig {
  const names = head.layers.map((l) => l.name);
  if (!names.includes(HEAD_LAYERS.output)) {
    throw new SentinelError('INVALID_ARGUMENT', `Not a head model: no ${HEAD_LAYERS.output} layer (layers: ${names.join(', ')}).`);
  }
  const hidden = names.includes(HEAD_LAYERS.hidden) ? (head.getLayer(HEAD_LAYERS.hidden).getConfig().units as number) : 0;
  const dropout = names.includes(HEAD_LAYERS.dropout) ? (head.getLayer(HEAD_LAYERS.dropout).getConfig().rate as number) : 0;
  return { hiddenUnits: hidden, dropout };
}

/**
 * The head alone, on embeddings: [batch, embeddingDim] -> Dense(hidden, relu) -> Dropout -> Dense(1, sigmoid).
 * hiddenUnits 0 makes it logistic regression on the embedding. Defaults: MODEL.head.
 */
export function buildHead(options: { embeddingDim: number; head?: Partial<HeadConfig>; seed?: number }): tf.LayersModel {
  const config = { ...MODEL.head, ...options.head };
  const input = tf.input({ shape: [options.embeddingDim], name: HEAD_LAYERS.input });
  return tf.model({ inputs: input, outputs: applyAll(headLayers(config, options.seed), input), name: 'sentinel_head' });
}

/**
 * Copies weights from `from` to `to` for every layer name both have among `names` (default: the head layers).
 * Shapes must match. Returns the names copied.
 */
export function transplantWeights(
  from: tf.LayersModel,
  to: tf.LayersModel,
  names: readonly string[] = [HEAD_LAYERS.hidden, HEAD_LAYERS.output],
): string[] {
  const copied: string[] = [];
  for (const name of names) {
    const src = from.layers.find((l) => l.name === name);
    const dst = to.layers.find((l) => l.name === name);
    if (src === undefined || dst === undefined) continue;
    const values = src.getWeights();
    const targets = dst.getWeights();
    if (values.length !== targets.length || values.some((v, i) => !tf.util.arraysEqual(v.shape, targets[i].shape))) {
      throw new SentinelError('MODEL_WEIGHTS_MISMATCH', `Layer ${name} has different weight shapes in the two models.`, { name });
    }
    dst.setWeights(values);
    copied.push(name);
  }
  return copied;
}

const PATCHED = Symbol('sentinel.frozenBatchNorm');

/**
 * Makes every BatchNormalization layer of `model` run in inference mode (moving statistics, no updates) whenever it
 * is frozen (layer.trainable false, or its weights made non-trainable by a container), like Keras. Checked at call
 * time, so later trainable changes take effect (after the usual re-compile). Idempotent; invisible to save/load.
 */
export function keepFrozenBatchNormInInferenceMode(model: tf.LayersModel): void {
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const tagged = layer as tf.layers.Layer & { [PATCHED]?: true };
    if (tagged[PATCHED]) continue;
    const call = layer.call.bind(layer);
    layer.call = (inputs, kwargs) => {
      const frozen = !layer.trainable || layer.trainableWeights.length === 0;
      return call(inputs, frozen && kwargs?.training ? { ...kwargs, training: false } : kwargs);
    };
    tagged[PATCHED] = true;
  }
}

/** Input width of a head model (embedding, or embedding + acoustic statistics). */
export function headInputDim(head: tf.LayersModel): number {
  return head.inputs[0].shape[1] as number;
}

/** Channels of a backbone's feature map: the pooled embedding's width (1280 for alpha <= 1). */
export function backboneChannels(backbone: tf.LayersModel): number {
  return backbone.outputs[0].shape[3] as number;
}

/**
 * The backbone's own classifier on the pooled embedding (e.g. AudioSet's 527 logits), carried inside a Sentinel
 * classifier as a second output so serving can say what the model hears; `readByHead` also feeds its logits to the
 * danger head beside the embedding.
 */
export interface ClassHeadOption {
  model: tf.LayersModel;
  readByHead: boolean;
  /** With readByHead: the head also reads the highest logit of these classes (class-prior.ts), after the logits. */
  priorClasses?: readonly number[];
}

/** The class head's layers re-applied on `pooled` (same names, same weights), so the classifier stays one flat graph. */
function applyClassHead(model: tf.LayersModel, pooled: tf.SymbolicTensor): { logits: tf.SymbolicTensor; copy: () => void } {
  const pairs: [tf.layers.Layer, tf.layers.Layer][] = [];
  let x = pooled;
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    const cls = layer.constructor as unknown as { fromConfig(c: unknown, config: tf.serialization.ConfigDict): tf.layers.Layer };
    const clone = cls.fromConfig(layer.constructor, layer.getConfig());
    x = clone.apply(x) as tf.SymbolicTensor;
    pairs.push([layer, clone]);
  }
  return { logits: x, copy: () => pairs.forEach(([from, to]) => to.setWeights(from.getWeights())) };
}

/**
 * backbone -> GlobalAveragePooling2D [-> concatenated with the class head's logits and/or MelStats(input)] -> head,
 * one flat functional model sharing the backbone's layers (and weights). `head` is a config (fresh random head) or a
 * head model from buildHead whose weights are copied in; a head as wide as the embedding plus some version's
 * statistics (mel-stats.ts) gets that version's statistics branch (`melStats` forces the current version either way
 * for a fresh head). With `classHead` the model has a second output, the backbone's class logits. The backbone starts
 * frozen (trainable false); see setBackboneTrainable.
 */
export function buildClassifier(options: {
  backbone: tf.LayersModel;
  head?: Partial<HeadConfig> | tf.LayersModel;
  melStats?: boolean;
  classHead?: ClassHeadOption;
  seed?: number;
}): tf.LayersModel {
  const { backbone, seed, classHead } = options;
  if (backbone.outputs.length !== 1 || backbone.outputs[0].rank !== 4) {
    throw new SentinelError('INVALID_ARGUMENT', 'Backbone must have one 4-D (feature map) output.');
  }
  const headModel = options.head instanceof tf.LayersModel ? options.head : undefined;
  const config = headModel ? headConfigOf(headModel) : { ...MODEL.head, ...(options.head as Partial<HeadConfig>) };
  const prior = classHead?.readByHead && classHead.priorClasses?.length ? [...classHead.priorClasses] : undefined;
  const logitsDim = classHead?.readByHead ? classHeadClasses(classHead.model) + (prior ? 1 : 0) : 0;
  const embeddingDim = backboneChannels(backbone) + logitsDim;
  const statsVersion: MelStatsVersion | undefined = headModel
    ? melStatsVersionOfDim(headInputDim(headModel) - embeddingDim)
    : options.melStats ? MEL_STATS_VERSION : undefined;
  if (headModel && headInputDim(headModel) !== embeddingDim && !statsVersion) {
    throw new SentinelError(
      'MODEL_WEIGHTS_MISMATCH',
      `Head takes ${headInputDim(headModel)} features but the backbone gives ${embeddingDim} (${embeddingDim + melStatsDim(MEL_STATS_VERSION)} with acoustic statistics).`,
    );
  }
  const pooled = tf.layers.globalAveragePooling2d({ name: HEAD_LAYERS.pool }).apply(backbone.outputs[0]) as tf.SymbolicTensor;
  const parts = [pooled];
  const classes = classHead && applyClassHead(classHead.model, pooled);
  if (classes && classHead?.readByHead) parts.push(classes.logits);
  // The statistics before the class prior: the trainer's rows are [embedding, logits, statistics, prior], the prior
  // last because no learnt head reads it. A one-channel input is the AudioSet backbone's Kaldi log-mel.
  const reads = backbone.inputs[0].shape[3] === 1 ? 'logmel' : 'grey';
  if (statsVersion) parts.push(new MelStats({ name: HEAD_LAYERS.melStats, version: statsVersion, ...(reads === 'logmel' ? { input: reads } : {}) }).apply(backbone.inputs[0]) as tf.SymbolicTensor);
  if (classes && prior) parts.push(new ClassMax({ name: HEAD_LAYERS.classPrior, classes: prior }).apply(classes.logits) as tf.SymbolicTensor);
  const features = parts.length === 1 ? pooled : (tf.layers.concatenate({ name: HEAD_LAYERS.features }).apply(parts) as tf.SymbolicTensor);
  const output = applyAll(headLayers(config, seed), features);
  const outputs = classes ? [output, classes.logits] : output;
  const classifier = tf.model({ inputs: backbone.inputs, outputs, name: 'sentinel_classifier' });
  classes?.copy();
  if (headModel) transplantWeights(headModel, classifier);
  setBackboneTrainable(classifier, false);
  keepFrozenBatchNormInInferenceMode(classifier);
  return classifier;
}

/** Classes of a class head (its output width). */
function classHeadClasses(model: tf.LayersModel): number {
  return model.outputs[0].shape[1] as number;
}

/** The feature-map part of a classifier: input -> the backbone's last activation (what the pooling reads). */
export function backboneOf(model: tf.LayersModel): tf.LayersModel {
  const featureMap = model.getLayer(HEAD_LAYERS.pool).input as tf.SymbolicTensor;
  return tf.model({ inputs: model.inputs, outputs: featureMap });
}

/** The backbone's class head inside a classifier (pooled embedding -> class logits), or undefined when it has none. */
export function classHeadOf(model: tf.LayersModel): ClassHeadOption | undefined {
  if (model.outputs.length < 2) return undefined;
  const pooled = model.getLayer(HEAD_LAYERS.pool).output as tf.SymbolicTensor;
  const logits = model.outputs[1];
  const input = tf.input({ shape: [pooled.shape[1] as number], name: 'class_head_input' });
  // Re-apply the classifier's class-head layers (those between the pooling and the logits) on a fresh input.
  const chain: tf.layers.Layer[] = [];
  let node = logits.sourceLayer;
  while (node && node.name !== HEAD_LAYERS.pool) {
    chain.unshift(node);
    // Node 0: the layer's call inside the classifier (re-applying it below adds more nodes).
    node = (node.getInputAt(0) as tf.SymbolicTensor).sourceLayer;
  }
  const out = chain.reduce((x, layer) => layer.apply(x) as tf.SymbolicTensor, input as tf.SymbolicTensor);
  const features = model.layers.find((l) => l.name === HEAD_LAYERS.features);
  const inbound = features ? (features.getInputAt(0) as tf.SymbolicTensor[]).map((t) => t.sourceLayer.name) : [];
  const prior = model.layers.find((l) => l.name === HEAD_LAYERS.classPrior) as ClassMax | undefined;
  return {
    model: tf.model({ inputs: input, outputs: out, name: 'class_head' }),
    readByHead: inbound.includes(logits.sourceLayer.name),
    ...(prior ? { priorClasses: prior.classes } : {}),
  };
}

/** A head model carrying a classifier's head weights, as wide as its features (warm starts, continue-training). */
export function headOf(model: tf.LayersModel): tf.LayersModel {
  const layer = model.layers.find((l) => l.name === HEAD_LAYERS.melStats) as MelStats | undefined;
  const stats = layer ? melStatsDim(layer.version, layer.bands) : 0;
  const classes = classHeadOf(model);
  const logits = classes?.readByHead ? classHeadClasses(classes.model) + (classes.priorClasses ? 1 : 0) : 0;
  const head = buildHead({ embeddingDim: backboneChannels(backboneOf(model)) + logits + stats, head: headConfigOf(model) });
  transplantWeights(model, head);
  return head;
}

/** Whether a classifier has the acoustic statistics branch. */
export function hasMelStats(model: tf.LayersModel): boolean {
  return model.layers.some((l) => l.name === HEAD_LAYERS.melStats);
}

/**
 * Freezes or unfreezes the backbone of a classifier: `false` freezes every backbone layer, `true` trains all,
 * `{ from: 'block_13_expand' }` trains that layer and everything after it (Keras-style partial fine-tuning).
 * Head layers stay trainable. Re-compile afterwards: tfjs collects trainable weights at compile time.
 */
export function setBackboneTrainable(classifier: tf.LayersModel, trainable: boolean | { from: string }): void {
  const poolIndex = classifier.layers.findIndex((l) => l.name === HEAD_LAYERS.pool);
  if (poolIndex < 0) throw new SentinelError('INVALID_ARGUMENT', 'Not a classifier: no global_average_pooling layer.');
  let from = trainable === true ? 0 : trainable === false ? poolIndex : -1;
  if (typeof trainable === 'object') {
    from = classifier.layers.findIndex((l) => l.name === trainable.from);
    if (from < 0 || from > poolIndex) {
      throw new SentinelError('INVALID_ARGUMENT', `No backbone layer named ${trainable.from}.`, { from: trainable.from });
    }
  }
  classifier.layers.forEach((layer, i) => {
    if (i < poolIndex) layer.trainable = i >= from;
  });
}

/** Mels plus the representation to draw them in: converted batch by batch, so a large set never sits in memory as images. */
export interface MelBatch {
  mels: readonly Float32Array[];
  representation: InputRepresentation;
}

/**
 * Global-average-pooled backbone features, [n * channels] row-major (1280 per clip for alpha <= 1), computed in
 * inference mode `batchSize` clips at a time (the acoustic statistics beside them: melStatsOf). `inputs` is an image batch tensor, a ModelInput, or mels (MelBatch).
 */
export async function embed(
  backbone: tf.LayersModel,
  inputs: tf.Tensor4D | ModelInput | MelBatch,
  batchSize: number = MODEL.embedBatchSize,
): Promise<Float32Array> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new SentinelError('INVALID_ARGUMENT', `batchSize must be a positive integer, got ${batchSize}.`);
  }
  const featureMap = backbone.outputs[0];
  const channels = featureMap.shape[featureMap.shape.length - 1] as number;
  const count = inputs instanceof tf.Tensor ? inputs.shape[0] : 'mels' in inputs ? inputs.mels.length : inputs.shape[0];
  const out = new Float32Array(count * channels);
  let scratch: Float32Array | undefined; // one image buffer for all batches of a MelBatch (see melToModelInput)
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(count, start + batchSize);
    const pooled = tf.tidy(() => {
      let x: tf.Tensor4D;
      if (inputs instanceof tf.Tensor) {
        x = inputs.slice([start, 0, 0, 0], [end - start, -1, -1, -1]);
      } else {
        let batch: ModelInput;
        if ('mels' in inputs) {
          batch = melToModelInput(inputs.mels.slice(start, end), inputs.representation, scratch);
          scratch ??= batch.data;
        } else {
          batch = inputs;
        }
        const per = batch.shape[1] * batch.shape[2] * batch.shape[3];
        const offset = 'mels' in inputs ? 0 : start * per;
        x = tf.tensor4d(batch.data.subarray(offset, offset + (end - start) * per), [end - start, batch.shape[1], batch.shape[2], batch.shape[3]]);
      }
      const features = backbone.predict(x, { batchSize: end - start }) as tf.Tensor;
      return features.mean([1, 2]) as tf.Tensor2D;
    });
    out.set(await pooled.data(), start * channels);
    pooled.dispose();
  }
  return out;
}
