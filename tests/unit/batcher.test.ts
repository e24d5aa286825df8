import { describe, expect, it } from 'vitest';
import { Batcher } from '../../shared/inference/batcher.ts';

describe('Batcher', () => {
  it('groups concurrent submissions into one call and returns each caller its outputs in order', async () => {
    const calls: number[][] = [];
    const b = new Batcher<number, number>(async (xs) => {
      calls.push(xs);
      return xs.map((x) => x * 10);
    }, { maxBatch: 16, maxWaitMs: 5 });
    const [a, c, d] = await Promise.all([b.submit([1, 2]), b.submit([3]), b.submit([4, 5, 6])]);
    expect(a).toEqual([10, 20]);
    expect(c).toEqual([30]);
    expect(d).toEqual([40, 50, 60]);
    expect(calls).toEqual([[1, 2, 3, 4, 5, 6]]);
  });

  it('never exceeds maxBatch when callers fit, and still serves a caller larger than a batch', async () => {
    const sizes: number[] = [];
    const b = new Batcher<number, number>(async (xs) => {
      sizes.push(xs.length);
      return xs;
    }, { maxBatch: 4, maxWaitMs: 1 });
    const results = await Promise.all([b.submit([1, 2, 3]), b.submit([4, 5]), b.submit([6, 7, 8, 9, 10, 11])]);
    expect(results).toEqual([[1, 2, 3], [4, 5], [6, 7, 8, 9, 10, 11]]);
    expect(sizes.slice(0, 2)).toEqual([3, 2]);
    expect(sizes).toContain(6);
  });

  it('rejects the callers of a failed batch only', async () => {
    let first = true;
    const b = new Batcher<number, number>(async (xs) => {
      if (first) {
        first = false;
        throw new Error('model failed');
      }
      return xs;
    }, { maxBatch: 2, maxWaitMs: 1 });
    const p1 = b.submit([1, 2]);
    await expect(p1).rejects.toThrow('model failed');
    await expect(b.submit([3])).resolves.toEqual([3]);
  });

  it('a batch that fails is retried per caller: only the caller with the bad item is rejected', async () => {
    const calls: number[][] = [];
    const b = new Batcher<number, number>(async (xs) => {
      calls.push(xs);
      if (xs.some((x) => x < 0)) throw new Error('bad item');
      return xs.map((x) => x * 10);
    }, { maxBatch: 8, maxWaitMs: 5 });
    const results = await Promise.allSettled([b.submit([1, 2]), b.submit([-1]), b.submit([3])]);
    expect(results[0]).toEqual({ status: 'fulfilled', value: [10, 20] });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: new Error('bad item') });
    expect(results[2]).toEqual({ status: 'fulfilled', value: [30] });
    expect(calls[0]).toEqual([1, 2, -1, 3]); // one shared call first
  });

  it('with no wait, callers arriving while the model runs share the next call', async () => {
    const calls: number[][] = [];
    let release!: () => void;
    const busy = new Promise<void>((r) => { release = r; });
    const b = new Batcher<number, number>(async (xs) => {
      calls.push(xs);
      if (calls.length === 1) await busy; // the first call holds the model
      return xs;
    }, { maxBatch: 8, maxWaitMs: 0 });
    const first = b.submit([1]);
    await new Promise((r) => setTimeout(r, 5)); // the first call has started alone
    const rest = [b.submit([2]), b.submit([3, 4]), b.submit([5])];
    release();
    expect(await Promise.all([first, ...rest])).toEqual([[1], [2], [3, 4], [5]]);
    expect(calls).toEqual([[1], [2, 3, 4, 5]]);
  });
});
