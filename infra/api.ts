/**
 * The HTTP API: API Gateway HTTP API (v2) -> one Lambda running functions/api.ts (Hono + tfjs wasm). The function
 * is deployed from the prebuilt bundle `npm run build:lambda` writes (infra/lambda-bundle.ts: esbuild ESM + the wasm
 * binaries beside it), the same bundle `npm run check:infra` loads and answers requests with. Env vars are the
 * service's own (adapters/env.ts ENV_VARS); `link` grants the IAM access to the bucket and queue.
 *
 * Node 22 on arm64 (Graviton: ~20% cheaper per GB-s than x86): the bundle is pure JS + WebAssembly, nothing native
 * (PGlite, the only native-ish dependency, is external and unused with DATABASE_URL set).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CLOUD } from '../shared/config.ts';
import { LAMBDA_BUNDLE_DIR } from './lambda-bundle.ts';
import type { Queues } from './queue.ts';
import type { Secrets } from './secrets.ts';
import type { Storage } from './storage.ts';

/** The gateway alone, created first: its URL is needed by the console build before the function exists. */
export function createApiGateway() {
  return new sst.aws.ApiGatewayV2('Api', {
    // CORS is answered by the app itself (SENTINEL_CORS_ORIGINS), one place for local and cloud.
    cors: false,
    accessLog: { retention: '1 month' },
  });
}

export interface ApiArgs {
  gateway: ReturnType<typeof createApiGateway>;
  storage: Storage;
  queues: Queues;
  secrets: Secrets;
  /** Browser origins allowed to call the API (the console's URL). */
  corsOrigins: $util.Input<string[]>;
}

export function createApi(args: ApiArgs) {
  const bundle = join(process.cwd(), LAMBDA_BUNDLE_DIR);
  if (!existsSync(join(bundle, 'index.mjs'))) {
    throw new Error(`${LAMBDA_BUNDLE_DIR}/index.mjs is missing: run \`npm run build:lambda\` before \`sst deploy\` (npm run deploy does both).`);
  }
  const fn = new sst.aws.Function('ApiFunction', {
    bundle: LAMBDA_BUNDLE_DIR,
    handler: 'index.handler',
    runtime: 'nodejs22.x',
    architecture: 'arm64',
    memory: `${CLOUD.lambdaMemoryMb} MB`,
    timeout: `${CLOUD.lambdaTimeoutSeconds} seconds`,
    link: [args.storage.bucket, args.queues.queue, args.secrets.databaseUrl, args.secrets.adminKey],
    permissions: [
      // The adapter reads the RedrivePolicy to find the DLQ (GET dead letters).
      { actions: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'], resources: [args.queues.deadLetters.arn] },
    ],
    environment: {
      DATABASE_URL: args.secrets.databaseUrl.value,
      SENTINEL_ADMIN_KEY: args.secrets.adminKey.value,
      SENTINEL_BLOB_BUCKET: args.storage.bucket.name,
      SENTINEL_QUEUE_URL: args.queues.queue.url,
      SENTINEL_CORS_ORIGINS: $output(args.corsOrigins).apply((o) => o.join(',')),
      SENTINEL_PREDICT_AUTH: 'open',
      SENTINEL_TF_BACKEND: 'wasm',
      // The only writable path in Lambda; nothing is written there with Neon + S3 + SQS, but no default points at /var/task.
      SENTINEL_DATA_DIR: '/tmp/sentinel',
      NODE_OPTIONS: '--enable-source-maps',
      LOG_LEVEL: 'info',
    },
    logging: { retention: '1 month', format: 'json' },
  });
  args.gateway.route('$default', fn.arn);
  return { fn, url: args.gateway.url };
}
