/**
 * The promotion gate's rule and its words: pure, so the worker decides with it and the console says the same thing.
 * The scores come from worker/gate.ts (both models on the same reference clips, each at its own threshold).
 */
import { WORKER } from '../config.ts';
import type { GateDecision } from '../ports/db-schema.ts';
import type { Label } from '../types.ts';

export interface GateRule {
  metric: 'balancedAccuracy' | 'accuracy' | 'f1' | 'recall' | 'precision';
  /** The candidate must beat the current model by at least this (> 0: a tie never promotes). */
  margin: number;
  minClipsPerClass: number;
}

export const DEFAULT_GATE_RULE: Readonly<GateRule> = Object.freeze({
  metric: WORKER.gate.metric,
  margin: WORKER.gate.margin,
  minClipsPerClass: WORKER.gate.minClipsPerClass,
});

/** Floating-point slack: 0.96 - 0.94 is 0.0199999… and must count as the 0.02 margin. */
const EPSILON = 1e-9;

export function decidePromotion(scores: { candidate: number; current: number; clips: Record<Label, number> }, rule: GateRule): GateDecision['outcome'] {
  if (!(rule.margin > 0)) throw new RangeError(`The gate's margin must be above 0 (a tie must not promote), got ${rule.margin}.`);
  if (scores.clips.safe < rule.minClipsPerClass || scores.clips.danger < rule.minClipsPerClass) return 'too_few_clips';
  return scores.candidate - scores.current >= rule.margin - EPSILON ? 'promoted' : 'kept';
}

/** Each metric's name in words, for the console and logs. */
export const METRIC_NAMES: Readonly<Record<string, string>> = {
  balancedAccuracy: 'balanced accuracy',
  accuracy: 'accuracy',
  f1: 'F1',
  recall: 'recall',
  precision: 'precision',
  rocAuc: 'ROC AUC',
  prAuc: 'PR AUC',
};

/** Two decimals, or three when two would show different scores as equal. */
function scorePair(a: number, b: number): [string, string] {
  const digits = a !== b && a.toFixed(2) === b.toFixed(2) ? 3 : 2;
  return [a.toFixed(digits), b.toFixed(digits)];
}

/**
 * The decision in a sentence, e.g. "Not promoted: the new model scored 0.91 balanced accuracy on the 412 reference
 * clips, the current one 0.93 (needs +0.02). …" or "Kept the current model: the reference set has 4 clips …".
 */
export function describeGateDecision(d: GateDecision): string {
  const metric = METRIC_NAMES[d.metric] ?? d.metric;
  const n = d.clips.safe + d.clips.danger;
  const [candidate, current] = scorePair(d.candidate, d.current);
  const scores = `the new model scored ${candidate} ${metric} on the ${n} reference clips, the current one ${current}`;
  switch (d.outcome) {
    case 'promoted':
      return `Promoted: ${scores} (needed +${d.margin}). The new model now answers every prediction.`;
    case 'kept':
      return `Not promoted: ${scores} (needs +${d.margin}). The current model stays; the new one can still be promoted by hand on the Models page.`;
    case 'too_few_clips':
      return `Kept the current model: the reference set has ${n} clips (${d.clips.safe} safe, ${d.clips.danger} danger), and ${d.min_clips_per_class} per class are needed before a new model can replace it automatically (${scores}). The new model can be promoted by hand on the Models page; every retrain adds its held-out clips to the reference set.`;
  }
}
