import { invalidArgument } from '../errors.ts';

/** Loss weight per class, keyed as Keras' class_weight expects (0 = safe, 1 = danger). */
export interface ClassWeights {
  0: number;
  1: number;
}

/**
 * "Balanced" weights, as sklearn's compute_class_weight('balanced'): w_c = n / (2 * count_c), so each class
 * contributes equally to the loss whatever its share (danger clips are the minority) and the mean weight per
 * example stays 1. A class with no examples gets weight 0 (nothing to weigh; avoids an infinite weight); training on
 * one class is degenerate anyway and is for the trainer to refuse.
 */
export function classWeights(labels: ArrayLike<number>): ClassWeights {
  if (labels == null || typeof labels.length !== 'number' || labels.length === 0) {
    throw invalidArgument('classWeights needs at least one label');
  }
  let positives = 0;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l !== 0 && l !== 1) throw invalidArgument(`label at index ${i} is ${String(l)}, expected 0 (safe) or 1 (danger)`, { index: i });
    positives += l;
  }
  const n = labels.length;
  const negatives = n - positives;
  return {
    0: negatives === 0 ? 0 : n / (2 * negatives),
    1: positives === 0 ? 0 : n / (2 * positives),
  };
}
