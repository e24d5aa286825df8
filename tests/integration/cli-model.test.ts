/** `sentinel train`, `predict` and `eval` end to end as child processes, on synthetic clips and a random backbone. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../../shared/audio/index.ts';
import { pairProbability } from '../../shared/inference/aggregation.ts';
import { backgroundLike, RATE, screamLike, withEvent } from '../helpers/synth.ts';
import { sentinel } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sentinel-cli-model-'));
const data = join(dir, 'data');
const model = join(dir, 'model');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  for (const label of ['safe', 'danger']) mkdirSync(join(data, label), { recursive: true });
  const rows = ['file,subclass,group'];
  for (let i = 0; i < 16; i++) {
    const danger = i % 2 === 0;
    const file = `${danger ? 'danger' : 'safe'}/clip${i}.wav`;
    writeFileSync(join(data, file), encodeWav(danger ? screamLike(3, i) : backgroundLike(3, i), RATE, { bitDepth: 16 }));
    rows.push(`${file},${danger ? 'tone' : 'noise'},g${i}`);
  }
  writeFileSync(join(data, 'manifest.csv'), rows.join('\n'));
  writeFileSync(join(data, 'safe', 'broken.wav'), new Uint8Array([82, 73, 70, 70, 1, 2, 3]));
  writeFileSync(join(dir, 'event.wav'), encodeWav(withEvent(backgroundLike(12, 50).map((v) => v * 0.2), screamLike(2, 51), 6), RATE, { bitDepth: 16 }));
});

describe('sentinel train / predict / eval', () => {
  it('trains a model with cross-validation, reports skipped files and writes a loadable artifact', async () => {
    const r = await sentinel('train', data, '--out', model, '--backbone', 'random', '--representation', 'grey128', '--folds', '2', '--augmentations', '0', '--cache', join(dir, 'cache'), '--json');
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.cv.folds).toBe(2);
    expect(out.threshold).toBeGreaterThan(0);
    expect(out.skipped.map((s: { path: string }) => s.path)).toContain('safe/broken.wav');
    const manifest = JSON.parse(readFileSync(join(model, 'sentinel.json'), 'utf8'));
    expect(manifest.version).toBe(out.version);
    expect(manifest.training.command).toMatch(/^sentinel train .* --folds 2/);
    expect(manifest.training.data.counts).toEqual({ safe: 8, danger: 8 });
    // A new model is scored by pairs of adjacent windows (MODEL.aggregation), and says so.
    expect([manifest.aggregation, out.aggregation]).toEqual(['pair', 'pair']);
    // A backbone without AudioSet's classes has no class prior to floor its windows by.
    expect([manifest.priorFloor, out.priorFloor]).toEqual([null, null]);
  });

  it('predicts files as JSON lines with windows and events, and reports unreadable files with a code', async () => {
    const r = await sentinel('predict', join(dir, 'event.wav'), join(dir, 'missing.wav'), '--model', model, '--json');
    expect(r.code).toBe(1);
    const [ok, bad] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(ok.file).toBe(join(dir, 'event.wav'));
    expect(['safe', 'danger']).toContain(ok.class);
    expect(ok.windows).toHaveLength(10);
    expect(ok.windows[9]).toMatchObject({ start: 9, end: 12 });
    // The recording's probability is its best pair of adjacent windows' (every window here is loud enough to be heard).
    const windows: { probability: number; skipped?: string }[] = ok.windows;
    expect(ok.aggregation).toBe('pair');
    expect(windows.every((w) => w.skipped === undefined)).toBe(true);
    const pairs = windows.slice(1).map((w, i) => pairProbability(windows[i].probability, w.probability));
    expect(ok.probability).toBeCloseTo(Math.max(...pairs), 12);
    expect(ok.confidence).toBeCloseTo(ok.class === 'danger' ? ok.probability : 1 - ok.probability, 9);
    expect(Array.isArray(ok.events)).toBe(true);
    expect(bad).toMatchObject({ file: join(dir, 'missing.wav'), error: { code: 'not_found' } });
  });

  it('evaluates a dataset with the metric keys the API uses', async () => {
    const r = await sentinel('eval', data, '--model', model, '--json');
    expect(r.code).toBe(0);
    const m = JSON.parse(r.stdout);
    for (const key of ['n', 'accuracy', 'balancedAccuracy', 'precision', 'recall', 'f1', 'rocAuc', 'prAuc', 'threshold', 'confusion', 'perSubclass']) {
      expect(m).toHaveProperty(key);
    }
    expect(m.n).toBe(16);
    expect(m.confusion.tp + m.confusion.fp + m.confusion.tn + m.confusion.fn).toBe(16);
    expect(Object.keys(m.perSubclass).sort()).toEqual(['noise', 'tone']);
    expect(m.skipped.map((s: { path: string }) => s.path)).toContain('safe/broken.wav');
  });

  it('rejects bad usage with exit code 2', async () => {
    expect((await sentinel('train', data)).code).toBe(2);
    const aggregation = await sentinel('train', data, '--out', join(dir, 'never'), '--aggregation', 'mean');
    expect(aggregation.code).toBe(2);
    expect(aggregation.stderr).toMatch(/--aggregation must be one of window, pair, got mean/);
    const floor = await sentinel('train', data, '--out', join(dir, 'never'), '--prior-floor', 'high');
    expect(floor.code).toBe(2);
    expect(floor.stderr).toMatch(/--prior-floor must be a number of logits or none, got high/);
    expect((await sentinel('predict', join(dir, 'event.wav'), '--threshold', '7', '--model', model)).code).toBe(2);
  });
});
