/**
 * The live monitor's check (web/src/live-check.ts) with the shipped model: the browser applies the level gate as
 * POST /predict does, so a quiet room is not scored and reads P(danger) 0, and a heard window gets the model's score.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { readModelFiles } from '../../adapters/model-files.ts';
import { LEVEL_GATE } from '../../shared/config.ts';
import { selectBackend } from '../../shared/model/backend.ts';
import { Detector } from '../../shared/inference/detector.ts';
import { checkLatestWindow, liveSeconds } from '../../web/src/live-check.ts';
import { screamLike } from '../helpers/synth.ts';

const MIC_RATE = 48_000; // what a browser's AudioContext usually runs at
let detector: Detector;

beforeAll(async () => {
  await selectBackend({ requested: 'wasm', log: () => {} });
  detector = await Detector.fromFiles(await readModelFiles(join(import.meta.dirname, '..', '..', 'models', 'default')));
}, 60_000);

const scaled = (x: Float32Array, gain: number) => x.map((v) => v * gain);
const rmsDb = (x: Float32Array) => 10 * Math.log10(x.reduce((s, v) => s + v * v, 0) / x.length);

describe('live monitor check', () => {
  const loud = screamLike(3, 71, MIC_RATE);

  it('does not send a window below the level gate to the model: skipped, P(danger) 0, no model time', async () => {
    const quiet = scaled(loud, 10 ** ((LEVEL_GATE.floorDb! - 10 - rmsDb(loud)) / 20));
    const scores = vi.spyOn(detector, 'scores');
    const check = await checkLatestWindow(detector, quiet, MIC_RATE, detector.threshold);
    expect(scores).not.toHaveBeenCalled();
    scores.mockRestore();
    expect(check.window.skipped).toBe('quiet');
    expect(check).toMatchObject({ quiet: true, probability: 0 });
    expect(check.window.probability).toBe(0);
    expect(check.window.level).toBeLessThan(LEVEL_GATE.floorDb!);
    expect(check.modelMs).toBeUndefined();
  });

  it('scores a heard window exactly as the model scores its features, with its top AudioSet classes', async () => {
    const check = await checkLatestWindow(detector, loud, MIC_RATE, detector.threshold);
    const [direct] = await detector.scores([detector.analyseSamples(loud, MIC_RATE, { maxWindows: 1 }).windows[0].db], 1);
    expect(check.window.skipped).toBeUndefined();
    expect(check.window.probability).toBeCloseTo(direct.probability, 6);
    expect(check.window.classes?.map((c) => c.label)).toEqual(direct.classes?.map((c) => c.label));
    expect(check.modelMs).toBeGreaterThanOrEqual(0);
  });

  it('gives the P(danger) /predict gives the audio it heard: the latest 4 s for a model scored by pairs, 3 s otherwise', async () => {
    const buffer = Float32Array.from({ length: 6 * MIC_RATE }, (_, i) => (i < 2 * MIC_RATE ? 0.3 * Math.sin(i / 7) : loud[i % loud.length]));
    for (const aggregation of ['pair', 'window'] as const) {
      const as = new Detector(detector.model, { ...detector.manifest, aggregation });
      const heard = buffer.subarray(buffer.length - Math.round(liveSeconds(aggregation) * MIC_RATE));
      const check = await checkLatestWindow(as, buffer, MIC_RATE, as.threshold);
      const predicted = await as.predict(as.analyseSamples(heard, MIC_RATE));
      expect(predicted.windows).toHaveLength(aggregation === 'pair' ? 2 : 1);
      expect(check.probability).toBeCloseTo(predicted.probability, 6);
      expect(check.window.start).toBe(predicted.windows[predicted.windows.length - 1].start);
    }
  });
});
