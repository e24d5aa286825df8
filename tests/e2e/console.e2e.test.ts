/**
 * The web console in a real browser (Debian Chromium via playwright-core) against the local stack: analyse,
 * live monitor with a fake microphone, a zip retrain through the UI, promote/rollback, keyboard navigation.
 * Screenshots of every page go to test-output/console/. Prints the first-load JS+CSS bytes and the in-browser
 * inference time per 3 s window.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../../shared/audio/index.ts';
import { backgroundLike, RATE, screamLike, withEvent } from '../helpers/synth.ts';
import { datasetZip, syntheticClips } from '../helpers/tiny-model.ts';
import { ADMIN_KEY, ROOT, startHarness, type Harness } from './harness.ts';

const SHOTS = join(ROOT, 'test-output', 'console');
const FIRST_LOAD_BUDGET = 300 * 1024;
const PAGES = ['analyse', 'live', 'retrain', 'models', 'insights', 'status'] as const;

let h: Harness;
let context: BrowserContext;
let page: Page;
const figures: Record<string, unknown> = {};

const wav = (samples: Float32Array) => Buffer.from(encodeWav(samples, RATE, { bitDepth: 16 }));
const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

async function goto(name: string): Promise<void> {
  await page.goto(`${h.url}/#/${name}`);
  await page.waitForFunction((n) => document.getElementById('main')?.dataset.page === n, name);
}

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(h.url + path, { ...init, headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ADMIN_KEY}`, ...(init.headers ?? {}) } });
  expect(res.ok, `${path}: ${res.status}`).toBe(true);
  return (await res.json()) as T;
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  h = await startHarness();
  context = await h.browser.newContext({ viewport: { width: 1280, height: 900 }, permissions: ['microphone'] });
  page = await context.newPage();
  page.on('pageerror', (e) => console.error('[browser error]', e.message));
});

afterAll(async () => {
  console.log(`\nconsole e2e figures: ${JSON.stringify(figures)}`);
  await context?.close();
  await h?.close();
});

describe('web console', () => {
  it('first load stays within the JS+CSS budget and shows the themed shell', async () => {
    let bytes = 0;
    const files: string[] = [];
    const onResponse = async (r: import('playwright-core').Response) => {
      const type = r.request().resourceType();
      if (type !== 'script' && type !== 'stylesheet') return;
      const body = await r.body().catch(() => Buffer.alloc(0));
      bytes += body.length;
      files.push(`${r.url().split('/').pop()} ${body.length}`);
    };
    page.on('response', onResponse);
    await page.goto(`${h.url}/`, { waitUntil: 'networkidle' });
    page.off('response', onResponse);
    figures.firstLoadJsCssBytes = bytes;
    console.log(`first load: ${bytes} bytes of JS+CSS (${files.join(', ')})`);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThanOrEqual(FIRST_LOAD_BUDGET);
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).toBe('rgb(14, 17, 23)'); // --bg-dark #0e1117
    const font = await page.evaluate(() => getComputedStyle(document.querySelector('h1')!).fontFamily);
    expect(font).toContain('Poppins');
  });

  it('analyses a danger-like and a safe-like file: verdict, timeline and spectrogram render', async () => {
    await goto('analyse');
    const danger = withEvent(backgroundLike(9, 31), screamLike(3, 32), 3);
    await page.setInputFiles('#file', { name: 'danger-like.wav', mimeType: 'audio/wav', buffer: wav(danger) });
    await page.waitForSelector('#verdict');
    expect(await page.getAttribute('[data-class]', 'data-class')).toBe('danger');
    expect(await page.textContent('#verdict')).toMatch(/Danger/);
    await page.waitForSelector('#timeline[data-rendered]');
    expect(Number(await page.getAttribute('#timeline', 'data-rendered'))).toBeGreaterThanOrEqual(7);
    await page.waitForSelector('#timeline[data-spectrogram-rendered]', { timeout: 60_000 });
    const frames = await page.evaluate(() => (JSON.parse(document.getElementById('timeline')!.dataset.spectrogram!) as { frames: number }).frames);
    expect(frames).toBe(388); // 9 s at 22 050 Hz, hop 512: the whole recording
    await shot('analyse-danger');
    // "This is wrong" stores a corrected label.
    await page.click('#wrong');
    await page.waitForSelector('text=recorded as safe');

    await page.setInputFiles('#file', { name: 'safe-like.wav', mimeType: 'audio/wav', buffer: wav(backgroundLike(6, 33)) });
    await page.waitForFunction(() => document.querySelector('[data-class]')?.getAttribute('data-class') === 'safe');
    expect(await page.textContent('#verdict')).toMatch(/Safe/);
    await page.waitForSelector('#timeline[data-rendered]');
    await shot('analyse');

    // A file that is not audio gets the API's typed error, shown as an alert.
    await page.setInputFiles('#file', { name: 'notes.wav', mimeType: 'audio/wav', buffer: Buffer.from('this is not audio at all, just text') });
    await page.waitForSelector('.notice.error');
  });

  it('live monitor: fake microphone through the in-browser model raises an alert', async () => {
    await goto('live');
    await page.click('#live-start');
    await page.waitForSelector('#live-banner[role="alert"]', { timeout: 90_000 });
    expect(await page.textContent('#live-banner')).toMatch(/Danger heard/);
    await page.waitForFunction(() => Number(document.getElementById('live-stats')?.dataset.windows) >= 6, undefined, { timeout: 60_000 });
    const stats = await page.$eval('#live-stats', (el) => ({ ...(el as HTMLElement).dataset }));
    expect(stats.backend).toBe('wasm');
    expect(await page.$$eval('#live-log li', (items) => items.length)).toBeGreaterThanOrEqual(1);
    figures.liveInferMsPerWindow = Number(stats.inferMs);
    figures.liveMelMs = Number(stats.melMs);
    figures.liveModelMs = Number(stats.modelMs);
    figures.liveBackend = `${stats.backend} (${stats.features})`;
    console.log(`in-browser inference per live check (median of ${stats.windows}; a model scored by pairs runs two 3 s windows a check): ${stats.inferMs} ms = mel ${stats.melMs} + model ${stats.modelMs} (${stats.backend}: ${stats.features})`);
    await shot('live');
    await page.click('#live-stop');
  });

  it('retrains from a zip uploaded through the UI to a finished session', async () => {
    await goto('retrain');
    await page.fill('#api-key', ADMIN_KEY);
    await page.press('#api-key', 'Enter');
    await page.waitForSelector('text=Key set for this tab');
    const zip = Buffer.from(datasetZip(syntheticClips(12, 900), { 'danger/readme.txt': new TextEncoder().encode('not audio') }));
    await page.setInputFiles('#zip', { name: 'dataset.zip', mimeType: 'application/zip', buffer: zip });
    await page.fill('#epochs', '5');
    await page.click('#start-training');
    await page.waitForSelector('#intake-counts');
    expect(await page.textContent('#intake-counts')).toMatch(/Accepted 12 clips: 6 safe, 6 danger\. Skipped 1\./);
    expect(await page.textContent('#intake')).toContain('readme.txt');
    await page.waitForFunction(() => ['succeeded', 'failed'].includes(document.getElementById('session-status')?.dataset.status ?? ''), undefined, { timeout: 240_000, polling: 1000 });
    expect(await page.getAttribute('#session-status', 'data-status')).toBe('succeeded');
    // 12 clips hold out 2 or 3: the page says in words that the current model stays, and why.
    expect(await page.textContent('#gate-decision')).toMatch(/Kept the current model: the reference set has \d+ clips \(\d+ safe, \d+ danger\), and \d+ per class are needed/);
    await shot('retrain');
  });

  it('promotes and rolls back a version with confirmation', async () => {
    const before = await api<{ current: string; models: { version: string }[] }>('/models');
    expect(before.models.length).toBeGreaterThanOrEqual(2);
    const other = before.models.find((m) => m.version !== before.current)!.version;
    await goto('models');
    await page.waitForSelector(`tr[data-version="${other}"]`);
    // Cancel first: nothing changes.
    await page.click(`button[aria-label="Promote ${other}"]`);
    await page.click('dialog.confirm button[value="cancel"]');
    expect((await api<{ current: string }>('/models')).current).toBe(before.current);
    await page.click(`button[aria-label="Promote ${other}"]`);
    await page.click('dialog.confirm button[value="ok"]');
    await page.waitForSelector(`tr[data-version="${other}"] td[data-current="true"]`);
    expect((await api<{ current: string }>('/models')).current).toBe(other);
    await page.click(`button[aria-label="Details of ${other}"]`);
    await page.waitForSelector('#detail-title');
    await shot('models');
    await page.click('#rollback');
    await page.click('dialog.confirm button[value="ok"]');
    await page.waitForSelector(`tr[data-version="${before.current}"] td[data-current="true"]`);
    expect((await api<{ current: string }>('/models')).current).toBe(before.current);
  });

  it('insights and status render from the API', async () => {
    await goto('insights');
    await page.waitForSelector('#main[data-ready="true"]');
    expect(await page.textContent('#dataset-reading')).toMatch(/12 clips/);
    expect(await page.textContent('#confidence-reading')).toMatch(/predictions/);
    await shot('insights');
    await goto('status');
    await page.waitForSelector('#status-grid[data-ready="true"]');
    expect(await page.$$eval('#status-grid [data-ok="true"]', (els) => els.length)).toBeGreaterThanOrEqual(5);
    await shot('status');
  });

  it('is keyboard operable across pages and fits a phone', async () => {
    await page.goto(`${h.url}/#/analyse`);
    for (const name of PAGES) {
      // From the page heading (where focus lands after navigation), Shift+Tab back to the nav link, then Enter.
      await page.waitForFunction(() => document.activeElement?.tagName === 'H1');
      let found = false;
      for (let i = 0; i < 20 && !found; i++) {
        await page.keyboard.press('Shift+Tab');
        found = await page.evaluate((n) => (document.activeElement as HTMLElement | null)?.dataset?.page === n, name);
      }
      expect(found, `Shift+Tab reaches the ${name} link`).toBe(true);
      await page.keyboard.press('Enter');
      await page.waitForFunction((n) => document.getElementById('main')?.dataset.page === n, name);
      expect(await page.getAttribute(`#nav a[data-page="${name}"]`, 'aria-current')).toBe('page');
      // Focus moved to the page heading.
      expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('H1');
    }
    // Every form control has a label (explicit, aria-label, or wrapped).
    for (const name of PAGES) {
      await goto(name);
      const unlabelled = await page.$$eval('input, select', (els) =>
        els.filter((el) => !(el as HTMLInputElement).labels?.length && !el.getAttribute('aria-label')).map((el) => el.id || el.outerHTML),
      );
      expect(unlabelled, `unlabelled controls on ${name}`).toEqual([]);
    }
    await page.setViewportSize({ width: 390, height: 844 });
    await goto('analyse');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shot('analyse-phone');
  });
});
