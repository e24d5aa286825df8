import * as tf from '../../shared/model/tf.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { cutBefore, dense, depthwise3x3Same, inputDense, topNet } from '../../shared/training/top.ts';
import { mapsBatch, trainTop } from '../../shared/training/top-train.ts';
import { randomBackbone } from '../helpers/tiny-model.ts';
import { maxAbs, maxAbsDiff, useWasm } from './model-helpers.ts';

/** A random MobileNetV2 with O(1) activations, BN folded, as 'top' mode receives it. */
async function foldedBackbone(): Promise<tf.LayersModel> {
  return (await randomBackbone()).model;
}

describe('topNet: the backbone above a cut as trainable tf ops', () => {
  let backbone: tf.LayersModel;
  const images = () => tf.randomUniform([3, 64, 72, 3], -1, 1, 'float32', 5) as tf.Tensor4D;

  beforeAll(async () => {
    await useWasm();
    backbone = await foldedBackbone();
  });

  it('cuts before a block and reproduces the backbone exactly (blocks 14-16 and Conv_1)', () => {
    const cut = cutBefore(backbone, 'block_14_expand');
    expect(cut).toBe('block_13_project');
    const top = topNet(backbone, cut);
    const bottom = tf.model({ inputs: backbone.inputs, outputs: backbone.getLayer(cut).output as tf.SymbolicTensor });
    const x = images();
    const whole = backbone.predict(x) as tf.Tensor;
    const split = top.apply(bottom.predict(x) as tf.Tensor4D);
    expect(split.shape).toEqual(whole.shape);
    expect(tf.tidy(() => whole.abs().max().dataSync()[0])).toBeGreaterThan(0.1);
    expect(maxAbsDiff(split, whole)).toBeLessThan(1e-4);
    top.dispose();
  });

  it('writes trained values back into the layers by name, and restores the original ones', () => {
    const top = topNet(backbone, 'block_15_add');
    const layer = backbone.getLayer('Conv_1');
    const original = layer.getWeights()[0].clone();
    top.variables.forEach((v) => v.assign(v.add(0.5)));
    top.writeBack();
    expect(maxAbsDiff(layer.getWeights()[0], original.add(0.5))).toBeLessThan(1e-6);
    top.restore();
    top.writeBack();
    expect(maxAbsDiff(layer.getWeights()[0], original)).toBe(0);
    top.dispose();
  });

  it('refuses a cut inside a residual block and an unknown layer', () => {
    // block_15_project feeds block_15_add together with block_14_add: a cut there leaves block_14_add below it.
    expect(() => topNet(backbone, 'block_15_project')).toThrow(/below the cut/);
    expect(() => cutBefore(backbone, 'no_such_layer')).toThrow(/No backbone layer/);
    expect(() => cutBefore(backbone, 'block_15_add')).toThrow(/2 inputs/);
  });

  it('computes the gradients of tfjs itself: dense (matMul) and the shifted 3x3 depthwise convolution', () => {
    const x = tf.randomNormal([7, 5], 0, 1, 'float32', 1) as tf.Tensor2D;
    const w = tf.randomNormal([5, 3], 0, 1, 'float32', 2) as tf.Tensor2D;
    const loss = (f: (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor) => (a: tf.Tensor, b: tf.Tensor) => f(a as tf.Tensor2D, b as tf.Tensor2D).square().sum() as tf.Scalar;
    const [gx, gw] = tf.grads(loss(dense))([x, w]);
    const [rx, rw] = tf.grads(loss((a, b) => a.matMul(b)))([x, w]);
    expect(maxAbsDiff(gx, rx)).toBeLessThan(1e-4);
    expect(maxAbsDiff(gw, rw)).toBeLessThan(1e-4);
    // inputDense (a head's first layer on data): the same value and kernel gradient, no gradient for its input.
    const [ix, iw] = tf.grads(loss(inputDense))([x, w]);
    expect(maxAbsDiff(inputDense(x, w), x.matMul(w))).toBeLessThan(1e-5);
    expect(maxAbsDiff(iw, rw)).toBeLessThan(1e-4);
    expect(maxAbs(ix)).toBe(0);

    // The depthwise 3x3 of blocks 14-16 runs as nine shifted products: same output and gradients as tfjs' op.
    const maps = tf.randomUniform([2, 3, 4, 6], -1, 1, 'float32', 3) as tf.Tensor4D;
    const kernel = tf.randomNormal([3, 3, 6, 1], 0, 1, 'float32', 4) as tf.Tensor4D;
    const f = (op: (a: tf.Tensor4D, k: tf.Tensor4D) => tf.Tensor) => (a: tf.Tensor, k: tf.Tensor) => op(a as tf.Tensor4D, k as tf.Tensor4D).square().sum() as tf.Scalar;
    expect(maxAbsDiff(depthwise3x3Same(maps, kernel), tf.depthwiseConv2d(maps, kernel, 1, 'same'))).toBeLessThan(1e-5);
    const [sx, sk] = tf.grads(f(depthwise3x3Same))([maps, kernel]);
    const [tx, tk] = tf.grads(f((a, k) => tf.depthwiseConv2d(a, k, 1, 'same')))([maps, kernel]);
    expect(maxAbsDiff(sx, tx)).toBeLessThan(1e-4);
    expect(maxAbsDiff(sk, tk)).toBeLessThan(1e-4);
  });

  it('trainTop fits separable feature maps, keeps the best epoch and folds standardisation into the head', async () => {
    const cut = cutBefore(backbone, 'block_16_expand');
    const top = topNet(backbone, cut);
    const bottom = tf.model({ inputs: backbone.inputs, outputs: backbone.getLayer(cut).output as tf.SymbolicTensor });
    // Two kinds of images (bright left half vs bright right half) through the frozen bottom give the maps.
    const n = 48;
    const img = tf.tidy(() => {
      const left = tf.concat([tf.ones([n / 2, 32, 16, 3]), tf.fill([n / 2, 32, 16, 3], -1)], 2);
      const right = tf.concat([tf.fill([n / 2, 32, 16, 3], -1), tf.ones([n / 2, 32, 16, 3])], 2);
      return tf.concat([left, right]).add(tf.randomNormal([n, 32, 32, 3], 0, 0.3, 'float32', 9)) as tf.Tensor4D;
    });
    const out = bottom.predict(img) as tf.Tensor4D;
    const shape = out.shape.slice(1) as [number, number, number];
    const data = out.dataSync() as Float32Array;
    const per = shape[0] * shape[1] * shape[2];
    const maps = { shape, row: (i: number) => data.subarray(i * per, (i + 1) * per) };
    const y = Array.from({ length: n }, (_, i) => (i < n / 2 ? 1 : 0));
    const rows = Array.from({ length: n }, (_, i) => i);
    const epochs: number[] = [];
    const result = await trainTop({
      top, maps, train: { rows, y }, validation: { rows, y }, epochs: 15, patience: 15, seed: 4, head: { hiddenUnits: 8, dropout: 0 },
      onEpoch: (e) => epochs.push(e.valLoss!),
    });
    expect(result.bestEpoch).toBe(epochs.indexOf(Math.min(...epochs)) + 1);
    // The folded head on raw pooled features of the trained top separates the two kinds.
    const p = tf.tidy(() => (result.head.predict(top.apply(mapsBatch(maps, rows)).mean([1, 2])) as tf.Tensor).dataSync());
    const correct = rows.filter((i) => (p[i] > 0.5 ? 1 : 0) === y[i]).length;
    expect(correct / n).toBeGreaterThanOrEqual(0.95);
    result.head.dispose();
    top.dispose();
  });
});
