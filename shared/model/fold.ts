/**
 * BatchNorm folding for the serving model: every BatchNormalization fed only by a linear Conv2D/DepthwiseConv2D is
 * merged into that convolution (kernel scaled per output channel, bias added), and the BN layer disappears.
 * Inference-only: the result has no BN statistics left to fine-tune.
 *
 *   y = gamma * (conv(x) + b - mean) / sqrt(var + eps) + beta
 *     = conv_{K * s}(x) + (b - mean) * s + beta,   s = gamma / sqrt(var + eps)
 *
 * Works on the Keras JSON topology (remove BN layers, rewire their consumers to the conv), so any flat functional
 * model folds; nested models are copied unfolded.
 */
import * as tf from './tf.ts';
import { SentinelError } from '../errors.ts';

interface LayerJson {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: unknown;
}
interface ModelJson {
  class_name: string;
  config: { name: string; layers: LayerJson[]; input_layers: unknown; output_layers: Array<[string, number, number]> };
  [key: string]: unknown;
}

const FOLDABLE = new Set(['Conv2D', 'DepthwiseConv2D']);

/** Names of the layers feeding each node of a layer (Keras inbound_nodes: [[[name, nodeIndex, tensorIndex, kwargs]]]). */
function inboundNames(layer: LayerJson): string[] {
  const nodes = layer.inbound_nodes as Array<Array<[string, number, number, unknown]>>;
  return nodes.flatMap((node) => node.map((entry) => entry[0]));
}

function renameInbound(layer: LayerJson, from: string, to: string): void {
  const nodes = layer.inbound_nodes as Array<Array<[string, number, number, unknown]>>;
  for (const node of nodes) for (const entry of node) if (entry[0] === from) entry[0] = to;
}

/** Folded [kernel, bias] of one conv + BN pair, computed in float64. */
function foldPair(conv: tf.layers.Layer, bn: tf.layers.Layer): [tf.Tensor, tf.Tensor] {
  const convConfig = conv.getConfig();
  const bnConfig = bn.getConfig();
  const weights = conv.getWeights();
  const kernel = weights[0];
  const channels = kernel.shape[3] as number;
  const depthwise = conv.getClassName() === 'DepthwiseConv2D';
  const outChannels = depthwise ? (kernel.shape[2] as number) * channels : channels;
  const bias = convConfig.useBias ? weights[1].dataSync() : new Float32Array(outChannels);

  const bnWeights = bn.getWeights();
  let i = 0;
  const gamma = bnConfig.scale ? bnWeights[i++].dataSync() : undefined;
  const beta = bnConfig.center ? bnWeights[i++].dataSync() : undefined;
  const mean = bnWeights[i++].dataSync();
  const variance = bnWeights[i++].dataSync();
  const eps = bnConfig.epsilon as number;

  const scale = new Float64Array(outChannels);
  const newBias = new Float32Array(outChannels);
  for (let c = 0; c < outChannels; c++) {
    scale[c] = (gamma ? gamma[c] : 1) / Math.sqrt(variance[c] + eps);
    newBias[c] = (bias[c] - mean[c]) * scale[c] + (beta ? beta[c] : 0);
  }
  // Output channel of a kernel element: Conv2D [kh, kw, in, out] -> out; DepthwiseConv2D [kh, kw, in, m] -> in * m + m'.
  const k = kernel.dataSync();
  const folded = new Float32Array(k.length);
  for (let j = 0; j < k.length; j++) folded[j] = k[j] * scale[depthwise ? j % outChannels : j % channels];
  return [tf.tensor(folded, kernel.shape), tf.tensor1d(newBias)];
}

/**
 * Returns a new model computing the same function without the foldable BatchNormalization layers.
 * The input model is unchanged. Folded convs keep their names (and get use_bias: true).
 */
export async function foldBatchNorm(model: tf.LayersModel): Promise<tf.LayersModel> {
  const topology = JSON.parse(JSON.stringify(model.toJSON(null, false))) as ModelJson;
  if (!Array.isArray(topology.config?.layers)) {
    throw new SentinelError('INVALID_ARGUMENT', 'foldBatchNorm needs a functional (graph) model.');
  }
  const layers = topology.config.layers;
  const byName = new Map(layers.map((l) => [l.name, l]));
  const consumers = new Map<string, number>();
  for (const l of layers) for (const n of inboundNames(l)) consumers.set(n, (consumers.get(n) ?? 0) + 1);
  for (const [n] of topology.config.output_layers) consumers.set(n, (consumers.get(n) ?? 0) + 1);

  /** conv name -> BN name folded into it. */
  const folds = new Map<string, string>();
  for (const bn of layers) {
    if (bn.class_name !== 'BatchNormalization') continue;
    const axis = bn.config.axis;
    const sources = inboundNames(bn);
    if (sources.length !== 1 || !(axis === -1 || axis === 3)) continue;
    const conv = byName.get(sources[0]);
    if (conv === undefined || !FOLDABLE.has(conv.class_name)) continue;
    if ((conv.config.activation ?? 'linear') !== 'linear' || consumers.get(conv.name) !== 1) continue;
    if (conv.config.data_format !== undefined && conv.config.data_format !== 'channels_last') continue;
    folds.set(conv.name, bn.name);
  }

  const removed = new Set(folds.values());
  for (const [convName, bnName] of folds) {
    byName.get(convName)!.config.use_bias = true;
    for (const l of layers) renameInbound(l, bnName, convName);
    for (const out of topology.config.output_layers) if (out[0] === bnName) out[0] = convName;
  }
  topology.config.layers = layers.filter((l) => !removed.has(l.name));
  topology.config.name = `${topology.config.name}_folded`;

  const folded = await tf.models.modelFromJSON({ modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'] });
  tf.tidy(() => {
    for (const layer of folded.layers) {
      if (layer.weights.length === 0) continue;
      const original = model.getLayer(layer.name);
      const bnName = folds.get(layer.name);
      layer.setWeights(bnName === undefined ? original.getWeights() : foldPair(original, model.getLayer(bnName)));
    }
  });
  return folded;
}
