/**
 * The one place the service's storage/messaging env vars are read. Cloud parts switch on by configuration
 * alone: DATABASE_URL -> Neon, SENTINEL_BLOB_BUCKET -> S3, SENTINEL_QUEUE_URL -> SQS; each unset means the
 * embedded local equivalent under SENTINEL_DATA_DIR. `ENV_VARS` documents every variable (the README table
 * is written from it); `readServiceEnv` validates them and throws SentinelError `CONFIG` on bad values, so a
 * typo fails at startup rather than at the first request.
 */
import { join } from 'node:path';
import { API, SERVICE, TRAINING, WORKER } from '../shared/config.ts';
import { SentinelError } from '../shared/errors.ts';
import { DEFAULT_GATE_RULE, type GateRule } from '../shared/training/promotion.ts';

export interface EnvVarDoc {
  name: string;
  /** What it does and what unset means. */
  description: string;
  /** The default when unset, as text ('' = none). */
  default: string;
  example: string;
}

export const ENV_VARS: readonly EnvVarDoc[] = Object.freeze([
  {
    name: 'SENTINEL_DATA_DIR',
    description: 'Folder for all local state: embedded database (pg/), blobs (blobs/), blob signing key.',
    default: SERVICE.dataDir,
    example: '/var/lib/sentinel',
  },
  {
    name: 'DATABASE_URL',
    description: 'Postgres URL; set = Neon serverless driver (WebSocket), unset = embedded PGlite in <data dir>/pg.',
    default: '',
    example: 'postgres://user:pass@ep-x.eu-central-1.aws.neon.tech/sentinel?sslmode=require',
  },
  {
    name: 'SENTINEL_NEON_WS_PROXY',
    description: 'With DATABASE_URL: a self-run Neon-style WebSocket proxy to a plain Postgres (local testing), instead of Neon\'s.',
    default: '',
    example: 'ws://127.0.0.1:8081/v1',
  },
  {
    name: 'SENTINEL_BLOB_BUCKET',
    description: 'S3 bucket; set = S3 blob store, unset = files under <data dir>/blobs.',
    default: '',
    example: 'sentinel-prod-blobs',
  },
  {
    name: 'SENTINEL_S3_ENDPOINT',
    description: 'S3-compatible endpoint (emulator, MinIO); unset = AWS.',
    default: '',
    example: 'http://127.0.0.1:4566',
  },
  {
    name: 'SENTINEL_S3_FORCE_PATH_STYLE',
    description: 'true = path-style S3 URLs (http://host/bucket/key), needed by most emulators.',
    default: 'false',
    example: 'true',
  },
  {
    name: 'SENTINEL_QUEUE_URL',
    description: 'SQS queue URL for training jobs (with a RedrivePolicy to its DLQ); unset = durable queue in the database.',
    default: '',
    example: 'https://sqs.eu-central-1.amazonaws.com/123456789012/sentinel-training',
  },
  {
    name: 'SENTINEL_SQS_ENDPOINT',
    description: 'SQS-compatible endpoint (emulator); unset = AWS.',
    default: '',
    example: 'http://127.0.0.1:4566',
  },
  {
    name: 'AWS_REGION',
    description: 'AWS region for S3/SQS (read by the AWS SDK; with a custom endpoint and no region, us-east-1).',
    default: '',
    example: 'eu-central-1',
  },
  {
    name: 'SENTINEL_PUBLIC_URL',
    description: 'Origin the local API is reached at; local presigned blob URLs point there. Unset = the API passes its own address.',
    default: '',
    example: 'http://127.0.0.1:8787',
  },
  {
    name: 'SENTINEL_BLOB_SIGNING_SECRET',
    description: 'HMAC secret (>= 32 chars) for local presigned blob URLs; unset = random key kept in <data dir>/blobs/.signing-key.',
    default: '',
    example: '(32+ random characters)',
  },
  {
    name: 'PORT',
    description: 'Port of the local stack (`npm start`): API, /docs and the console on one URL.',
    default: String(API.port),
    example: '8788',
  },
  {
    name: 'SENTINEL_HOST',
    description: 'Interface the local stack listens on; 0.0.0.0 exposes it to the network (set SENTINEL_ADMIN_KEY then).',
    default: API.host,
    example: '0.0.0.0',
  },
  {
    name: 'SENTINEL_ADMIN_KEY',
    description: 'Bootstrap API key for admin routes (retrain, promote, rollback, exports); stored hashed in api_keys at startup. Unset locally = a random key is made once and kept in <data dir>/admin-key.',
    default: '',
    example: 'snt_(64 hex characters)',
  },
  {
    name: 'SENTINEL_PREDICT_AUTH',
    description: '`open` = /predict needs no key; `key` = /predict needs an API key like the admin routes.',
    default: API.predictAuth,
    example: 'key',
  },
  {
    name: 'SENTINEL_CORS_ORIGINS',
    description: 'Comma-separated browser origins allowed to call the API cross-origin; unset = none (same-origin console only).',
    default: '',
    example: 'https://sentinel.example.org,http://127.0.0.1:5173',
  },
  {
    name: 'SENTINEL_MAX_AUDIO_BYTES',
    description: 'Largest audio file accepted by /predict and /uploads (purpose audio), bytes; larger = 413.',
    default: String(API.maxAudioBytes),
    example: '10485760',
  },
  {
    name: 'SENTINEL_MAX_DATASET_BYTES',
    description: 'Largest training zip accepted by /retrain, /continue-training and /uploads (purpose dataset), bytes; larger = 413.',
    default: String(API.maxDatasetBytes),
    example: '104857600',
  },
  {
    name: 'SENTINEL_RATE_LIMIT_PER_MINUTE',
    description: 'Open writes (/predict, /uploads, feedback) each client may make a minute; more = 429 with Retry-After. 0 = no limit.',
    default: String(API.rateLimitPerMinute),
    example: '600',
  },
  {
    name: 'SENTINEL_OPEN_STORAGE_QUOTA_BYTES',
    description: 'Bytes open routes may keep (kept audio, unused audio uploads); beyond it keep=true and /uploads answer 429. 0 = no quota.',
    default: String(API.openStorageQuotaBytes),
    example: '10737418240',
  },
  {
    name: 'SENTINEL_ALLOWED_HOSTS',
    description: 'Comma-separated host names the API answers (Host header, any port; others = 421). Unset = local stack: the loopback names when listening on loopback, any otherwise; Lambda: any (API Gateway routes by host).',
    default: '',
    example: 'sentinel.example.org',
  },
  {
    name: 'SENTINEL_MODEL_RECHECK_SECONDS',
    description: 'How often, at most, a serving process re-reads the `current` model alias, seconds.',
    default: String(API.modelRecheckSeconds),
    example: '5',
  },
  {
    name: 'SENTINEL_DEFAULT_MODEL_DIR',
    description: 'Model folder registered as `current` on the first start of an empty deployment (model.json, weights.bin, sentinel.json).',
    default: 'models/default',
    example: '/opt/sentinel/models/default',
  },
  {
    name: 'SENTINEL_WORKER',
    description: 'Local stack: run the retraining worker loop in the same process (`false` = API only, e.g. a second stack on the same data).',
    default: 'true',
    example: 'false',
  },
  {
    name: 'SENTINEL_INFERENCE_THREADS',
    description: 'Threads running /predict\'s decoding, analysis and model (each its own single-threaded tfjs-wasm); 1 = on the main thread. Unset = one per CPU in the local stack, 1 on Lambda.',
    default: '',
    example: '2',
  },
  {
    name: 'SENTINEL_TRAIN_THREADS',
    description: 'Worker: threads embedding views and fitting heads during a retrain (each its own single-threaded tfjs-wasm); 1 = on the worker\'s thread. Unset = one per CPU on wasm, 1 on the native and GPU backends.',
    default: '',
    example: '2',
  },
  {
    name: 'SENTINEL_TRAIN_FOLDS',
    description: 'Worker: cross-validation folds per retrain (0 = none, threshold from an inner split). Small values for tests and slow machines.',
    default: String(TRAINING.folds),
    example: '0',
  },
  {
    name: 'SENTINEL_TRAIN_AUGMENTATIONS',
    description: 'Worker: augmented views per clip per retrain.',
    default: String(TRAINING.augmentations),
    example: '0',
  },
  {
    name: 'SENTINEL_TRAIN_EPOCHS',
    description: 'Worker: upper bound on head epochs per retrain (early stopping usually ends sooner).',
    default: String(TRAINING.maxEpochs),
    example: '10',
  },
  {
    name: 'SENTINEL_GATE_MIN_CLIPS_PER_CLASS',
    description: 'Worker: reference clips of each class the promotion gate needs before it may replace the current model on its own; fewer = the candidate stays `candidate` (promote by hand).',
    default: String(WORKER.gate.minClipsPerClass),
    example: '100',
  },
  {
    name: 'SENTINEL_QUEUE_VISIBILITY_SECONDS',
    description: 'Worker: how long a received job stays invisible; the worker extends it every tenth of it while training, and a run whose heartbeat is older than 0.4x of it may be re-claimed.',
    default: String(SERVICE.queue.visibilitySeconds),
    example: '60',
  },
  {
    name: 'SENTINEL_TF_BACKEND',
    description: 'Force a tfjs backend (node-gpu, node, wasm, cpu); unset = fastest installed (wasm here, tfjs-node-gpu in the GPU worker image).',
    default: '',
    example: 'wasm',
  },
  {
    name: 'LOG_LEVEL',
    description: 'pino log level of the API, worker and local stack.',
    default: 'info',
    example: 'debug',
  },
  {
    name: 'TEST_DATABASE_URL',
    description: 'Tests only: a Postgres server for the Neon-driver variant of the database tests; unset = those are skipped (PGlite still runs).',
    default: '',
    example: 'postgres://postgres@127.0.0.1:5432/test',
  },
]);

/** ENV_VARS as a Markdown table, for the README (`| Variable | Default | Meaning | Example |`). */
export function envVarsMarkdownTable(vars: readonly EnvVarDoc[] = ENV_VARS): string {
  // Pipes would split the cell; <…> (as in <data dir>) would be read as an HTML tag and vanish.
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const rows = vars.map(
    (v) => `| \`${v.name}\` | ${v.default ? `\`${cell(v.default)}\`` : '—'} | ${cell(v.description)} | \`${cell(v.example)}\` |`,
  );
  return ['| Variable | Default | Meaning | Example |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/**
 * ENV_VARS as .env.example (written by infra/scripts/env-example.ts): each variable commented out with its default
 * (or empty when unset means something), so copying the file to .env changes nothing until a line is uncommented.
 */
export function envVarsDotenv(vars: readonly EnvVarDoc[] = ENV_VARS): string {
  const head = [
    "# Sentinel's environment variables, generated from adapters/env.ts (ENV_VARS; the README's Configuration table).",
    '# Every line is commented out: the value shown is the default. Copy to .env, uncomment what you change, and load',
    '# it with `node --env-file=.env dist/functions/server.js` or `docker compose` (compose.yaml reads .env).',
  ];
  const blocks = vars.map((v) => [`# ${v.description}${v.default ? '' : ` E.g. ${v.example}`}`, `# ${v.name}=${v.default}`].join('\n'));
  return [head.join('\n'), ...blocks].join('\n\n') + '\n';
}

export interface ServiceEnv {
  dataDir: string;
  /** <dataDir>/pg */
  pgliteDir: string;
  /** <dataDir>/blobs */
  blobDir: string;
  databaseUrl?: string;
  neonWsProxy?: string;
  blobBucket?: string;
  s3Endpoint?: string;
  s3ForcePathStyle: boolean;
  queueUrl?: string;
  sqsEndpoint?: string;
  awsRegion?: string;
  publicUrl?: string;
  blobSigningSecret?: string;
}

type Env = Record<string, string | undefined>;

function text(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function url(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const value = text(env, name);
  if (value === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new SentinelError('CONFIG', `${name} is not a valid URL: "${value}".`, { name });
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new SentinelError('CONFIG', `${name} must use ${protocols.join(' or ')} (got ${parsed.protocol}).`, { name });
  }
  return value;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const value = text(env, name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new SentinelError('CONFIG', `${name} must be true or false (got "${value}").`, { name });
}

/** Read and validate the service env vars (default: process.env). */
export function readServiceEnv(env: Env = process.env): ServiceEnv {
  const dataDir = text(env, 'SENTINEL_DATA_DIR') ?? SERVICE.dataDir;
  const secret = text(env, 'SENTINEL_BLOB_SIGNING_SECRET');
  if (secret !== undefined && secret.length < 32) {
    throw new SentinelError('CONFIG', 'SENTINEL_BLOB_SIGNING_SECRET must be at least 32 characters.');
  }
  const bucket = text(env, 'SENTINEL_BLOB_BUCKET');
  if (bucket !== undefined && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new SentinelError('CONFIG', `SENTINEL_BLOB_BUCKET "${bucket}" is not a valid S3 bucket name.`);
  }
  const out: ServiceEnv = {
    dataDir,
    pgliteDir: join(dataDir, 'pg'),
    blobDir: join(dataDir, 'blobs'),
    s3ForcePathStyle: bool(env, 'SENTINEL_S3_FORCE_PATH_STYLE', false),
  };
  const optional: Partial<ServiceEnv> = {
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    neonWsProxy: url(env, 'SENTINEL_NEON_WS_PROXY', ['ws:', 'wss:']),
    blobBucket: bucket,
    s3Endpoint: url(env, 'SENTINEL_S3_ENDPOINT', ['http:', 'https:']),
    queueUrl: url(env, 'SENTINEL_QUEUE_URL', ['http:', 'https:']),
    sqsEndpoint: url(env, 'SENTINEL_SQS_ENDPOINT', ['http:', 'https:']),
    awsRegion: text(env, 'AWS_REGION'),
    publicUrl: url(env, 'SENTINEL_PUBLIC_URL', ['http:', 'https:']),
    blobSigningSecret: secret,
  };
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) (out as unknown as Record<string, unknown>)[key] = value;
  }
  return out;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = text(env, name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new SentinelError('CONFIG', `${name} must be an integer from ${min} to ${max} (got "${value}").`, { name });
  }
  return n;
}

/** The HTTP API's settings (functions/): auth, CORS, limits, model refresh. */
export interface ApiEnv {
  port: number;
  host: string;
  /** Plain bootstrap key (hashed into api_keys at startup), when configured. */
  adminKey?: string;
  predictAuth: 'open' | 'key';
  corsOrigins: string[];
  maxAudioBytes: number;
  maxDatasetBytes: number;
  rateLimitPerMinute: number;
  openStorageQuotaBytes: number;
  /** Host names answered (SENTINEL_ALLOWED_HOSTS); unset = the entrypoint decides (see {@link defaultAllowedHosts}). */
  allowedHosts?: string[];
  modelRecheckSeconds: number;
  /** Inference threads; undefined = the entrypoint decides (local stack: one per CPU; Lambda: 1). */
  inferenceThreads?: number;
  defaultModelDir: string;
  logLevel: string;
}

export function readApiEnv(env: Env = process.env): ApiEnv {
  const predictAuth = text(env, 'SENTINEL_PREDICT_AUTH') ?? API.predictAuth;
  if (predictAuth !== 'open' && predictAuth !== 'key') {
    throw new SentinelError('CONFIG', `SENTINEL_PREDICT_AUTH must be open or key (got "${predictAuth}").`);
  }
  const corsOrigins = (text(env, 'SENTINEL_CORS_ORIGINS') ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of corsOrigins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    // An origin is scheme://host[:port] exactly: no path, no trailing slash (the browser's Origin header never has one).
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.origin !== origin) {
      throw new SentinelError('CONFIG', `SENTINEL_CORS_ORIGINS entry "${origin}" is not an origin like https://example.org.`);
    }
  }
  const adminKey = text(env, 'SENTINEL_ADMIN_KEY');
  if (adminKey !== undefined && adminKey.length < 24) {
    throw new SentinelError('CONFIG', 'SENTINEL_ADMIN_KEY must be at least 24 characters.');
  }
  const out: ApiEnv = {
    port: int(env, 'PORT', API.port, 0, 65535),
    host: text(env, 'SENTINEL_HOST') ?? API.host,
    predictAuth,
    corsOrigins,
    maxAudioBytes: int(env, 'SENTINEL_MAX_AUDIO_BYTES', API.maxAudioBytes, 1, 2 ** 31 - 1),
    maxDatasetBytes: int(env, 'SENTINEL_MAX_DATASET_BYTES', API.maxDatasetBytes, 1, 2 ** 31 - 1),
    rateLimitPerMinute: int(env, 'SENTINEL_RATE_LIMIT_PER_MINUTE', API.rateLimitPerMinute, 0, 1_000_000),
    openStorageQuotaBytes: int(env, 'SENTINEL_OPEN_STORAGE_QUOTA_BYTES', API.openStorageQuotaBytes, 0, Number.MAX_SAFE_INTEGER),
    modelRecheckSeconds: int(env, 'SENTINEL_MODEL_RECHECK_SECONDS', API.modelRecheckSeconds, 0, 86_400),
    defaultModelDir: text(env, 'SENTINEL_DEFAULT_MODEL_DIR') ?? 'models/default',
    logLevel: text(env, 'LOG_LEVEL') ?? 'info',
  };
  if (adminKey !== undefined) out.adminKey = adminKey;
  const hosts = allowedHosts(env);
  if (hosts) out.allowedHosts = hosts;
  if (text(env, 'SENTINEL_INFERENCE_THREADS') !== undefined) out.inferenceThreads = int(env, 'SENTINEL_INFERENCE_THREADS', 1, 1, 64);
  return out;
}

function allowedHosts(env: Env): string[] | undefined {
  const configured = text(env, 'SENTINEL_ALLOWED_HOSTS');
  if (configured === undefined) return undefined;
  const names = configured.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  for (const name of names) {
    if (!/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)$/.test(name)) throw new SentinelError('CONFIG', `SENTINEL_ALLOWED_HOSTS entry "${name}" is not a host name (no scheme or port).`);
  }
  return names;
}

/**
 * Host names a server listening on `listenHost` answers when none are configured: the loopback names when it listens
 * on loopback only (a rebound DNS name is the only way a web page elsewhere reaches it), any name otherwise.
 */
export function defaultAllowedHosts(listenHost: string): string[] {
  const loopback = listenHost === 'localhost' || listenHost === '::1' || /^127\./.test(listenHost);
  return loopback ? [...new Set([...API.loopbackHosts, listenHost.includes(':') ? `[${listenHost}]` : listenHost])] : [];
}

/** The retraining worker's settings (worker/ and the local stack's in-process loop). */
export interface WorkerEnv {
  /** Local stack: run the worker loop in-process. */
  inProcess: boolean;
  folds: number;
  augmentations: number;
  epochs: number;
  visibilitySeconds: number;
  /** Training threads; undefined = adapters/training-threads.ts decides (one per CPU on wasm). */
  threads?: number;
  /** The promotion gate's rule (WORKER.gate unless configured). */
  gateRule: GateRule;
}

export function readWorkerEnv(env: Env = process.env): WorkerEnv {
  return {
    inProcess: bool(env, 'SENTINEL_WORKER', true),
    folds: int(env, 'SENTINEL_TRAIN_FOLDS', TRAINING.folds, 0, 20),
    augmentations: int(env, 'SENTINEL_TRAIN_AUGMENTATIONS', TRAINING.augmentations, 0, 50),
    epochs: int(env, 'SENTINEL_TRAIN_EPOCHS', TRAINING.maxEpochs, 1, 10_000),
    visibilitySeconds: int(env, 'SENTINEL_QUEUE_VISIBILITY_SECONDS', SERVICE.queue.visibilitySeconds, 2, 43_200),
    gateRule: { ...DEFAULT_GATE_RULE, minClipsPerClass: int(env, 'SENTINEL_GATE_MIN_CLIPS_PER_CLASS', WORKER.gate.minClipsPerClass, 1, 100_000) },
    ...(text(env, 'SENTINEL_TRAIN_THREADS') !== undefined ? { threads: int(env, 'SENTINEL_TRAIN_THREADS', 1, 1, 64) } : {}),
  };
}
