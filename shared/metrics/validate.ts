import { invalidArgument } from '../errors.ts';

/** Checks labels are 0/1 and probabilities finite in [0, 1], equal lengths, non-empty; returns plain number arrays. */
export function validateScores(labels: ArrayLike<number>, probabilities: ArrayLike<number>): {
  y: Uint8Array;
  p: Float64Array;
} {
  if (labels == null || probabilities == null || typeof labels.length !== 'number' || typeof probabilities.length !== 'number') {
    throw invalidArgument('labels and probabilities must be arrays');
  }
  if (labels.length !== probabilities.length) {
    throw invalidArgument(
      `labels (${labels.length}) and probabilities (${probabilities.length}) must have the same length`,
      { labels: labels.length, probabilities: probabilities.length },
    );
  }
  if (labels.length === 0) throw invalidArgument('no examples to evaluate');
  const y = new Uint8Array(labels.length);
  const p = new Float64Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l !== 0 && l !== 1) throw invalidArgument(`label at index ${i} is ${String(l)}, expected 0 (safe) or 1 (danger)`, { index: i });
    const v = probabilities[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) {
      throw invalidArgument(`probability at index ${i} is ${String(v)}, expected a number in [0, 1]`, { index: i });
    }
    y[i] = l;
    p[i] = v;
  }
  return { y, p };
}

export function validateThreshold(threshold: number): void {
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) {
    throw invalidArgument(`threshold is ${String(threshold)}, expected a finite number`);
  }
}
