/**
 * The retraining worker container (cloud): the SQS loop. Storage and database come from the same env vars as the
 * API (adapters/env.ts); the tfjs backend is the fastest installed: tfjs-node-gpu in the GPU image (imported
 * dynamically by shared/model/backend.ts, never a static dependency), wasm otherwise.
 *
 *   node --import tsx worker/main.ts
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { SERVICE } from '../shared/config.ts';
import { FsEmbeddingCache } from '../adapters/embedding-cache-fs.ts';
import { readApiEnv, readServiceEnv, readWorkerEnv } from '../adapters/env.ts';
import { openServices, type Services } from '../adapters/service.ts';
import { initTfBackend } from '../adapters/tf-backend.ts';
import type { TrainingJob } from './job.ts';
import { startWorkerLoop, type WorkerLoop, type WorkerLoopOptions } from './loop.ts';
import { inProcessRunner } from './runner.ts';

type Env = Record<string, string | undefined>;

export interface RunningWorker {
  loop: WorkerLoop;
  services: Services<TrainingJob>;
  close(): Promise<void>;
}

/** Opens the services and starts the loop; `overrides` lets tests observe outcomes or shorten polls. */
export async function startWorker(env: Env = process.env, overrides: Partial<WorkerLoopOptions> = {}): Promise<RunningWorker> {
  const serviceEnv = readServiceEnv(env);
  const workerEnv = readWorkerEnv(env);
  const logger = pino({ level: readApiEnv(env).logLevel, base: { svc: 'sentinel-worker' } });
  const log = (level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>) => logger[level](details ?? {}, message);
  await initTfBackend(env as NodeJS.ProcessEnv, (m) => logger.info(m));
  const services = await openServices<TrainingJob>(serviceEnv);
  const loop = startWorkerLoop({
    queue: services.queue,
    repo: services.repo,
    blobs: services.blobs,
    // On this thread: the container serves nothing but the heartbeat, and the GPU image's native tfjs backend is not
    // known to load in a worker thread. Embeddings are cached on its disk: a retry of the same data skips the passes.
    runner: inProcessRunner({
      cache: new FsEmbeddingCache(join(serviceEnv.dataDir, 'cache', 'embeddings')),
      training: { folds: workerEnv.folds, augmentations: workerEnv.augmentations, threads: workerEnv.threads },
    }),
    gateRule: workerEnv.gateRule,
    visibilitySeconds: workerEnv.visibilitySeconds,
    waitSeconds: SERVICE.queue.waitSeconds,
    log,
    ...overrides,
  });
  log('info', 'worker started', { services: services.describe() });
  return {
    loop,
    services,
    async close() {
      await loop.stop();
      await services.close();
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const worker = await startWorker();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void worker.close().then(() => process.exit(0)));
  }
}
