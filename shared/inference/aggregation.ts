/**
 * How a recording's P(danger) comes from its windows' (the model's `aggregation`, chosen when it was trained):
 * - 'window': the highest window. One loud 3 s window decides.
 * - 'pair': the highest pair of adjacent heard windows, scored as the mean of their logits. With a 1 s hop two adjacent
 *   windows share 2 s of audio, so a sound has to convince the model twice; a single odd window counts for less.
 *   Measured on dev (docs/model-card.md, "Scoring a recording by adjacent pairs"): unseen sources rank better.
 *   A window the level gate skipped carries no evidence: a heard window with no heard neighbour is scored alone, and
 *   a recording of one window is that window. The skipped window stays a span of P 0 (as with 'window'): it splits
 *   events.
 * Pure and synchronous: the API, the CLI, the trainer's cross-validation and the browser's live monitor share it.
 */
import type { Aggregation } from '../model/types.ts';

/** A stretch of the recording and the P(danger) the aggregation gives it: a window, or a pair of adjacent windows. */
export interface ScoredSpan {
  start: number;
  end: number;
  probability: number;
}

// Logits of probabilities at float32's saturation stay finite, so a pair with a 0 or a 1 is still ordered.
const EPSILON = 1e-7;

function logit(p: number): number {
  const q = Math.min(Math.max(p, EPSILON), 1 - EPSILON);
  return Math.log(q / (1 - q));
}

/** P(danger) of two adjacent windows together: the sigmoid of their mean logit. */
export function pairProbability(a: number, b: number): number {
  return 1 / (1 + Math.exp(-(logit(a) + logit(b)) / 2));
}

/**
 * The spans a recording is scored on, in time order of their starts. `windows` in time order; `heard(i)` false for a
 * window the level gate skipped: a span of its own with P 0 under either aggregation.
 */
export function scoredSpans(
  windows: readonly { start: number; end: number; probability: number }[],
  aggregation: Aggregation,
  heard: (i: number) => boolean = () => true,
): ScoredSpan[] {
  if (aggregation === 'window') return windows.map(({ start, end, probability }, i) => ({ start, end, probability: heard(i) ? probability : 0 }));
  const spans: ScoredSpan[] = [];
  for (let i = 0; i < windows.length; i++) {
    const w = windows[i];
    if (!heard(i)) {
      spans.push({ start: w.start, end: w.end, probability: 0 });
      continue;
    }
    const next = i + 1 < windows.length && heard(i + 1) ? windows[i + 1] : undefined;
    if (next) spans.push({ start: w.start, end: next.end, probability: pairProbability(w.probability, next.probability) });
    else if (i === 0 || !heard(i - 1)) spans.push({ start: w.start, end: w.end, probability: w.probability });
  }
  return spans;
}

/** The recording's P(danger): its best span's (0 when nothing was heard). */
export function recordingProbability(spans: readonly ScoredSpan[]): number {
  let best = 0;
  for (const s of spans) best = Math.max(best, s.probability);
  return best;
}
