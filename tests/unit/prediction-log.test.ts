/** functions/prediction-log.ts: rows arriving during a commit are written together by the next commit. */
import { describe, expect, it } from 'vitest';
import { PredictionLog } from '../../functions/prediction-log.ts';
import type { Repository } from '../../shared/ports/repository.ts';

function fakeRepo(fail = false) {
  const batches: string[][] = [];
  let release: (() => void) | null = null;
  const repo = {
    async recordPredictions(rows: { id: string }[]) {
      batches.push(rows.map((r) => r.id));
      await new Promise<void>((r) => (release = r));
      if (fail) throw new Error('disk full');
    },
  } as unknown as Repository;
  return { repo, batches, commit: () => release?.() };
}

const row = (id: string) => ({ id, model_version: 'v', duration_seconds: 1, windows: [], probability: 0.1, class: 'safe' as const });
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('PredictionLog', () => {
  it('commits the first row at once and the rows that queued meanwhile as one batch', async () => {
    const { repo, batches, commit } = fakeRepo();
    const log = new PredictionLog(repo);
    const settled: string[] = [];
    const all = ['a', 'b', 'c', 'd'].map((id) => log.record(row(id)).then(() => settled.push(id)));
    await tick();
    expect(batches).toEqual([['a']]);
    expect(settled).toEqual([]);
    commit();
    await tick();
    expect(settled).toEqual(['a']);
    expect(batches).toEqual([['a'], ['b', 'c', 'd']]);
    commit();
    await Promise.all(all);
    expect(settled).toEqual(['a', 'b', 'c', 'd']);
  });

  it('rejects the rows of a failed batch with the database error', async () => {
    const { repo, commit } = fakeRepo(true);
    const log = new PredictionLog(repo);
    const p = log.record(row('x'));
    await tick();
    commit();
    await expect(p).rejects.toThrow('disk full');
  });
});
