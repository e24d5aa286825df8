/**
 * The shipped model (AudioSet backbone, Kaldi front end) in a real browser: the Analyse page names each window's
 * AudioSet classes, and the live monitor runs the Kaldi front end and the model in the page, naming what it hears.
 * The verdicts on synthetic sounds are not asserted (the real model rightly calls a pure tone safe: console.e2e
 * uses a tiny synthetic model for those); what is asserted is that this model runs everywhere the console runs it.
 */
import { mkdirSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../../shared/audio/index.ts';
import { RATE, screamLike } from '../helpers/synth.ts';
import { ROOT, startHarness, type Harness } from './harness.ts';

let h: Harness;
let context: BrowserContext;
let page: Page;

async function goto(name: string): Promise<void> {
  await page.goto(`${h.url}/#/${name}`);
  await page.waitForFunction((n) => document.getElementById('main')?.dataset.page === n, name);
}

beforeAll(async () => {
  process.env.SENTINEL_E2E_MODEL_DIR = `${ROOT}models/default`;
  h = await startHarness();
  context = await h.browser.newContext({ permissions: ['microphone'] });
  page = await context.newPage();
  mkdirSync(`${ROOT}test-output/console`, { recursive: true });
}, 240_000);

afterAll(async () => {
  await context?.close();
  await h?.close();
});

describe('the shipped model in the console', () => {
  it('Analyse: every window listed with its top AudioSet classes', async () => {
    await goto('analyse');
    await page.setInputFiles('#file', { name: 'tone.wav', mimeType: 'audio/wav', buffer: Buffer.from(encodeWav(screamLike(7, 11), RATE, { bitDepth: 16 })) });
    await page.waitForSelector('#window-classes');
    const rows = await page.$$eval('#window-classes tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent ?? '')));
    expect(rows.length).toBeGreaterThanOrEqual(4);
    for (const [window, p, classes] of rows) {
      expect(window).toMatch(/\d+\.\d–\d+\.\d s/);
      expect(p).toMatch(/%$/);
      // Three "Label NN%" entries, names from AudioSet's 527 classes.
      expect(classes.split(', ')).toHaveLength(3);
      for (const c of classes.split(', ')) expect(c).toMatch(/^.+ \d+%$/);
    }
    await page.screenshot({ path: `${ROOT}test-output/console/analyse-shipped.png`, fullPage: true });
  });

  it('live monitor: the Kaldi front end and the AudioSet model run in the page and name what they hear', async () => {
    await goto('live');
    await page.click('#live-start');
    await page.waitForFunction(() => Number(document.getElementById('live-stats')?.dataset.windows) >= 3, undefined, { timeout: 90_000 });
    expect(await page.$$('.notice.error')).toHaveLength(0);
    expect(await page.textContent('#live-stats')).toMatch(/→ 32000 Hz \(kaldi front end\)/);
    expect((await page.textContent('#live-heard')) ?? '').toMatch(/^.+ \d+%(, .+ \d+%){2}$/);
    const stats = await page.$eval('#live-stats', (el) => ({ ...(el as HTMLElement).dataset }));
    expect(stats.backend).toBe('wasm');
    console.log(`shipped model in the browser, per live check (median of ${stats.windows}; two 3 s windows a check, scored by pairs): ${stats.inferMs} ms = Kaldi front end ${stats.melMs} + model ${stats.modelMs}`);
    await page.click('#live-stop');
  });
});
