/** shared/training/promotion.ts: the gate's rule (margin, minimum clips, ties) and its words. */
import { describe, expect, it } from 'vitest';
import { WORKER } from '../../shared/config.ts';
import type { GateDecision } from '../../shared/ports/db-schema.ts';
import { DEFAULT_GATE_RULE, decidePromotion, describeGateDecision, type GateRule } from '../../shared/training/promotion.ts';

const rule: GateRule = { metric: 'balancedAccuracy', margin: 0.02, minClipsPerClass: 30 };
const enough = { safe: 200, danger: 212 };

describe('decidePromotion', () => {
  it('promotes only a candidate better by the margin; a tie or a smaller gain keeps the current model', () => {
    expect(decidePromotion({ candidate: 0.96, current: 0.94, clips: enough }, rule)).toBe('promoted');
    expect(decidePromotion({ candidate: 0.99, current: 0.5, clips: enough }, rule)).toBe('promoted');
    expect(decidePromotion({ candidate: 0.94, current: 0.94, clips: enough }, rule)).toBe('kept');
    expect(decidePromotion({ candidate: 0.955, current: 0.94, clips: enough }, rule)).toBe('kept');
    expect(decidePromotion({ candidate: 0.81, current: 0.94, clips: enough }, rule)).toBe('kept');
  });

  it('never promotes on fewer reference clips of either class than the minimum, however good the candidate', () => {
    expect(decidePromotion({ candidate: 1, current: 0.5, clips: { safe: 2, danger: 2 } }, rule)).toBe('too_few_clips');
    expect(decidePromotion({ candidate: 1, current: 0.5, clips: { safe: 29, danger: 500 } }, rule)).toBe('too_few_clips');
    expect(decidePromotion({ candidate: 1, current: 0.5, clips: { safe: 500, danger: 29 } }, rule)).toBe('too_few_clips');
    expect(decidePromotion({ candidate: 1, current: 0.5, clips: { safe: 30, danger: 30 } }, rule)).toBe('promoted');
  });

  it('refuses a rule under which a tie would promote', () => {
    expect(() => decidePromotion({ candidate: 0.9, current: 0.9, clips: enough }, { ...rule, margin: 0 })).toThrow(RangeError);
  });

  it('takes its defaults from WORKER.gate', () => {
    expect(DEFAULT_GATE_RULE).toEqual({ metric: WORKER.gate.metric, margin: WORKER.gate.margin, minClipsPerClass: WORKER.gate.minClipsPerClass });
    expect(DEFAULT_GATE_RULE.margin).toBeGreaterThan(0);
  });
});

describe('describeGateDecision', () => {
  const base: GateDecision = {
    outcome: 'kept',
    metric: 'balancedAccuracy',
    candidate: 0.8123,
    current: 0.9401,
    margin: 0.02,
    min_clips_per_class: 30,
    clips: enough,
    reference_version: 7,
    held_out: 40,
    candidate_version: 'c',
    current_version: 'p',
  };

  it('says what was decided and on what figures', () => {
    expect(describeGateDecision(base)).toMatch(/^Not promoted: the new model scored 0\.81 balanced accuracy on the 412 reference clips, the current one 0\.94 \(needs \+0\.02\)\. The current model stays/);
    expect(describeGateDecision({ ...base, outcome: 'promoted', candidate: 0.97 })).toMatch(/^Promoted: the new model scored 0\.97 balanced accuracy on the 412 reference clips, the current one 0\.94 \(needed \+0\.02\)/);
    const few = describeGateDecision({ ...base, outcome: 'too_few_clips', candidate: 1, current: 0.5, clips: { safe: 2, danger: 2 } });
    expect(few).toMatch(/^Kept the current model: the reference set has 4 clips \(2 safe, 2 danger\), and 30 per class are needed/);
    expect(few).toContain('promoted by hand');
  });

  it('shows a third decimal only when two would make different scores look equal', () => {
    expect(describeGateDecision({ ...base, candidate: 0.9349, current: 0.9301 })).toContain('scored 0.935 balanced accuracy on the 412 reference clips, the current one 0.930');
    expect(describeGateDecision({ ...base, candidate: 0.93, current: 0.93 })).toContain('scored 0.93 balanced accuracy');
  });
});
