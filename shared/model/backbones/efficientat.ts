/**
 * EfficientAT `mn04_as` (Florian Schmid, fschmid56/EfficientAT, MIT): a MobileNetV3-Large at width 0.4 trained on
 * AudioSet, ported to tfjs-layers from upstream models/mn/{model,block_types,utils}.py.
 *
 * Input: the Kaldi log-mel as [batch, 128 mel, frames, 1] (PyTorch's [B, 1, 128, T] in NHWC, no transpose); any
 * frame count. Output: the 384-channel hardswish feature map ([batch, 4, ceil(T/32), 384]); its global average is
 * the 384-d embedding, and `buildAudioSetHead` turns that into the 527 AudioSet logits.
 *
 * Upstream details kept: channels = make_divisible(c * 0.4, 8); all four stage strides 2 (the checkpoint's config);
 * convolutions padded (k-1)/2 on every side, so stride-2 ones get an explicit ZeroPadding2D + 'valid' (tfjs 'same'
 * would pad bottom/right only on even sizes); BatchNorm eps 1e-3 after every convolution, none with a bias; the
 * squeeze-excitation averages over frequency and time, squeezes to make_divisible(c // 4, 8) with ReLU and scales
 * with a sigmoid (not hard-sigmoid). Pure: no fs (the weights importer is infra/scripts/import-efficientat.ts).
 */
import * as tf from '../tf.ts';
import { SentinelError } from '../../errors.ts';
import { modelFromFiles, type ModelFiles } from '../files.ts';
import { makeDivisible } from '../mobilenetv2.ts';

/** Width multiplier of mn04. */
const WIDTH = 0.4;
/** Mel bands the AudioSet checkpoint was trained on (the input height). */
export const EFFICIENTAT_MEL_BANDS = 128;
/** Channels of the backbone's feature map: the embedding's width (6 x the last block's 64). */
export const EFFICIENTAT_EMBEDDING_DIM = 384;
/** Name of the backbone's output layer (the last hardswish); global-average-pool it for the embedding. */
export const EFFICIENTAT_OUTPUT = 'features_16_act';
/** AudioSet's class count: the head's logits. */
export const AUDIOSET_CLASSES = 527;
/** Hidden width of the AudioSet head: make_divisible(1280 * 0.4, 8). */
const HEAD_HIDDEN = makeDivisible(1280 * WIDTH, 8);
const BN_EPSILON = 1e-3;

/** Layer names of the AudioSet head. */
export const AUDIOSET_HEAD_LAYERS = Object.freeze({
  input: 'embedding',
  hidden: 'audioset_fc1',
  hiddenAct: 'audioset_fc1_act',
  output: 'audioset_logits',
});

interface BlockSpec {
  kernel: 3 | 5;
  /** Expanded (depthwise) channels, before width scaling. */
  expanded: number;
  out: number;
  se: boolean;
  act: 'RE' | 'HS';
  stride: 1 | 2;
}

/** MobileNetV3-Large's bottleneck table (upstream _mobilenet_v3_conf), features.1 .. features.15; input channels chain. */
const BLOCKS: readonly BlockSpec[] = [
  { kernel: 3, expanded: 16, out: 16, se: false, act: 'RE', stride: 1 },
  { kernel: 3, expanded: 64, out: 24, se: false, act: 'RE', stride: 2 },
  { kernel: 3, expanded: 72, out: 24, se: false, act: 'RE', stride: 1 },
  { kernel: 5, expanded: 72, out: 40, se: true, act: 'RE', stride: 2 },
  { kernel: 5, expanded: 120, out: 40, se: true, act: 'RE', stride: 1 },
  { kernel: 5, expanded: 120, out: 40, se: true, act: 'RE', stride: 1 },
  { kernel: 3, expanded: 240, out: 80, se: false, act: 'HS', stride: 2 },
  { kernel: 3, expanded: 200, out: 80, se: false, act: 'HS', stride: 1 },
  { kernel: 3, expanded: 184, out: 80, se: false, act: 'HS', stride: 1 },
  { kernel: 3, expanded: 184, out: 80, se: false, act: 'HS', stride: 1 },
  { kernel: 3, expanded: 480, out: 112, se: true, act: 'HS', stride: 1 },
  { kernel: 3, expanded: 672, out: 112, se: true, act: 'HS', stride: 1 },
  { kernel: 5, expanded: 672, out: 160, se: true, act: 'HS', stride: 2 },
  { kernel: 5, expanded: 960, out: 160, se: true, act: 'HS', stride: 1 },
  { kernel: 5, expanded: 960, out: 160, se: true, act: 'HS', stride: 1 },
];
const STEM_CHANNELS = 16;

const scaled = (c: number) => makeDivisible(c * WIDTH, 8);

/** hardswish(x) = x * relu6(x + 3) / 6, as a layer (tfjs-layers has no such activation); saved by class name. */
export class HardSwish extends tf.layers.Layer {
  static className = 'SentinelHardSwish';

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.tidy(() => tf.mul(x, tf.relu6(tf.add(x, 3))).mul(1 / 6));
  }
}
tf.serialization.registerClass(HardSwish);

/** How a PyTorch tensor becomes a tfjs weight. */
type Layout = 'conv' | 'depthwise' | 'dense' | 'vector';
/** One tfjs weight (layer name + position in layer.weights) and the checkpoint tensor it comes from. */
interface WeightSource {
  layer: string;
  index: number;
  torch: string;
  layout: Layout;
}

function convSources(layer: string, torch: string, layout: 'conv' | 'depthwise'): WeightSource[] {
  return [{ layer, index: 0, torch: `${torch}.weight`, layout }];
}
/** tfjs BatchNormalization weights: gamma, beta, moving mean, moving variance. */
function bnSources(layer: string, torch: string): WeightSource[] {
  return ['weight', 'bias', 'running_mean', 'running_var'].map((p, index) => ({ layer, index, torch: `${torch}.${p}`, layout: 'vector' }));
}
function denseSources(layer: string, torch: string): WeightSource[] {
  return [
    { layer, index: 0, torch: `${torch}.weight`, layout: 'dense' },
    { layer, index: 1, torch: `${torch}.bias`, layout: 'vector' },
  ];
}

/** The backbone and where each of its weights lives in the checkpoint. */
function build(): { model: tf.LayersModel; sources: WeightSource[] } {
  const sources: WeightSource[] = [];
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => layer.apply(x) as tf.SymbolicTensor;
  const activation = (act: 'RE' | 'HS', name: string) => (act === 'RE' ? tf.layers.reLU({ name }) : new HardSwish({ name }));
  /** Conv (or depthwise) -> BN [-> activation], padded (k-1)/2 on each side like PyTorch. */
  const convBn = (
    x: tf.SymbolicTensor,
    opts: { name: string; torch: string; filters?: number; kernel: number; stride: number; act?: 'RE' | 'HS' },
  ): tf.SymbolicTensor => {
    const { name, torch, filters, kernel, stride, act } = opts;
    const pad = (kernel - 1) / 2;
    // Stride 1 with an odd kernel: 'same' pads (k-1)/2 on both sides. Stride 2: 'same' would not, so pad explicitly.
    if (stride === 2) x = apply(tf.layers.zeroPadding2d({ padding: [[pad, pad], [pad, pad]], name: `${name}_pad` }), x);
    const padding = stride === 2 ? 'valid' : 'same';
    const conv =
      filters === undefined
        ? tf.layers.depthwiseConv2d({ kernelSize: kernel, strides: stride, padding, useBias: false, name })
        : tf.layers.conv2d({ filters, kernelSize: kernel, strides: stride, padding, useBias: false, name });
    sources.push(...convSources(name, `${torch}.0`, filters === undefined ? 'depthwise' : 'conv'));
    x = apply(conv, x);
    x = apply(tf.layers.batchNormalization({ axis: -1, epsilon: BN_EPSILON, momentum: 0.99, name: `${name}_bn` }), x);
    sources.push(...bnSources(`${name}_bn`, `${torch}.1`));
    return act === undefined ? x : apply(activation(act, `${name}_act`), x);
  };

  const input = tf.input({ shape: [EFFICIENTAT_MEL_BANDS, null, 1], name: 'mel' });
  let x = convBn(input, { name: 'features_0', torch: 'features.0', filters: scaled(STEM_CHANNELS), kernel: 3, stride: 2, act: 'HS' });
  let inChannels = scaled(STEM_CHANNELS);
  BLOCKS.forEach((spec, i) => {
    const block = `features_${i + 1}`;
    const torch = `features.${i + 1}.block`;
    const expanded = scaled(spec.expanded);
    const out = scaled(spec.out);
    let part = 0; // index of the next module in upstream's block Sequential
    let h = x;
    if (expanded !== inChannels) {
      h = convBn(h, { name: `${block}_expand`, torch: `${torch}.${part++}`, filters: expanded, kernel: 1, stride: 1, act: spec.act });
    }
    h = convBn(h, { name: `${block}_dw`, torch: `${torch}.${part++}`, kernel: spec.kernel, stride: spec.stride, act: spec.act });
    if (spec.se) {
      const se = `${torch}.${part++}.conc_se_layers.0`;
      const squeeze = makeDivisible(Math.floor(expanded / 4), 8);
      let s = apply(tf.layers.globalAveragePooling2d({ name: `${block}_se_pool` }), h);
      s = apply(tf.layers.dense({ units: squeeze, activation: 'relu', name: `${block}_se_fc1` }), s);
      s = apply(tf.layers.dense({ units: expanded, activation: 'sigmoid', name: `${block}_se_fc2` }), s);
      s = apply(tf.layers.reshape({ targetShape: [1, 1, expanded], name: `${block}_se_reshape` }), s);
      // Multiply broadcasts the [1, 1, c] scale over frequency and time.
      h = apply(tf.layers.multiply({ name: `${block}_se_scale` }), [h, s]);
      sources.push(...denseSources(`${block}_se_fc1`, `${se}.fc1`), ...denseSources(`${block}_se_fc2`, `${se}.fc2`));
    }
    h = convBn(h, { name: `${block}_project`, torch: `${torch}.${part++}`, filters: out, kernel: 1, stride: 1 });
    if (spec.stride === 1 && inChannels === out) h = apply(tf.layers.add({ name: `${block}_add` }), [x, h]);
    x = h;
    inChannels = out;
  });
  const last = `features_${BLOCKS.length + 1}`;
  x = convBn(x, { name: last, torch: `features.${BLOCKS.length + 1}`, filters: 6 * inChannels, kernel: 1, stride: 1, act: 'HS' });
  if (x.sourceLayer.name !== EFFICIENTAT_OUTPUT || x.shape[3] !== EFFICIENTAT_EMBEDDING_DIM) {
    throw new SentinelError('INTERNAL', `EfficientAT ends in ${x.sourceLayer.name} with ${x.shape[3]} channels.`);
  }
  return { model: tf.model({ inputs: input, outputs: x, name: 'efficientat_mn04' }), sources };
}

/** The backbone with random weights: mel [batch, 128, frames, 1] -> 384-channel feature map `EFFICIENTAT_OUTPUT`. */
export function buildEfficientAtBackbone(): tf.LayersModel {
  return build().model;
}

function buildHeadWithSources(): { model: tf.LayersModel; sources: WeightSource[] } {
  const L = AUDIOSET_HEAD_LAYERS;
  const input = tf.input({ shape: [EFFICIENTAT_EMBEDDING_DIM], name: L.input });
  let x = tf.layers.dense({ units: HEAD_HIDDEN, name: L.hidden }).apply(input) as tf.SymbolicTensor;
  x = new HardSwish({ name: L.hiddenAct }).apply(x) as tf.SymbolicTensor;
  // Upstream's dropout sits here; it is identity at inference, and a fine-tune adds its own.
  x = tf.layers.dense({ units: AUDIOSET_CLASSES, name: L.output }).apply(x) as tf.SymbolicTensor;
  const sources = [...denseSources(L.hidden, 'classifier.2'), ...denseSources(L.output, 'classifier.5')];
  return { model: tf.model({ inputs: input, outputs: x, name: 'efficientat_audioset_head' }), sources };
}

/** The AudioSet head with random weights: embedding [batch, 384] -> dense 512 hardswish -> dense 527 logits. */
export function buildAudioSetHead(): tf.LayersModel {
  return buildHeadWithSources().model;
}

interface IndexEntry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

/** Checks the importer's index (`{tensors: [{name, shape, offset (bytes), length (elements)}]}`) against `bin`. */
function parseIndex(index: unknown, byteLength: number): Map<string, IndexEntry> {
  const tensors = (index as { tensors?: unknown } | null)?.tensors;
  if (!Array.isArray(tensors)) {
    throw new SentinelError('MODEL_ARTIFACT_INVALID', 'EfficientAT weight index has no tensors list.');
  }
  const entries = new Map<string, IndexEntry>();
  for (const t of tensors as IndexEntry[]) {
    const ok =
      typeof t?.name === 'string' && Array.isArray(t.shape) && t.shape.every((d) => Number.isInteger(d) && d >= 0) &&
      Number.isInteger(t.offset) && t.offset >= 0 && t.offset % 4 === 0 && t.length === t.shape.reduce((a, b) => a * b, 1) &&
      t.offset + 4 * t.length <= byteLength;
    if (!ok) {
      throw new SentinelError('MODEL_ARTIFACT_INVALID', `EfficientAT weight index entry ${JSON.stringify(t?.name)} is malformed or outside the ${byteLength}-byte file.`, { entry: t });
    }
    entries.set(t.name, t);
  }
  return entries;
}

/** PyTorch layout -> tfjs layout: conv [o,i,h,w] -> [h,w,i,o], depthwise [c,1,h,w] -> [h,w,c,1], dense [o,i] -> [i,o]. */
function toTfjs(values: Float32Array, shape: number[], layout: Layout): tf.Tensor {
  const t = tf.tensor(values, shape);
  if (layout === 'conv') return t.transpose([2, 3, 1, 0]);
  if (layout === 'depthwise') return t.transpose([2, 3, 0, 1]);
  if (layout === 'dense') return t.transpose([1, 0]);
  return t;
}

/**
 * The backbone and AudioSet head with the checkpoint's weights: `bin` is the state_dict's float32 tensors
 * (little-endian) and `index` lists them (shared/weights/efficientat_mn04_as/README.md). Every checkpoint tensor
 * but num_batches_tracked must find its layer weight and every weight its tensor, shapes agreeing, else a
 * MODEL_WEIGHTS_MISMATCH error naming them.
 */
export function loadEfficientAtWeights(bin: Uint8Array, index: unknown): { backbone: tf.LayersModel; audioSetHead: tf.LayersModel } {
  const entries = parseIndex(index, bin.byteLength);
  const backbone = build();
  const head = buildHeadWithSources();
  const plan = [
    ...backbone.sources.map((s) => ({ ...s, model: backbone.model })),
    ...head.sources.map((s) => ({ ...s, model: head.model })),
  ];
  const missing = plan.filter((s) => !entries.has(s.torch)).map((s) => s.torch);
  const used = new Set(plan.map((s) => s.torch));
  const unused = [...entries.keys()].filter((n) => !used.has(n) && !n.endsWith('.num_batches_tracked'));
  const dispose = () => [backbone.model, head.model].forEach((m) => m.dispose());
  if (missing.length > 0 || unused.length > 0) {
    dispose();
    throw new SentinelError(
      'MODEL_WEIGHTS_MISMATCH',
      `EfficientAT checkpoint does not match the architecture: ${missing.length} tensor(s) missing (${missing.slice(0, 5).join(', ')}), ${unused.length} unused (${unused.slice(0, 5).join(', ')}).`,
      { missing, unused },
    );
  }
  const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  try {
    tf.tidy(() => writeAll(plan, entries, view));
  } catch (error) {
    dispose();
    throw error;
  }
  return { backbone: backbone.model, audioSetHead: head.model };
}

/** Writes each planned weight from the checkpoint, checking its shape. */
function writeAll(plan: Array<WeightSource & { model: tf.LayersModel }>, entries: Map<string, IndexEntry>, view: DataView): void {
  for (const s of plan) {
    const entry = entries.get(s.torch)!;
    const values = new Float32Array(entry.length);
    for (let i = 0; i < entry.length; i++) values[i] = view.getFloat32(entry.offset + 4 * i, true);
    const value = toTfjs(values, entry.shape, s.layout);
    const target = s.model.getLayer(s.layer).weights[s.index];
    if (!tf.util.arraysEqual(value.shape, target.shape as number[])) {
      throw new SentinelError(
        'MODEL_WEIGHTS_MISMATCH',
        `${s.torch} [${entry.shape}] does not fit ${target.name} [${target.shape}].`,
        { tensor: s.torch, shape: entry.shape, weight: target.name, weightShape: target.shape },
      );
    }
    target.write(value);
  }
}

/** Loads the project's tfjs copy (models/backbones/efficientat-mn04: backbone/ and audioset-head/ file maps). */
export async function loadEfficientAtFiles(files: { backbone: ModelFiles; audioSetHead: ModelFiles }): Promise<{ backbone: tf.LayersModel; audioSetHead: tf.LayersModel }> {
  const backbone = await modelFromFiles(files.backbone);
  const audioSetHead = await modelFromFiles(files.audioSetHead);
  if (!backbone.layers.some((l) => l.name === EFFICIENTAT_OUTPUT) || backbone.outputs[0].shape[3] !== EFFICIENTAT_EMBEDDING_DIM) {
    throw new SentinelError('MODEL_ARTIFACT_INVALID', `Model has no ${EFFICIENTAT_OUTPUT} layer of ${EFFICIENTAT_EMBEDDING_DIM} channels: not an EfficientAT mn04 backbone.`);
  }
  const headShape = audioSetHead.inputs[0].shape;
  if (headShape[1] !== EFFICIENTAT_EMBEDDING_DIM || audioSetHead.outputs[0].shape[1] !== AUDIOSET_CLASSES) {
    throw new SentinelError('MODEL_ARTIFACT_INVALID', `AudioSet head maps [${headShape}] to [${audioSetHead.outputs[0].shape}], not ${EFFICIENTAT_EMBEDDING_DIM} -> ${AUDIOSET_CLASSES}.`);
  }
  return { backbone, audioSetHead };
}
