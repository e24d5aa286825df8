/**
 * MobileNetV2 (no top) in tfjs-layers, layer for layer and name for name the Keras Applications model
 * (keras.applications.mobilenet_v2.MobileNetV2, include_top=False), so Keras/ImageNet weights load by name.
 *
 * Follows the Keras source: `_make_divisible` channel rounding, expansion 6, the 17 inverted residual blocks,
 * `ZeroPadding2D(correct_pad)` before every stride-2 convolution (as in the shipped model.json, whose
 * Keras version still padded Conv1 explicitly), BatchNormalization(epsilon 1e-3, momentum 0.999), ReLU(6).
 * Pure: no fs. Loading files from disk lives in adapters/model-files.ts.
 */
import * as tf from './tf.ts';
import { SentinelError } from '../errors.ts';
import { modelFromFiles, parseModelFiles, type ModelFiles } from './files.ts';

export interface MobileNetV2Options {
  /** Width multiplier; Keras ships ImageNet weights for 0.35, 0.5, 0.75, 1.0, 1.3, 1.4. */
  alpha: number;
  /** [height, width, 3]; null sizes make a size-agnostic model (Keras pads stride-2 convs ((0,1),(0,1)) then). */
  inputShape: [number | null, number | null, 3];
  /** Seed for the random (glorot-uniform) kernel init; each layer derives its own from it. Unseeded when absent. */
  seed?: number;
  /** Model name; Keras' default is `mobilenetv2_<alpha>_<rows>`. */
  name?: string;
}

/** Name of the backbone's output layer (ReLU6 feature map); global-average-pool it for a 1280-d embedding. */
export const MOBILENET_V2_OUTPUT = 'out_relu';

/** Keras' `_make_divisible`: round channels to a multiple of 8 without losing more than 10%. */
export function makeDivisible(v: number, divisor = 8, minValue?: number): number {
  const min = minValue ?? divisor;
  let newV = Math.max(min, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (newV < 0.9 * v) newV += divisor;
  return newV;
}

/** [filters, stride, expansion] of blocks 0..16, from the Keras source. */
const BLOCKS: ReadonlyArray<readonly [number, 1 | 2, number]> = [
  [16, 1, 1],
  [24, 2, 6], [24, 1, 6],
  [32, 2, 6], [32, 1, 6], [32, 1, 6],
  [64, 2, 6], [64, 1, 6], [64, 1, 6], [64, 1, 6],
  [96, 1, 6], [96, 1, 6], [96, 1, 6],
  [160, 2, 6], [160, 1, 6], [160, 1, 6],
  [320, 1, 6],
];

/** Embedding width of the backbone for a given alpha (1280 up to alpha 1.0, as in Keras). */
export function mobileNetV2OutputChannels(alpha: number): number {
  return alpha > 1.0 ? makeDivisible(1280 * alpha, 8) : 1280;
}

/**
 * Keras `imagenet_utils.correct_pad` for a 3x3 stride-2 conv: ((1,1),(1,1)) for odd sizes, ((0,1),(0,1)) for even
 * or unknown ones (so the output is ceil(size/2), like TF 'same').
 */
function correctPad(size: [number | null, number | null]): [[number, number], [number, number]] {
  const adjust = size.map((s) => (s === null ? 1 : 1 - (s % 2)));
  return [
    [1 - adjust[0], 1],
    [1 - adjust[1], 1],
  ];
}

/** Output size of a valid 3x3 stride-2 conv after correctPad (null stays null). */
function afterStride2(size: number | null, pad: [number, number]): number | null {
  return size === null ? null : Math.floor((size + pad[0] + pad[1] - 3) / 2) + 1;
}

/**
 * Builds MobileNetV2 without top: input -> ... -> `out_relu` ([batch, ceil(H/32), ceil(W/32), 1280] for alpha <= 1).
 * Weights are random (glorot-uniform kernels, BN identity) until loaded, e.g. with `loadWeightsByName`.
 */
export function buildMobileNetV2(options: MobileNetV2Options): tf.LayersModel {
  const { alpha, inputShape, seed } = options;
  if (!(alpha > 0) || !Number.isFinite(alpha)) {
    throw new SentinelError('INVALID_ARGUMENT', `MobileNetV2 alpha must be a positive number, got ${alpha}.`, { alpha });
  }
  if (inputShape.length !== 3 || inputShape[2] !== 3) {
    throw new SentinelError('INVALID_ARGUMENT', `MobileNetV2 input must be [height, width, 3], got [${inputShape}].`);
  }
  for (const s of inputShape.slice(0, 2)) {
    // 32 px is the smallest size that survives the five stride-2 stages with at least one output cell.
    if (s !== null && (!Number.isInteger(s) || s < 32)) {
      throw new SentinelError('INVALID_ARGUMENT', `MobileNetV2 input size must be an integer >= 32 or null, got ${s}.`);
    }
  }
  let layerSeed = seed;
  const kernelInit = () =>
    tf.initializers.glorotUniform(layerSeed === undefined ? {} : { seed: layerSeed++ });
  const bn = (name: string) => tf.layers.batchNormalization({ axis: -1, epsilon: 1e-3, momentum: 0.999, name });
  const relu6 = (name: string) => tf.layers.reLU({ maxValue: 6, name });

  // Track the spatial size to reproduce correct_pad exactly when the input size is known.
  let size: [number | null, number | null] = [inputShape[0], inputShape[1]];
  const padStride2 = (x: tf.SymbolicTensor, name: string): tf.SymbolicTensor => {
    const pad = correctPad(size);
    size = [afterStride2(size[0], pad[0]), afterStride2(size[1], pad[1])];
    return tf.layers.zeroPadding2d({ padding: pad, name }).apply(x) as tf.SymbolicTensor;
  };

  const input = tf.input({ shape: [...inputShape], name: 'input_1' });
  const firstFilters = makeDivisible(32 * alpha, 8);
  let x = padStride2(input, 'Conv1_pad');
  x = tf.layers
    .conv2d({
      filters: firstFilters, kernelSize: 3, strides: 2, padding: 'valid', useBias: false, name: 'Conv1',
      kernelInitializer: kernelInit(),
    })
    .apply(x) as tf.SymbolicTensor;
  x = bn('bn_Conv1').apply(x) as tf.SymbolicTensor;
  x = relu6('Conv1_relu').apply(x) as tf.SymbolicTensor;

  BLOCKS.forEach(([filters, stride, expansion], blockId) => {
    const inputs = x;
    const inChannels = inputs.shape[3] as number;
    const pointwiseFilters = makeDivisible(Math.trunc(filters * alpha), 8);
    let prefix = `block_${blockId}_`;
    let h = inputs;
    if (blockId) {
      h = tf.layers
        .conv2d({
          filters: expansion * inChannels, kernelSize: 1, padding: 'same', useBias: false, name: `${prefix}expand`,
          kernelInitializer: kernelInit(),
        })
        .apply(h) as tf.SymbolicTensor;
      h = bn(`${prefix}expand_BN`).apply(h) as tf.SymbolicTensor;
      h = relu6(`${prefix}expand_relu`).apply(h) as tf.SymbolicTensor;
    } else {
      prefix = 'expanded_conv_';
    }
    if (stride === 2) h = padStride2(h, `${prefix}pad`);
    h = tf.layers
      .depthwiseConv2d({
        kernelSize: 3, strides: stride, padding: stride === 1 ? 'same' : 'valid', useBias: false,
        name: `${prefix}depthwise`, depthwiseInitializer: kernelInit(),
      })
      .apply(h) as tf.SymbolicTensor;
    h = bn(`${prefix}depthwise_BN`).apply(h) as tf.SymbolicTensor;
    h = relu6(`${prefix}depthwise_relu`).apply(h) as tf.SymbolicTensor;
    h = tf.layers
      .conv2d({
        filters: pointwiseFilters, kernelSize: 1, padding: 'same', useBias: false, name: `${prefix}project`,
        kernelInitializer: kernelInit(),
      })
      .apply(h) as tf.SymbolicTensor;
    h = bn(`${prefix}project_BN`).apply(h) as tf.SymbolicTensor;
    if (inChannels === pointwiseFilters && stride === 1) {
      h = tf.layers.add({ name: `${prefix}add` }).apply([inputs, h]) as tf.SymbolicTensor;
    }
    x = h;
  });

  x = tf.layers
    .conv2d({
      filters: mobileNetV2OutputChannels(alpha), kernelSize: 1, useBias: false, name: 'Conv_1',
      kernelInitializer: kernelInit(),
    })
    .apply(x) as tf.SymbolicTensor;
  x = bn('Conv_1_bn').apply(x) as tf.SymbolicTensor;
  x = relu6(MOBILENET_V2_OUTPUT).apply(x) as tf.SymbolicTensor;

  const rows = inputShape[0] ?? 224;
  const name = options.name ?? `mobilenetv2_${alpha.toFixed(2)}_${rows}`;
  return tf.model({ inputs: input, outputs: x, name });
}

/** What `loadWeightsByName` did: names set, model weights left untouched, file weights with no home. */
export interface WeightLoadReport {
  loaded: string[];
  missing: string[];
  unexpected: string[];
}

/**
 * Sets the model's weights whose (Keras) names, e.g. `Conv1/kernel`, appear in `weights` (a decoded weights file).
 * A shape mismatch is an error. With `requireAll`, any model weight left unset is an error (use it for a backbone);
 * file weights the model lacks are reported, not an error (e.g. loading a backbone's weights into a classifier).
 * Values are copied into the model's variables; `weights` stays the caller's to dispose.
 */
export function loadWeightsByName(
  model: tf.LayersModel,
  weights: tf.NamedTensorMap,
  options: { requireAll?: boolean } = {},
): WeightLoadReport {
  const loaded: string[] = [];
  const missing: string[] = [];
  const assignments: Array<[tf.LayerVariable, tf.Tensor]> = [];
  const seen = new Set<string>();
  for (const v of model.weights) {
    const name = v.originalName;
    seen.add(name);
    const value = weights[name];
    if (value === undefined) {
      missing.push(name);
      continue;
    }
    if (!tf.util.arraysEqual(v.shape as number[], value.shape)) {
      throw new SentinelError(
        'MODEL_WEIGHTS_MISMATCH',
        `Weight ${name} has shape [${value.shape}] in the file but [${v.shape}] in the model (wrong alpha?).`,
        { name, fileShape: value.shape, modelShape: v.shape },
      );
    }
    assignments.push([v, value]);
    loaded.push(name);
  }
  const unexpected = Object.keys(weights).filter((n) => !seen.has(n));
  if (options.requireAll && missing.length > 0) {
    throw new SentinelError(
      'MODEL_WEIGHTS_MISMATCH',
      `${missing.length} of ${model.weights.length} model weights are not in the weights file (first: ${missing[0]}).`,
      { missing: missing.slice(0, 20) },
    );
  }
  for (const [v, value] of assignments) v.write(value);
  return { loaded, missing, unexpected };
}

/** Decodes the weights of a tfjs model file map (model.json + shards) into a name -> tensor map (caller disposes). */
export function decodeWeightFiles(files: ModelFiles): tf.NamedTensorMap {
  const { weightData, weightSpecs } = parseModelFiles(files);
  return tf.io.decodeWeights(weightData as ArrayBuffer, weightSpecs as tf.io.WeightsManifestEntry[]);
}

/** Loads a shipped tfjs MobileNetV2 (model.json + weights) as is: topology and weights from the files. */
export async function loadMobileNetV2(files: ModelFiles): Promise<tf.LayersModel> {
  const model = await modelFromFiles(files);
  if (!model.layers.some((l) => l.name === MOBILENET_V2_OUTPUT)) {
    throw new SentinelError('MODEL_ARTIFACT_INVALID', `Model has no ${MOBILENET_V2_OUTPUT} layer: not a MobileNetV2 backbone.`);
  }
  return model;
}
