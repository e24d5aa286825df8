/**
 * AWS Lambda entrypoint (API Gateway HTTP API): `handler = handle(app)`. Services are opened and the model loaded
 * once per container (top-level await, during the init phase), then reused by every invocation; the `current`
 * alias is re-checked at most every SENTINEL_MODEL_RECHECK_SECONDS. Large files arrive via POST /uploads
 * (presigned S3 PUT), since API Gateway bounds request bodies.
 */
import { getConnInfo, handle } from 'hono/aws-lambda';
import pino from 'pino';
import { readApiEnv, readServiceEnv, readWorkerEnv } from '../adapters/env.ts';
import { openServices } from '../adapters/service.ts';
import { initTfBackend } from '../adapters/tf-backend.ts';
import type { TrainingJob } from '../worker/job.ts';
import { createApp } from './app.ts';
import { ensureAdminKey } from './bootstrap.ts';
import { ModelRegistry } from './model-registry.ts';

const apiEnv = readApiEnv();
const workerEnv = readWorkerEnv();
const logger = pino({ level: apiEnv.logLevel, base: { svc: 'sentinel-api' } });
const log = (level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>) => logger[level](details ?? {}, message);

// The wasm backend compiles while the database connects: both are on the cold start's path.
const [, services] = await Promise.all([initTfBackend(process.env, (m) => logger.info(m)), openServices<TrainingJob>(readServiceEnv())]);
// Only the configured key: a Lambda has no disk of its own to keep a generated one on.
const adminKey = await ensureAdminKey(services.repo, apiEnv.adminKey);
if (adminKey && !adminKey.valid) log('warn', 'SENTINEL_ADMIN_KEY was revoked and stays so: set a new key', {});
const models = new ModelRegistry({
  repo: services.repo,
  blobs: services.blobs,
  recheckSeconds: apiEnv.modelRecheckSeconds,
  log: (m, d) => log('info', m, d),
});
await models.refresh().catch((error) => log('warn', 'no model served yet', { error: String(error) }));

export const app = createApp({
  repo: services.repo,
  blobs: services.blobs,
  queue: services.queue,
  models,
  // The worker's settings the API states: its default epochs, and the promotion gate's rule (for /model/status).
  config: { ...apiEnv, defaultEpochs: workerEnv.epochs, gateRule: workerEnv.gateRule },
  describe: services.describe,
  clientAddress: (c) => (c.env?.requestContext ? getConnInfo(c).remote.address : undefined),
  log,
});

export const handler = handle(app);
