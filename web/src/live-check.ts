/**
 * One check of the live monitor: the latest audio through the model's front end, the level gate and the model, as
 * POST /predict treats a recording (Detector.predict): a window below the gate's floor is not sent to the model and
 * counts as P(danger) 0, so the browser and the API give a quiet room the same verdict. A model scored by pairs of
 * adjacent windows hears the latest 4 s (two windows a hop apart), the others the latest 3 s, so a check's P(danger)
 * is what /predict would say of that audio. Free of the DOM: tested in Node.
 */
import { AUDIO } from '../../shared/config.ts';
import type { Detector } from '../../shared/inference/detector.ts';
import type { Aggregation } from '../../shared/model/types.ts';
import type { WindowPrediction } from '../../shared/types.ts';

export interface LiveCheck {
  /** P(danger) of the audio checked, by the model's aggregation (its latest window's alone for 'window'). */
  probability: number;
  /** The latest window as /predict would report it: probability, level, `skipped: 'quiet'` or the top classes. */
  window: WindowPrediction;
  /** Every window checked was below the level gate: nothing was scored. */
  quiet: boolean;
  /** Front end time, ms. */
  melMs: number;
  /** Model time, ms; absent when the level gate skipped every window. */
  modelMs?: number;
}

/** Seconds of audio a check reads: one window, or two a hop apart for a model scored by pairs. */
export function liveSeconds(aggregation: Aggregation): number {
  return AUDIO.windowSeconds + (aggregation === 'pair' ? AUDIO.hopSeconds : 0);
}

export async function checkLatestWindow(
  detector: Pick<Detector, 'analyseSamples' | 'predict' | 'aggregation'>,
  samples: Float32Array,
  sampleRate: number,
  threshold: number,
  now: () => number = () => performance.now(),
): Promise<LiveCheck> {
  const a = now();
  // The latest liveSeconds() of `samples` (a longer buffer would add windows /predict would pair differently).
  const take = Math.min(samples.length, Math.round(liveSeconds(detector.aggregation) * sampleRate));
  const analysis = detector.analyseSamples(samples.subarray(samples.length - take), sampleRate, { maxWindows: detector.aggregation === 'pair' ? 2 : 1 });
  const b = now();
  const prediction = await detector.predict(analysis, { threshold });
  const c = now();
  const window = prediction.windows[prediction.windows.length - 1];
  const quiet = prediction.windows.every((w) => w.skipped === 'quiet');
  const check = { probability: prediction.probability, window, quiet, melMs: b - a };
  return quiet ? check : { ...check, modelMs: c - b };
}
