import { describe, expect, it } from 'vitest';
import { storedThreshold } from '../../shared/training/trainer.ts';

// 10 danger clips (two score 0.3 out of fold and out of source), 5 singing clips from 2 recordings and 20 other
// safe clips. Out of fold singing stays at 0.01; out of source three singing clips score 0.4-0.5, which flags 3 of
// the kind's 10 predictions (30%, over the 20% ceiling) at any threshold that catches the two 0.3 danger clips.
const danger = [0.9, 0.9, 0.85, 0.8, 0.8, 0.75, 0.7, 0.7, 0.3, 0.3];
const labels = [...danger.map(() => 1), ...Array(5).fill(0), ...Array(20).fill(0)];
const oof = [...danger, ...Array(5).fill(0.01), ...Array(20).fill(0.02)];
const held = [...danger, 0.5, 0.45, 0.4, 0.01, 0.01, ...Array(20).fill(0.02)];
const subclasses = [...danger.map(() => 'scream'), ...Array(5).fill('singing'), ...Array(20).fill('speech')];
const groups = labels.map((_, i) => (i >= 10 && i < 15 ? `song${i % 2}` : `r${i}`));

describe('storedThreshold', () => {
  it('checks the per-kind ceiling out of fold only: unseen-source singing does not hold it above the 0.3 danger clips', () => {
    const t = storedThreshold(labels, oof, held, subclasses, groups, 'out-of-fold');
    expect(t).toBeLessThan(0.3);
    expect(t).toBeGreaterThan(0.02);
  });

  it('checks it on out-of-source predictions too when asked: then the 0.3 danger clips are given up to keep singing under it', () => {
    const t = storedThreshold(labels, oof, held, subclasses, groups, 'out-of-fold+out-of-source');
    expect(t).toBeGreaterThan(0.4);
    expect(t).toBeLessThan(0.7);
  });

  it('still maximises balanced accuracy over out-of-source predictions: a safe clip that only they flag lifts it', () => {
    // Out of source one plain safe clip scores 0.25: flagging it costs specificity, so the threshold stays above it.
    const held2 = held.map((p, i) => (i === 20 ? 0.25 : p));
    const t = storedThreshold(labels, oof, held2, subclasses, groups, 'out-of-fold');
    expect(t).toBeGreaterThan(0.25);
    expect(t).toBeLessThan(0.3);
  });

  it('without out-of-source predictions is the rule on the out-of-fold ones', () => {
    expect(storedThreshold(labels, oof, undefined, subclasses, groups)).toBeLessThan(0.3);
  });
});
