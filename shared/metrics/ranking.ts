/**
 * Threshold-free ranking metrics. All work on "score groups": the distinct probabilities in descending order with the
 * cumulative danger (tp) / safe (fp) counts of flagging every example at or above that probability. Grouping equal
 * scores is what makes ties behave: examples with one score are flagged together or not at all.
 */
import type { RocPoint } from './types.ts';

export interface ScoreGroups {
  /** Distinct scores, descending. */
  scores: Float64Array;
  /** Danger examples with score >= scores[k]. */
  tpCum: Float64Array;
  /** Safe examples with score >= scores[k]. */
  fpCum: Float64Array;
  positives: number;
  negatives: number;
}

export function scoreGroups(y: Uint8Array, p: Float64Array): ScoreGroups {
  const order = Array.from(p.keys()).sort((a, b) => p[b] - p[a]);
  const scores: number[] = [];
  const tpCum: number[] = [];
  const fpCum: number[] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    if (y[i] === 1) tp++;
    else fp++;
    // Close the group at the last example of each distinct score.
    if (k === order.length - 1 || p[order[k + 1]] !== p[i]) {
      scores.push(p[i]);
      tpCum.push(tp);
      fpCum.push(fp);
    }
  }
  return {
    scores: Float64Array.from(scores),
    tpCum: Float64Array.from(tpCum),
    fpCum: Float64Array.from(fpCum),
    positives: tp,
    negatives: fp,
  };
}

/**
 * ROC AUC as the Mann-Whitney statistic: P(score of a random danger example > score of a random safe one), a tie
 * counting 1/2. Equal to the trapezoidal area under the ROC curve (sklearn's roc_auc_score). Null if a class is absent.
 */
export function rocAuc(g: ScoreGroups): number | null {
  if (g.positives === 0 || g.negatives === 0) return null;
  let wins = 0;
  let prevTp = 0;
  let prevFp = 0;
  for (let k = 0; k < g.scores.length; k++) {
    const pos = g.tpCum[k] - prevTp;
    const neg = g.fpCum[k] - prevFp;
    // Each danger example of this group beats every safe one scored lower and ties with the safe ones of its group.
    wins += pos * (g.negatives - g.fpCum[k] + 0.5 * neg);
    prevTp = g.tpCum[k];
    prevFp = g.fpCum[k];
  }
  return wins / (g.positives * g.negatives);
}

/**
 * Average precision, as sklearn's average_precision_score: AP = sum_k (R_k - R_{k-1}) * P_k over the distinct
 * thresholds (descending), with R_0 = 0. A step sum, not the trapezoid, which is optimistic for PR curves.
 * Null without danger examples (recall undefined).
 */
export function averagePrecision(g: ScoreGroups): number | null {
  if (g.positives === 0) return null;
  let ap = 0;
  let prevTp = 0;
  for (let k = 0; k < g.scores.length; k++) {
    const tp = g.tpCum[k];
    const precision = tp / (tp + g.fpCum[k]);
    ap += ((tp - prevTp) / g.positives) * precision;
    prevTp = tp;
  }
  return ap;
}

/**
 * The ROC curve's corners: (0,0) "flag nothing", then one point per distinct score, dropping points that lie on a
 * straight horizontal/vertical run between their neighbours (sklearn's drop_intermediate): the area and every
 * achievable operating corner are kept. A rate whose class is absent is 0 (see types.ts).
 */
export function rocCurve(g: ScoreGroups): RocPoint[] {
  const fpr = (fp: number) => (g.negatives === 0 ? 0 : fp / g.negatives);
  const tpr = (tp: number) => (g.positives === 0 ? 0 : tp / g.positives);
  const all: { fp: number; tp: number; threshold: number | null }[] = [{ fp: 0, tp: 0, threshold: null }];
  for (let k = 0; k < g.scores.length; k++) all.push({ fp: g.fpCum[k], tp: g.tpCum[k], threshold: g.scores[k] });
  const kept: RocPoint[] = [];
  for (let k = 0; k < all.length; k++) {
    const isEnd = k === 0 || k === all.length - 1;
    // Counts are integers, so exact second differences are safe (no float tolerance needed).
    const bends =
      !isEnd &&
      (all[k + 1].fp - 2 * all[k].fp + all[k - 1].fp !== 0 || all[k + 1].tp - 2 * all[k].tp + all[k - 1].tp !== 0);
    if (isEnd || bends) kept.push({ fpr: fpr(all[k].fp), tpr: tpr(all[k].tp), threshold: all[k].threshold });
  }
  return kept;
}
