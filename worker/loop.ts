/**
 * The worker loop: long-poll the queue, run one job at a time (training is CPU/GPU bound: one training per worker,
 * and a deployment runs one worker), repeat. `stop()` ends the loop after the current receive; a running training
 * gives its session back at its next progress report (see handler.ts) so the job resumes on the next start.
 */
import { SERVICE } from '../shared/config.ts';
import type { JobQueue } from '../shared/ports/job-queue.ts';
import { handleJob, type JobOutcome, type WorkerDeps } from './handler.ts';
import type { TrainingJob } from './job.ts';

export interface WorkerLoopOptions extends Omit<WorkerDeps, 'stopping'> {
  queue: JobQueue<TrainingJob>;
  /** Long-poll wait per receive, seconds (SQS: 20 to save empty receives; in-process: short, for a prompt stop). */
  waitSeconds?: number;
  /** Called after every handled job (tests, metrics). */
  onOutcome?: (outcome: JobOutcome) => void;
}

export interface WorkerLoop {
  /** Resolves when the loop has ended (after stop()). */
  done: Promise<void>;
  /** True while a job is being handled. */
  busy(): boolean;
  stop(): Promise<void>;
}

export function startWorkerLoop(options: WorkerLoopOptions): WorkerLoop {
  const log = options.log ?? (() => {});
  const visibilitySeconds = options.visibilitySeconds ?? SERVICE.queue.visibilitySeconds;
  let stopping = false;
  let busy = false;
  const deps: WorkerDeps = { ...options, visibilitySeconds, stopping: () => stopping };

  const done = (async () => {
    while (!stopping) {
      let jobs;
      try {
        jobs = await options.queue.receive({
          waitSeconds: options.waitSeconds ?? SERVICE.queue.waitSeconds,
          visibilitySeconds,
          max: SERVICE.queue.maxMessages,
        });
      } catch (error) {
        log('error', 'queue receive failed; retrying in 2 s', { error: String(error) });
        await new Promise((r) => setTimeout(r, 2000));
        continue;
      }
      for (const job of jobs) {
        busy = true;
        try {
          // (Not `onOutcome?.(await …)`: an optional call skips evaluating its arguments when absent.)
          const outcome = await handleJob(job, deps);
          options.onOutcome?.(outcome);
        } catch (error) {
          // handleJob records its own failures; this is a database/queue outage mid-way. The job comes back.
          log('error', 'job handling failed', { job: job.id, error: error instanceof Error ? error.stack : String(error) });
        } finally {
          busy = false;
        }
      }
    }
  })();

  return {
    done,
    busy: () => busy,
    async stop() {
      stopping = true;
      await done;
    },
  };
}
