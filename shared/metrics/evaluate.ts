import { invalidArgument } from '../errors.ts';
import { confusionAt, safeDivide, scoresFromConfusion } from './confusion.ts';
import { averagePrecision, rocAuc, rocCurve, scoreGroups } from './ranking.ts';
import type { EvaluateInput, Metrics, SubclassMetrics } from './types.ts';
import { validateScores, validateThreshold } from './validate.ts';

/** Scores a set of predictions at one threshold (danger when probability >= threshold). See types.ts for conventions. */
export function evaluate(input: EvaluateInput): Metrics {
  const { y, p } = validateScores(input.labels, input.probabilities);
  validateThreshold(input.threshold);
  const confusion = confusionAt(y, p, input.threshold);
  const groups = scoreGroups(y, p);
  return {
    n: y.length,
    ...scoresFromConfusion(confusion),
    rocAuc: rocAuc(groups),
    prAuc: averagePrecision(groups),
    threshold: input.threshold,
    confusion,
    rocCurve: rocCurve(groups),
    perSubclass: input.subclasses ? perSubclass(y, p, input.threshold, input.subclasses) : {},
    falseAlarmsPerHour: input.durationsSeconds
      ? falseAlarmsPerHour(y, confusion.fp, input.durationsSeconds)
      : null,
  };
}

/** Each subclass's examples, errors and error rate at `threshold` (for a safe subclass: its false-alarm rate). */
export function perSubclass(
  y: Uint8Array,
  p: Float64Array,
  threshold: number,
  subclasses: readonly string[],
): Record<string, SubclassMetrics> {
  if (!Array.isArray(subclasses) || subclasses.length !== y.length) {
    throw invalidArgument(`subclasses must be an array of ${y.length} strings (one per example)`);
  }
  // A null-prototype map: a subclass named "constructor" or "__proto__" must not hit Object.prototype.
  const out: Record<string, SubclassMetrics> = Object.create(null);
  for (let i = 0; i < y.length; i++) {
    const name = subclasses[i];
    if (typeof name !== 'string') throw invalidArgument(`subclass at index ${i} is not a string`, { index: i });
    const label = y[i] === 1 ? 'danger' : 'safe';
    const s = (out[name] ??= { label, n: 0, errors: 0, errorRate: 0 });
    if (s.label !== label) s.label = 'mixed';
    s.n++;
    if ((p[i] >= threshold ? 1 : 0) !== y[i]) s.errors++;
  }
  for (const s of Object.values(out)) s.errorRate = s.errors / s.n;
  // Plain object again so it serialises and compares like any other JSON object.
  return { ...out };
}

function falseAlarmsPerHour(y: Uint8Array, falseAlarms: number, durations: ArrayLike<number>): number {
  if (durations == null || durations.length !== y.length) {
    throw invalidArgument(`durationsSeconds must have ${y.length} entries (one per example)`);
  }
  let safeSeconds = 0;
  for (let i = 0; i < y.length; i++) {
    const d = durations[i];
    if (typeof d !== 'number' || !Number.isFinite(d) || d < 0) {
      throw invalidArgument(`duration at index ${i} is ${String(d)}, expected seconds >= 0`, { index: i });
    }
    if (y[i] === 0) safeSeconds += d;
  }
  return safeDivide(falseAlarms, safeSeconds / 3600);
}
