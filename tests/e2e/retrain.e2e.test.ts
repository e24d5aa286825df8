/**
 * What users see around training, in Chromium against the local stack (its own, with 2 CV folds and a gate that
 * decides on few clips): Insights on a fresh install (the served model's own training set and loss per epoch, legends
 * that match their bars), the API key checked when entered and before any upload, a retrain followed to its end
 * (one chart line per fold, the gate's decision in words with both models in a table, no stale status), and the
 * footer's model chip following promote and rollback. Desktop and phone widths; screenshots in test-output/retrain/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetZip, syntheticClips } from '../helpers/tiny-model.ts';
import { ADMIN_KEY, ROOT, startHarness, type Harness } from './harness.ts';

const SHOTS = join(ROOT, 'test-output', 'retrain');
const SIZES = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } } as const;

let h: Harness;
let context: BrowserContext;
let page: Page;
let shipped: string;

type Legend = { text: string; color: string; drawn: string[] }[];
type Manifest = { version: string; training: { data: { counts: { safe: number; danger: number } }; epochMetrics?: unknown[] } | null; metrics: Record<string, { n: number }> };

async function goto(name: string): Promise<void> {
  await page.goto(`${h.url}/#/${name}`);
  await page.waitForFunction((n) => document.getElementById('main')?.dataset.page === n, name);
}

async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(h.url + path, { ...init, headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ADMIN_KEY}`, ...(init.headers ?? {}) } });
  expect(res.ok, `${path}: ${res.status}`).toBe(true);
  return (await res.json()) as T;
}

const chip = () => page.textContent('#model-chip');
const legendOf = async (selector: string) => JSON.parse((await page.getAttribute(selector, 'data-legend')) ?? '[]') as Legend;

/** No sideways scrolling of the page at this width (wide tables scroll inside their own box). */
async function fitsWidth(): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

/** The elements reaching past the viewport's right edge, deepest first: what to fix when fitsWidth fails. */
async function widest(): Promise<string> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    return [...document.querySelectorAll<HTMLElement>('body *')]
      .filter((e) => e.getBoundingClientRect().right > width + 1)
      // Inside a box that scrolls or clips on its own, an element cannot widen the page.
      .filter((e) => {
        for (let n = e.parentElement; n && n !== document.body; n = n.parentElement) if (getComputedStyle(n).overflowX !== 'visible') return false;
        return true;
      })
      .slice(0, 5)
      .map((e) => {
        const path: string[] = [];
        for (let n: HTMLElement | null = e; n && n !== document.body; n = n.parentElement) path.unshift(`${n.tagName.toLowerCase()}${n.id ? `#${n.id}` : ''}${n.className ? `.${String(n.className).split(' ')[0]}` : ''}`);
        return `${path.join(' > ')} ${Math.round(e.getBoundingClientRect().right)}px`;
      })
      .join(', ');
  });
}

async function shootBoth(name: string): Promise<void> {
  for (const [size, viewport] of Object.entries(SIZES)) {
    await page.setViewportSize(viewport);
    expect(await fitsWidth(), `${name} at ${size} width scrolls sideways (${await widest()})`).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(SHOTS, `${name}-${size}.png`), fullPage: true });
  }
  await page.setViewportSize(SIZES.desktop);
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // Two folds so the per-epoch chart has runs to tell apart; a gate minimum of 1 so it decides on the scores.
  h = await startHarness({ SENTINEL_TRAIN_FOLDS: '2', SENTINEL_GATE_MIN_CLIPS_PER_CLASS: '1' });
  context = await h.browser.newContext({ viewport: SIZES.desktop });
  page = await context.newPage();
  page.on('pageerror', (e) => console.error('[browser error]', e.message));
  shipped = (await api<{ current: string }>('/models')).current;
});

afterAll(async () => {
  await context?.close();
  await h?.close();
});

describe('training, as users see it', () => {
  it('Insights on a fresh install: the served model’s own training set and loss per epoch, legends matching the bars', async () => {
    const manifest = await api<Manifest>(`/models/${shipped}/files/sentinel.json`);
    const counts = manifest.training!.data.counts;
    await goto('insights');
    await page.waitForSelector('#main[data-ready="true"]');
    expect(await page.textContent('#dataset-reading')).toContain(`The served model ${shipped} learnt from ${counts.safe + counts.danger} clips`);
    expect(await page.textContent('#dataset-reading')).toContain('No clips stored for retraining yet');
    expect(await page.getAttribute('#dataset-chart', 'data-sources')).toBe('3');
    // The served model's own loss per epoch, from its sentinel.json (the tiny model: a final fit with held-out clips).
    expect(manifest.training!.epochMetrics!.length).toBeGreaterThan(0);
    expect(await page.textContent('#history-reading')).toMatch(
      new RegExp(`^The served model ${shipped} \\(head mode\\): The final fit only \\(no cross-validation\\): final fit, \\d+ epochs? \\(lowest validation loss at \\d+\\)\\. Its held-out validation on ${manifest.metrics.validation.n} clips: ROC AUC`),
    );
    expect(await page.getAttribute('#history-chart', 'data-shows')).toBe('served-epochs');
    // Every legend swatch is the colour its bars were drawn in (one colour per dataset).
    for (const id of ['#dataset-chart', '#history-chart', '#perday-chart']) {
      const legend = await legendOf(id);
      expect(legend.length, `${id} has a legend`).toBeGreaterThan(0);
      for (const item of legend) expect(item.drawn.length === 0 ? [item.color] : item.drawn, `${id}: ${item.text}`).toEqual([item.color]);
    }
    expect((await legendOf('#dataset-chart')).map((l) => l.text)).toEqual(['✓ safe', '⚠ danger']);
    await shootBoth('insights-fresh');
  });

  it("states the promotion gate this server applies (1 clip of each class here; the built-in default is 30)", async () => {
    await goto('retrain');
    await page.waitForSelector('#retrain-intro[data-gate="server"]');
    expect(await page.textContent('#retrain-intro')).toContain("beats the current one by 0.02 balanced accuracy on the reference clips (every retrain's held-out clips), with at least 1 of each class;");
  });

  it('checks the API key when entered: a wrong one is refused and not kept', async () => {
    await goto('retrain');
    await page.fill('#api-key', 'snt_this-is-not-a-key');
    await page.press('#api-key', 'Enter');
    await page.waitForSelector('#key-check .notice.error');
    expect(await page.textContent('#key-check')).toContain('This key was refused');
    expect(await page.getAttribute('#api-key', 'aria-invalid')).toBe('true');
    expect(await page.evaluate(() => sessionStorage.getItem('sentinel.apiKey'))).toBeNull();
    expect(await page.$('#key-state')).toBeNull();

    await page.fill('#api-key', ADMIN_KEY);
    await page.press('#api-key', 'Enter');
    await page.waitForSelector('#key-state[data-state="accepted"]');
    expect(await page.textContent('#key-state')).toMatch(/Key set for this tab \(bootstrap\)/);
    // A kept key that stopped working (revoked, say) is refused when a page shows it again.
    await page.evaluate(() => sessionStorage.setItem('sentinel.apiKey', 'snt_revoked-since'));
    await goto('models');
    await page.waitForSelector('#key-check .notice.error');
    expect(await page.textContent('#key-check')).toContain('The key kept in this tab was refused');
    expect(await page.evaluate(() => sessionStorage.getItem('sentinel.apiKey'))).toBeNull();
  });

  it('refuses a wrong key before any byte of the zip is uploaded', async () => {
    await goto('retrain');
    await page.fill('#api-key', ADMIN_KEY);
    await page.press('#api-key', 'Enter');
    await page.waitForSelector('#key-state[data-state="accepted"]');
    await page.evaluate(() => sessionStorage.setItem('sentinel.apiKey', 'snt_revoked-since'));
    const sent: string[] = [];
    const onRequest = (r: import('playwright-core').Request) => void sent.push(`${r.method()} ${new URL(r.url()).pathname}`);
    page.on('request', onRequest);
    await page.setInputFiles('#zip', { name: 'dataset.zip', mimeType: 'application/zip', buffer: Buffer.from(datasetZip(syntheticClips(12, 700))) });
    await page.click('#start-training');
    await page.waitForSelector('form .notice.error');
    page.off('request', onRequest);
    expect(await page.textContent('form .notice.error')).toContain('The API key was refused (unknown or revoked); nothing was uploaded');
    expect(sent).toContain('GET /keys/current');
    expect(sent.filter((s) => s.startsWith('POST') || s.startsWith('PUT'))).toEqual([]);
    expect(await page.isHidden('#upload-progress')).toBe(true);
    // The refused key is forgotten: the panel asks for another one.
    await page.waitForSelector('#api-key');
    expect(await page.evaluate(() => sessionStorage.getItem('sentinel.apiKey'))).toBeNull();
  });

  it('follows a retrain to its end: a line per fold, the gate’s decision in words and a table, no stale status', async () => {
    await goto('retrain');
    await page.fill('#api-key', ADMIN_KEY);
    await page.press('#api-key', 'Enter');
    await page.waitForSelector('#key-state[data-state="accepted"]');
    await page.setInputFiles('#zip', { name: 'dataset.zip', mimeType: 'application/zip', buffer: Buffer.from(datasetZip(syntheticClips(16, 800))) });
    await page.fill('#epochs', '4');
    await page.click('#start-training');
    await page.waitForSelector('#intake-counts');
    await page.waitForFunction(() => ['succeeded', 'failed'].includes(document.getElementById('session-status')?.dataset.status ?? ''), undefined, { timeout: 240_000, polling: 1000 });
    expect(await page.getAttribute('#session-status', 'data-status')).toBe('succeeded');
    await page.waitForSelector('#gate-decision');

    // The status line says how it ended, nothing of the last progress report, and no "Queued" is left anywhere.
    expect(await page.textContent('#session-status')).toMatch(/^✓ Succeeded in \d+ (min \d+ )?s, at /);
    expect(await page.textContent('#main')).not.toMatch(/Queued|gate \d+\/\d+/);
    expect(await page.isHidden('#upload-progress')).toBe(true);

    // The per-epoch chart: fold 1, fold 2 and the final fit, each from epoch 1.
    expect(await page.textContent('#epoch-summary')).toMatch(/^2 cross-validation folds and the final fit: fold 1, \d+ epochs? \(lowest validation loss at \d+\); fold 2, \d+ epochs? .*; final fit, \d+ epochs? \(lowest training loss at \d+\)\.$/);
    expect(await page.getAttribute('#epoch-chart', 'data-runs')).toBe('3');
    expect((await legendOf('#epoch-chart')).map((l) => l.text)).toEqual(['fold 1 (validation loss)', 'fold 2 (validation loss)', 'final fit (training loss)']);

    // The decision in words, with the figures it was made on.
    const session = (await api<{ sessions: { model_version: string; gate_decision: { outcome: string; clips: { safe: number; danger: number } } }[] }>('/sessions?limit=1')).sessions[0];
    const gate = session.gate_decision;
    const n = gate.clips.safe + gate.clips.danger;
    const decision = (await page.textContent('#gate-decision')) ?? '';
    if (gate.outcome === 'promoted') expect(decision).toMatch(new RegExp(`^✓ Promoted: the new model scored [\\d.]+ balanced accuracy on the ${n} reference clips, the current one [\\d.]+ \\(needed \\+0\\.02\\)\\. The new model now answers every prediction\\.$`));
    else expect(decision).toMatch(new RegExp(`^ℹ Not promoted: the new model scored [\\d.]+ balanced accuracy on the ${n} reference clips, the current one [\\d.]+ \\(needs \\+0\\.02\\)\\. The current model stays`));
    const table = await page.$$eval('#gate-table tr', (rows) => rows.map((r) => [...r.children].map((c) => c.textContent?.trim())));
    expect(table[0]).toEqual(['', 'Current model', 'New model']);
    expect(table[1]).toEqual(['Version', shipped, session.model_version]);
    expect(table[2][0]).toBe(`Balanced accuracy (${n} reference clips)`);
    expect(table[2].slice(1).every((v) => /^\d\.\d{3}$/.test(v ?? ''))).toBe(true);
    expect(table[3]).toEqual(gate.outcome === 'promoted' ? ['After the gate', 'replaced', '✓ serves predictions'] : ['After the gate', '✓ still serves', 'candidate: promote by hand on Models']);
    // The new model's figures by name, not a dump of the stored keys.
    expect(await page.textContent('#session-result')).toMatch(/^New model \S+ on the reference clips: accuracy \d\.\d{3}, balanced accuracy/);
    expect(await page.textContent('#session-outcome')).not.toMatch(/gate_clips|promoted 1\.000|balancedAccuracy/);
    // The footer follows the gate's decision without a reload.
    await page.waitForFunction((v) => document.getElementById('model-chip')?.textContent === `Model: ${v}`, gate.outcome === 'promoted' ? session.model_version : shipped);
    await shootBoth('retrain-finished');
  });

  it('the footer’s model chip follows promote and rollback, and a change made elsewhere on the next page', async () => {
    const before = await api<{ current: string; models: { version: string }[] }>('/models');
    const other = before.models.find((m) => m.version !== before.current)!.version;
    await goto('models');
    await page.waitForSelector('#key-state[data-state="accepted"]'); // the key entered on the Retrain page, checked again
    await page.waitForSelector(`tr[data-version="${other}"]`);
    expect(await chip()).toBe(`Model: ${before.current}`);
    await page.click(`button[aria-label="Promote ${other}"]`);
    await page.click('dialog.confirm button[value="ok"]');
    await page.waitForSelector(`tr[data-version="${other}"] td[data-current="true"]`);
    await page.waitForFunction((v) => document.getElementById('model-chip')?.textContent === `Model: ${v}`, other);
    await page.click('#rollback');
    await page.click('dialog.confirm button[value="ok"]');
    await page.waitForSelector(`tr[data-version="${before.current}"] td[data-current="true"]`);
    await page.waitForFunction((v) => document.getElementById('model-chip')?.textContent === `Model: ${v}`, before.current);
    // Promoted outside this tab (the API, the CLI): the chip catches up on the next page visited.
    await api(`/models/${encodeURIComponent(other)}/promote`, { method: 'POST', body: JSON.stringify({ reason: 'e2e: changed elsewhere' }) });
    await goto('insights');
    await page.waitForFunction((v) => document.getElementById('model-chip')?.textContent === `Model: ${v}`, other);
    await page.waitForSelector('#main[data-ready="true"]');
    // Insights follows the model now served: its own epochs (every model trained here records them), and the stored
    // clips of the retrain beside it.
    expect(await page.getAttribute('#history-chart', 'data-shows')).toBe('served-epochs');
    expect(await page.textContent('#history-reading')).toMatch(new RegExp(`^The served model ${other} \\(\\w+ mode\\): `));
    expect(await page.textContent('#dataset-reading')).toMatch(/Stored for the next retrain: 16 clips/);
    await shootBoth('insights-after-retrain');
  });
});
