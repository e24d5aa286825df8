/**
 * shared/model/fused.ts: the serving forward pass with fused convolution chains computes what model.predict
 * computes, runs none of the kernels it fuses away, and falls back to plain layers where it cannot fuse.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildClassifier } from '../../shared/model/classifier.ts';
import { modelFromFiles, modelToFiles } from '../../shared/model/files.ts';
import { fusedPredictor } from '../../shared/model/fused.ts';
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
    expect(fused.has('FusedDepthwiseConv2D')).toBe(true);
    x.dispose();
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
