/**
 * One check of the live monitor: the latest 3 s through the model's front end, the level gate and the model, as
 * POST /predict treats a window (Detector.predict): a window below the gate's floor is not sent to the model and
 * counts as P(danger) 0, so the browser and the API give a quiet room the same verdict. Free of the DOM: tested in Node.
 */
import type { Detector } from '../../shared/inference/detector.ts';
import type { WindowPrediction } from '../../shared/types.ts';

export interface LiveCheck {
  /** The window as /predict would report it: probability, level, `skipped: 'quiet'` or the top classes. */
  window: WindowPrediction;
  /** Front end time, ms. */
  melMs: number;
  /** Model time, ms; absent when the level gate skipped the window. */
  modelMs?: number;
}

export async function checkLatestWindow(
  detector: Pick<Detector, 'analyseSamples' | 'predict'>,
  samples: Float32Array,
  sampleRate: number,
  threshold: number,
  now: () => number = () => performance.now(),
): Promise<LiveCheck> {
  const a = now();
  const analysis = detector.analyseSamples(samples, sampleRate, { maxWindows: 1 });
  const b = now();
  const [window] = (await detector.predict(analysis, { threshold })).windows;
  const c = now();
  return window.skipped ? { window, melMs: b - a } : { window, melMs: b - a, modelMs: c - b };
}
