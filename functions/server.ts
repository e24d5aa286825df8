/**
 * The local stack behind `npm start`: one process with the API, /docs, the console page, the retraining worker
 * loop (training itself and dataset intake on threads of their own, so the API keeps answering), PGlite and
 * filesystem blobs under SENTINEL_DATA_DIR (default .sentinel/), the database-backed job queue, and the shipped
 * model (models/default) registered as `current` on first start. Configuration: env vars only
 * (adapters/env.ts, README table). Cloud parts can be switched in by the same variables (S3, SQS, Neon).
 *
 *   npm start                    # http://127.0.0.1:8787
 *   PORT=8788 SENTINEL_DATA_DIR=.sentinel-b npm start    # a second stack beside the first
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { serve, type ServerType } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import pino from 'pino';
import { API } from '../shared/config.ts';
import { FsBlobStore } from '../adapters/blob/fs.ts';
import { FsEmbeddingCache } from '../adapters/embedding-cache-fs.ts';
import { intakeZipOnThread } from '../adapters/intake/thread.ts';
import { defaultAllowedHosts, readApiEnv, readServiceEnv, readWorkerEnv } from '../adapters/env.ts';
import { openServices } from '../adapters/service.ts';
import { initTfBackend } from '../adapters/tf-backend.ts';
import { startWorkerLoop, type WorkerLoop } from '../worker/loop.ts';
import { inProcessRunner } from '../worker/runner.ts';
import { ThreadRunner } from '../worker/thread-runner.ts';
import type { TrainingJob } from '../worker/job.ts';
import { createApp } from './app.ts';
import { ensureAdminKey, registerDefaultModel } from './bootstrap.ts';
import { consoleAssets, consolePage } from './console.ts';
import { InProcessEngine, ThreadPoolEngine } from './inference.ts';
import { ModelRegistry } from './model-registry.ts';

export interface LocalStack {
  url: string;
  port: number;
  adminKey: { key: string; source: string } | null;
  worker: WorkerLoop | null;
  close(): Promise<void>;
}

type Env = Record<string, string | undefined>;

/** The node server's bindings (incoming socket) reach the app as its env: getConnInfo reads the client address there. */
type Handler = (request: Request, env: unknown) => Response | Promise<Response>;

function listen(fetch: Handler, port: number, hostname: string): Promise<ServerType> {
  return new Promise((resolvePromise, reject) => {
    const server = serve({ fetch, port, hostname }, () => resolvePromise(server));
    server.once('error', reject);
  });
}

export async function startLocalStack(env: Env = process.env): Promise<LocalStack> {
  const apiEnv = readApiEnv(env);
  const serviceEnv = readServiceEnv(env);
  const workerEnv = readWorkerEnv(env);
  const logger = pino({ level: apiEnv.logLevel, base: { svc: 'sentinel' } });
  const log = (level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>) => logger[level](details ?? {}, message);

  await mkdir(serviceEnv.dataDir, { recursive: true });
  const backend = await initTfBackend(env as NodeJS.ProcessEnv, (m) => logger.info(m));

  // Listen first (requests wait for startup) so the actual port is known for presigned URLs when PORT=0.
  let handler: Handler | null = null;
  let ready!: () => void;
  const started = new Promise<void>((r) => (ready = r));
  const server = await listen(async (request, bindings) => {
    await started;
    return handler!(request, bindings);
  }, apiEnv.port, apiEnv.host);
  const port = (server.address() as AddressInfo).port;
  const host = apiEnv.host === '0.0.0.0' || apiEnv.host === '::' ? '127.0.0.1' : apiEnv.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const services = await openServices<TrainingJob>(serviceEnv, { publicUrl: url });
  const { repo, blobs, queue } = services;
  const adminKey = await ensureAdminKey(repo, apiEnv.adminKey, serviceEnv.dataDir);
  if (adminKey?.revoked.length) log('info', 'admin key changed: the previous bootstrap key is revoked', { revoked: adminKey.revoked });
  if (adminKey && !adminKey.valid) log('warn', 'SENTINEL_ADMIN_KEY was revoked and stays so: set a new key', {});
  try {
    const registered = await registerDefaultModel(repo, blobs, resolve(apiEnv.defaultModelDir));
    if (registered) log('info', 'default model registered as current', { version: registered, dir: apiEnv.defaultModelDir });
  } catch (error) {
    log('error', 'default model could not be registered', { dir: apiEnv.defaultModelDir, error: String(error) });
  }
  // Inference on every core: the main thread keeps HTTP, the database and the worker loop.
  const threads = apiEnv.inferenceThreads ?? availableParallelism();
  const engine = threads > 1 ? new ThreadPoolEngine(threads, API.batch, (m, d) => log('error', m, d)) : new InProcessEngine(API.batch);
  const models = new ModelRegistry({ repo, blobs, recheckSeconds: apiEnv.modelRecheckSeconds, engine, log: (m, d) => log('info', m, d) });
  await models.refresh().catch((error) => log('warn', 'no model served yet', { error: String(error) }));

  const webDist = resolve('web/dist');
  const app = createApp({
    repo,
    blobs,
    queue,
    models,
    config: { ...apiEnv, allowedHosts: apiEnv.allowedHosts ?? defaultAllowedHosts(apiEnv.host), defaultEpochs: workerEnv.epochs, gateRule: workerEnv.gateRule },
    describe: services.describe,
    ...(blobs instanceof FsBlobStore ? { blobHandler: (r: Request) => blobs.handlePresignedRequest(r) } : {}),
    consolePage: consolePage(webDist),
    clientAddress: (c) => (c.env?.incoming ? getConnInfo(c).remote.address : undefined),
    // The web console's assets, once built (GET and HEAD only: a POST is not a way to fetch the page).
    ...(existsSync(webDist) ? { assets: consoleAssets(webDist) } : {}),
    // Unzipping, manifest parsing and decoding a dataset's clips run on a thread: the API keeps answering meanwhile.
    intake: intakeZipOnThread,
    log,
  });
  handler = (request, env) => app.fetch(request, env);
  ready();
  // Interrupted intakes and unused uploads leave blobs: swept at start and then every API.sweepIntervalSeconds.
  const sweep = () =>
    app.sweepUploads().then(
      (ids) => ids.length > 0 && log('info', 'abandoned uploads cleaned up', { uploads: ids }),
      (error) => log('warn', 'upload sweep failed', { error: String(error) }),
    );
  void sweep();
  const sweeper = setInterval(sweep, API.sweepIntervalSeconds * 1000);
  sweeper.unref();

  const training = { folds: workerEnv.folds, augmentations: workerEnv.augmentations, threads: workerEnv.threads };
  const cacheDir = join(serviceEnv.dataDir, 'cache', 'embeddings');
  // Training runs on a thread of its own so the API keeps answering. tfjs-node's native addon is not known to load
  // in a second thread (tensorflow/tfjs#8388), so a native backend trains on this thread, as before.
  const threaded = backend.choice === 'wasm' || backend.choice === 'cpu';
  const worker = workerEnv.inProcess
    ? startWorkerLoop({
        queue,
        repo,
        blobs,
        runner: threaded ? new ThreadRunner({ training, cacheDir, backend: backend.choice }) : inProcessRunner({ cache: new FsEmbeddingCache(cacheDir), training }),
        gateRule: workerEnv.gateRule,
        visibilitySeconds: workerEnv.visibilitySeconds,
        // Short polls: the db queue wakes at once on sends from this process anyway; this bounds shutdown time.
        waitSeconds: 2,
        onPromoted: () => void models.refresh(),
        log,
      })
    : null;

  log('info', 'sentinel local stack ready', {
    url,
    docs: `${url}/docs`,
    services: services.describe(),
    inference_threads: threads,
    worker: worker !== null,
    training_thread: worker !== null && threaded,
    admin_key: adminKey?.source ?? 'none (set SENTINEL_ADMIN_KEY)',
  });

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    adminKey,
    worker,
    close() {
      closing ??= (async () => {
        clearInterval(sweeper);
        await worker?.stop();
        // Keep-alive clients would hold close() open: idle sockets go now, busy ones after their response.
        const closed = new Promise<void>((r) => server.close(() => r()));
        (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
        await closed;
        await models.dispose();
        await services.close();
      })();
      return closing;
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const stack = await startLocalStack();
  process.stdout.write(`\nSentinel is running at ${stack.url}  (API docs: ${stack.url}/docs)\n`);
  if (stack.adminKey) process.stdout.write(`Admin API key: ${stack.adminKey.source}\n\n`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      process.stdout.write(`\n${signal}: stopping (a running training is given back and resumes on the next start)…\n`);
      void stack.close().then(() => process.exit(0));
    });
  }
}
