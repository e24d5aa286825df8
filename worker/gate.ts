/**
 * The promotion gate: candidate and current model score the same held-out clips, each at its own threshold (what
 * serving would do), and the candidate is promoted only when it is at least as good by the configured metric.
 * Clips are analysed once and both models see the identical windows.
 */
import { analyse } from '../shared/audio/index.ts';
import { AudioError } from '../shared/audio/errors.ts';
import { WORKER } from '../shared/config.ts';
import type { Detector } from '../shared/inference/detector.ts';
import { evaluate } from '../shared/metrics/index.ts';
import type { Metrics } from '../shared/metrics/types.ts';
import type { LabeledClip } from '../shared/types.ts';

export interface GateRule {
  metric: 'balancedAccuracy' | 'accuracy' | 'f1' | 'recall' | 'precision';
  minDelta: number;
}

export interface GateResult {
  promote: boolean;
  reason: string;
  metric: GateRule['metric'];
  clips: number;
  candidate: Metrics;
  current: Metrics | null;
}

/** P(danger) of each clip (its most dangerous window) under each detector. Undecodable clips are left out. */
export async function scoreClips(clips: readonly LabeledClip[], detectors: readonly Detector[]): Promise<{ labels: number[]; scores: number[][] }> {
  const labels: number[] = [];
  const scores: number[][] = detectors.map(() => []);
  for (const clip of clips) {
    let mels: Float32Array[];
    try {
      mels = (await analyse(clip.bytes)).windows.map((w) => w.db);
    } catch (error) {
      if (error instanceof AudioError) continue;
      throw error;
    }
    labels.push(clip.label === 'danger' ? 1 : 0);
    for (const [i, d] of detectors.entries()) scores[i].push(Math.max(0, ...(await d.probabilities(mels))));
  }
  return { labels, scores };
}

export async function runGate(options: {
  clips: readonly LabeledClip[];
  candidate: Detector;
  current: Detector | null;
  rule?: GateRule;
}): Promise<GateResult> {
  const rule = options.rule ?? WORKER.gate;
  const detectors = options.current ? [options.candidate, options.current] : [options.candidate];
  const { labels, scores } = await scoreClips(options.clips, detectors);
  const candidate = evaluate({ labels, probabilities: scores[0], threshold: options.candidate.threshold });
  const current = options.current ? evaluate({ labels, probabilities: scores[1], threshold: options.current.threshold }) : null;
  const c = candidate[rule.metric];
  if (!current) {
    return { promote: true, reason: `no current model; candidate ${rule.metric} ${c.toFixed(4)}`, metric: rule.metric, clips: labels.length, candidate, current };
  }
  const base = current[rule.metric];
  const promote = c >= base + rule.minDelta;
  const reason = `${rule.metric} on ${labels.length} held-out clips: candidate ${c.toFixed(4)} ${promote ? '>=' : '<'} current ${base.toFixed(4)}${rule.minDelta ? ` + ${rule.minDelta}` : ''}`;
  return { promote, reason, metric: rule.metric, clips: labels.length, candidate, current };
}
