/**
 * shared/model/fused.ts: the serving forward pass with fused convolution chains computes what model.predict
 * computes, runs none of the kernels it fuses away, and falls back to plain layers where it cannot fuse.
 */
import * as tf from '../../shared/model/tf.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { HardSwish } from '../../shared/model/backbones/efficientat.ts';
import { buildClassifier } from '../../shared/model/classifier.ts';
import { modelFromFiles, modelToFiles } from '../../shared/model/files.ts';
import { fusedOutputs, fusedPredictor } from '../../shared/model/fused.ts';
import { SERVING_KERNELS } from '../../shared/model/serving-ops.ts';
import { randomBackbone } from '../helpers/tiny-model.ts';
import { maxAbs, maxAbsDiff, useWasm } from './model-helpers.ts';

beforeAll(useWasm);

async function kernelsOf(fn: () => tf.Tensor): Promise<Set<string>> {
  const profile = await tf.profile(() => {
    const out = tf.tidy(fn);
    out.dataSync();
    out.dispose();
  });
  return new Set(profile.kernels.map((k) => k.name));
}

describe('fusedPredictor', () => {
  it('gives the serving classifier (MobileNetV2, statistics branch, head) its own outputs without pad, relu or clip kernels', async () => {
    const backbone = await randomBackbone();
    // Saved and reloaded, as a Detector gets it from an artifact.
    const model = await modelFromFiles(await modelToFiles(buildClassifier({ backbone: backbone.model, melStats: true, head: { hiddenUnits: 16 }, seed: 2 })));
    const forward = fusedPredictor(model);
    for (const batch of [1, 3]) {
      const x = tf.randomUniform([batch, 128, 130, 3], -1, 1, 'float32', batch);
      const expected = model.predict(x) as tf.Tensor;
      const got = tf.tidy(() => forward(x));
      expect(got.shape).toEqual(expected.shape);
      expect(maxAbsDiff(got, expected)).toBeLessThan(1e-5 * Math.max(1, maxAbs(expected)));
      tf.dispose([x, expected, got]);
    }
    const x = tf.randomUniform([1, 128, 130, 3], -1, 1, 'float32', 9);
    // Intermediates are freed as it goes: a call leaves only its output, and keeps fewer bytes alive at the peak.
    const before = tf.memory().numTensors;
    const out = forward(x);
    expect(tf.memory().numTensors).toBe(before + 1);
    out.dispose();
    const plain = await kernelsOf(() => model.predict(x) as tf.Tensor);
    const fused = await kernelsOf(() => forward(x));
    expect([...plain].filter((k) => ['PadV2', 'Relu', 'ClipByValue'].includes(k)).sort()).toEqual(['ClipByValue', 'PadV2', 'Relu']);
    expect([...fused].filter((k) => ['PadV2', 'Relu', 'ClipByValue', 'Relu6', 'DepthwiseConv2dNative'].includes(k))).toEqual([]);
    expect(fused.has(SERVING_KERNELS.conv)).toBe(true); // each convolution chain, one kernel
    x.dispose();
  });

  it('runs MobileNetV3 blocks (hardswish, squeeze-excitation, residuals, a dense head) as EfficientAT\'s serving kernels, with the model\'s outputs', async () => {
    // stem conv + hardswish -> expand + hardswish -> stride-2 depthwise + hardswish -> SE -> project + residual ->
    // average -> dense + hardswish -> dropout -> two outputs (sigmoid, logits), saved and reloaded like an artifact.
    const input = tf.input({ shape: [16, null, 1] });
    const layer = <T extends tf.SymbolicTensor | tf.SymbolicTensor[]>(l: tf.layers.Layer, x: T) => l.apply(x) as tf.SymbolicTensor;
    const init = { kernelInitializer: tf.initializers.randomNormal({ stddev: 0.5, seed: 1 }), biasInitializer: tf.initializers.randomNormal({ stddev: 0.3, seed: 2 }) };
    let x = layer(new HardSwish({}), layer(tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', ...init }), input));
    let h = layer(new HardSwish({}), layer(tf.layers.conv2d({ filters: 16, kernelSize: 1, ...init }), x));
    h = layer(tf.layers.zeroPadding2d({ padding: [[1, 1], [1, 1]] }), h);
    h = layer(new HardSwish({}), layer(tf.layers.depthwiseConv2d({ kernelSize: 3, strides: 2, padding: 'valid', depthwiseInitializer: tf.initializers.randomNormal({ stddev: 0.5, seed: 3 }), biasInitializer: init.biasInitializer }), h));
    let s = layer(tf.layers.globalAveragePooling2d({}), h);
    s = layer(tf.layers.dense({ units: 8, activation: 'relu', ...init }), s);
    s = layer(tf.layers.dense({ units: 16, activation: 'sigmoid', ...init }), s);
    h = layer(tf.layers.multiply(), [h, layer(tf.layers.reshape({ targetShape: [1, 1, 16] }), s)]);
    const p = layer(tf.layers.conv2d({ filters: 16, kernelSize: 1, ...init }), h);
    x = layer(tf.layers.add(), [layer(tf.layers.conv2d({ filters: 16, kernelSize: 1, strides: 2, ...init }), x), p]);
    let e = layer(new HardSwish({}), layer(tf.layers.dense({ units: 12, ...init }), layer(tf.layers.globalAveragePooling2d({}), x)));
    e = layer(tf.layers.dropout({ rate: 0.3 }), e);
    const probability = layer(tf.layers.dense({ units: 1, activation: 'sigmoid', ...init }), e);
    const logits = layer(tf.layers.dense({ units: 5, ...init }), e);
    const model = await modelFromFiles(await modelToFiles(tf.model({ inputs: input, outputs: [probability, logits] })));
    const forward = fusedOutputs(model);
    for (const batch of [1, 3]) {
      const mel = tf.randomNormal([batch, 16, 21, 1], 0, 2, 'float32', batch);
      const want = model.predict(mel) as tf.Tensor[];
      const got = tf.tidy(() => forward(mel));
      got.forEach((g, i) => {
        expect(g.shape).toEqual(want[i].shape);
        expect(maxAbsDiff(g, want[i])).toBeLessThan(1e-5 * Math.max(1, maxAbs(want[i])));
      });
      expect(maxAbs(want[1])).toBeGreaterThan(0.5);
      tf.dispose([mel, ...want, ...got]);
    }
    const mel = tf.randomNormal([1, 16, 21, 1], 0, 2, 'float32', 9);
    const count = async (fn: () => tf.Tensor[]) => (await tf.profile(() => tf.dispose(tf.tidy(fn)))).kernels.map((k) => k.name);
    const plain = await count(() => model.predict(mel) as tf.Tensor[]);
    const fused = await count(() => forward(mel));
    expect(plain.filter((k) => ['Relu6', 'Multiply', 'Sigmoid', 'Mean'].includes(k)).length).toBeGreaterThan(8);
    expect(fused.filter((k) => ['Relu6', 'Multiply', 'Sigmoid', 'Mean', 'Add', 'Identity', 'PadV2'].includes(k))).toEqual([]);
    // One kernel a convolution: 3 with hardswish, the shortcut, the project with its residual.
    expect(fused.filter((k) => k === SERVING_KERNELS.conv)).toHaveLength(5);
    expect(fused.filter((k) => k === SERVING_KERNELS.dense)).toHaveLength(3); // the hardswish one, both outputs
    expect(fused).toContain(SERVING_KERNELS.squeezeExcite);
    expect(fused.length).toBeLessThan(plain.length / 2);
    mel.dispose();
  });

  it('fuses what it can and leaves the rest to the layers: pad + linear conv, a shared output, ReLU(max 3), conv + plain ReLU', () => {
    const input = tf.input({ shape: [9, 11, 4] });
    const padded = tf.layers.zeroPadding2d({ padding: [[1, 0], [0, 2]] }).apply(input) as tf.SymbolicTensor;
    const a = tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'valid' }).apply(padded) as tf.SymbolicTensor;
    const shared = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthwiseInitializer: 'glorotUniform' }).apply(a) as tf.SymbolicTensor;
    const r3 = tf.layers.reLU({ maxValue: 3 }).apply(shared) as tf.SymbolicTensor; // two consumers of `shared`
    const sum = tf.layers.add().apply([r3, shared]) as tf.SymbolicTensor;
    const c = tf.layers.conv2d({ filters: 5, kernelSize: 1, padding: 'same' }).apply(sum) as tf.SymbolicTensor;
    const out = tf.layers.reLU().apply(c) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const x = tf.randomNormal([2, 9, 11, 4], 0, 2, 'float32', 4);
    expect(maxAbsDiff(tf.tidy(() => fusedPredictor(model)(x)), model.predict(x) as tf.Tensor)).toBeLessThan(1e-5);
  });
});
