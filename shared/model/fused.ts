/**
 * Serving-time execution of a layers model with its convolution chains fused. In MobileNetV2 (BN folded) every
 * convolution is [ZeroPadding2D ->] Conv2D | DepthwiseConv2D -> ReLU(max 6); tfjs-layers runs that as up to five
 * kernels (pad, conv, bias add for depthwise, relu, clip), each reading and writing the whole activation. Here each
 * chain is one op: explicit padding, bias and relu6 inside the convolution kernel; EfficientAT's hardswish after a
 * convolution and a residual Add after it go into the same op, and so does each squeeze-excitation block
 * (serving-ops.ts: one kernel each on wasm). Dense, pooling, Add, Multiply, Reshape and Concatenate run as their tf
 * op, not through layer.apply; Dropout is skipped. Any other layer runs as itself, so any model this does not
 * recognise still runs, only unfused.
 *
 * Same arithmetic up to float rounding (a fused kernel adds the bias in another order): outputs equal model.predict
 * to ~1e-6 (tests/unit/model-fused.test.ts). Measured on wasm in Node: docs/benchmarks.md.
 * Inference only (no training).
 */
import * as tf from './tf.ts';
import { HardSwish } from './backbones/efficientat.ts';
import { channelMean, dense, fusedConv, hardSwish, squeezeExcite } from './serving-ops.ts';

type Op = (inputs: tf.Tensor[]) => tf.Tensor;

interface Step {
  name: string;
  inputs: string[];
  run: Op;
}

/** What LayersModel.getConfig() lists per layer (tfjs' own camelCase form). */
interface LayerConfig {
  className: string;
  name: string;
  config: Record<string, unknown>;
  inboundNodes: [string, number, number, unknown][][];
}

type Padding = 'valid' | 'same' | [[number, number], [number, number], [number, number], [number, number]];

function pair(v: unknown): [number, number] {
  return Array.isArray(v) ? [Number(v[0]), Number(v[1])] : [Number(v), Number(v)];
}

type Activation = 'linear' | 'relu' | 'relu6' | 'hardswish';

/** ReLU(max 6) -> 'relu6', plain ReLU -> 'relu', HardSwish -> 'hardswish'; anything else cannot be fused. */
function fusableActivation(c: LayerConfig): Exclude<Activation, 'linear'> | undefined {
  if (c.className === HardSwish.className) return 'hardswish';
  if (c.className !== 'ReLU') return undefined;
  const { maxValue: max, threshold = 0, negativeSlope: slope = 0 } = c.config as { maxValue?: number | null; threshold?: number | null; negativeSlope?: number | null };
  if ((threshold ?? 0) !== 0 || (slope ?? 0) !== 0) return undefined;
  if (max == null) return 'relu';
  return max === 6 ? 'relu6' : undefined;
}

/** The chain as one op: inputs [x] or, with a residual Add absorbed, [x, residual]. */
function convOp(layer: tf.layers.Layer, c: LayerConfig, pad: Padding, activation: Activation): Op {
  const [filter, bias] = layer.getWeights() as [tf.Tensor4D, tf.Tensor1D | undefined];
  const strides = pair(c.config.strides);
  const dilations = pair(c.config.dilationRate ?? 1);
  const depthwise = c.className === 'DepthwiseConv2D';
  return ([x, residual]) => fusedConv({ x: x as tf.Tensor4D, filter, bias, strides, pad, dilations, depthwise, activation, residual });
}

/** A Dense layer, activated by `activation` (its own, or a HardSwish after it); undefined for other activations. */
function denseOp(layer: tf.layers.Layer, activation: string): Op | undefined {
  if (!['linear', 'relu', 'relu6', 'sigmoid', 'hardswish'].includes(activation)) return undefined;
  const [kernel, bias] = layer.getWeights() as [tf.Tensor2D, tf.Tensor1D | undefined];
  const apply: Op = (xs) => layer.apply(xs[0]) as tf.Tensor;
  // Dense on a higher-rank input multiplies its last axis: left to the layer (and a HardSwish after it).
  return ([x]) => (x.rank === 2 ? dense(x as tf.Tensor2D, kernel, bias, activation as 'linear') : activation === 'hardswish' ? hardSwish(apply([x])) : apply([x]));
}

/**
 * The layer's inference as the tf op it amounts to, for the layers the serving models use: layer.apply costs tens
 * of microseconds of bookkeeping a call (input specs, name scopes, its own tidy), the op a few. Undefined for any
 * other layer or configuration, which then runs as itself.
 */
function directOp(layer: tf.layers.Layer, c: LayerConfig): Op | undefined {
  switch (c.className) {
    case 'Add':
      return (xs) => (xs.length === 2 ? tf.add(xs[0], xs[1]) : tf.addN(xs));
    case 'Multiply':
      return (xs) => xs.reduce((a, b) => tf.mul(a, b));
    case 'Concatenate':
      return (xs) => tf.concat(xs, Number(c.config.axis ?? -1));
    case 'Reshape': {
      const target = c.config.targetShape as number[];
      return ([x]) => tf.reshape(x, [x.shape[0], ...target]);
    }
    case 'GlobalAveragePooling2D':
      return c.config.dataFormat === 'channelsLast' ? ([x]) => channelMean(x) : undefined;
    case 'Dense':
      return denseOp(layer, c.config.activation as string);
    case HardSwish.className:
      return ([x]) => hardSwish(x);
    default:
      return undefined;
  }
}

/**
 * A function computing `model`'s output with fused convolution chains (call inside tf.tidy), or model.predict's
 * equivalent when the model has a shape this does not handle (several inputs or outputs, a layer used twice).
 */
export function fusedPredictor(model: tf.LayersModel): (x: tf.Tensor) => tf.Tensor {
  const all = fusedOutputs(model);
  return (x) => all(x)[0];
}

/** fusedPredictor for every output of the model, in the model's output order (call inside tf.tidy). */
export function fusedOutputs(model: tf.LayersModel): (x: tf.Tensor) => tf.Tensor[] {
  const fallback = (x: tf.Tensor) => [model.predict(x)].flat() as tf.Tensor[];
  const config = model.getConfig() as unknown as { layers: LayerConfig[]; inputLayers: [string, number, number][]; outputLayers: [string, number, number][] };
  if (config.inputLayers?.length !== 1 || !(config.outputLayers?.length >= 1)) return fallback;
  if (config.layers.some((l) => l.inboundNodes.length > 1 || l.inboundNodes.some((node) => node.some(([, nodeIndex, tensorIndex]) => nodeIndex !== 0 || tensorIndex !== 0)))) {
    return fallback;
  }
  const byName = new Map(config.layers.map((l) => [l.name, l]));
  const inputsOf = (l: LayerConfig) => (l.inboundNodes[0] ?? []).map(([name]) => name);
  const consumers = new Map<string, string[]>();
  for (const l of config.layers) for (const i of inputsOf(l)) consumers.set(i, [...(consumers.get(i) ?? []), l.name]);
  const outputs = config.outputLayers.map(([name]) => name);
  const only = (name: string) => {
    const users = consumers.get(name) ?? [];
    return users.length === 1 && !outputs.includes(name) ? byName.get(users[0]) : undefined;
  };

  /**
   * Squeeze-excitation from its global average: -> Dense(relu) -> Dense(sigmoid) -> Reshape [1, 1, c] -> Multiply
   * with the averaged input; the four layers after the average, or undefined.
   */
  const squeezeExcitation = (pool: LayerConfig): LayerConfig[] | undefined => {
    if (pool.className !== 'GlobalAveragePooling2D' || pool.config.dataFormat !== 'channelsLast') return undefined;
    const dense = (l: LayerConfig | undefined, activation: string) => l?.className === 'Dense' && l.config.activation === activation && l.config.useBias !== false;
    const fc1 = only(pool.name);
    const fc2 = fc1 && only(fc1.name);
    const reshape = fc2 && only(fc2.name);
    const scale = reshape && only(reshape.name);
    if (!dense(fc1, 'relu') || !dense(fc2, 'sigmoid') || reshape?.className !== 'Reshape' || scale?.className !== 'Multiply') return undefined;
    const target = reshape.config.targetShape as number[];
    if (target.length !== 3 || target[0] !== 1 || target[1] !== 1) return undefined;
    const scaled = inputsOf(scale);
    if (scaled.length !== 2 || !scaled.includes(reshape.name) || !scaled.includes(inputsOf(pool)[0])) return undefined;
    return [fc1!, fc2!, reshape, scale];
  };

  // A chain's step is named after its last layer: the layers it absorbs had no other consumer.
  const steps: Step[] = [];
  const absorbed = new Set<string>();
  /** Layers that pass their input on unchanged (Dropout): their consumers read that input instead. */
  const aliases = new Map<string, string>();
  /** Values computed by the steps so far (and the input). */
  const produced = new Set<string>(config.inputLayers.map(([name]) => name));
  const push = (step: Step) => {
    steps.push(step);
    produced.add(step.name);
  };
  for (const c of config.layers) {
    if (absorbed.has(c.name) || c.className === 'InputLayer') continue;
    const layer = model.getLayer(c.name);
    const inputs = inputsOf(c).map((name) => aliases.get(name) ?? name);
    const isConv = (l: LayerConfig | undefined) => (l?.className === 'Conv2D' || l?.className === 'DepthwiseConv2D') && l.config.activation === 'linear' && l.config.dataFormat === 'channelsLast';
    let conv: LayerConfig | undefined;
    let pad: Padding | undefined;
    if (c.className === 'ZeroPadding2D' && isConv(only(c.name)) && only(c.name)!.config.padding === 'valid' && c.config.dataFormat === 'channelsLast') {
      // Zero padding then a 'valid' convolution = the convolution with explicit padding.
      const [[top, bottom], [left, right]] = c.config.padding as [[number, number], [number, number]];
      conv = only(c.name)!;
      pad = [[0, 0], [top, bottom], [left, right], [0, 0]];
      absorbed.add(conv.name);
    } else if (isConv(c)) {
      conv = c;
      pad = c.config.padding as 'valid' | 'same';
    }
    if (conv && pad) {
      const next = only(conv.name);
      const activation = next && fusableActivation(next);
      let name = conv.name;
      if (activation) {
        absorbed.add(next.name);
        name = next.name;
      }
      // A residual Add of the chain's output and a value computed before it: added in the same op.
      const add = only(name);
      const residual = add?.className === 'Add' && inputsOf(add).length === 2 ? inputsOf(add).find((i) => i !== name) : undefined;
      const chainInputs = [...inputs];
      if (add && residual !== undefined && produced.has(aliases.get(residual) ?? residual)) {
        absorbed.add(add.name);
        name = add.name;
        chainInputs.push(aliases.get(residual) ?? residual);
      }
      push({ name, inputs: chainInputs, run: convOp(model.getLayer(conv.name), conv, pad, activation ?? 'linear') });
      continue;
    }
    const se = squeezeExcitation(c);
    if (se) {
      for (const l of se) absorbed.add(l.name);
      const [fc1, fc2, , scale] = se;
      const [w1, b1] = model.getLayer(fc1.name).getWeights() as [tf.Tensor2D, tf.Tensor1D];
      const [w2, b2] = model.getLayer(fc2.name).getWeights() as [tf.Tensor2D, tf.Tensor1D];
      push({ name: scale.name, inputs, run: ([x]) => squeezeExcite(x as tf.Tensor4D, w1, b1, w2, b2) });
      continue;
    }
    const next = only(c.name);
    if (c.className === 'Dense' && c.config.activation === 'linear' && next?.className === HardSwish.className) {
      absorbed.add(next.name);
      push({ name: next.name, inputs, run: denseOp(layer, 'hardswish')! });
      continue;
    }
    if (c.className === 'Dropout') {
      aliases.set(c.name, inputs[0]); // identity at inference
      continue;
    }
    const apply: Op = (xs) => layer.apply(xs.length === 1 ? xs[0] : xs) as tf.Tensor;
    push({ name: c.name, inputs, run: directOp(layer, c) ?? apply });
  }
  if (outputs.some((name) => aliases.has(name))) return fallback;
  const inputName = config.inputLayers[0][0];
  // Each intermediate is freed after the last step that reads it, as model.predict does: peak memory stays that of
  // a few activations, not of all of them.
  const lastUse = new Map<string, number>();
  steps.forEach((step, i) => step.inputs.forEach((name) => lastUse.set(name, i)));
  const freedAfter = steps.map((step, i) => [...new Set(step.inputs)].filter((name) => lastUse.get(name) === i && name !== inputName && !outputs.includes(name)));
  return (x) => {
    const values = new Map<string, tf.Tensor>([[inputName, x]]);
    steps.forEach((step, i) => {
      values.set(step.name, step.run(step.inputs.map((name) => values.get(name)!)));
      for (const name of freedAfter[i]) {
        values.get(name)!.dispose();
        values.delete(name);
      }
    });
    return outputs.map((name) => values.get(name)!);
  };
}
