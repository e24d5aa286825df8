/**
 * The one place the service's storage/messaging env vars are read. Cloud parts switch on by configuration
 * alone: DATABASE_URL -> Neon, SENTINEL_BLOB_BUCKET -> S3, SENTINEL_QUEUE_URL -> SQS; each unset means the
 * embedded local equivalent under SENTINEL_DATA_DIR. `ENV_VARS` documents every variable (the README table
 * is written from it); `readServiceEnv` validates them and throws SentinelError `CONFIG` on bad values, so a
 * typo fails at startup rather than at the first request.
 */
import { join } from 'node:path';
import { SERVICE } from '../shared/config.ts';
import { SentinelError } from '../shared/errors.ts';

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
    name: 'TEST_DATABASE_URL',
    description: 'Tests only: a Postgres server for the Neon-driver variant of the database tests; unset = those are skipped (PGlite still runs).',
    default: '',
    example: 'postgres://postgres@127.0.0.1:5432/test',
  },
]);

/** ENV_VARS as a Markdown table, for the README (`| Variable | Default | Meaning | Example |`). */
export function envVarsMarkdownTable(vars: readonly EnvVarDoc[] = ENV_VARS): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const rows = vars.map(
    (v) => `| \`${v.name}\` | ${v.default ? `\`${cell(v.default)}\`` : '—'} | ${cell(v.description)} | \`${cell(v.example)}\` |`,
  );
  return ['| Variable | Default | Meaning | Example |', '| --- | --- | --- | --- |', ...rows].join('\n');
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
