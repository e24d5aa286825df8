import * as tf from '../../shared/model/tf.ts';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../shared/model/backend.ts';
import { BRIDGED_KERNELS } from '../../shared/model/wasm-kernels.ts';

function values(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7 + seed) * Math.cos(i * 0.013));
}

/** d/dx and d/dw of sum(op(x, w) * r) for conv2d and depthwiseConv2d (stride 2 valid and stride 1 same). */
function gradients(): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(values(2 * 9 * 9 * 4, 1), [2, 9, 9, 4]);
    const out: Float32Array[] = [];
    const cases: Array<[string, number[], (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D]> = [
      ['conv s2 valid', [3, 3, 4, 6], (a, w) => tf.conv2d(a, w, 2, 'valid')],
      ['conv 1x1', [1, 1, 4, 5], (a, w) => tf.conv2d(a, w, 1, 'same')],
      ['depthwise s2 valid', [3, 3, 4, 1], (a, w) => tf.depthwiseConv2d(a, w, 2, 'valid')],
      ['depthwise s1 same', [3, 3, 4, 1], (a, w) => tf.depthwiseConv2d(a, w, 1, 'same')],
    ];
    for (const [, shape, op] of cases) {
      const w = tf.tensor4d(values(shape.reduce((p, q) => p * q, 1), 2), shape as [number, number, number, number]);
      const grad = tf.grads((a: tf.Tensor, b: tf.Tensor) => {
        const y = op(a as tf.Tensor4D, b as tf.Tensor4D);
        return tf.sum(tf.mul(y, tf.sin(tf.range(0, y.size).reshape(y.shape))));
      });
      for (const g of grad([x, w])) out.push(g.dataSync() as Float32Array);
    }
    return out;
  });
}

describe('wasm gradient kernels bridged to cpu', () => {
  it('are registered on wasm when wasm is selected', async () => {
    await selectBackend({ requested: 'wasm', log: () => {} });
    for (const k of BRIDGED_KERNELS) expect(tf.getKernel(k, 'wasm')).toBeDefined();
  });

  it('conv and depthwise-conv gradients on wasm equal the cpu backend', async () => {
    await selectBackend({ requested: 'cpu', log: () => {} });
    const cpu = gradients();
    await selectBackend({ requested: 'wasm', log: () => {} });
    const wasm = gradients();
    expect(wasm).toHaveLength(8);
    for (let i = 0; i < cpu.length; i++) {
      let worst = 0;
      let scale = 0;
      for (let j = 0; j < cpu[i].length; j++) {
        worst = Math.max(worst, Math.abs(cpu[i][j] - wasm[i][j]));
        scale = Math.max(scale, Math.abs(cpu[i][j]));
      }
      expect(scale).toBeGreaterThan(0.1);
      expect(worst / scale).toBeLessThan(1e-5);
    }
  });
});
