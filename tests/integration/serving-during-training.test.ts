/**
 * Training never holds up serving: the local stack (as `npm start` wires it) takes a dataset zip with a large
 * manifest.csv and retrains in `top` mode and in `head` mode while /health is asked every 50 ms. Every answer must
 * come back, and the API's event loop must not stall. The assertion is on this process's event-loop delay
 * (perf_hooks.monitorEventLoopDelay; the stack runs here), not on /health's wall-clock latency, which on 2 shared
 * cores also counts the time the OS gives the training threads and this test's own client.
 * `finetune` runs the same path (worker/thread-runner.ts) but takes minutes on a CPU, so it is not repeated here.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../functions/server.ts';
import type { TrainingMode } from '../../shared/model/types.ts';
import { datasetZip, syntheticClips, writeTinyModel } from '../helpers/tiny-model.ts';
import { waitForSession } from './helpers/stack.ts';

/**
 * The bound on a stall. The issue asks /health to answer within 100 ms. With training off the loop the worst delay
 * measured here was 60-140 ms (the OS shares 2 cores between this thread, the training threads and other work);
 * with training and intake on the loop the same runs stalled 1.27 s (top) and 1.05 s (head, most of it parsing the
 * 200k-row manifest). 500 ms tells the two apart without failing on a busy machine (at load 10, with other test
 * files and trainings beside it, the loop stalled 262-384 ms with training off it).
 */
const MAX_STALL_MS = 500;

let dir: string;
let stack: LocalStack;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sentinel-serving-'));
  const modelDir = join(dir, 'default-model');
  await writeTinyModel(modelDir, { seed: 830 });
  stack = await startLocalStack({
    ...process.env,
    PORT: '0',
    SENTINEL_HOST: '127.0.0.1',
    SENTINEL_DATA_DIR: join(dir, 'data'),
    SENTINEL_DEFAULT_MODEL_DIR: modelDir,
    LOG_LEVEL: 'warn',
    SENTINEL_TRAIN_FOLDS: '0',
    SENTINEL_TRAIN_AUGMENTATIONS: '0',
  });
});
afterAll(async () => {
  await stack?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A manifest.csv of ~10 MB: the clips' rows, then rows for files the zip does not have (a big real-world manifest). */
function bigManifest(paths: readonly string[]): Uint8Array {
  const rows = ['file,subclass,group,source', ...paths.map((p, i) => `${p},synthetic,g${i},test`)];
  for (let i = 0; rows.length < 200_000; i++) rows.push(`safe/elsewhere/recording_${i}.wav,background,group_${i % 997},archive_${i % 13}`);
  return new TextEncoder().encode(rows.join('\n'));
}

/** A POST /retrain with its multipart body built beforehand: building it is the client's work, not the server's. */
async function retrainRequest(mode: TrainingMode, zip: Uint8Array): Promise<() => Promise<string>> {
  const form = new FormData();
  form.set('file', new Blob([zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' }), 'dataset.zip');
  form.set('mode', mode);
  form.set('epochs', '3');
  const built = new Request(`${stack.url}/retrain`, { method: 'POST', body: form });
  const body = new Uint8Array(await built.arrayBuffer());
  const headers = { 'content-type': built.headers.get('content-type')!, authorization: `Bearer ${stack.adminKey!.key}` };
  return async () => {
    const res = await fetch(`${stack.url}/retrain`, { method: 'POST', body, headers });
    const answer = (await res.json()) as { session_id: string };
    expect(res.status, JSON.stringify(answer)).toBe(202);
    return answer.session_id;
  };
}

describe('serving while training (local stack)', () => {
  it.each(['top', 'head'] as const)('answers /health throughout a %s retrain and its zip intake; the event loop never stalls', async (mode) => {
    const clips = syntheticClips(20, mode === 'top' ? 5000 : 5100);
    const post = await retrainRequest(mode, datasetZip(clips, { 'manifest.csv': bigManifest(clips.map((c) => c.path)) }));

    const delay = monitorEventLoopDelay({ resolution: 10 });
    const answers: { status: number; ms: number }[] = [];
    let training = true;
    const poll = (async () => {
      while (training) {
        const t = performance.now();
        const res = await fetch(`${stack.url}/health`);
        await res.arrayBuffer();
        answers.push({ status: res.status, ms: performance.now() - t });
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    delay.enable();
    let session;
    try {
      const id = await post();
      session = await waitForSession(stack.url, id, (s) => s.status === 'succeeded' || s.status === 'failed', 300_000, 250);
    } finally {
      delay.disable();
      training = false;
      await poll;
    }
    const stallMs = delay.max / 1e6;
    const slowest = Math.max(...answers.map((a) => a.ms));
    console.info(`${mode}: ${answers.length} /health answers, slowest ${slowest.toFixed(1)} ms; event-loop delay max ${stallMs.toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms`);

    expect(session).toMatchObject({ status: 'succeeded', error: null, mode });
    // A 20-clip upload holds out 4 clips: the current model stays (the gate's minimum), as for any toy upload.
    expect(session!.gate_decision?.outcome).toBe('too_few_clips');
    expect(answers.length).toBeGreaterThan(10);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(stallMs).toBeLessThan(MAX_STALL_MS);
  });
});
