import { describe, expect, it } from 'vitest';
import { SentinelError } from '../../shared/errors.ts';
import { createRng } from '../../shared/training/random.ts';
import { groupKFold, groupTrainValSplit, type SplitItem } from '../../shared/training/split.ts';

/**
 * A dataset shaped like Sentinel's: many source recordings, 1-6 clips each; ~25% of recordings are danger
 * (screams...), a few are mixed (a recording with a scream and background before it). Items are interleaved.
 */
function dataset(seed: number, groups = 150): SplitItem[] {
  const rng = createRng(seed);
  const items: SplitItem[] = [];
  for (let g = 0; g < groups; g++) {
    const kind = rng.uniform();
    const n = rng.int(1, 6);
    for (let i = 0; i < n; i++) {
      const label = kind < 0.25 ? 1 : kind < 0.3 ? (i % 2 === 0 ? 1 : 0) : 0;
      items.push({ group: `rec-${g}`, label });
    }
  }
  return createRng(seed + 1).shuffle(items);
}

const positives = (items: SplitItem[], idx: number[]) => idx.filter((i) => items[i].label === 1).length;
const groupsOf = (items: SplitItem[], idx: number[]) => new Set(idx.map((i) => items[i].group));
const maxGroupPositives = (items: SplitItem[]) => {
  const c = new Map<string, number>();
  for (const it of items) if (it.label === 1) c.set(it.group, (c.get(it.group) ?? 0) + 1);
  return Math.max(...c.values());
};

describe('groupKFold', () => {
  const items = dataset(1);
  const k = 5;
  const folds = groupKFold(items, k, 123);

  it('uses every item exactly once for validation and trains on the rest', () => {
    expect(folds).toHaveLength(k);
    const seen = folds.flatMap((f) => f.validation).sort((a, b) => a - b);
    expect(seen).toEqual(items.map((_, i) => i));
    for (const f of folds) {
      expect(f.train.length + f.validation.length).toBe(items.length);
      expect([...f.train, ...f.validation].sort((a, b) => a - b)).toEqual(items.map((_, i) => i));
    }
  });

  it('never lets a group span folds (no leak between train and validation)', () => {
    const owner = new Map<string, number>();
    folds.forEach((f, fi) => {
      for (const g of groupsOf(items, f.validation)) {
        expect(owner.has(g)).toBe(false);
        owner.set(g, fi);
      }
      const train = groupsOf(items, f.train);
      for (const g of groupsOf(items, f.validation)) expect(train.has(g)).toBe(false);
    });
  });

  it('balances danger counts within one group of each other, and safe counts within 15%', () => {
    const pos = folds.map((f) => positives(items, f.validation));
    expect(Math.max(...pos) - Math.min(...pos)).toBeLessThanOrEqual(maxGroupPositives(items));
    const neg = folds.map((f) => f.validation.length - positives(items, f.validation));
    const meanNeg = neg.reduce((a, b) => a + b, 0) / k;
    for (const n of neg) expect(Math.abs(n - meanNeg) / meanNeg).toBeLessThan(0.15);
  });

  it('is deterministic for a seed and varies with it', () => {
    expect(groupKFold(items, k, 123)).toEqual(folds);
    expect(groupKFold(items, k, 124)).not.toEqual(folds);
  });

  it('works with string labels and k = number of groups (leave-one-group-out)', () => {
    const small: SplitItem[] = [
      { group: 'a', label: 'danger' },
      { group: 'b', label: 'safe' },
      { group: 'a', label: 'danger' },
      { group: 'c', label: 'safe' },
    ];
    const f = groupKFold(small, 3, 0);
    expect(f.map((x) => x.validation).sort((x, y) => x[0] - y[0])).toEqual([[0, 2], [1], [3]]);
  });

  it('rejects bad k, too few groups, bad labels and empty input', () => {
    const two: SplitItem[] = [
      { group: 'a', label: 1 },
      { group: 'b', label: 0 },
    ];
    const calls = [
      () => groupKFold(two, 1, 0),
      () => groupKFold(two, 2.5, 0),
      () => groupKFold(two, 3, 0),
      () => groupKFold([], 2, 0),
      () => groupKFold([{ group: 'a', label: 2 as never }, { group: 'b', label: 0 }], 2, 0),
    ];
    for (const call of calls) expect(call).toThrow(SentinelError);
    expect(() => groupKFold(two, 3, 0)).toThrow(/at least 3 groups/);
  });
});

describe('groupTrainValSplit', () => {
  const items = dataset(2, 200);
  const P = items.filter((x) => x.label === 1).length;
  const N = items.length - P;

  it('holds out about valFraction of each class, whole groups only', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const s = groupTrainValSplit(items, 0.2, seed);
      expect([...s.train, ...s.validation].sort((a, b) => a - b)).toEqual(items.map((_, i) => i));
      const trainGroups = groupsOf(items, s.train);
      for (const g of groupsOf(items, s.validation)) expect(trainGroups.has(g)).toBe(false);
      const vp = positives(items, s.validation);
      const vn = s.validation.length - vp;
      // Within one group's worth (<= 6 clips) of the target for each class.
      expect(Math.abs(vp - 0.2 * P)).toBeLessThanOrEqual(6);
      expect(Math.abs(vn - 0.2 * N)).toBeLessThanOrEqual(6);
    }
  });

  it('is deterministic for a seed and varies with it', () => {
    expect(groupTrainValSplit(items, 0.25, 9)).toEqual(groupTrainValSplit(items, 0.25, 9));
    expect(groupTrainValSplit(items, 0.25, 9)).not.toEqual(groupTrainValSplit(items, 0.25, 10));
  });

  it('keeps both sides non-empty even for two very unequal groups', () => {
    const lopsided: SplitItem[] = [
      ...Array.from({ length: 50 }, () => ({ group: 'big', label: 0 as const })),
      { group: 'tiny', label: 1 },
    ];
    for (const f of [0.01, 0.5, 0.99]) {
      const s = groupTrainValSplit(lopsided, f, 0);
      expect(s.train.length).toBeGreaterThan(0);
      expect(s.validation.length).toBeGreaterThan(0);
    }
  });

  it('rejects a fraction outside (0, 1) and a single group', () => {
    expect(() => groupTrainValSplit(items, 0, 1)).toThrow(SentinelError);
    expect(() => groupTrainValSplit(items, 1, 1)).toThrow(SentinelError);
    expect(() => groupTrainValSplit([{ group: 'a', label: 1 }, { group: 'a', label: 0 }], 0.5, 1)).toThrow(/at least 2 groups/);
  });
});
