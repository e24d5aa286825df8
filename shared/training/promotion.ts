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

const METRIC_NAMES: Record<string, string> = {
  balancedAccuracy: 'balanced accuracy',
  accuracy: 'accuracy',
  f1: 'F1',
  recall: 'recall',
  precision: 'precision',
};

/** The decision in a sentence, e.g. "Kept the current model: the candidate's balanced accuracy on 412 reference clips was 0.81 against 0.94 …". */
export function describeGateDecision(d: GateDecision): string {
  const metric = METRIC_NAMES[d.metric] ?? d.metric;
  const n = d.clips.safe + d.clips.danger;
  const figures = `the candidate's ${metric} on ${n} reference clips was ${d.candidate.toFixed(2)} against ${d.current.toFixed(2)}`;
  switch (d.outcome) {
    case 'promoted':
      return `Promoted: ${figures}, better by at least the ${d.margin} margin. It now answers every prediction.`;
    case 'kept':
      return `Kept the current model: ${figures}, not better by the ${d.margin} margin. The candidate can still be promoted by hand on the Models page.`;
    case 'too_few_clips':
      return `Kept the current model: only ${d.clips.safe} safe and ${d.clips.danger} danger reference clips, and at least ${d.min_clips_per_class} of each are needed to replace it (${figures}). The candidate can be promoted by hand on the Models page; every retrain adds its held-out clips to the reference set.`;
  }
}
