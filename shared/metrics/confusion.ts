import type { Confusion } from './types.ts';

/** Counts at a threshold: an example is predicted danger when its probability is >= threshold. */
export function confusionAt(y: Uint8Array, p: Float64Array, threshold: number): Confusion {
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < y.length; i++) {
    const flagged = p[i] >= threshold;
    if (y[i] === 1) {
      if (flagged) c.tp++;
      else c.fn++;
    } else if (flagged) c.fp++;
    else c.tn++;
  }
  return c;
}

/** a / b, with 0 when b is 0 (sklearn's zero_division=0; see types.ts). */
export function safeDivide(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

export interface ThresholdScores {
  accuracy: number;
  balancedAccuracy: number;
  precision: number;
  recall: number;
  f1: number;
}

/** The threshold-dependent scores of a confusion matrix. */
export function scoresFromConfusion(c: Confusion): ThresholdScores {
  const positives = c.tp + c.fn;
  const negatives = c.fp + c.tn;
  const precision = safeDivide(c.tp, c.tp + c.fp);
  const recall = safeDivide(c.tp, positives);
  const specificity = safeDivide(c.tn, negatives);
  // Mean recall over the classes present, as sklearn: with one class only, it is that class's recall.
  const present = (positives > 0 ? 1 : 0) + (negatives > 0 ? 1 : 0);
  const balancedAccuracy = safeDivide((positives > 0 ? recall : 0) + (negatives > 0 ? specificity : 0), present);
  return {
    accuracy: safeDivide(c.tp + c.tn, positives + negatives),
    balancedAccuracy,
    precision,
    recall,
    f1: safeDivide(2 * precision * recall, precision + recall),
  };
}
