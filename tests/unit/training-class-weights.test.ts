import { describe, expect, it } from 'vitest';
import { SentinelError } from '../../shared/errors.ts';
import { classWeights } from '../../shared/training/class-weights.ts';

describe('classWeights', () => {
  it('gives n / (2 * count) per class', () => {
    // 8 examples, 2 danger: w1 = 8 / (2*2) = 2, w0 = 8 / (2*6) = 2/3.
    const w = classWeights([0, 0, 1, 0, 0, 1, 0, 0]);
    expect(w[1]).toBe(2);
    expect(w[0]).toBeCloseTo(2 / 3, 12);
  });

  it('makes each class weigh the same in total and keeps the mean weight at 1', () => {
    const labels = [...Array(90).fill(0), ...Array(10).fill(1)];
    const w = classWeights(labels);
    expect(90 * w[0]).toBeCloseTo(10 * w[1], 12);
    expect((90 * w[0] + 10 * w[1]) / 100).toBeCloseTo(1, 12);
  });

  it('gives 1 and 1 for balanced classes, accepting typed arrays', () => {
    expect(classWeights(Uint8Array.from([1, 0, 1, 0]))).toEqual({ 0: 1, 1: 1 });
  });

  it('gives an absent class weight 0 instead of Infinity', () => {
    // n / (2 * count) still holds for the present class: 3 / (2*3) = 0.5.
    expect(classWeights([0, 0, 0])).toEqual({ 0: 0.5, 1: 0 });
    expect(classWeights([1])).toEqual({ 0: 0, 1: 0.5 });
  });

  it('rejects empty input and labels other than 0/1', () => {
    expect(() => classWeights([])).toThrow(SentinelError);
    expect(() => classWeights([0, 2])).toThrow(/label at index 1/);
  });
});
