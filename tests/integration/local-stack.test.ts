/**
 * The local stack end to end, over HTTP on 127.0.0.1: first start registers the default model as `current`; a zip
 * of synthetic clips -> 202 -> the in-process worker trains -> a new version -> the gate promotes it -> /predict is
 * served by it. Then restart durability: the stack is killed (SIGKILL) in the middle of a training, started again on
 * the same data dir, and the job finishes.
 * The default model is a tiny one that learned the labels backwards, so a sensible candidate always passes the gate.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../functions/server.ts';
import { encodeWav } from '../../shared/audio/index.ts';
import { readManifest } from '../../shared/model/artifact.ts';
import { readModelFiles } from '../../adapters/model-files.ts';
import { screamLike } from '../helpers/synth.ts';
import { datasetZip, syntheticClips, writeTinyModel } from '../helpers/tiny-model.ts';
import { adminKeyOf, postPredict, postRetrain, spawnStack, waitForSession } from './helpers/stack.ts';

const scream = encodeWav(screamLike(3, 31337, 16000), 16000, { bitDepth: 16 });
let dir: string;
let modelDir: string;
let defaultVersion: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sentinel-stack-'));
  modelDir = join(dir, 'default-model');
  await writeTinyModel(modelDir, { invert: true, seed: 800 });
  defaultVersion = readManifest(await readModelFiles(modelDir)).version;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// The gate's minimum is lowered so a 20-clip upload (4 held out) can be promoted: this tests the stack's plumbing; the
// minimum itself is tested in worker.test.ts.
const trainingEnv = { SENTINEL_TRAIN_FOLDS: '0', SENTINEL_TRAIN_AUGMENTATIONS: '0', SENTINEL_TRAIN_EPOCHS: '10', SENTINEL_GATE_MIN_CLIPS_PER_CLASS: '2' };

describe('local stack (in-process, real HTTP)', () => {
  let stack: LocalStack;
  afterAll(async () => {
    await stack?.close();
  });

  it('registers the default model, retrains from a zip, promotes the new version and serves /predict with it', async () => {
    const dataDir = join(dir, 'in-process');
    stack = await startLocalStack({ ...process.env, PORT: '0', SENTINEL_HOST: '127.0.0.1', SENTINEL_DATA_DIR: dataDir, SENTINEL_DEFAULT_MODEL_DIR: modelDir, LOG_LEVEL: 'warn', ...trainingEnv });
    expect(stack.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const before = await postPredict(stack.url, scream);
    expect(before).toMatchObject({ status: 200, body: { model_version: defaultVersion } });
    // The console: web/dist when the web console is built, else the built-in page; both are titled Sentinel.
    const page = await fetch(stack.url, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toMatch(/<title>Sentinel[^<]*<\/title>/);

    const { status, body } = await postRetrain(stack.url, stack.adminKey!.key, datasetZip(syntheticClips(20, 1000)));
    expect(status).toBe(202);
    const session = await waitForSession(stack.url, body.session_id, (s) => s.status === 'succeeded' || s.status === 'failed', 120_000, 250);
    expect(session).toMatchObject({ status: 'succeeded', attempts: 1, error: null });
    expect(session.gate_decision).toMatchObject({ outcome: 'promoted', min_clips_per_class: 2, current_version: defaultVersion });
    const version = session.model_version!;
    expect(version).not.toBe(defaultVersion);

    const models = (await (await fetch(`${stack.url}/models`)).json()) as { current: string; models: { version: string; status: string }[] };
    expect(models.current).toBe(version);
    expect(models.models.find((m) => m.version === defaultVersion)?.status).toBe('archived');
    const after = await predictOnceServed(stack.url, version);
    expect(after).toMatchObject({ status: 200, body: { model_version: version } });
    // Promoted because it beat the backwards default on the reference clips (here: this job's held-out clips).
    expect(session.gate_decision!.candidate).toBeGreaterThan(session.gate_decision!.current);
    expect(session.final_metrics!.balancedAccuracy).toBe(session.gate_decision!.candidate);
    const status_ = (await (await fetch(`${stack.url}/model/status`)).json()) as Record<string, unknown>;
    expect(status_).toMatchObject({ model_loaded: true, is_training: false, training_status: 'succeeded', model_version: version });
  });
});

/**
 * /predict once `version` is served. The in-process worker refreshes the serving model on promotion, but loading it
 * into the inference threads takes a moment after the session reads succeeded: served within seconds, far sooner
 * than the 30 s alias re-check, so waiting up to 10 s still tells a refresh from the re-check.
 */
async function predictOnceServed(url: string, version: string): Promise<Awaited<ReturnType<typeof postPredict>>> {
  let after = await postPredict(url, scream);
  for (const until = Date.now() + 10_000; after.body.model_version !== version && Date.now() < until; ) {
    await new Promise((r) => setTimeout(r, 200));
    after = await postPredict(url, scream);
  }
  return after;
}

describe('local stack restart durability (child process)', () => {
  it('a training killed mid-way resumes after a restart and finishes', async () => {
    const dataDir = join(dir, 'restart');
    // Short visibility so the crashed run's job comes back in seconds (heartbeat every 0.4 s, stale after 1.6 s).
    const env = { SENTINEL_DATA_DIR: dataDir, SENTINEL_DEFAULT_MODEL_DIR: modelDir, SENTINEL_QUEUE_VISIBILITY_SECONDS: '4', ...trainingEnv, SENTINEL_TRAIN_AUGMENTATIONS: '3' };
    const first = await spawnStack(env);
    let second: Awaited<ReturnType<typeof spawnStack>> | undefined;
    try {
      const key = await adminKeyOf(dataDir);
      const { status, body } = await postRetrain(first.url, key, datasetZip(syntheticClips(60, 2000)));
      expect(status).toBe(202);
      // Killed once it has written epoch rows: the resumed run must not repeat them.
      const running = await waitForSession(first.url, body.session_id, (s) => s.status !== 'queued' && (s.status !== 'running' || s.epoch_metrics.length > 0), 90_000, 50);
      expect(running.status, 'the training should still be running when the stack is killed').toBe('running');
      expect(running.epoch_metrics.length).toBeGreaterThan(0);
      await first.kill();

      second = await spawnStack(env);
      const done = await waitForSession(second.url, body.session_id, (s) => s.status === 'succeeded' || s.status === 'failed', 180_000, 250);
      expect(done, second.output()).toMatchObject({ status: 'succeeded', error: null });
      // Claimed by the killed run, then re-claimed after restart; its epoch rows are the second run's only.
      expect(done.attempts).toBe(2);
      expect(done.epoch_metrics.length).toBeGreaterThan(0);
      expect(done.epoch_metrics.map((m) => m.epoch)).toEqual(done.epoch_metrics.map((_, i) => i + 1));
      const after = await predictOnceServed(second.url, done.model_version!);
      expect(after.body.model_version).toBe(done.model_version);
    } finally {
      await first.kill();
      await second?.stop();
    }
  });
});
