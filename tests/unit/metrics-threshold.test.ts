import { describe, expect, it } from 'vitest';
import { SentinelError } from '../../shared/errors.ts';
import { chooseThreshold, evaluate } from '../../shared/metrics/index.ts';
import { createRng } from '../../shared/training/random.ts';

/**
 * Example A (as in metrics.test.ts): sorted 0.9[1] 0.8[0] 0.7[1] 0.4[0] 0.35[1] 0.1[0], P = N = 3.
 * Candidate thresholds (midway between adjacent distinct scores; 1 and 0 at the ends), flagged counts, BA:
 *   0.95  tp0 fp0  (0   + 1  )/2 = 1/2
 *   0.85  tp1 fp0  (1/3 + 1  )/2 = 2/3
 *   0.75  tp1 fp1  (1/3 + 2/3)/2 = 1/2
 *   0.55  tp2 fp1  (2/3 + 2/3)/2 = 2/3
 *   0.375 tp2 fp2  (2/3 + 1/3)/2 = 1/2
 *   0.225 tp3 fp2  (1   + 1/3)/2 = 2/3
 *   0.05  tp3 fp3  (1   + 0  )/2 = 1/2
 * Max BA 2/3 is tied three ways; the rule picks the lowest threshold (more recall): 0.225.
 */
const A = { labels: [0, 0, 1, 0, 1, 1], probabilities: [0.1, 0.4, 0.35, 0.8, 0.7, 0.9] };

describe('chooseThreshold', () => {
  it('maxBalancedAccuracy (default) picks the midpoint, breaking ties toward recall', () => {
    const m = chooseThreshold(A.labels, A.probabilities);
    expect(m.threshold).toBeCloseTo(0.225, 12);
    expect(m.balancedAccuracy).toBeCloseTo(2 / 3, 12);
    expect(m.confusion).toEqual({ tp: 3, fp: 2, tn: 1, fn: 0 });
  });

  it('youden gives the same threshold (J = 2 BA - 1)', () => {
    expect(chooseThreshold(A.labels, A.probabilities, 'youden').threshold).toBe(
      chooseThreshold(A.labels, A.probabilities, 'maxBalancedAccuracy').threshold,
    );
  });

  it('recallTarget picks the highest threshold reaching the recall', () => {
    expect(chooseThreshold(A.labels, A.probabilities, { recallTarget: 0.3 }).threshold).toBeCloseTo(0.85, 12);
    const m = chooseThreshold(A.labels, A.probabilities, { recallTarget: 0.6 });
    expect(m.threshold).toBeCloseTo(0.55, 12);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    expect(chooseThreshold(A.labels, A.probabilities, { recallTarget: 2 / 3 }).threshold).toBeCloseTo(0.55, 12);
    expect(chooseThreshold(A.labels, A.probabilities, { recallTarget: 1 }).threshold).toBeCloseTo(0.225, 12);
    expect(chooseThreshold(A.labels, A.probabilities, { recallTarget: 0 }).threshold).toBeCloseTo(0.95, 12);
  });

  it('maxSubclassFalseAlarmRate: the best balanced accuracy at which no large-enough safe subclass is over the ceiling', () => {
    // Danger 0.9 0.7 0.6 0.3; safe "song" 0.8 0.65 0.2 0.1, safe "cough" 0.5 0.4 0.15, safe "door" 0.95 (one clip).
    const labels = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    const probabilities = [0.9, 0.7, 0.6, 0.3, 0.8, 0.65, 0.2, 0.1, 0.5, 0.4, 0.15, 0.95];
    const subclasses = ['scream', 'scream', 'scream', 'scream', 'song', 'song', 'song', 'song', 'cough', 'cough', 'cough', 'door'];
    // Plain max BA: flag >= 0.3 -> tp4, fp 5 of 8 -> (1 + 3/8)/2 = 0.6875; flag >= 0.6 -> tp3, fp3 -> (3/4 + 5/8)/2
    // = 0.6875 too, ties go to the lower threshold: 0.25 (song 2/4 flagged, cough 2/3).
    expect(chooseThreshold(labels, probabilities).threshold).toBeCloseTo(0.25, 12);
    // Ceiling 25% over subclasses of 3+: song may have 1 of 4 flagged, cough 0 of 3 -> thresholds above 0.65;
    // among them flag >= 0.7 (tp2, fp song 0.8 + door 0.95) gives (1/2 + 6/8)/2 = 0.625, the best: threshold 0.675.
    const rule = { maxSubclassFalseAlarmRate: 0.25, minSubclassCount: 3 };
    const m = chooseThreshold(labels, probabilities, rule, subclasses);
    expect(m.threshold).toBeCloseTo(0.675, 12);
    expect(m.balancedAccuracy).toBeCloseTo(0.625, 12);
    // The one-clip door subclass is too small to judge; judged (minSubclassCount 1) it may not be flagged at all,
    // and every threshold below its 0.95 flags it: only flag-nothing is left.
    expect(chooseThreshold(labels, probabilities, { ...rule, minSubclassCount: 1 }, subclasses).threshold).toBeCloseTo(0.975, 12);
    // Without subclasses (or when nothing qualifies) it is plain max balanced accuracy.
    expect(chooseThreshold(labels, probabilities, rule).threshold).toBeCloseTo(0.25, 12);
    expect(chooseThreshold(labels, probabilities, { maxSubclassFalseAlarmRate: 0, minSubclassCount: 1 }, subclasses.map(() => 'all')).threshold).toBeCloseTo(0.975, 12);
    expect(() => chooseThreshold(labels, probabilities, rule, ['x'])).toThrow(SentinelError);
    expect(() => chooseThreshold(labels, probabilities, { maxSubclassFalseAlarmRate: 2, minSubclassCount: 1 }, subclasses)).toThrow(SentinelError);
  });

  it('minSubclassRecordings: a subclass cut from too few recordings is not judged', () => {
    // Same data; "song" is four slices of one recording, "cough" three recordings.
    const labels = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    const probabilities = [0.9, 0.7, 0.6, 0.3, 0.8, 0.65, 0.2, 0.1, 0.5, 0.4, 0.15, 0.95];
    const subclasses = ['scream', 'scream', 'scream', 'scream', 'song', 'song', 'song', 'song', 'cough', 'cough', 'cough', 'door'];
    const groups = ['a', 'b', 'c', 'd', 'song1', 'song1', 'song1', 'song1', 'c1', 'c2', 'c3', 'door1'];
    const rule = { maxSubclassFalseAlarmRate: 0.25, minSubclassCount: 3, minSubclassRecordings: 2 };
    // Only cough is judged (25% of 3 clips allows none flagged): thresholds above 0.5 qualify; the best
    // balanced accuracy among them is flag >= 0.6 (tp3, fp song 0.8, 0.65 + door 0.95: (3/4 + 5/8)/2 = 0.6875), 0.55.
    const m = chooseThreshold(labels, probabilities, rule, subclasses, groups);
    expect(m.threshold).toBeCloseTo(0.55, 12);
    expect(m.balancedAccuracy).toBeCloseTo(0.6875, 12);
    // Judging song as before (one recording is enough) gives the stricter threshold again.
    expect(chooseThreshold(labels, probabilities, { ...rule, minSubclassRecordings: 1 }, subclasses, groups).threshold).toBeCloseTo(0.675, 12);
    expect(() => chooseThreshold(labels, probabilities, rule, subclasses)).toThrow(SentinelError);
  });

  it('separates a separable set between the classes', () => {
    const m = chooseThreshold([0, 0, 1, 1], [0.1, 0.3, 0.6, 0.8]);
    expect(m.threshold).toBeCloseTo(0.45, 12);
    expect(m.balancedAccuracy).toBe(1);
    expect(m.rocAuc).toBe(1);
  });

  it('never sits on a score, so tied scores stay on one side', () => {
    const p = [0.2, 0.5, 0.5, 0.5, 0.9];
    const m = chooseThreshold([0, 1, 0, 1, 1], p);
    expect(p).not.toContain(m.threshold);
    // Flagging >= 0.5 gives tp3 fp1 -> BA (1 + 1/2)/2 = 3/4; flagging only 0.9 gives (1/3 + 1)/2 = 2/3.
    expect(m.threshold).toBeCloseTo(0.35, 12);
    expect(m.balancedAccuracy).toBeCloseTo(0.75, 12);
  });

  it('keeps thresholds in [0, 1]: flag-all at 0 when the lowest score is 0, no flag-nothing when the top is 1', () => {
    expect(chooseThreshold([1, 1], [0, 0.4], { recallTarget: 1 }).threshold).toBe(0);
    // Safe only, top score 1: flagging nothing is impossible, so the best is flagging just the 1.
    const m = chooseThreshold([0, 0], [1, 0.5]);
    expect(m.threshold).toBeCloseTo(0.75, 12);
    expect(m.confusion).toEqual({ tp: 0, fp: 1, tn: 1, fn: 0 });
  });

  it('with safe examples only, maxBalancedAccuracy flags nothing; recallTarget refuses', () => {
    const m = chooseThreshold([0, 0, 0], [0.2, 0.6, 0.4]);
    expect(m.threshold).toBeCloseTo(0.8, 12);
    expect(m.confusion.fp).toBe(0);
    expect(() => chooseThreshold([0, 0, 0], [0.2, 0.6, 0.4], { recallTarget: 0.9 })).toThrow(/needs danger examples/);
  });

  it('finds the true maximum of balanced accuracy on random data (vs. a fine grid)', () => {
    const rng = createRng(11);
    for (let trial = 0; trial < 10; trial++) {
      const n = 40;
      const y = Array.from({ length: n }, () => (rng.uniform() < 0.4 ? 1 : 0));
      const p = y.map((l) => Math.min(1, Math.max(0, rng.normal(l ? 0.6 : 0.4, 0.2))));
      const m = chooseThreshold(y, p);
      let gridBest = 0;
      for (let t = 0; t <= 1.0001; t += 0.001) gridBest = Math.max(gridBest, evaluate({ labels: y, probabilities: p, threshold: t }).balancedAccuracy);
      expect(m.balancedAccuracy).toBeGreaterThanOrEqual(gridBest - 1e-12);
    }
  });

  it('rejects an unknown rule and an out-of-range recall target with typed errors', () => {
    for (const rule of ['best' as never, { recallTarget: 1.5 }, { recallTarget: Number.NaN }]) {
      try {
        chooseThreshold(A.labels, A.probabilities, rule);
        expect.unreachable('should throw');
      } catch (e) {
        expect(e).toBeInstanceOf(SentinelError);
        expect((e as SentinelError).code).toBe('INVALID_ARGUMENT');
      }
    }
  });
});
