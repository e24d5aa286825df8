/**
 * What users see on the Analyse and Live pages (issue 15): the verdict worded as P(danger) against the threshold,
 * short clips flagged, the whole recording's spectrogram on the timeline's time axis, and a live monitor that keeps
 * listening across pages with a header indicator, an input level, a moving status line, chosen alerts and empty
 * states. Desktop and phone sizes; screenshots to test-output/console/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../../shared/audio/index.ts';
import { backgroundLike, RATE, screamLike, withEvent } from '../helpers/synth.ts';
import { ROOT, startHarness, type Harness } from './harness.ts';

const SHOTS = join(ROOT, 'test-output', 'console');
const VERDICT = /^(✓ Safe|⚠ Danger) — P\(danger\) [<>]?\d+(\.\d+)?%, (above|below|at) the [<>]?\d+(\.\d+)?% threshold$/;

let h: Harness;
let context: BrowserContext;
let page: Page;
/** Script URLs of the dedicated workers the page started. */
const workers: string[] = [];

interface Drawn { from: number; to: number; left: number; right: number; top: number; bottom: number; pixelRatio: number; frames: number; columns: number }
interface PredictionBody { duration: number; windows: unknown[]; class: string }

const wav = (samples: Float32Array) => Buffer.from(encodeWav(samples, RATE, { bitDepth: 16 }));
const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const noOverflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

async function goto(name: string): Promise<void> {
  await page.goto(`${h.url}/#/${name}`);
  await page.waitForFunction((n) => document.getElementById('main')?.dataset.page === n, name);
}

/** Uploads a clip on the Analyse page; resolves with the API's answer once the spectrogram is drawn. */
async function analyse(name: string, samples: Float32Array): Promise<PredictionBody> {
  const answer = page.waitForResponse((r) => r.url().endsWith('/predict') && r.request().method() === 'POST');
  await page.setInputFiles('#file', { name, mimeType: 'audio/wav', buffer: wav(samples) });
  const body = (await (await answer).json()) as PredictionBody;
  await page.waitForSelector('#timeline[data-spectrogram-rendered]', { timeout: 60_000 });
  return body;
}

const drawn = async (): Promise<Drawn> => JSON.parse((await page.getAttribute('#timeline', 'data-spectrogram'))!) as Drawn;

/** Mean brightness (R+G+B) of the drawn spectrogram's pixel column at `seconds`. */
async function brightnessAt(seconds: number): Promise<number> {
  return page.evaluate((t) => {
    const canvas = document.getElementById('timeline') as HTMLCanvasElement;
    const d = JSON.parse(canvas.dataset.spectrogram!) as { from: number; to: number; left: number; right: number; top: number; bottom: number; pixelRatio: number };
    const x = Math.round((d.left + ((t - d.from) / (d.to - d.from)) * (d.right - d.left)) * d.pixelRatio);
    const top = Math.ceil(d.top * d.pixelRatio) + 1;
    const height = Math.floor((d.bottom - d.top) * d.pixelRatio) - 2;
    const px = canvas.getContext('2d')!.getImageData(x, top, 1, height).data;
    let sum = 0;
    for (let i = 0; i < px.length; i += 4) sum += px[i] + px[i + 1] + px[i + 2];
    return sum / (px.length / 4);
  }, seconds);
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  h = await startHarness();
  context = await h.browser.newContext({ viewport: { width: 1280, height: 900 }, permissions: ['microphone', 'notifications'] });
  // Records what the alerts do: notifications shown and beeps started (the page cannot be heard in a test).
  await context.addInitScript(() => {
    const w = window as unknown as { __notes: string[]; __beeps: number };
    w.__notes = [];
    w.__beeps = 0;
    class FakeNotification {
      static permission = 'granted';
      static requestPermission = async () => 'granted';
      constructor(title: string, options?: { body?: string }) {
        w.__notes.push(`${title}: ${options?.body ?? ''}`);
      }
    }
    (window as unknown as { Notification: unknown }).Notification = FakeNotification;
    const create = AudioContext.prototype.createOscillator;
    AudioContext.prototype.createOscillator = function (this: AudioContext) {
      w.__beeps++;
      return create.call(this);
    };
  });
  page = await context.newPage();
  page.on('pageerror', (e) => console.error('[browser error]', e.message));
  page.on('worker', (w) => void workers.push(w.url()));
});

afterAll(async () => {
  await context?.close();
  await h?.close();
});

describe('Analyse: verdict wording and the whole-recording spectrogram', () => {
  it('draws every second of a 7 s clip on the timeline’s time axis, window counts matching the verdict', async () => {
    await goto('analyse');
    workers.length = 0;
    // Quiet noise with a loud tone at 3.2-3.8 s: the stretch the window-by-window drawing (3 s hops) left out.
    const quiet = backgroundLike(7, 51).map((v) => 0.05 * v);
    const p = await analyse('tone-at-3.5s.wav', withEvent(quiet, screamLike(0.6, 52), 3.2));
    expect(p.duration).toBeCloseTo(7, 2);
    // Computed by the spectrogram worker, off the page's main thread (a failed worker leaves no spectrogram).
    expect(workers.filter((u) => /\/spectrogram-worker[^/]*\.js$/.test(new URL(u).pathname))).toHaveLength(1);
    expect(await page.textContent('#timeline-note')).not.toContain('could not be computed');

    const verdict = (await page.textContent('#verdict'))!.trim();
    expect(verdict).toMatch(VERDICT);
    expect(await page.textContent('#result')).not.toMatch(/confidence/i);
    expect(await page.$('#short-clip')).toBeNull();

    // The columns span the whole recording, 0 to its end, on the chart's x scale, whose axis runs 0..duration.
    const d = await drawn();
    expect(d.frames).toBe(1 + Math.floor((7 * RATE) / 512));
    expect(d.from).toBeCloseTo(0, 6);
    expect(d.to).toBeCloseTo(p.duration, 6);
    expect(Number(await page.getAttribute('#timeline', 'data-x-min'))).toBe(0);
    expect(Number(await page.getAttribute('#timeline', 'data-x-max'))).toBeCloseTo(p.duration, 6);
    const ticks = JSON.parse((await page.getAttribute('#timeline', 'data-x-ticks'))!) as { value: number; label: string }[];
    expect(ticks[0].value).toBe(0);
    expect(ticks.at(-1)!.value).toBeGreaterThanOrEqual(6);
    for (const t of ticks) {
      expect(t.value).toBeLessThanOrEqual(p.duration);
      expect(Number(t.label)).toBeCloseTo(t.value, 6);
    }
    // The tone is where the axis says it is: its column is brighter than the quiet seconds on either side.
    const tone = await brightnessAt(3.5);
    expect(tone).toBeGreaterThan((await brightnessAt(1.5)) + 60);
    expect(tone).toBeGreaterThan((await brightnessAt(5.5)) + 60);

    // One window count everywhere: the verdict's facts, the timeline's points, its caption.
    const n = p.windows.length;
    expect(n).toBeGreaterThanOrEqual(5);
    expect(await page.textContent('#duration-windows')).toContain(`${n} windows of 3 s`);
    expect(await page.getAttribute('#timeline', 'data-rendered')).toBe(String(n));
    expect(await page.textContent('#timeline-note')).toContain(`${n} windows of 3 s`);
    expect(await page.textContent('#timeline-note')).toContain(`${d.frames} frames`);
    await shot('analyse-timeline');
  });

  it('flags a clip shorter than a window in the verdict area and spans only its own 0.2 s', async () => {
    const p = await analyse('short.wav', backgroundLike(0.2, 53));
    expect(await page.textContent('#short-clip')).toContain('0.2 s clip — shorter than the 3 s window; padded with silence');
    expect((await page.textContent('#verdict'))!.trim()).toMatch(VERDICT);
    expect(await page.textContent('#duration-windows')).toContain('1 window of 3 s');
    const d = await drawn();
    expect(d.from).toBeCloseTo(0, 6);
    expect(d.to).toBeCloseTo(p.duration, 6);
    expect(Number(await page.getAttribute('#timeline', 'data-x-max'))).toBeCloseTo(0.2, 6);
  });

  it('fits a phone', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await analyse('tone-phone.wav', withEvent(backgroundLike(7, 54).map((v) => 0.05 * v), screamLike(0.6, 55), 3.2));
    expect(await noOverflow()).toBeLessThanOrEqual(0);
    const d = await drawn();
    expect(d.to - d.from).toBeCloseTo(7, 2);
    await shot('analyse-timeline-phone');
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});

describe('Live monitor across pages', () => {
  it('shows empty states and remembers alert choices', async () => {
    await goto('live');
    expect(await page.textContent('#live-banner')).toBe('Not listening.');
    expect(await page.textContent('#live-log li.empty')).toMatch(/No events yet/);
    expect(await page.isVisible('#live-chart-empty')).toBe(true);
    for (const key of ['sound', 'notification', 'title']) expect(await page.isChecked(`#alert-${key}`)).toBe(false);
    for (const key of ['sound', 'notification', 'title']) await page.check(`#alert-${key}`);
    await page.reload();
    await page.waitForSelector('#live-start');
    for (const key of ['sound', 'notification', 'title']) expect(await page.isChecked(`#alert-${key}`)).toBe(true);
  });

  it('keeps listening on another page: header indicator, checks counting, alerts, then stops from the header', async () => {
    await page.click('#live-start');
    await page.waitForFunction(() => Number(document.getElementById('live-status')?.dataset.checks) >= 2, undefined, { timeout: 90_000 });
    expect(await page.textContent('#live-banner')).not.toMatch(/first check/);
    expect(await page.textContent('#live-status')).toMatch(/^\d+ checks since .*Last at .*: (Safe|Danger) — P\(danger\) /);
    expect(Number(await page.getAttribute('#live-level', 'data-db'))).toBeGreaterThan(-60); // the fake microphone's tone
    expect(await page.textContent('#live-level-text')).toMatch(/dBFS/);

    // The tiny model calls the fake microphone's tone danger: banner, tab title, notification, sound.
    await page.waitForSelector('#live-banner[role="alert"]', { timeout: 60_000 });
    expect(await page.title()).toMatch(/^⚠ Danger · Live monitor/);
    expect(await page.evaluate(() => (window as unknown as { __notes: string[] }).__notes.length)).toBeGreaterThanOrEqual(1);
    expect(await page.evaluate(() => (window as unknown as { __beeps: number }).__beeps)).toBeGreaterThanOrEqual(1);
    await shot('live-listening');

    // Another page through the nav: the session goes on, the header says so, and the checks keep counting.
    await page.click('#nav a[data-page="models"]');
    await page.waitForFunction(() => document.getElementById('main')?.dataset.page === 'models');
    await page.waitForSelector('#monitor-indicator');
    const before = Number(await page.getAttribute('#monitor-indicator', 'data-checks'));
    await page.waitForFunction((n) => Number(document.getElementById('monitor-indicator')?.dataset.checks) >= n + 3, before, { timeout: 60_000 });
    expect(await page.title()).toMatch(/^⚠ Danger · Models/); // the alert outlives the router's retitling
    expect(await page.textContent('#monitor-indicator')).toMatch(/(Listening|Danger heard) · \d+ checks/);
    expect(await noOverflow()).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await noOverflow()).toBeLessThanOrEqual(0);
    await shot('models-while-listening-phone');
    await page.setViewportSize({ width: 1280, height: 900 });

    // Back on the Live page: the same session, not a new one, with its history.
    const away = Number(await page.getAttribute('#monitor-indicator', 'data-checks'));
    await page.click('#monitor-indicator a');
    await page.waitForFunction(() => document.getElementById('main')?.dataset.page === 'live');
    expect(Number(await page.getAttribute('#live-status', 'data-checks'))).toBeGreaterThanOrEqual(away);
    expect(await page.isDisabled('#live-start')).toBe(true);
    expect(await page.isVisible('#live-chart-empty')).toBe(false);
    expect(await page.$$eval('#live-log li.danger', (items) => items.length)).toBeGreaterThanOrEqual(1);

    await page.click('#monitor-indicator-stop');
    await page.waitForSelector('#monitor-indicator', { state: 'detached' });
    expect(await page.textContent('#live-banner')).toMatch(/^Not listening \(stopped at/);
    expect(await page.title()).toBe('Live monitor · Sentinel');
    const stopped = Number(await page.getAttribute('#live-status', 'data-checks'));
    await page.waitForTimeout(2500);
    expect(Number(await page.getAttribute('#live-status', 'data-checks'))).toBe(stopped);
  });
});
