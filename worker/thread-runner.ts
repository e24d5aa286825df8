/**
 * TrainingRunner on a worker thread: the candidate's training (every mode, its clips' decoding and mels included) and
 * the gate's scoring run off the caller's event loop, so the local stack's API answers while a retrain runs. The
 * thread may spread the work further over training threads of its own (adapters/training-threads.ts).
 * One thread per request: the job's memory goes with it, and a run told to stop (a progress hook throwing: session
 * lost, shutdown) is ended by terminating the thread, then fails with the hook's error as in-process.
 * The clips' bytes move to the thread rather than being copied (hundreds of MB of clips would hold the event loop up
 * while copied): a job's clips are empty for the caller afterwards. Model files are copied.
 */
import * as tf from '../shared/model/tf.ts';
import { RequestThread, threadModule, transferables } from '../adapters/threads.ts';
import type { TrainProgress, TrainResult } from '../shared/training/trainer.ts';
import type { GateScores } from './gate.ts';
import type { CandidateJob, EpochReport, GateJob, RunHooks, TrainingRunner, TrainingSettings } from './runner.ts';

export type RunnerRequest = { type: 'train'; job: CandidateJob } | { type: 'gate'; job: GateJob };
export type RunnerEvent = { progress: TrainProgress } | { epoch: EpochReport } | { gate: { done: number; total: number } };
export interface RunnerThreadData {
  backend: string;
  /** Embedding cache folder; none = an in-memory cache for the one request. */
  cacheDir?: string;
  training: TrainingSettings;
}

export class ThreadRunner implements TrainingRunner {
  constructor(private readonly options: { training: TrainingSettings; cacheDir?: string; backend?: string }) {}

  train(job: CandidateJob, hooks: RunHooks = {}): Promise<TrainResult> {
    return this.#run<TrainResult>({ type: 'train', job }, (e) => {
      if ('progress' in e) hooks.onProgress?.(e.progress);
      else if ('epoch' in e) hooks.onEpoch?.(e.epoch);
    });
  }

  gate(job: GateJob, onProgress?: (done: number, total: number) => void): Promise<GateScores> {
    return this.#run<GateScores>({ type: 'gate', job }, (e) => {
      if ('gate' in e) onProgress?.(e.gate.done, e.gate.total);
    });
  }

  async #run<T>(request: RunnerRequest, onEvent: (event: RunnerEvent) => void): Promise<T> {
    const data: RunnerThreadData = {
      backend: this.options.backend ?? tf.getBackend(),
      training: this.options.training,
      ...(this.options.cacheDir ? { cacheDir: this.options.cacheDir } : {}),
    };
    const thread = new RequestThread(threadModule('runner-thread', import.meta.url), data as unknown as Record<string, unknown>);
    let stoppedBy: { error: unknown } | null = null;
    try {
      return await thread.request<T>(request, transferables(request.job.clips.map((c) => c.bytes)), (event) => {
        if (stoppedBy) return;
        try {
          onEvent(event as RunnerEvent);
        } catch (error) {
          stoppedBy = { error };
          void thread.terminate();
        }
      });
    } catch (error) {
      throw stoppedBy ? (stoppedBy as { error: unknown }).error : error;
    } finally {
      await thread.terminate();
    }
  }
}
