/** adapters/env.ts: defaults, validation, and that every variable read is documented in ENV_VARS. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultAllowedHosts, ENV_VARS, envVarsMarkdownTable, readApiEnv, readServiceEnv } from '../../adapters/env.ts';
import { API, SERVICE } from '../../shared/config.ts';
import { SentinelError } from '../../shared/errors.ts';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof SentinelError ? error.code : 'NOT_SENTINEL';
  }
  return undefined;
}

describe('readApiEnv: open-route limits and host names', () => {
  it('defaults to API limits and, on loopback, the loopback host names', () => {
    const env = readApiEnv({});
    expect(env).toMatchObject({ rateLimitPerMinute: API.rateLimitPerMinute, openStorageQuotaBytes: API.openStorageQuotaBytes });
    expect(env.allowedHosts).toBeUndefined(); // the entrypoint decides: Lambda answers any, the local stack below
    expect(defaultAllowedHosts(env.host)).toEqual(expect.arrayContaining(['127.0.0.1', 'localhost']));
    expect(defaultAllowedHosts('0.0.0.0')).toEqual([]);
  });

  it('reads the variables and refuses bad values with CONFIG', () => {
    const env = readApiEnv({ SENTINEL_RATE_LIMIT_PER_MINUTE: '0', SENTINEL_OPEN_STORAGE_QUOTA_BYTES: '1000', SENTINEL_ALLOWED_HOSTS: 'Sentinel.Example.org, [::1]' });
    expect(env).toMatchObject({ rateLimitPerMinute: 0, openStorageQuotaBytes: 1000, allowedHosts: ['sentinel.example.org', '[::1]'] });
    expect(codeOf(() => readApiEnv({ SENTINEL_RATE_LIMIT_PER_MINUTE: '-1' }))).toBe('CONFIG');
    expect(codeOf(() => readApiEnv({ SENTINEL_ALLOWED_HOSTS: 'https://example.org' }))).toBe('CONFIG');
  });
});

describe('readServiceEnv', () => {
  it('defaults to everything embedded under SERVICE.dataDir', () => {
    const env = readServiceEnv({});
    expect(env).toEqual({
      dataDir: SERVICE.dataDir,
      pgliteDir: `${SERVICE.dataDir}/pg`,
      blobDir: `${SERVICE.dataDir}/blobs`,
      s3ForcePathStyle: false,
    });
  });

  it('switches parts to the cloud by configuration only', () => {
    const env = readServiceEnv({
      SENTINEL_DATA_DIR: '/data',
      DATABASE_URL: 'postgres://u:p@db.example/sentinel',
      SENTINEL_BLOB_BUCKET: 'sentinel-blobs',
      SENTINEL_QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/1/sentinel-training',
      SENTINEL_S3_FORCE_PATH_STYLE: 'true',
      AWS_REGION: 'eu-central-1',
      SENTINEL_BLOB_SIGNING_SECRET: 's'.repeat(40),
      UNRELATED: 'ignored',
    });
    expect(env).toMatchObject({
      dataDir: '/data',
      pgliteDir: '/data/pg',
      databaseUrl: 'postgres://u:p@db.example/sentinel',
      blobBucket: 'sentinel-blobs',
      queueUrl: 'https://sqs.eu-central-1.amazonaws.com/1/sentinel-training',
      s3ForcePathStyle: true,
      awsRegion: 'eu-central-1',
    });
  });

  it('treats blank values as unset', () => {
    expect(readServiceEnv({ DATABASE_URL: '  ', SENTINEL_BLOB_BUCKET: '' }).databaseUrl).toBeUndefined();
  });

  it('refuses malformed values with CONFIG', () => {
    expect(codeOf(() => readServiceEnv({ DATABASE_URL: 'mysql://x/y' }))).toBe('CONFIG');
    expect(codeOf(() => readServiceEnv({ DATABASE_URL: 'not a url' }))).toBe('CONFIG');
    expect(codeOf(() => readServiceEnv({ SENTINEL_QUEUE_URL: 'sqs://q' }))).toBe('CONFIG');
    expect(codeOf(() => readServiceEnv({ SENTINEL_NEON_WS_PROXY: 'http://127.0.0.1:1/v1' }))).toBe('CONFIG');
    expect(codeOf(() => readServiceEnv({ SENTINEL_S3_FORCE_PATH_STYLE: 'yes' }))).toBe('CONFIG');
    expect(codeOf(() => readServiceEnv({ SENTINEL_BLOB_BUCKET: 'Bad_Bucket' }))).toBe('CONFIG');
    expect(codeOf(() => readServiceEnv({ SENTINEL_BLOB_SIGNING_SECRET: 'short' }))).toBe('CONFIG');
  });

  it('documents every variable it reads, each once', () => {
    const source = readFileSync(new URL('../../adapters/env.ts', import.meta.url), 'utf8');
    const read = new Set([...source.matchAll(/\(env, '([A-Z0-9_]+)'/g)].map((m) => m[1]!));
    const documented = ENV_VARS.map((v) => v.name);
    expect(new Set(documented).size).toBe(documented.length);
    for (const name of read) expect(documented, name).toContain(name);
    for (const doc of ENV_VARS) expect(doc.description.length, doc.name).toBeGreaterThan(20);
  });

  it('renders the README table with one row per variable', () => {
    const table = envVarsMarkdownTable().split('\n');
    expect(table).toHaveLength(ENV_VARS.length + 2);
    for (const [i, v] of ENV_VARS.entries()) expect(table[i + 2]!.startsWith(`| \`${v.name}\` |`)).toBe(true);
    expect(table[2]).toContain(`\`${SERVICE.dataDir}\``);
  });
});
