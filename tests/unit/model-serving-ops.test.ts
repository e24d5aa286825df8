/**
 * shared/model/serving-ops.ts: each serving op computes what the tf ops it replaces compute (hardswish to the bit),
 * runs as one kernel on wasm and as tf ops on cpu, and the committed kernel bytes are what serving.wat assembles to.
 */
import * as tf from '../../shared/model/tf.ts';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { committedAndAssembled } from '../helpers/wasm-kernels.ts';
import { channelMean, dense, fusedConv, hardSwish, SERVING_KERNELS, squeezeExcite, type ConvArgs } from '../../shared/model/serving-ops.ts';
import { maxAbs, maxAbsDiff, useWasm } from './model-helpers.ts';

beforeAll(useWasm);
afterEach(useWasm);

async function kernelsOf(fn: () => tf.Tensor): Promise<string[]> {
  const profile = await tf.profile(() => {
    const out = fn();
    out.dataSync();
    out.dispose();
  });
  return profile.kernels.map((k) => k.name);
}

/** The HardSwish layer's ops (backbones/efficientat.ts). */
const layerHardSwish = (x: tf.Tensor) => tf.tidy(() => tf.mul(tf.mul(x, tf.relu6(tf.add(x, 3))), 1 / 6));

function plainSqueezeExcite(x: tf.Tensor4D, w1: tf.Tensor2D, b1: tf.Tensor1D, w2: tf.Tensor2D, b2: tf.Tensor1D): tf.Tensor {
  return tf.tidy(() => {
    const hidden = tf.relu(tf.add(tf.matMul(tf.mean(x, [1, 2]) as tf.Tensor2D, w1), b1));
    const gate = tf.sigmoid(tf.add(tf.matMul(hidden as tf.Tensor2D, w2), b2));
    return tf.mul(x, tf.reshape(gate, [x.shape[0], 1, 1, x.shape[3]]));
  });
}

describe('serving ops on wasm', () => {
  it('hardSwish: the layer\'s ops to the bit, in one kernel, SIMD lanes and tail alike', async () => {
    // Around the kinks (-3, 3) and beyond; 4 * 7 + 3 values: whole lanes and a tail.
    const x = tf.tensor1d(Array.from({ length: 31 }, (_, i) => (i - 15) * 0.43 + (i % 3) * 1e-3));
    const got = hardSwish(x);
    expect(Array.from(got.dataSync())).toEqual(Array.from(layerHardSwish(x).dataSync()));
    expect(maxAbs(got)).toBeGreaterThan(5);
    expect(await kernelsOf(() => hardSwish(x))).toEqual([SERVING_KERNELS.hardSwish]);
    tf.dispose([x, got]);
  });

  it('fusedConv: convolution, depthwise or not, with hardswish and a residual, as one kernel', async () => {
    const x = tf.randomNormal([2, 9, 13, 8], 0, 2, 'float32', 1) as tf.Tensor4D;
    const base = { strides: [1, 1] as [number, number], dilations: [1, 1] as [number, number] };
    const cases: Array<Omit<ConvArgs, 'x'>> = [
      { ...base, filter: tf.randomNormal([1, 1, 8, 8], 0, 0.5, 'float32', 2) as tf.Tensor4D, bias: tf.randomNormal([8], 0, 1, 'float32', 3) as tf.Tensor1D, pad: 'same', depthwise: false, activation: 'hardswish' },
      { ...base, filter: tf.randomNormal([3, 3, 8, 1], 0, 0.5, 'float32', 4) as tf.Tensor4D, bias: tf.randomNormal([8], 0, 1, 'float32', 5) as tf.Tensor1D, pad: [[0, 0], [1, 1], [1, 1], [0, 0]], strides: [2, 2], depthwise: true, activation: 'hardswish' },
      { ...base, filter: tf.randomNormal([1, 1, 8, 8], 0, 0.5, 'float32', 6) as tf.Tensor4D, pad: 'same', depthwise: false, activation: 'linear', residual: x },
      { ...base, filter: tf.randomNormal([3, 3, 8, 1], 0, 0.5, 'float32', 7) as tf.Tensor4D, pad: 'same', depthwise: true, activation: 'hardswish', residual: x },
    ];
    for (const args of cases) {
      const conv = { x, filter: args.filter, bias: args.bias, strides: args.strides, pad: args.pad as 'valid', dilations: args.dilations, dataFormat: 'NHWC' as const };
      const want = tf.tidy(() => {
        const y = args.depthwise ? tf.depthwiseConv2d(x, args.filter, args.strides, conv.pad) : tf.conv2d(x, args.filter, args.strides, conv.pad);
        const biased = args.bias ? tf.add(y, args.bias) : y;
        const activated = args.activation === 'hardswish' ? layerHardSwish(biased) : biased;
        return args.residual ? tf.add(activated, args.residual) : activated;
      });
      const got = fusedConv({ x, ...args });
      expect(got.shape).toEqual(want.shape);
      expect(maxAbs(want)).toBeGreaterThan(1);
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
      expect(await kernelsOf(() => fusedConv({ x, ...args }))).toEqual([SERVING_KERNELS.conv]);
      tf.dispose([got, want, args.filter, args.bias ?? []]);
    }
    // A residual of another shape broadcasts, as tf.add does.
    const filter = tf.randomNormal([1, 1, 8, 8], 0, 0.5, 'float32', 8) as tf.Tensor4D;
    const residual = tf.randomNormal([1, 1, 1, 8], 0, 1, 'float32', 9);
    const got = fusedConv({ x, filter, pad: 'same', ...base, depthwise: false, activation: 'linear', residual });
    expect(maxAbsDiff(got, tf.add(tf.conv2d(x, filter, 1, 'same'), residual))).toBeLessThan(1e-5);
    tf.dispose([x, filter, residual, got]);
  });

  it('dense: matMul + bias, each activation (hardswish too), as one kernel of the product\'s shape', async () => {
    const x = tf.randomNormal([3, 12], 0, 2, 'float32', 41) as tf.Tensor2D;
    const kernel = tf.randomNormal([12, 7], 0, 0.5, 'float32', 42) as tf.Tensor2D;
    const bias = tf.randomNormal([7], 0, 1, 'float32', 43) as tf.Tensor1D;
    const plain = tf.add(tf.matMul(x, kernel), bias);
    const wants = { linear: plain, relu: tf.relu(plain), relu6: tf.relu6(plain), sigmoid: tf.sigmoid(plain), hardswish: layerHardSwish(plain) };
    for (const [activation, want] of Object.entries(wants)) {
      const got = dense(x, kernel, bias, activation as keyof typeof wants);
      expect(got.shape).toEqual([3, 7]);
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
      expect(await kernelsOf(() => dense(x, kernel, bias, activation as keyof typeof wants))).toEqual([SERVING_KERNELS.dense]);
    }
    expect(maxAbsDiff(dense(x, kernel, undefined, 'linear'), tf.matMul(x, kernel))).toBeLessThan(1e-5);
    expect(maxAbs(plain)).toBeGreaterThan(1);
  });

  it('squeezeExcite and channelMean: the layers\' result in one kernel each', async () => {
    for (const batch of [1, 3]) {
      const x = tf.randomNormal([batch, 5, 7, 16], 0, 2, 'float32', batch) as tf.Tensor4D;
      const w1 = tf.randomNormal([16, 8], 0, 0.5, 'float32', 11) as tf.Tensor2D;
      const b1 = tf.randomNormal([8], 0, 0.5, 'float32', 12) as tf.Tensor1D;
      const w2 = tf.randomNormal([8, 16], 0, 0.5, 'float32', 13) as tf.Tensor2D;
      const b2 = tf.randomNormal([16], 0, 0.5, 'float32', 14) as tf.Tensor1D;
      const want = plainSqueezeExcite(x, w1, b1, w2, b2);
      const got = squeezeExcite(x, w1, b1, w2, b2);
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
      // The gate is not trivially 0 or 1 everywhere: the output is not x, nor zero.
      expect(maxAbsDiff(got, x)).toBeGreaterThan(0.1);
      expect(maxAbs(got)).toBeGreaterThan(0.5);
      const mean = channelMean(x);
      expect(maxAbsDiff(mean, tf.mean(x, [1, 2]))).toBeLessThan(1e-6);
      expect(await kernelsOf(() => squeezeExcite(x, w1, b1, w2, b2))).toEqual([SERVING_KERNELS.squeezeExcite]);
      expect(await kernelsOf(() => channelMean(x))).toEqual([SERVING_KERNELS.channelMean]);
      tf.dispose([x, w1, b1, w2, b2, want, got, mean]);
    }
  });

  it('channels in part of a SIMD lane (6): the tf ops, same result', async () => {
    const x = tf.randomNormal([2, 3, 4, 6], 0, 1, 'float32', 21) as tf.Tensor4D;
    const w1 = tf.randomNormal([6, 2], 0, 1, 'float32', 22) as tf.Tensor2D;
    const b1 = tf.zeros([2]) as tf.Tensor1D;
    const w2 = tf.randomNormal([2, 6], 0, 1, 'float32', 23) as tf.Tensor2D;
    const b2 = tf.zeros([6]) as tf.Tensor1D;
    expect(maxAbsDiff(squeezeExcite(x, w1, b1, w2, b2), plainSqueezeExcite(x, w1, b1, w2, b2))).toBeLessThan(1e-5);
    expect(await kernelsOf(() => squeezeExcite(x, w1, b1, w2, b2))).not.toContain(SERVING_KERNELS.squeezeExcite);
    expect(maxAbsDiff(channelMean(x), tf.mean(x, [1, 2]))).toBeLessThan(1e-6);
  });

  it('on the cpu backend: the tf ops, same results, no serving kernel', async () => {
    const x = tf.randomNormal([1, 4, 5, 8], 0, 2, 'float32', 31) as tf.Tensor4D;
    const filter = tf.randomNormal([3, 3, 8, 1], 0, 0.5, 'float32', 32) as tf.Tensor4D;
    const args: ConvArgs = { x, filter, strides: [1, 1], pad: 'same', dilations: [1, 1], depthwise: true, activation: 'hardswish', residual: x };
    const onWasm = fusedConv(args).dataSync();
    expect(await tf.setBackend('cpu')).toBe(true);
    const onCpu = tf.tensor(fusedConv(args).dataSync());
    expect(maxAbsDiff(onCpu, tf.tensor(onWasm))).toBeLessThan(1e-5);
    const kernels = await kernelsOf(() => fusedConv(args));
    expect(kernels.some((k) => k.startsWith('Sentinel'))).toBe(false);
    expect(kernels).toContain('FusedDepthwiseConv2D');
  });

  it('runs the committed kernel bytes: what shared/model/wasm/serving.wat assembles to (npm run build:wasm)', async () => {
    const { committed, assembled } = await committedAndAssembled('shared/model/wasm/serving.wat');
    expect(committed).toBe(assembled);
  });
});
