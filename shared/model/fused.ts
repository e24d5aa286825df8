/**
 * Serving-time execution of a layers model with its convolution chains fused. In MobileNetV2 (BN folded) every
 * convolution is [ZeroPadding2D ->] Conv2D | DepthwiseConv2D -> ReLU(max 6); tfjs-layers runs that as up to five
 * kernels (pad, conv, bias add for depthwise, relu, clip), each reading and writing the whole activation. Here each
 * chain is one tf.fused op: explicit padding, bias and relu6 inside the convolution kernel. Every other layer runs as
 * itself (layer.apply), so any model this does not recognise still runs, only unfused.
 *
 * Same arithmetic up to float rounding (a fused kernel adds the bias in another order): outputs equal model.predict
 * to ~1e-6 (tests/unit/model-fused.test.ts). Measured on wasm in Node: README, Figures.
 * Inference only (no training; Dropout is identity).
 */
import * as tf from '@tensorflow/tfjs';

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

/** ReLU(max 6) -> 'relu6', plain ReLU -> 'relu'; anything else cannot be fused. */
function fusableActivation(c: LayerConfig): 'relu' | 'relu6' | undefined {
  if (c.className !== 'ReLU') return undefined;
  const { maxValue: max, threshold = 0, negativeSlope: slope = 0 } = c.config as { maxValue?: number | null; threshold?: number | null; negativeSlope?: number | null };
  if ((threshold ?? 0) !== 0 || (slope ?? 0) !== 0) return undefined;
  if (max == null) return 'relu';
  return max === 6 ? 'relu6' : undefined;
}

function convOp(layer: tf.layers.Layer, c: LayerConfig, pad: Padding, activation: 'linear' | 'relu' | 'relu6'): Op {
  const [kernel, bias] = layer.getWeights() as [tf.Tensor4D, tf.Tensor1D | undefined];
  const strides = pair(c.config.strides);
  const dilations = pair(c.config.dilationRate ?? 1);
  const depthwise = c.className === 'DepthwiseConv2D';
  return ([x]) => {
    const args = { x: x as tf.Tensor4D, filter: kernel, strides, pad: pad as 'valid', dilations, bias, activation, dataFormat: 'NHWC' as const };
    return depthwise ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args);
  };
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

  // A chain's step is named after its last layer: the layers it absorbs had no other consumer.
  const steps: Step[] = [];
  const absorbed = new Set<string>();
  for (const c of config.layers) {
    if (absorbed.has(c.name) || c.className === 'InputLayer') continue;
    const layer = model.getLayer(c.name);
    const inputs = inputsOf(c);
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
      steps.push({ name, inputs, run: convOp(model.getLayer(conv.name), conv, pad, activation ?? 'linear') });
      continue;
    }
    steps.push({ name: c.name, inputs, run: (xs) => layer.apply(xs.length === 1 ? xs[0] : xs) as tf.Tensor });
  }
  const inputName = config.inputLayers[0][0];
  // Each intermediate is freed after the last step that reads it, as model.predict does: peak memory stays that of
  // a few activations, not of all of them.
  const lastUse = new Map<string, number>();
  steps.forEach((step, i) => step.inputs.forEach((name) => lastUse.set(name, i)));
  return (x) => {
    const values = new Map<string, tf.Tensor>([[inputName, x]]);
    steps.forEach((step, i) => {
      values.set(step.name, step.run(step.inputs.map((name) => values.get(name)!)));
      for (const name of step.inputs) {
        const value = values.get(name);
        if (!value || lastUse.get(name) !== i || name === inputName || outputs.includes(name)) continue;
        value.dispose();
        values.delete(name);
      }
    });
    return outputs.map((name) => values.get(name)!);
  };
}
