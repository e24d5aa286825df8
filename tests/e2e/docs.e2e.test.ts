/**
 * /docs in a real browser (Debian Chromium via playwright-core) against the local stack as `npm start` runs it:
 * the page renders every operation of /openapi.json with its examples, and nothing is fetched from anywhere but the
 * stack (every request to another host is recorded and refused, so a CDN or validator URL fails the test).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnStack, type StackProcess } from '../integration/helpers/stack.ts';
import { CHROMIUM } from './harness.ts';

let dir: string;
let stack: StackProcess;
let browser: Browser;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sentinel-docs-e2e-'));
  // The shipped model (models/default): /docs needs a stack, not a particular model.
  stack = await spawnStack({ SENTINEL_DATA_DIR: join(dir, 'data'), SENTINEL_WORKER: '0' }, 120_000);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('/docs', () => {
  it('renders every operation with its examples and requests nothing outside 127.0.0.1', async () => {
    const spec = (await (await fetch(`${stack.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.entries(spec.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`));
    expect(operations.length).toBeGreaterThan(15);

    const context = await browser.newContext({ serviceWorkers: 'block' });
    const outside: string[] = [];
    const problems: string[] = [];
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1') return route.continue();
      outside.push(url.href);
      return route.abort('blockedbyclient');
    });
    const page = await context.newPage();
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('requestfailed', (r) => problems.push(`${r.url()}: ${r.failure()?.errorText}`));

    await page.goto(`${stack.url}/docs`, { waitUntil: 'networkidle' });
    await page.waitForSelector('.opblock');
    const rendered = await page.$$eval('.opblock', (blocks) =>
      blocks.map((b) => `${b.querySelector('.opblock-summary-method')?.textContent?.trim()} ${b.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`),
    );
    expect(rendered.sort()).toEqual(operations.sort());

    // The /predict operation opened: its 200 example is a real verdict, its errors are listed by status.
    await page.click('#operations-predict-post_predict .opblock-summary-control');
    const body = page.locator('#operations-predict-post_predict');
    await body.locator('.responses-table').first().waitFor();
    const text = (await body.textContent()) ?? '';
    expect(text).toContain('prediction_id');
    expect(text).toContain('20261203T212153Z-2fbf62');
    for (const status of ['400', '404', '409', '413', '415', '429', '503']) expect(text).toContain(status);

    expect(outside).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });
});
