/** Window levels (signal.ts windowLevels), the level gate (detector.ts gatedScores, verdict) and one-pass analysis. */
import { describe, expect, it } from 'vitest';
import { LEVEL_GATE } from '../../shared/config.ts';
import { analyseSamples, fixLength, frontEnd, resample } from '../../shared/audio/index.ts';
import { windowLevels } from '../../shared/audio/signal.ts';
import { gatedScores, isQuiet, verdict, type WindowScore } from '../../shared/inference/detector.ts';
import { tone } from '../helpers/tones.ts';

const directLevel = (x: Float32Array) => {
  let sum = 0;
  for (const v of x) sum += v * v;
  return x.length && sum > 0 ? Math.max(LEVEL_GATE.silenceDb, 10 * Math.log10(sum / x.length)) : LEVEL_GATE.silenceDb;
};

describe('windowLevels', () => {
  it('reads RMS in dB re full scale: a full-scale sine is -3 dB, a 0.01 one -43 dB, silence the floor', () => {
    const loud = tone(16000, 1, [[1, 1000]]);
    const soft = tone(16000, 1, [[0.01, 1000]]);
    expect(windowLevels(loud, [0], loud.length)[0]).toBeCloseTo(-3.0103, 3);
    expect(windowLevels(soft, [0], soft.length)[0]).toBeCloseTo(-43.0103, 3);
    expect(windowLevels(new Float32Array(1000), [0], 1000)[0]).toBe(LEVEL_GATE.silenceDb);
  });

  it('gives each overlapping window its own samples, none of the padding past the end, a quiet one beside a loud one', () => {
    const x = new Float32Array(10_000);
    for (let i = 0; i < 5000; i++) x[i] = 0.9 * Math.sin(i * 0.3);
    for (let i = 5000; i < x.length; i++) x[i] = 1e-4 * Math.sin(i * 0.7);
    const starts = [0, 1000, 2000, 5000, 7000, 9500];
    const levels = windowLevels(x, starts, 3000);
    starts.forEach((s, i) => expect(levels[i]).toBeCloseTo(directLevel(x.subarray(s, Math.min(s + 3000, x.length))), 9));
    expect(levels[3]).toBeLessThan(-80);
  });
});

describe('level gate', () => {
  const mel = (v: number) => Float32Array.of(v);
  const rule = { threshold: 0.5, modelVersion: 'v', aggregation: 'window' } as const;
  const windows = [
    { start: 0, end: 3, db: mel(0), level: -20 },
    { start: 1, end: 4, db: mel(1), level: -75 },
    { start: 2, end: 5, db: mel(2), level: -30 },
  ];

  it('sends only windows at or above the floor to the model; the quiet one scores 0 and is marked skipped', async () => {
    const seen: number[] = [];
    const score = async (mels: Float32Array[]): Promise<WindowScore[]> => mels.map((m) => (seen.push(m[0]), { probability: 0.9 }));
    const scores = await gatedScores(windows, score, -60);
    expect(seen).toEqual([0, 2]);
    expect(scores.map((s) => s.probability)).toEqual([0.9, 0, 0.9]);
    const p = verdict({ windows, duration: 5 }, scores, rule, -60);
    expect(p.windows.map((w) => w.skipped)).toEqual([undefined, 'quiet', undefined]);
    expect(p.windows.map((w) => w.level)).toEqual([-20, -75, -30]);
    // The skipped window splits what would have been one event.
    expect(p.events).toHaveLength(2);
  });

  it('ignores a score given for a quiet window, and calls a recording quiet throughout safe with P 0', () => {
    const quiet = windows.map((w) => ({ ...w, level: -90 }));
    const p = verdict({ windows: quiet, duration: 5 }, [0.99, 0.99, 0.99], rule, -60);
    expect(p.class).toBe('safe');
    expect(p.probability).toBe(0);
    expect(p.windows.every((w) => w.skipped === 'quiet' && w.probability === 0)).toBe(true);
  });

  it('skips nothing when off (null), and the model is not called when every window is quiet', async () => {
    expect(windows.some((w) => isQuiet(w, null))).toBe(false);
    let calls = 0;
    const scores = await gatedScores(windows, async (m) => (calls++, m.map(() => ({ probability: 1 }))), 0);
    expect(calls).toBe(0);
    expect(scores.every((s) => s.probability === 0)).toBe(true);
    expect(verdict({ windows, duration: 5 }, [0.1, 0.2, 0.3], rule, null).windows.every((w) => w.skipped === undefined)).toBe(true);
  });
});

describe('one-pass analysis of a long recording', () => {
  it.each(['kaldi', 'librosa'] as const)('%s: every window is, within 1e-5, the front end of its own slice of the resampled recording', (name) => {
    const fe = frontEnd(name);
    const rate = 16000;
    const x = tone(rate, 20, [[0.3, 440], [0.05, 3100]]);
    for (let i = 0; i < x.length; i += 7919) x[i] += 0.4; // clicks: windows differ
    const analysis = analyseSamples(x, rate, { frontEnd: name });
    expect(analysis.windows.length).toBeGreaterThan(10);
    const y = resample(x, rate, fe.sampleRate);
    for (const w of analysis.windows.slice(1)) {
      const start = Math.round(w.start * fe.sampleRate);
      const single = fe.features(fixLength(y.subarray(start), fe.windowSamples));
      let worst = 0;
      for (let i = 0; i < single.length; i++) worst = Math.max(worst, Math.abs(single[i] - w.db[i]));
      expect(worst).toBeLessThan(1e-5);
      expect(w.level).toBeCloseTo(directLevel(y.subarray(start, start + fe.windowSamples)), 9);
    }
  });
});
