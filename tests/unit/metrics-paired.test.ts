import { describe, expect, it } from 'vitest';
import { SentinelError } from '../../shared/errors.ts';
import { pairedChange } from '../../shared/metrics/index.ts';

/**
 * Four pairs at threshold 0.5:
 *   reference 0.10 0.50 0.70 0.90
 *   other     0.20 0.45 0.70 0.60
 *   |Δ|       0.10 0.05 0    0.30   -> mean 0.45 / 4 = 0.1125, max 0.30 at index 3
 *   verdicts  s/s  d/s  d/d  d/d    -> 1 flip (index 1: 0.50 reaches the threshold, 0.45 does not), rate 0.25
 */
const reference = [0.1, 0.5, 0.7, 0.9];
const other = [0.2, 0.45, 0.7, 0.6];

describe('pairedChange', () => {
  it('gives the mean and largest |Δ|, where the largest is, and the verdicts flipped at the threshold', () => {
    const c = pairedChange(reference, other, 0.5);
    expect(c.n).toBe(4);
    expect(c.meanAbsDelta).toBeCloseTo(0.1125, 12);
    expect(c.maxAbsDelta).toBeCloseTo(0.3, 12);
    expect(c.maxIndex).toBe(3);
    expect(c.flips).toBe(1);
    expect(c.flipRate).toBe(0.25);
  });

  it('counts a flip in either direction, and none when both sides agree', () => {
    // At 0.65 index 3 (0.9 -> 0.6) flips down and index 1 no longer flips; at 0.15 index 0 (0.1 -> 0.2) flips up.
    expect(pairedChange(reference, other, 0.65).flips).toBe(1);
    expect(pairedChange(reference, other, 0.15).flips).toBe(1);
    expect(pairedChange(reference, other, 0.95).flips).toBe(0);
  });

  it('is all zero for identical readings, and names the first of equal largest changes', () => {
    expect(pairedChange(reference, reference, 0.5)).toEqual({ n: 4, meanAbsDelta: 0, maxAbsDelta: 0, maxIndex: 0, flips: 0, flipRate: 0 });
    expect(pairedChange([0.5, 0.5, 0.5], [0.5, 0.75, 0.25], 0.5).maxIndex).toBe(1); // |Δ| 0, 0.25, 0.25: exact in binary
  });

  it('refuses mismatched, empty or out-of-range input', () => {
    expect(() => pairedChange([0.1], [0.1, 0.2], 0.5)).toThrow(/same length/);
    expect(() => pairedChange([], [], 0.5)).toThrow(/no pairs/);
    expect(() => pairedChange([0.1], [1.2], 0.5)).toThrow(SentinelError);
    expect(() => pairedChange([Number.NaN], [0.1], 0.5)).toThrow(/reference probability at index 0/);
    expect(() => pairedChange([0.1], [0.1], Number.NaN)).toThrow(/threshold/);
  });
});
