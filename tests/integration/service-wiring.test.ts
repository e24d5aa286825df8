/**
 * adapters/service.ts: the same code runs embedded or against cloud services, switched by env vars only.
 * Local: PGlite + fs blobs + db queue under a temp SENTINEL_DATA_DIR. "Cloud": S3 + SQS on fauxqs
 * (in-process, random 127.0.0.1 port), database still PGlite unless TEST_DATABASE_URL is set.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readServiceEnv } from '../../adapters/env.ts';
import { openServices, type Services } from '../../adapters/service.ts';
import { SERVICE } from '../../shared/config.ts';
import { startEmulator, uniqueName, type Emulator } from './helpers/fauxqs.ts';
import { createTestPostgres, TEST_DATABASE_URL, type TestPostgres } from './helpers/postgres.ts';

type Job = { sessionId: string };

async function exercise(services: Services<Job>): Promise<void> {
  const session = await services.repo.createSession({ mode: 'fine_tune', epochs: 1 });
  await services.queue.send({ sessionId: session.id }, services.queue.capabilities.dedup ? { dedupId: session.id } : {});
  const [job] = await services.queue.receive({ waitSeconds: 2, visibilitySeconds: 30 });
  expect(job!.body).toEqual({ sessionId: session.id });
  expect((await services.repo.markRunning(job!.body.sessionId)).claimed).toBe(true);
  await services.queue.ack(job!.receipt);
  await services.blobs.put(`sessions/${session.id}/log.txt`, new TextEncoder().encode('ok'), { contentType: 'text/plain' });
  expect(await services.blobs.head(`sessions/${session.id}/log.txt`)).toMatchObject({ size: 2, contentType: 'text/plain' });
}

describe('openServices', () => {
  let dir: string;
  let emulator: Emulator;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sentinel-services-'));
    emulator = await startEmulator();
  });
  afterAll(async () => {
    await emulator?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('with no cloud variables: PGlite, fs blobs and the db queue under SENTINEL_DATA_DIR', async () => {
    const env = readServiceEnv({ SENTINEL_DATA_DIR: join(dir, 'local') });
    const services = await openServices<Job>(env, { publicUrl: 'http://127.0.0.1:8787' });
    try {
      expect(services.describe()).toEqual({ database: 'pglite', blobs: 'fs', queue: 'db' });
      await exercise(services);
      const url = await services.blobs.presignGet('a/b', { expiresSeconds: SERVICE.blob.presignExpiresSeconds });
      expect(url.startsWith(`http://127.0.0.1:8787${SERVICE.blob.localRoute}/a/b?`)).toBe(true);
    } finally {
      await services.close();
    }
  });

  it('with bucket and queue URL set: S3 and SQS (fauxqs), same calls', async () => {
    const bucket = uniqueName('bucket').toLowerCase();
    await emulator.createBucket(bucket);
    const dlq = await emulator.createQueue(uniqueName('dlq'));
    const queue = await emulator.createQueue(uniqueName('jobs'), {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount: '3' }),
    });
    // With a Postgres server: a throwaway database on it (never the shared one), reached via the Neon driver.
    let pg: TestPostgres | undefined;
    if (TEST_DATABASE_URL) pg = await createTestPostgres({ migrate: false });
    const env = readServiceEnv({
      SENTINEL_DATA_DIR: join(dir, 'cloud'),
      SENTINEL_BLOB_BUCKET: bucket,
      SENTINEL_S3_ENDPOINT: emulator.address,
      SENTINEL_S3_FORCE_PATH_STYLE: 'true',
      SENTINEL_QUEUE_URL: queue.queueUrl,
      SENTINEL_SQS_ENDPOINT: emulator.address,
      ...(pg ? { DATABASE_URL: pg.url, SENTINEL_NEON_WS_PROXY: pg.proxy.url } : {}),
    });
    // The SDK reads credentials from process.env; emulators accept any.
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = 'test';
    process.env.AWS_SECRET_ACCESS_KEY = 'test';
    const services = await openServices<Job>(env);
    try {
      expect(services.describe()).toEqual({ database: pg ? 'neon' : 'pglite', blobs: 's3', queue: 'sqs' });
      await exercise(services);
    } finally {
      await services.close();
      await pg?.cleanup();
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      else process.env.AWS_ACCESS_KEY_ID = saved.id;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      else process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  });
});
