/**
 * TrainingCompute on worker threads (shared/training/compute.ts): tfjs-wasm is single-threaded in Node, so a thread
 * per core embeds views and fits heads side by side while the main thread makes the views' mels. Every thread runs the
 * same functions as the in-process compute on the same backend: a run gives the same model either way.
 * A crashed thread fails the requests it held (INTERNAL); the run fails and its caller retries it, as for any error.
 */
import { availableParallelism } from 'node:os';
import * as tf from '../shared/model/tf.ts';
import { SentinelError } from '../shared/errors.ts';
import { modelFromFiles, modelToFiles, type ModelFiles } from '../shared/model/files.ts';
import { inProcessCompute, type FeatureExtractor, type FeatureSpec, type TrainingCompute } from '../shared/training/compute.ts';
import type { EpochLog, HeadTrainingOptions, HeadTrainingResult } from '../shared/training/head.ts';
import { RequestThread, threadModule } from './threads.ts';

/** What the pool asks a thread (adapters/training-thread.ts). */
export type TrainingThreadRequest =
  | { type: 'extractor'; key: number; files: ModelFiles; spec: Omit<FeatureSpec, 'model'> }
  | { type: 'extract'; key: number; mels: readonly Float32Array[] }
  | { type: 'drop-extractor'; key: number }
  | { type: 'train-head'; job: Omit<HeadTrainingOptions, 'initialHead' | 'onEpoch'>; initialHead?: ModelFiles };

/** A trained head crosses back as model files (a LayersModel cannot cross threads). */
export type TrainedHeadData = { head: ModelFiles; history: EpochLog[]; bestEpoch: number };

export class TrainingThreads implements TrainingCompute {
  readonly parallelism: number;
  #threads: RequestThread[];
  #nextKey = 1;

  /** `size` threads on tfjs backend `backend` (the caller's own, so both sides compute alike). */
  constructor(size: number, backend: string) {
    if (!Number.isInteger(size) || size < 1) throw new SentinelError('CONFIG', `Training thread count must be a positive integer, got ${size}.`);
    this.parallelism = size;
    this.#threads = Array.from({ length: size }, () => new RequestThread(threadModule('training-thread', import.meta.url), { backend }));
  }

  #leastBusy(): RequestThread {
    return this.#threads.reduce((best, t) => (t.inFlight < best.inFlight ? t : best));
  }

  async extractor(spec: FeatureSpec): Promise<FeatureExtractor> {
    const key = this.#nextKey++;
    const { model, ...rest } = spec;
    const files = await modelToFiles(model);
    await Promise.all(this.#threads.map((t) => t.request({ type: 'extractor', key, files, spec: rest } satisfies TrainingThreadRequest)));
    return {
      extract: (mels) => this.#leastBusy().request<Float32Array>({ type: 'extract', key, mels } satisfies TrainingThreadRequest),
      dispose: async () => void (await Promise.all(this.#threads.map((t) => t.request({ type: 'drop-extractor', key } satisfies TrainingThreadRequest)))),
    };
  }

  /** Jobs go to whichever thread is free next, in the order given (put the longest first). */
  async trainHeads(jobs: readonly HeadTrainingOptions[]): Promise<HeadTrainingResult[]> {
    const results = new Array<HeadTrainingResult>(jobs.length);
    let next = 0;
    const drain = async (thread: RequestThread) => {
      while (next < jobs.length) {
        const i = next++;
        const { initialHead, onEpoch, ...job } = jobs[i];
        const out = await thread.request<TrainedHeadData>(
          { type: 'train-head', job, ...(initialHead ? { initialHead: await modelToFiles(initialHead) } : {}) } satisfies TrainingThreadRequest,
          [],
          onEpoch && ((log) => onEpoch(log as EpochLog)),
        );
        results[i] = { head: await modelFromFiles(out.head), history: out.history, bestEpoch: out.bestEpoch };
      }
    };
    await Promise.all(this.#threads.map(drain));
    return results;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.#threads.map((t) => t.terminate()));
  }
}

/**
 * The compute an entrypoint (CLI, worker) trains with: `threads` (default: one per core on wasm — the native and GPU
 * backends use every core from one thread already) and a close() for the end of the run.
 */
export function openTrainingCompute(threads?: number): { compute: TrainingCompute; close(): Promise<void> } {
  const backend = tf.getBackend();
  const n = threads ?? (backend === 'wasm' ? availableParallelism() : 1);
  if (n <= 1) return { compute: inProcessCompute(), close: async () => {} };
  const pool = new TrainingThreads(n, backend);
  return { compute: pool, close: () => pool.dispose() };
}
