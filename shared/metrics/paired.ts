/**
 * How far a second reading of the same clips moved P(danger): a reference probability and another one per clip
 * (the same recording re-encoded, say) in, the size of the changes and the verdicts they flip out.
 */
import { invalidArgument } from '../errors.ts';
import { validateThreshold } from './validate.ts';

export interface PairedChange {
  /** Pairs compared. */
  n: number;
  /** Mean of |other - reference|. */
  meanAbsDelta: number;
  /** Largest |other - reference|. */
  maxAbsDelta: number;
  /** Index of the largest change (the first of equal ones). */
  maxIndex: number;
  /** Pairs whose verdicts differ: one reaches the threshold (p >= threshold is danger), the other does not. */
  flips: number;
  /** flips / n. */
  flipRate: number;
}

function checkProbability(p: number, what: string, index: number): void {
  if (typeof p !== 'number' || !Number.isFinite(p) || p < 0 || p > 1) {
    throw invalidArgument(`${what} probability at index ${index} is ${String(p)}, expected a number in [0, 1]`, { index });
  }
}

export function pairedChange(reference: ArrayLike<number>, other: ArrayLike<number>, threshold: number): PairedChange {
  if (reference.length !== other.length) {
    throw invalidArgument(`reference (${reference.length}) and other (${other.length}) must have the same length`, {
      reference: reference.length,
      other: other.length,
    });
  }
  if (reference.length === 0) throw invalidArgument('no pairs to compare');
  validateThreshold(threshold);
  let sum = 0;
  let maxAbsDelta = -1;
  let maxIndex = 0;
  let flips = 0;
  for (let i = 0; i < reference.length; i++) {
    checkProbability(reference[i], 'reference', i);
    checkProbability(other[i], 'other', i);
    const d = Math.abs(other[i] - reference[i]);
    sum += d;
    if (d > maxAbsDelta) [maxAbsDelta, maxIndex] = [d, i];
    if (reference[i] >= threshold !== other[i] >= threshold) flips++;
  }
  const n = reference.length;
  return { n, meanAbsDelta: sum / n, maxAbsDelta, maxIndex, flips, flipRate: flips / n };
}
