/** functions/prediction-log.ts: rows of one turn share a commit; rows arriving during a commit go in the next one. */
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
  it('commits the rows of one turn together, and the rows that queued meanwhile as the next batch', async () => {
    const { repo, batches, commit } = fakeRepo();
    const log = new PredictionLog(repo);
    const settled: string[] = [];
    // One turn: a micro-batch's requests are answered together.
    const first = ['a', 'b'].map((id) => log.record(row(id)).then(() => settled.push(id)));
    await tick();
    expect(batches).toEqual([['a', 'b']]);
    // Arriving while that commit is in flight: the next commit.
    const later = ['c', 'd', 'e'].map((id) => log.record(row(id)).then(() => settled.push(id)));
    await tick();
    expect(batches).toEqual([['a', 'b']]);
    expect(settled).toEqual([]);
    commit();
    await tick();
    expect(settled).toEqual(['a', 'b']);
    expect(batches).toEqual([['a', 'b'], ['c', 'd', 'e']]);
    commit();
    await Promise.all([...first, ...later]);
    expect(settled).toEqual(['a', 'b', 'c', 'd', 'e']);
    // Idle again: a lone row goes alone, on the next turn.
    const lone = log.record(row('f'));
    await tick();
    expect(batches.at(-1)).toEqual(['f']);
    commit();
    await lone;
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
