/**
 * The cloud path end to end: the API (as a process of its own, worker off) and the SQS worker (worker/main.ts)
 * sharing S3 and SQS on the fauxqs emulator (127.0.0.1) and a real Postgres through the Neon driver and our
 * WebSocket proxy. Zip -> 202 -> SQS -> worker trains -> artifact in S3 -> gate -> alias in Postgres -> the API's
 * next alias re-check serves the new version. Needs TEST_DATABASE_URL (skipped without, with that reason).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../functions/server.ts';
import { encodeWav } from '../../shared/audio/index.ts';
import { readManifest } from '../../shared/model/artifact.ts';
import { readModelFiles } from '../../adapters/model-files.ts';
import { startWorker, type RunningWorker } from '../../worker/main.ts';
import type { JobOutcome } from '../../worker/handler.ts';
import { screamLike } from '../helpers/synth.ts';
import { datasetZip, syntheticClips, writeTinyModel } from '../helpers/tiny-model.ts';
import { EMULATOR_CREDENTIALS, startEmulator, uniqueName, type Emulator } from './helpers/fauxqs.ts';
import { createTestPostgres, NEON_SKIP_REASON, TEST_DATABASE_URL, type TestPostgres } from './helpers/postgres.ts';
import { postPredict, postRetrain, waitForSession } from './helpers/stack.ts';

describe.skipIf(!TEST_DATABASE_URL)(`cloud path: S3 + SQS (fauxqs) + Postgres via Neon driver${TEST_DATABASE_URL ? '' : ` — ${NEON_SKIP_REASON}`}`, () => {
  let dir: string;
  let emulator: Emulator;
  let pg: TestPostgres;
  let api: LocalStack | undefined;
  let worker: RunningWorker | undefined;
  const savedEnv = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sentinel-cloud-'));
    // The AWS SDK reads credentials from process.env; the emulator accepts any.
    process.env.AWS_ACCESS_KEY_ID = EMULATOR_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = EMULATOR_CREDENTIALS.secretAccessKey;
    [emulator, pg] = await Promise.all([startEmulator(), createTestPostgres()]);
  });
  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await pg?.cleanup();
    await emulator?.stop();
    await rm(dir, { recursive: true, force: true });
    if (savedEnv.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    else process.env.AWS_ACCESS_KEY_ID = savedEnv.id;
    if (savedEnv.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    else process.env.AWS_SECRET_ACCESS_KEY = savedEnv.secret;
  });

  it('retrains through SQS and S3, promotes in Postgres, and the API serves the new version', async () => {
    const modelDir = join(dir, 'default-model');
    await writeTinyModel(modelDir, { invert: true, seed: 810 });
    const defaultVersion = readManifest(await readModelFiles(modelDir)).version;
    const bucket = uniqueName('sentinel').toLowerCase();
    await emulator.createBucket(bucket);
    const dlq = await emulator.createQueue(uniqueName('training-dlq'));
    const queue = await emulator.createQueue(uniqueName('training'), {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount: '3' }),
    });
    const cloud = {
      SENTINEL_BLOB_BUCKET: bucket,
      SENTINEL_S3_ENDPOINT: emulator.address,
      SENTINEL_S3_FORCE_PATH_STYLE: 'true',
      SENTINEL_QUEUE_URL: queue.queueUrl,
      SENTINEL_SQS_ENDPOINT: emulator.address,
      DATABASE_URL: pg.url,
      SENTINEL_NEON_WS_PROXY: pg.proxy.url,
      SENTINEL_TRAIN_FOLDS: '0',
      SENTINEL_TRAIN_AUGMENTATIONS: '0',
      SENTINEL_TRAIN_EPOCHS: '10',
      // A 20-clip upload holds out 4 clips: the gate's minimum is lowered so the promotion path is what is tested here.
      SENTINEL_GATE_MIN_CLIPS_PER_CLASS: '2',
      LOG_LEVEL: 'warn',
    };
    api = await startLocalStack({
      ...process.env,
      ...cloud,
      PORT: '0',
      SENTINEL_HOST: '127.0.0.1',
      SENTINEL_DATA_DIR: join(dir, 'api'),
      SENTINEL_DEFAULT_MODEL_DIR: modelDir,
      SENTINEL_WORKER: 'false',
      SENTINEL_MODEL_RECHECK_SECONDS: '1',
    });
    const outcomes: JobOutcome[] = [];
    worker = await startWorker({ ...process.env, ...cloud, SENTINEL_DATA_DIR: join(dir, 'worker') }, { waitSeconds: 1, onOutcome: (o) => outcomes.push(o) });

    const health = (await (await fetch(`${api.url}/health`)).json()) as { status: string; services: Record<string, string> };
    expect(health).toMatchObject({ status: 'ok', services: { database: 'neon', blobs: 's3', queue: 'sqs' } });
    expect((await postPredict(api.url, encodeWav(screamLike(3, 5, 16000), 16000, { bitDepth: 16 }))).body.model_version).toBe(defaultVersion);

    const { status, body } = await postRetrain(api.url, api.adminKey!.key, datasetZip(syntheticClips(20, 3000)));
    expect(status).toBe(202);
    const session = await waitForSession(api.url, body.session_id, (s) => s.status === 'succeeded' || s.status === 'failed', 180_000, 250);
    expect(session).toMatchObject({ status: 'succeeded', error: null, gate_decision: { outcome: 'promoted' } });
    // The session row turns 'succeeded' before the worker has acknowledged the SQS message and reported the outcome.
    await expect
      .poll(() => outcomes, { timeout: 10_000, interval: 100 })
      .toEqual([expect.objectContaining({ outcome: 'succeeded', sessionId: body.session_id, promoted: true })]);

    // The artifact lives in S3 under models/<version>/.
    const keys = (await worker.services.blobs.list(`models/${session.model_version}/`)).map((e) => e.key);
    expect(keys.sort()).toEqual(['model.json', 'sentinel.json', 'weights.bin'].map((f) => `models/${session.model_version}/${f}`));
    // The API process learns of the promotion at its next alias re-check (1 s here).
    await new Promise((r) => setTimeout(r, 1200));
    const served = await postPredict(api.url, encodeWav(screamLike(3, 6, 16000), 16000, { bitDepth: 16 }));
    expect(served.body.model_version).toBe(session.model_version);
    expect(await worker.services.queue.receive({ waitSeconds: 0 })).toEqual([]);
  });
});
