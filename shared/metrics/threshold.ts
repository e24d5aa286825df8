import { invalidArgument } from '../errors.ts';
import { scoresFromConfusion } from './confusion.ts';
import { evaluate, perSubclass } from './evaluate.ts';
import { scoreGroups } from './ranking.ts';
import type { Metrics, ThresholdRule } from './types.ts';
import { validateScores } from './validate.ts';

/** Float tolerance when comparing scores computed from integer counts (equal in exact arithmetic). */
const EPS = 1e-12;

interface Candidate {
  threshold: number;
  tp: number;
  fp: number;
}

/**
 * Picks a decision threshold on labelled probabilities by `rule` (see ThresholdRule) and returns the metrics at it.
 *
 * Candidates are the operating points the data can tell apart: flagging the top k distinct scores, k = 0..m. Each
 * threshold sits midway between the lowest flagged and the highest unflagged distinct score (0 <-> lowest score,
 * highest score <-> 1 at the ends), not on a score itself: a new example scoring like a training one is not on a knife
 * edge, and thresholds stay in [0, 1]. ("Flag nothing" is unavailable when the top score is exactly 1.)
 * Ties between candidates go to the lower threshold (more recall): for a distress detector a miss costs more than a
 * false alarm.
 */
export function chooseThreshold(
  labels: ArrayLike<number>,
  probabilities: ArrayLike<number>,
  rule: ThresholdRule = 'maxBalancedAccuracy',
  subclasses?: readonly (string | undefined)[],
  groups?: readonly string[],
): Metrics {
  const { y, p } = validateScores(labels, probabilities);
  const g = scoreGroups(y, p);
  const candidates = thresholdCandidates(g.scores, g.tpCum, g.fpCum);
  const scored = candidates.map((c) => ({
    c,
    s: scoresFromConfusion({ tp: c.tp, fp: c.fp, fn: g.positives - c.tp, tn: g.negatives - c.fp }),
  }));

  // Youden's J = 2 * BA - 1: same argmax. Candidates run from high to low threshold, so ">= best - EPS" keeps the
  // lowest threshold among ties.
  const maxBa = (among: typeof scored) => {
    let best = among[0];
    for (const x of among) if (x.s.balancedAccuracy >= best.s.balancedAccuracy - EPS) best = x;
    return best.c;
  };
  let chosen: Candidate;
  if (rule === 'maxBalancedAccuracy' || rule === 'youden') {
    chosen = maxBa(scored);
  } else if (rule !== null && typeof rule === 'object' && 'maxSubclassFalseAlarmRate' in rule) {
    const { maxSubclassFalseAlarmRate: ceiling, minSubclassCount: minCount, minSubclassRecordings: minRecordings = 1 } = rule;
    if (!(ceiling >= 0 && ceiling <= 1) || !(minCount >= 1)) {
      throw invalidArgument(`maxSubclassFalseAlarmRate must be in [0, 1] and minSubclassCount >= 1, got ${ceiling} and ${minCount}`);
    }
    if (subclasses !== undefined && subclasses.length !== y.length) {
      throw invalidArgument(`subclasses has ${subclasses.length} entries, expected ${y.length}`);
    }
    if (minRecordings > 1 && groups?.length !== y.length) {
      throw invalidArgument(`minSubclassRecordings needs every example's group (recording): got ${groups?.length ?? 0} for ${y.length} examples`);
    }
    // Judged: per subclass, its safe examples (those with a subclass), when there are enough of them.
    const known = Array.from(y.keys()).filter((i) => y[i] === 0 && subclasses?.[i] !== undefined);
    const ys = new Uint8Array(known.length); // all safe
    const ps = Float64Array.from(known, (i) => p[i]);
    const names = known.map((i) => subclasses![i]!);
    // Slices of one recording are one observation of a kind of sound: a subclass is judged with enough recordings.
    const recordings = new Map<string, Set<string>>();
    known.forEach((i, j) => recordings.set(names[j], (recordings.get(names[j]) ?? new Set()).add(groups?.[i] ?? String(i))));
    const judged = (name: string) => (recordings.get(name)?.size ?? 0) >= minRecordings;
    const underCeiling = (threshold: number) =>
      Object.entries(perSubclass(ys, ps, threshold, names)).every(([name, s]) => s.n < minCount || !judged(name) || s.errorRate <= ceiling + EPS);
    const within = known.length > 0 ? scored.filter((x) => underCeiling(x.c.threshold)) : [];
    chosen = maxBa(within.length > 0 ? within : scored);
  } else if (rule !== null && typeof rule === 'object' && typeof rule.recallTarget === 'number') {
    const target = rule.recallTarget;
    if (!Number.isFinite(target) || target < 0 || target > 1) {
      throw invalidArgument(`recallTarget is ${target}, expected a number in [0, 1]`);
    }
    if (g.positives === 0) throw invalidArgument('recallTarget needs danger examples (label 1); there are none');
    // Highest threshold first: the first candidate reaching the target has the fewest false alarms. The last
    // candidate flags everything (recall 1), so one always qualifies.
    const hit = scored.find((x) => x.s.recall >= target - EPS);
    chosen = (hit ?? scored[scored.length - 1]).c;
  } else {
    throw invalidArgument(`unknown threshold rule ${JSON.stringify(rule)}; use 'maxBalancedAccuracy', 'youden', { recallTarget } or { maxSubclassFalseAlarmRate, minSubclassCount }`);
  }
  return evaluate({ labels: y, probabilities: p, threshold: chosen.threshold });
}

/** Midpoint strictly above lo (if rounding lands on lo, use hi: flagging >= hi is the same set). */
function between(lo: number, hi: number): number {
  const mid = lo + (hi - lo) / 2;
  return mid > lo ? mid : hi;
}

/** Candidate thresholds from high to low with the counts they flag; exported for tests. */
export function thresholdCandidates(scores: Float64Array, tpCum: Float64Array, fpCum: Float64Array): Candidate[] {
  const m = scores.length;
  const out: Candidate[] = [];
  // Flag nothing: between the top score and 1 (impossible under ">=" in [0, 1] if the top score is 1).
  if (scores[0] < 1) out.push({ threshold: between(scores[0], 1), tp: 0, fp: 0 });
  for (let k = 1; k < m; k++) out.push({ threshold: between(scores[k], scores[k - 1]), tp: tpCum[k - 1], fp: fpCum[k - 1] });
  // Flag everything: midway between 0 and the lowest score (0 itself if the lowest score is 0).
  out.push({ threshold: scores[m - 1] / 2, tp: tpCum[m - 1], fp: fpCum[m - 1] });
  return out;
}
