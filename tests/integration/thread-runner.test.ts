/**
 * worker/thread-runner.ts: a candidate trained on a thread of its own is the one trained on this thread, byte for byte
 * (same functions, same wasm backend); progress and epochs reach the caller; the gate's scores are the same; a
 * progress hook that throws (session lost, shutdown) ends the thread's run with that very error.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../shared/model/backend.ts';
import type { ModelFiles } from '../../shared/model/files.ts';
import { MemoryEmbeddingCache } from '../../shared/training/embedding-cache.ts';
import type { TrainResult } from '../../shared/training/trainer.ts';
import { inProcessRunner, type CandidateJob, type TrainingSettings } from '../../worker/runner.ts';
import { ThreadRunner } from '../../worker/thread-runner.ts';
import { syntheticClips, tinyModelFiles } from '../helpers/tiny-model.ts';

// One training thread inside the runner's thread too: this compares where the run happens, not training threads.
const training: TrainingSettings = { folds: 0, augmentations: 0, threads: 1 };
let base: ModelFiles;
/** A fresh job each time: ThreadRunner moves the clips' bytes to its thread. */
const job = (): CandidateJob => ({ clips: syntheticClips(12, 910), baseFiles: base, mode: 'head', epochs: 6, warmStart: false, command: 'test' });

beforeAll(async () => {
  await selectBackend({ requested: 'wasm', log: () => {} });
  base = await tinyModelFiles({ seed: 900 });
});

describe('ThreadRunner', () => {
  let inline: TrainResult;
  let threaded: TrainResult;
  const seen = { inline: { phases: new Set<string>(), epochs: 0 }, threaded: { phases: new Set<string>(), epochs: 0 } };

  beforeAll(async () => {
    const hooks = (log: { phases: Set<string>; epochs: number }) => ({ onProgress: (p: { phase: string }) => void log.phases.add(p.phase), onEpoch: () => void log.epochs++ });
    inline = await inProcessRunner({ cache: new MemoryEmbeddingCache(), training }).train(job(), hooks(seen.inline));
    threaded = await new ThreadRunner({ training }).train(job(), hooks(seen.threaded));
  });

  it('trains the same candidate as this thread does, byte for byte, reporting the same progress', () => {
    expect(Buffer.from(threaded.files['weights.bin']).equals(Buffer.from(inline.files['weights.bin']))).toBe(true);
    expect(threaded.manifest.threshold).toBe(inline.manifest.threshold);
    expect(threaded.manifest.parentVersion).toBe(inline.manifest.parentVersion);
    expect(seen.threaded.epochs).toBeGreaterThan(0);
    expect(seen.threaded.epochs).toBe(seen.inline.epochs);
    expect([...seen.threaded.phases]).toEqual([...seen.inline.phases]);
  });

  it('scores the gate as this thread does', async () => {
    const gateJob = () => ({ clips: syntheticClips(8, 920), candidate: inline.files, current: base });
    let reports = 0;
    const here = await inProcessRunner({ cache: new MemoryEmbeddingCache(), training }).gate(gateJob());
    const moved = gateJob();
    const there = await new ThreadRunner({ training }).gate(moved, () => void reports++);
    expect(there).toEqual(here);
    expect(there.clips).toEqual({ safe: 4, danger: 4 });
    expect(reports).toBeGreaterThan(0);
    // The clips' bytes moved to the thread rather than being copied; the model files were copied.
    expect(moved.clips.every((c) => c.bytes.byteLength === 0)).toBe(true);
    expect(moved.candidate['weights.bin'].byteLength).toBeGreaterThan(0);
  });

  it('a progress hook that throws ends the run with its error', async () => {
    const stop = new Error('the run lost its session');
    let calls = 0;
    const run = new ThreadRunner({ training }).train(job(), {
      onProgress: () => {
        calls++;
        throw stop;
      },
    });
    await expect(run).rejects.toBe(stop);
    expect(calls).toBe(1);
  });
});
