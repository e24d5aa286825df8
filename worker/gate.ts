/**
 * The promotion gate's scores: candidate and current model score the same reference clips, each at its own threshold
 * (what serving would do). Whether that promotes is shared/training/promotion.ts's rule.
 * Clips are analysed once per front end, so two models on the same front end see the identical windows.
 */
import { AudioError } from '../shared/audio/errors.ts';
import type { Detector } from '../shared/inference/detector.ts';
import { evaluate } from '../shared/metrics/index.ts';
import type { Metrics } from '../shared/metrics/types.ts';
import type { Label, LabeledClip } from '../shared/types.ts';

export interface GateScores {
  /** Clips scored per class (undecodable ones are left out). */
  clips: Record<Label, number>;
  candidate: Metrics;
  current: Metrics;
}

/** P(danger) of each clip (its most dangerous window) under each detector. Undecodable clips are left out. */
export async function scoreClips(clips: readonly LabeledClip[], detectors: readonly Detector[]): Promise<{ labels: number[]; scores: number[][] }> {
  const labels: number[] = [];
  const scores: number[][] = detectors.map(() => []);
  for (const clip of clips) {
    // Each model hears the clip through its own front end; two models on one front end share the analysis.
    const byFrontEnd = new Map<string, Float32Array[]>();
    try {
      for (const d of detectors) {
        if (!byFrontEnd.has(d.frontEnd.name)) byFrontEnd.set(d.frontEnd.name, (await d.analyse(clip.bytes)).windows.map((w) => w.db));
      }
    } catch (error) {
      if (error instanceof AudioError) continue;
      throw error;
    }
    labels.push(clip.label === 'danger' ? 1 : 0);
    for (const [i, d] of detectors.entries()) scores[i].push(Math.max(0, ...(await d.probabilities(byFrontEnd.get(d.frontEnd.name)!))));
  }
  return { labels, scores };
}

/** Clips scored between progress reports: a reference set of hundreds shows movement every few seconds. */
const PROGRESS_EVERY = 25;

export async function runGate(options: {
  clips: readonly LabeledClip[];
  candidate: Detector;
  current: Detector;
  onProgress?: (done: number, total: number) => void;
}): Promise<GateScores> {
  const labels: number[] = [];
  const scores: number[][] = [[], []];
  for (let start = 0; start < options.clips.length; start += PROGRESS_EVERY) {
    const part = await scoreClips(options.clips.slice(start, start + PROGRESS_EVERY), [options.candidate, options.current]);
    labels.push(...part.labels);
    part.scores.forEach((s, i) => scores[i].push(...s));
    options.onProgress?.(Math.min(start + PROGRESS_EVERY, options.clips.length), options.clips.length);
  }
  const danger = labels.filter((l) => l === 1).length;
  return {
    clips: { safe: labels.length - danger, danger },
    candidate: evaluate({ labels, probabilities: scores[0], threshold: options.candidate.threshold }),
    current: evaluate({ labels, probabilities: scores[1], threshold: options.current.threshold }),
  };
}
