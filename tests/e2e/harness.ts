/**
 * The e2e harness: builds the console if needed, trains the tiny synthetic model (tests/helpers/tiny-model.ts),
 * starts the local stack as `npm start` does (child process, 127.0.0.1, random port, temp SENTINEL_DATA_DIR), and
 * launches Debian's Chromium (/usr/bin/chromium) through playwright-core with a fake microphone fed from a WAV.
 *
 * Why the tiny model and not models/default: the assertions are about synthetic sounds (scream-like tone vs
 * noise) that the tiny model is trained on; the shipped model, trained on real recordings, rightly calls a
 * synthetic tone in noise safe. Same architecture (MobileNetV2 0.35, grey128), so the browser timings carry over.
 * SENTINEL_E2E_MODEL_DIR=models/default runs the suite against another model.
 */
import { spawnSync } from 'node:child_process';
import { spawnStack } from '../integration/helpers/stack.ts';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { encodeWav } from '../../shared/audio/index.ts';
import { writeTinyModel } from '../helpers/tiny-model.ts';
import { screamLike } from '../helpers/synth.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHROMIUM = process.env.SENTINEL_CHROMIUM ?? '/usr/bin/chromium';
export const ADMIN_KEY = 'e2e-admin-key-0123456789abcdef';

export interface Harness {
  url: string;
  browser: Browser;
  dir: string;
  output(): string;
  close(): Promise<void>;
}

function buildConsole(): void {
  const r = spawnSync(process.execPath, [join(ROOT, 'web/ensure-built.mjs')], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(join(ROOT, 'web/dist/index.html'))) throw new Error('the web console did not build');
}

/** `env` adds to or overrides the stack's environment (e.g. CV folds for a test of per-fold charts). */
export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)`);
  buildConsole();
  const dir = await mkdtemp(join(tmpdir(), 'sentinel-e2e-'));
  let modelDir = process.env.SENTINEL_E2E_MODEL_DIR;
  if (!modelDir) {
    modelDir = join(dir, 'model');
    await writeTinyModel(modelDir);
  }
  // The fake microphone: 8 s of scream-like tone at 48 kHz, looped by Chromium.
  const micWav = join(dir, 'mic.wav');
  await writeFile(micWav, encodeWav(screamLike(8, 4242, 48_000), 48_000, { bitDepth: 16 }));
  const stack = await spawnStack({
    SENTINEL_DATA_DIR: join(dir, 'data'),
    SENTINEL_DEFAULT_MODEL_DIR: modelDir,
    SENTINEL_ADMIN_KEY: ADMIN_KEY,
    // A UI retrain must finish in a test's time: no CV folds, no augmentation, few epochs.
    SENTINEL_TRAIN_FOLDS: '0',
    SENTINEL_TRAIN_AUGMENTATIONS: '0',
    SENTINEL_TRAIN_EPOCHS: '10',
    ...env,
  }, 120_000);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-audio-capture=${micWav}`,
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
  return {
    url: stack.url,
    browser,
    dir,
    output: stack.output,
    async close() {
      await browser.close().catch(() => undefined);
      stack.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 500));
      if (stack.child.exitCode === null) stack.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
