import { describe, expect, it } from 'vitest';
import { SentinelError } from '../../shared/errors.ts';
import { evaluate, SCALAR_METRIC_KEYS } from '../../shared/metrics/index.ts';
import { averagePrecision, rocAuc, scoreGroups } from '../../shared/metrics/ranking.ts';
import { createRng } from '../../shared/training/random.ts';

/**
 * Example A, computed by hand. Sorted by score, descending (label in brackets):
 *   0.9[1] 0.8[0] 0.7[1] 0.4[0] 0.35[1] 0.1[0]      P = 3 danger, N = 3 safe
 * ROC AUC (Mann-Whitney): danger 0.9 beats 3 safe, 0.7 beats 2 (0.4, 0.1), 0.35 beats 1 (0.1) -> 6 / (3*3) = 2/3.
 * AP: precision at each danger hit (rank 1: 1/1, rank 3: 2/3, rank 5: 3/5), each adding recall 1/3:
 *   (1 + 2/3 + 3/5) / 3 = (15 + 10 + 9) / 45 = 34/45.
 * At threshold 0.5: flagged 0.9, 0.8, 0.7 -> tp 2, fp 1, tn 2, fn 1; accuracy 4/6, precision 2/3, recall 2/3,
 *   f1 2/3, specificity 2/3, balanced accuracy 2/3.
 * ROC points (fp/N, tp/P) per distinct score: (0,0) (0,1/3)@.9 (1/3,1/3)@.8 (1/3,2/3)@.7 (2/3,2/3)@.4 (2/3,1)@.35
 *   (1,1)@.1 — every point is a corner of the staircase, so all 7 stay.
 */
const A = { labels: [0, 0, 1, 0, 1, 1], probabilities: [0.1, 0.4, 0.35, 0.8, 0.7, 0.9] };

describe('evaluate: hand-computed example A', () => {
  const m = evaluate({ ...A, threshold: 0.5 });

  it('counts the confusion matrix with probability >= threshold as danger', () => {
    expect(m.confusion).toEqual({ tp: 2, fp: 1, tn: 2, fn: 1 });
    expect(m.n).toBe(6);
    expect(m.threshold).toBe(0.5);
  });

  it('computes the threshold scores', () => {
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.precision).toBeCloseTo(2 / 3, 12);
    expect(m.recall).toBeCloseTo(2 / 3, 12);
    expect(m.f1).toBeCloseTo(2 / 3, 12);
    expect(m.balancedAccuracy).toBeCloseTo(2 / 3, 12);
  });

  it('computes ROC AUC and average precision', () => {
    expect(m.rocAuc).toBeCloseTo(2 / 3, 12);
    expect(m.prAuc).toBeCloseTo(34 / 45, 12);
  });

  it('returns the ROC staircase corners from (0,0) to (1,1)', () => {
    const pts = m.rocCurve.map((q) => [q.fpr, q.tpr, q.threshold]);
    const t = 1 / 3;
    expect(pts).toEqual([
      [0, 0, null],
      [0, t, 0.9],
      [t, t, 0.8],
      [t, 2 * t, 0.7],
      [2 * t, 2 * t, 0.4],
      [2 * t, 1, 0.35],
      [1, 1, 0.1],
    ]);
  });

  it('has exactly the documented keys (the JSON contract of the eval CLI and the API)', () => {
    expect(Object.keys(m).sort()).toEqual(
      [
        'n', 'accuracy', 'balancedAccuracy', 'precision', 'recall', 'f1', 'rocAuc', 'prAuc', 'threshold',
        'confusion', 'rocCurve', 'perSubclass', 'falseAlarmsPerHour',
      ].sort(),
    );
    for (const k of SCALAR_METRIC_KEYS) expect(typeof m[k]).toBe('number');
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
  });

  it('moves with the threshold: at 0.75 only 0.9 and 0.8 are flagged', () => {
    const h = evaluate({ ...A, threshold: 0.75 });
    expect(h.confusion).toEqual({ tp: 1, fp: 1, tn: 2, fn: 2 });
    // Threshold-free scores do not depend on the threshold.
    expect(h.rocAuc).toBe(m.rocAuc);
    expect(h.prAuc).toBe(m.prAuc);
  });

  it('counts a probability exactly at the threshold as danger', () => {
    expect(evaluate({ ...A, threshold: 0.7 }).confusion).toEqual({ tp: 2, fp: 1, tn: 2, fn: 1 });
  });

  it('accepts Float32Array probabilities', () => {
    const f = evaluate({ labels: A.labels, probabilities: Float32Array.from(A.probabilities), threshold: 0.5 });
    expect(f.confusion).toEqual(m.confusion);
    expect(f.rocAuc).toBeCloseTo(2 / 3, 12);
  });
});

describe('evaluate: ranking metrics against sklearn-style definitions', () => {
  it('matches the scikit-learn documentation example (roc_auc 0.75, average_precision 0.8333)', () => {
    // y = [0,0,1,1], s = [0.1,0.4,0.35,0.8]. By hand: danger 0.8 beats both safe, 0.35 beats 0.1 -> 3/4.
    // AP: ranks 0.8[1] P=1 R=1/2, 0.4[0], 0.35[1] P=2/3 R=1 -> 1/2*1 + 1/2*2/3 = 5/6.
    const m = evaluate({ labels: [0, 0, 1, 1], probabilities: [0.1, 0.4, 0.35, 0.8], threshold: 0.5 });
    expect(m.rocAuc).toBeCloseTo(0.75, 12);
    expect(m.prAuc).toBeCloseTo(5 / 6, 12);
  });

  it('counts a tied danger/safe pair as 1/2 (Mann-Whitney) and groups tied scores in AP', () => {
    // y = [1,0,1,0], s = [0.5,0.5,0.8,0.2]. Danger 0.8 beats both safe: 2; danger 0.5 beats 0.2 (1) and ties the
    // safe 0.5 (1/2): 1.5 -> AUC = 3.5/4 = 0.875.
    // AP over distinct thresholds: 0.8 -> tp1 fp0 (P=1, R=1/2); 0.5 -> tp2 fp1 (P=2/3, R=1); 0.2 adds no recall.
    //   AP = 1/2*1 + 1/2*2/3 = 5/6 (the tie is not split into an optimistic order).
    const m = evaluate({ labels: [1, 0, 1, 0], probabilities: [0.5, 0.5, 0.8, 0.2], threshold: 0.5 });
    expect(m.rocAuc).toBeCloseTo(0.875, 12);
    expect(m.prAuc).toBeCloseTo(5 / 6, 12);
    expect(m.rocCurve).toEqual([
      { fpr: 0, tpr: 0, threshold: null },
      { fpr: 0, tpr: 0.5, threshold: 0.8 },
      { fpr: 0.5, tpr: 1, threshold: 0.5 },
      { fpr: 1, tpr: 1, threshold: 0.2 },
    ]);
  });

  it('gives AUC 0.5 and AP = prevalence when every score is equal', () => {
    const m = evaluate({ labels: [1, 0, 0, 0], probabilities: [0.3, 0.3, 0.3, 0.3], threshold: 0.5 });
    expect(m.rocAuc).toBe(0.5);
    expect(m.prAuc).toBeCloseTo(0.25, 12);
    expect(m.rocCurve).toEqual([
      { fpr: 0, tpr: 0, threshold: null },
      { fpr: 1, tpr: 1, threshold: 0.3 },
    ]);
  });

  it('drops collinear points: a perfect ranking is (0,0) -> (0,1) -> (1,1)', () => {
    // Full curve: (0,0) (0,1/3) (0,2/3) (0,1) (1/2,1) (1,1); only the corners remain.
    const m = evaluate({ labels: [1, 1, 1, 0, 0], probabilities: [0.9, 0.8, 0.7, 0.3, 0.2], threshold: 0.5 });
    expect(m.rocAuc).toBe(1);
    expect(m.prAuc).toBe(1);
    expect(m.rocCurve).toEqual([
      { fpr: 0, tpr: 0, threshold: null },
      { fpr: 0, tpr: 1, threshold: 0.7 },
      { fpr: 1, tpr: 1, threshold: 0.2 },
    ]);
  });

  it('gives AUC 0 for a perfectly inverted ranking', () => {
    const m = evaluate({ labels: [0, 0, 1, 1], probabilities: [0.9, 0.8, 0.2, 0.1], threshold: 0.5 });
    expect(m.rocAuc).toBe(0);
    // AP: danger at ranks 3 and 4: (1/3 + 2/4) / 2 = 5/12.
    expect(m.prAuc).toBeCloseTo(5 / 12, 12);
  });

  it('agrees with brute-force definitions on random data with many ties', () => {
    const rng = createRng(7);
    for (let trial = 0; trial < 20; trial++) {
      const n = rng.int(2, 60);
      const y = Array.from({ length: n }, () => (rng.uniform() < 0.3 ? 1 : 0));
      y[0] = 1;
      y[1] = 0;
      // Scores on a coarse grid so ties are common.
      const p = Array.from({ length: n }, () => rng.int(0, 10) / 10);
      const m = evaluate({ labels: y, probabilities: p, threshold: 0.5 });

      // ROC AUC: count every (danger, safe) pair.
      let wins = 0;
      let pairs = 0;
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++)
          if (y[i] === 1 && y[j] === 0) {
            pairs++;
            wins += p[i] > p[j] ? 1 : p[i] === p[j] ? 0.5 : 0;
          }
      expect(m.rocAuc).toBeCloseTo(wins / pairs, 12);

      // AP: sum over distinct thresholds t (descending) of (R(t) - R(prev)) * P(t), each from a full count.
      const P = y.filter((v) => v === 1).length;
      let ap = 0;
      let prevR = 0;
      for (const t of [...new Set(p)].sort((a, b) => b - a)) {
        const tp = y.filter((v, i) => v === 1 && p[i] >= t).length;
        const flagged = p.filter((s) => s >= t).length;
        ap += (tp / P - prevR) * (tp / flagged);
        prevR = tp / P;
      }
      expect(m.prAuc).toBeCloseTo(ap, 12);

      // The compact curve keeps the area: trapezoids over its points = AUC.
      let area = 0;
      for (let k = 1; k < m.rocCurve.length; k++) {
        const a = m.rocCurve[k - 1];
        const b = m.rocCurve[k];
        area += (b.fpr - a.fpr) * (a.tpr + b.tpr) / 2;
      }
      expect(area).toBeCloseTo(wins / pairs, 12);
      // Monotone from (0,0) to (1,1).
      expect(m.rocCurve[0]).toMatchObject({ fpr: 0, tpr: 0 });
      expect(m.rocCurve.at(-1)).toMatchObject({ fpr: 1, tpr: 1 });
      for (let k = 1; k < m.rocCurve.length; k++) {
        expect(m.rocCurve[k].fpr).toBeGreaterThanOrEqual(m.rocCurve[k - 1].fpr);
        expect(m.rocCurve[k].tpr).toBeGreaterThanOrEqual(m.rocCurve[k - 1].tpr);
      }
    }
  });
});

describe('evaluate: edge cases', () => {
  it('with no danger examples: recall/precision/f1 are 0, balanced accuracy is specificity, AUCs are null', () => {
    // Safe only; 0.6 >= 0.5 is one false alarm out of 4 -> specificity 3/4.
    const m = evaluate({ labels: [0, 0, 0, 0], probabilities: [0.1, 0.2, 0.6, 0.3], threshold: 0.5 });
    expect(m.confusion).toEqual({ tp: 0, fp: 1, tn: 3, fn: 0 });
    expect(m.recall).toBe(0);
    expect(m.precision).toBe(0);
    expect(m.f1).toBe(0);
    expect(m.accuracy).toBe(0.75);
    expect(m.balancedAccuracy).toBe(0.75);
    expect(m.rocAuc).toBeNull();
    expect(m.prAuc).toBeNull();
  });

  it('with danger examples only: rocAuc null, AP = 1 (every flagged one is danger), BA = recall', () => {
    const m = evaluate({ labels: [1, 1, 1, 1], probabilities: [0.9, 0.2, 0.6, 0.3], threshold: 0.5 });
    expect(m.confusion).toEqual({ tp: 2, fp: 0, tn: 0, fn: 2 });
    expect(m.recall).toBe(0.5);
    expect(m.precision).toBe(1);
    expect(m.balancedAccuracy).toBe(0.5);
    expect(m.rocAuc).toBeNull();
    expect(m.prAuc).toBe(1);
  });

  it('with nothing flagged: precision is 0 (zero division), not NaN', () => {
    const m = evaluate({ ...A, threshold: 0.95 });
    expect(m.confusion).toEqual({ tp: 0, fp: 0, tn: 3, fn: 3 });
    expect(m.precision).toBe(0);
    expect(m.f1).toBe(0);
    expect(m.balancedAccuracy).toBe(0.5);
  });

  it('handles a single example', () => {
    const m = evaluate({ labels: [1], probabilities: [0.7], threshold: 0.5 });
    expect(m.accuracy).toBe(1);
    expect(m.rocAuc).toBeNull();
    expect(m.prAuc).toBe(1);
  });

  it('ranking helpers report null for an absent class', () => {
    const g = scoreGroups(new Uint8Array([0, 0]), new Float64Array([0.2, 0.4]));
    expect(rocAuc(g)).toBeNull();
    expect(averagePrecision(g)).toBeNull();
  });
});

describe('evaluate: per subclass and false alarms per hour', () => {
  it('reports errors per subclass: false-alarm rate for safe ones, miss rate for danger ones', () => {
    const m = evaluate({
      labels: [1, 1, 1, 0, 0, 0, 0],
      probabilities: [0.9, 0.4, 0.8, 0.7, 0.1, 0.2, 0.6],
      subclasses: ['scream', 'scream', 'gunshot', 'dog', 'dog', 'traffic', 'dog'],
      threshold: 0.5,
    });
    expect(m.perSubclass).toEqual({
      scream: { label: 'danger', n: 2, errors: 1, errorRate: 0.5 },
      gunshot: { label: 'danger', n: 1, errors: 0, errorRate: 0 },
      dog: { label: 'safe', n: 3, errors: 2, errorRate: 2 / 3 },
      traffic: { label: 'safe', n: 1, errors: 0, errorRate: 0 },
    });
  });

  it('marks a subclass given both labels as mixed and survives names like __proto__', () => {
    const m = evaluate({
      labels: [1, 0, 0],
      probabilities: [0.9, 0.9, 0.1],
      subclasses: ['shout', 'shout', '__proto__'],
      threshold: 0.5,
    });
    expect(m.perSubclass.shout).toEqual({ label: 'mixed', n: 2, errors: 1, errorRate: 0.5 });
    expect(Object.keys(m.perSubclass).sort()).toEqual(['__proto__', 'shout']);
    expect(m.perSubclass['__proto__']).toEqual({ label: 'safe', n: 1, errors: 0, errorRate: 0 });
  });

  it('divides false alarms by hours of safe audio only', () => {
    // Safe: 1800 s + 1800 s = 1 h with one false alarm (0.9); the danger clip's hour does not count.
    const m = evaluate({
      labels: [0, 0, 1],
      probabilities: [0.9, 0.1, 0.9],
      durationsSeconds: [1800, 1800, 3600],
      threshold: 0.5,
    });
    expect(m.falseAlarmsPerHour).toBe(1);
    const quarter = evaluate({ labels: [0, 0], probabilities: [0.9, 0.8], durationsSeconds: [450, 450], threshold: 0.5 });
    expect(quarter.falseAlarmsPerHour).toBe(8); // 2 false alarms in 15 min
  });

  it('is null without durations and 0 without safe audio', () => {
    expect(evaluate({ ...A, threshold: 0.5 }).falseAlarmsPerHour).toBeNull();
    expect(
      evaluate({ labels: [1, 1], probabilities: [0.9, 0.1], durationsSeconds: [3, 3], threshold: 0.5 }).falseAlarmsPerHour,
    ).toBe(0);
  });
});

describe('evaluate: bad input', () => {
  const bad = (input: Parameters<typeof evaluate>[0], pattern: RegExp) => {
    let err: unknown;
    try {
      evaluate(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SentinelError);
    expect((err as SentinelError).code).toBe('INVALID_ARGUMENT');
    expect((err as SentinelError).message).toMatch(pattern);
  };

  it('rejects mismatched lengths, empty input, bad labels and probabilities, bad threshold', () => {
    bad({ labels: [0, 1], probabilities: [0.5], threshold: 0.5 }, /same length/);
    bad({ labels: [], probabilities: [], threshold: 0.5 }, /no examples/);
    bad({ labels: [0, 2], probabilities: [0.1, 0.2], threshold: 0.5 }, /label at index 1/);
    bad({ labels: [0, 1], probabilities: [0.1, Number.NaN], threshold: 0.5 }, /probability at index 1/);
    bad({ labels: [0, 1], probabilities: [0.1, 1.5], threshold: 0.5 }, /probability at index 1/);
    bad({ labels: [0, 1], probabilities: [0.1, 0.2], threshold: Number.NaN }, /threshold/);
    bad({ labels: [0, 1], probabilities: [0.1, 0.2], threshold: 0.5, subclasses: ['a'] }, /subclasses/);
    bad({ labels: [0, 1], probabilities: [0.1, 0.2], threshold: 0.5, durationsSeconds: [1, -1] }, /duration at index 1/);
  });
});
