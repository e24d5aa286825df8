/**
 * The top of a BN-folded backbone as plain tf ops on trainable variables, so the last blocks can be fine-tuned on
 * CPU from cached feature maps ('top' mode): everything below the cut runs once per view (cached, like embeddings),
 * and only the layers after it take part in training.
 *
 * Why not tfjs-layers: a 1x1 Conv2D trained through tfjs-layers on wasm computes its kernel gradient with the cpu
 * backend's JavaScript loops (wasm has no Conv2DBackpropFilter; see model/wasm-kernels.ts). Here a 1x1 stride-1
 * convolution, most of MobileNetV2's top by far, is a matMul (forward and both gradients run in wasm/XNNPACK);
 * depthwise convolutions stay convolutions (small at stride 32). The layers keep their Keras names and shapes, so
 * `writeBack` puts the trained values into the serving model unchanged.
 */
import * as tf from '../model/tf.ts';
import { SentinelError } from '../errors.ts';

type Padding = 'same' | 'valid';

interface Step {
  layer: tf.layers.Layer;
  inputs: string[];
  run(inputs: tf.Tensor4D[], weights: tf.Variable[]): tf.Tensor4D;
  weights: tf.Variable[];
}

export interface TopNet {
  /** The cut layer's output shape without the batch (null: depends on the input size). */
  inputShape: (number | null)[];
  /** Channels of the output feature map (the embedding width after pooling). */
  outputChannels: number;
  variables: tf.Variable[];
  /** Feature map of the top for a batch of cut-layer maps; differentiable in `variables`. */
  apply(x: tf.Tensor4D): tf.Tensor4D;
  /** Current variable values (clones), e.g. for early stopping. */
  snapshot(): tf.Tensor[];
  /** Sets the variables from a snapshot (or the values the layers had when the net was made). */
  restore(values?: tf.Tensor[]): void;
  /** Copies the variables into the model's layers (same names, same shapes). */
  writeBack(): void;
  dispose(): void;
}

function inboundNames(layer: tf.layers.Layer): string[] {
  // Node 0 is the layer's call inside the backbone model itself (later nodes come from models built on top of it).
  return layer.inboundNodes[0].inboundLayers.map((l) => l.name);
}

/**
 * x [n, c] . w [c, k] with gradients that never ask wasm for a transposed matMul: tfjs-backend-wasm 4.22 runs
 * matMul(a, b, transposeA/B) ~12x slower than transposing first (measured: 71 vs 5.5 ms at 512x112x1280).
 */
export const dense = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: x.matMul(w),
    gradFunc: (dy: tf.Tensor2D, [xs, ws]: tf.Tensor2D[]) => [dy.matMul(ws.transpose()), xs.transpose().matMul(dy)],
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/**
 * `dense` for a first layer, whose x is data: the gradient for x is zeros instead of dy . w^T. tfjs runs a custom
 * gradient's function whole, so `dense` would pay for a gradient nobody reads (a head's first layer: about a third
 * of its step). w's gradient is computed exactly as in `dense`.
 */
export const inputDense = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([x]);
  return {
    value: x.matMul(w),
    gradFunc: (dy: tf.Tensor2D, [xs]: tf.Tensor2D[]) => [tf.zerosLike(xs), xs.transpose().matMul(dy)],
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/**
 * 3x3 depthwise convolution, stride 1, 'same', as nine shifted multiply-adds: wasm lacks the depthwise gradient
 * kernels and the bridged cpu ones cost ~190 ms per batch at [32, 4, 4, 336]; slices, pads and products all have
 * fast wasm gradients.
 */
export function depthwise3x3Same(x: tf.Tensor4D, kernel: tf.Tensor): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const padded = x.pad([[0, 0], [1, 1], [1, 1], [0, 0]]);
  const k = kernel.reshape([3, 3, c]);
  let y: tf.Tensor4D | undefined;
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const term = padded.slice([0, i, j, 0], [n, h, w, c]).mul(k.slice([i, j, 0], [1, 1, c]).reshape([c])) as tf.Tensor4D;
      y = y ? (y.add(term) as tf.Tensor4D) : term;
    }
  }
  return y!;
}

function convOp(cls: string, config: Record<string, unknown>): (x: tf.Tensor4D, w: tf.Variable[]) => tf.Tensor4D {
  const strides = config.strides as [number, number];
  const padding = config.padding as Padding;
  const dilation = (config.dilationRate ?? config.dilation_rate ?? [1, 1]) as [number, number];
  const activation = (config.activation ?? 'linear') as string;
  if (activation !== 'linear' || dilation.some((d) => d !== 1)) {
    throw new SentinelError('INVALID_ARGUMENT', `Top fine-tuning supports linear, undilated convolutions only (${config.name}).`);
  }
  const kernelSize = config.kernelSize as [number, number];
  const stride1 = strides[0] === 1 && strides[1] === 1;
  const pointwise = cls === 'Conv2D' && kernelSize[0] === 1 && kernelSize[1] === 1 && stride1;
  const shifted = cls === 'DepthwiseConv2D' && kernelSize[0] === 3 && kernelSize[1] === 3 && stride1 && padding === 'same';
  return (x, [kernel, bias]) => {
    let y: tf.Tensor4D;
    if (pointwise) {
      const [n, h, w, c] = x.shape;
      const out = kernel.shape[3] as number;
      y = dense(x.reshape([n * h * w, c]), kernel.reshape([c, out])).reshape([n, h, w, out]);
    } else if (shifted) {
      y = depthwise3x3Same(x, kernel);
    } else if (cls === 'Conv2D') {
      y = tf.conv2d(x, kernel as tf.Tensor4D, strides, padding);
    } else {
      y = tf.depthwiseConv2d(x, kernel as tf.Tensor4D, strides, padding);
    }
    return bias ? y.add(bias) : y;
  };
}

function stepFor(layer: tf.layers.Layer): Step['run'] {
  const cls = layer.getClassName();
  const config = layer.getConfig();
  switch (cls) {
    case 'Conv2D':
    case 'DepthwiseConv2D': {
      const op = convOp(cls, config);
      return ([x], w) => op(x, w);
    }
    case 'ReLU': {
      const max = config.maxValue as number | null | undefined;
      return ([x]) => (max == null ? tf.relu(x) : max === 6 ? tf.relu6(x) : tf.clipByValue(x, 0, max));
    }
    case 'Add':
      return (xs) => xs.reduce((a, b) => a.add(b));
    case 'ZeroPadding2D': {
      const [[t, b], [l, r]] = config.padding as [[number, number], [number, number]];
      return ([x]) => x.pad([[0, 0], [t, b], [l, r], [0, 0]]);
    }
    default:
      throw new SentinelError('INVALID_ARGUMENT', `Top fine-tuning cannot run a ${cls} layer (${layer.name}); fold BatchNorm first.`);
  }
}

/** The layer feeding `from` (the first layer to train): where 'top' mode cuts the backbone. */
export function cutBefore(backbone: tf.LayersModel, from: string): string {
  const layer = backbone.layers.find((l) => l.name === from);
  if (!layer) throw new SentinelError('INVALID_ARGUMENT', `No backbone layer named ${from}.`, { from });
  const inputs = inboundNames(layer);
  if (inputs.length !== 1) throw new SentinelError('INVALID_ARGUMENT', `Layer ${from} has ${inputs.length} inputs; start the top at a block's first layer.`);
  return inputs[0];
}

/**
 * Everything after `cut` in `backbone` (a flat functional model whose BN is folded) as a TopNet. The layers after the
 * cut may depend only on each other and on the cut's output (true for MobileNetV2 at any `block_N_add` or
 * `block_N_project` boundary between blocks).
 */
export function topNet(backbone: tf.LayersModel, cut: string): TopNet {
  const index = backbone.layers.findIndex((l) => l.name === cut);
  if (index < 0) throw new SentinelError('INVALID_ARGUMENT', `No layer named ${cut} in the backbone.`, { cut });
  const cutShape = backbone.layers[index].outputShape as (number | null)[];
  if (cutShape.length !== 4) throw new SentinelError('INVALID_ARGUMENT', `Layer ${cut} does not give a feature map.`);
  const known = new Set([cut]);
  const steps: Step[] = backbone.layers.slice(index + 1).map((layer) => {
    const inputs = inboundNames(layer);
    const outside = inputs.find((n) => !known.has(n));
    if (outside !== undefined) {
      throw new SentinelError('INVALID_ARGUMENT', `Layer ${layer.name} reads ${outside}, below the cut ${cut}: cut between blocks.`);
    }
    known.add(layer.name);
    const weights = layer.getWeights().map((w) => tf.variable(w.clone(), true, `${layer.name}/${w.id}`));
    return { layer, inputs, run: stepFor(layer), weights };
  });
  const outputName = backbone.outputs[0].sourceLayer.name;
  if (steps.length === 0 || steps[steps.length - 1].layer.name !== outputName) {
    throw new SentinelError('INVALID_ARGUMENT', `The backbone's output ${outputName} is not its last layer.`);
  }
  const variables = steps.flatMap((s) => s.weights);
  const initial = variables.map((v) => v.clone());
  return {
    inputShape: cutShape.slice(1),
    outputChannels: backbone.outputs[0].shape[3] as number,
    variables,
    apply(x) {
      const values = new Map<string, tf.Tensor4D>([[cut, x]]);
      for (const step of steps) values.set(step.layer.name, step.run(step.inputs.map((n) => values.get(n)!), step.weights));
      return values.get(outputName)!;
    },
    snapshot: () => variables.map((v) => v.clone()),
    restore(values = initial) {
      variables.forEach((v, i) => v.assign(values[i]));
    },
    writeBack() {
      for (const step of steps) if (step.weights.length) step.layer.setWeights(step.weights);
    },
    dispose() {
      variables.forEach((v) => v.dispose());
      initial.forEach((t) => t.dispose());
    },
  };
}
