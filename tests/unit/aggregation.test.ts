import { describe, expect, it } from 'vitest';
import { pairProbability, recordingProbability, scoredSpans } from '../../shared/inference/aggregation.ts';
import { verdict, type VerdictRule } from '../../shared/inference/detector.ts';
import { priorFloored } from '../../shared/model/class-prior.ts';

// Windows of 3 s every 1 s, as analyse() makes them; level -20 dBFS (heard) unless a test says otherwise.
const windows = (probabilities: number[], levels: number[] = probabilities.map(() => -20)) =>
  probabilities.map((probability, i) => ({ start: i, end: i + 3, probability, level: levels[i], db: new Float32Array(1) }));
const logit = (p: number) => Math.log(p / (1 - p));
const pairRule: VerdictRule = { threshold: 0.5, modelVersion: 'v', aggregation: 'pair' };
const windowRule: VerdictRule = { ...pairRule, aggregation: 'window' };

describe('pairProbability', () => {
  it('is the sigmoid of the two windows’ mean logit, in either order', () => {
    expect(pairProbability(0.9, 0.9)).toBeCloseTo(0.9, 12);
    expect(pairProbability(0.99, 0.01)).toBeCloseTo(0.5, 12);
    const p = pairProbability(0.8, 0.3);
    expect(logit(p)).toBeCloseTo((logit(0.8) + logit(0.3)) / 2, 12);
    expect(pairProbability(0.3, 0.8)).toBe(p);
  });

  it('stays finite and ordered at 0 and 1 (float32 sigmoid saturates there)', () => {
    expect(pairProbability(1, 1)).toBeLessThan(1);
    expect(pairProbability(0, 0)).toBeGreaterThan(0);
    expect(pairProbability(1, 0.5)).toBeGreaterThan(pairProbability(0.99, 0.5));
    expect(pairProbability(1, 0)).toBeCloseTo(0.5, 9);
  });
});

describe('scoredSpans', () => {
  it("'window': every window is a span", () => {
    const w = windows([0.1, 0.9, 0.2]);
    expect(scoredSpans(w, 'window')).toEqual(w.map(({ start, end, probability }) => ({ start, end, probability })));
  });

  it("'pair': each pair of adjacent windows, from the first one's start to the second one's end", () => {
    const spans = scoredSpans(windows([0.1, 0.9, 0.2]), 'pair');
    expect(spans.map((s) => [s.start, s.end])).toEqual([[0, 4], [1, 5]]);
    expect(spans[0].probability).toBeCloseTo(pairProbability(0.1, 0.9), 12);
    expect(spans[1].probability).toBeCloseTo(pairProbability(0.9, 0.2), 12);
  });

  it('a recording of one window is that window, under either aggregation', () => {
    for (const aggregation of ['window', 'pair'] as const) {
      expect(scoredSpans(windows([0.7]), aggregation)).toEqual([{ start: 0, end: 3, probability: 0.7 }]);
    }
  });

  it('a skipped window is a span of P 0; a heard window beside it pairs with its other neighbour or stands alone', () => {
    const heard = (i: number) => i !== 2;
    const spans = scoredSpans(windows([0.6, 0.8, 0.99, 0.9]), 'pair', heard);
    expect(spans.map((s) => [s.start, s.end])).toEqual([[0, 4], [2, 5], [3, 6]]);
    expect(spans.map((s) => s.probability)).toEqual([pairProbability(0.6, 0.8), 0, 0.9]);
    expect(scoredSpans(windows([0.6, 0.99]), 'window', (i) => i === 0).map((s) => s.probability)).toEqual([0.6, 0]);
  });

  it('recordingProbability is the best span’s, 0 for none', () => {
    expect(recordingProbability([])).toBe(0);
    expect(recordingProbability(scoredSpans(windows([0.2, 0.7, 0.6]), 'pair'))).toBeCloseTo(pairProbability(0.7, 0.6), 12);
  });
});

describe('verdict by pairs', () => {
  it('one odd window among quiet-sounding ones is not enough; two adjacent ones are', () => {
    const lone = windows([0.02, 0.8, 0.02, 0.02]);
    expect(verdict({ windows: lone, duration: 6 }, lone.map((w) => w.probability), windowRule).class).toBe('danger');
    const byPairs = verdict({ windows: lone, duration: 6 }, lone.map((w) => w.probability), pairRule);
    expect(byPairs.class).toBe('safe');
    expect(byPairs.probability).toBeCloseTo(pairProbability(0.02, 0.8), 12);
    // Windows are reported as the model scored them, whatever the aggregation.
    expect(byPairs.windows.map((w) => w.probability)).toEqual([0.02, 0.8, 0.02, 0.02]);

    const held = windows([0.02, 0.8, 0.7, 0.02]);
    const p = verdict({ windows: held, duration: 6 }, held.map((w) => w.probability), pairRule);
    expect(p).toMatchObject({ class: 'danger', events: [{ start: 1, end: 5 }] });
    expect(p.probability).toBeCloseTo(pairProbability(0.8, 0.7), 12);
    expect(p.events[0].peakProbability).toBe(p.probability);
  });

  it('a quiet window splits events and never pairs with a loud one', () => {
    const w = windows([0.9, 0.9, 0.99, 0.9, 0.9], [-20, -20, -90, -20, -20]);
    const p = verdict({ windows: w, duration: 7 }, w.map((x) => x.probability), pairRule, -60);
    expect(p.windows[2]).toMatchObject({ probability: 0, skipped: 'quiet' });
    expect(p.events.map((e) => [e.start, e.end])).toEqual([[0, 4], [3, 7]]);
    expect(p.probability).toBeCloseTo(0.9, 12);
  });
});

describe('priorFloored: a window at least the class prior less the floor', () => {
  const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
  it("keeps the head's probability above the floor and lifts it to the floor below", () => {
    expect(priorFloored(0.9, 0, 1)).toBe(0.9);
    expect(priorFloored(0.001, 3, 1)).toBeCloseTo(sigmoid(2), 12);
    expect(priorFloored(0.001, -12, 1)).toBe(0.001);
    expect(priorFloored(sigmoid(2), 3, 1)).toBeCloseTo(sigmoid(2), 12);
  });
});
