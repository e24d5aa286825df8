/** shared/inference/detector.ts topClasses: the k highest logits, highest first, the lower index first on a tie. */
import { describe, expect, it } from 'vitest';
import { topClasses } from '../../shared/inference/detector.ts';

/** What a full stable sort gives (the implementation before the one-pass selection). */
function bySorting(logits: number[], labels: string[], k: number) {
  const order = labels.map((_, i) => i).sort((a, b) => logits[b] - logits[a]);
  return order.slice(0, k).map((i) => ({ label: labels[i], score: 1 / (1 + Math.exp(-logits[i])) }));
}

describe('topClasses', () => {
  it('equals a stable sort of all classes, ties and repeated values included', () => {
    let seed = 7;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const labels = Array.from({ length: 527 }, (_, i) => `class ${i}`);
    for (let trial = 0; trial < 20; trial++) {
      // Coarse values: many ties, some at the top.
      const logits = labels.map(() => Math.round((next() * 20 - 10) * (trial % 2 ? 1 : 4)) / 4);
      for (const k of [1, 3, 5, 40]) expect(topClasses(Float32Array.from(logits), labels, k)).toEqual(bySorting(Array.from(Float32Array.from(logits)), labels, k));
    }
    expect(topClasses([3, 1, 3, 2], ['a', 'b', 'c', 'd'], 3).map((c) => c.label)).toEqual(['a', 'c', 'd']);
  });

  it('gives every class when k exceeds them, none for k = 0', () => {
    expect(topClasses([0, 2, 1], ['a', 'b', 'c'], 5).map((c) => c.label)).toEqual(['b', 'c', 'a']);
    expect(topClasses([0, 2, 1], ['a', 'b', 'c'], 0)).toEqual([]);
  });
});
