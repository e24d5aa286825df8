/** `sentinel eval-robust` end to end as a child process, with the shipped model, on synthetic 16 kHz clips. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../../shared/audio/index.ts';
import { backgroundLike, screamLike } from '../helpers/synth.ts';
import { sentinel } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sentinel-cli-robust-'));
const data = join(dir, 'data');
const files: string[] = [];
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(() => {
  for (const label of ['safe', 'danger']) mkdirSync(join(data, label), { recursive: true });
  for (let i = 0; i < 6; i++) {
    const danger = i % 2 === 0;
    const file = `${danger ? 'danger' : 'safe'}/clip${i}.wav`;
    // 16 kHz 16-bit and below half scale: the command's 16 kHz reference rewrites these very bytes (decoding scales
    // positive codes by 1/32768, encodeWav by 32767: codes from half scale up would come back one step lower).
    const samples = (danger ? screamLike(3, i, 16000) : backgroundLike(3, i, 16000)).map((v) => Math.max(-0.45, Math.min(0.45, v * 0.3)));
    writeFileSync(join(data, file), encodeWav(samples, 16000, { bitDepth: 16 }));
    files.push(file);
  }
  writeFileSync(join(data, 'safe', 'broken.wav'), new Uint8Array([82, 73, 70, 70, 1, 2, 3]));
});

interface Change {
  n: number;
  meanAbsDelta: number;
  maxAbsDelta: number;
  maxClip: string;
  flips: number;
  flipRate: number;
  maxEncoding?: string;
}

describe('sentinel eval-robust', () => {
  it('compares each clip as 44.1 kHz WAV and MP3 with its 16 kHz WAV, names the encoder and lists the skipped', async () => {
    const r = await sentinel('eval-robust', data, '--json');
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.n).toBe(6);
    expect(out.reference).toBe('wav16k');
    expect(out.encoders.mp3).toMatch(/lamejs/);
    expect(out.threshold).toBeGreaterThan(0);
    expect(out.skipped.map((s: { path: string }) => s.path)).toEqual(['safe/broken.wav']);
    expect(out.clips.map((c: { path: string }) => c.path).sort()).toEqual([...files].sort());

    const { wav44k, mp3 } = out.comparisons as Record<string, Change>;
    for (const c of [wav44k, mp3]) {
      expect(c.n).toBe(6);
      expect(c.meanAbsDelta).toBeGreaterThanOrEqual(0);
      expect(c.meanAbsDelta).toBeLessThanOrEqual(c.maxAbsDelta);
      expect(c.maxAbsDelta).toBeLessThanOrEqual(1);
      expect(files).toContain(c.maxClip);
      expect(Number.isInteger(c.flips) && c.flips >= 0 && c.flips <= 6).toBe(true);
      expect(c.flipRate).toBe(c.flips / 6);
    }
    // The overall figures are the pooled pairs of both comparisons.
    const overall = out.overall as Change;
    expect(overall.n).toBe(12);
    expect(overall.flips).toBe(wav44k.flips + mp3.flips);
    expect(overall.meanAbsDelta).toBeCloseTo((wav44k.meanAbsDelta + mp3.meanAbsDelta) / 2, 12);
    expect(overall.maxAbsDelta).toBe(Math.max(wav44k.maxAbsDelta, mp3.maxAbsDelta));
    expect(['wav44k', 'mp3']).toContain(overall.maxEncoding);
    // Each comparison's figures come from the per-clip probabilities printed beside them.
    const clips = out.clips as { path: string; wav16k: number; wav44k: number; mp3: number }[];
    const deltas = clips.map((c) => Math.abs(c.mp3 - c.wav16k));
    expect(mp3.maxAbsDelta).toBe(Math.max(...deltas));
    expect(mp3.flips).toBe(clips.filter((c) => c.mp3 >= out.threshold !== c.wav16k >= out.threshold).length);

    // The reference is the clip itself (same bytes): its P(danger) is what `predict` says of the original file.
    const predicted = await sentinel('predict', ...files.map((f) => join(data, f)), '--json');
    expect(predicted.code).toBe(0);
    const byFile = new Map(predicted.stdout.trim().split('\n').map((l) => JSON.parse(l)).map((p) => [p.file, p.probability]));
    for (const c of clips) expect(c.wav16k, c.path).toBe(byFile.get(join(data, c.path)));
  });

  it('prints a table with the encoder, and refuses a bad --limit with exit code 2', async () => {
    const r = await sentinel('eval-robust', data, '--limit', '3');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/model .*, 3 clips \(0 skipped\)/); // spread over the sorted 7: danger/clip0, danger/clip4, safe/clip1
    expect(r.stdout).toMatch(/MP3: lamejs/);
    expect(r.stdout).toMatch(/44\.1 kHz WAV .*\n.*128k MP3 .*\n.*overall/);
    expect((await sentinel('eval-robust', data, '--limit', '0')).code).toBe(2);
    expect((await sentinel('eval-robust')).code).toBe(2);
  });
});
