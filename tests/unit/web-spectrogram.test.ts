/** The spectrogram worker's pixels (web/src/spectrogram-worker.ts): every STFT frame, at most WEB.spectrogramMaxColumns
 *  columns, each the loudest of its frames, low bands at the bottom. Run here in Node; the e2e test runs it as a worker. */
import { describe, expect, it } from 'vitest';
import { encodeWav, melEngine } from '../../shared/audio/index.ts';
import { WEB } from '../../shared/config.ts';
import { spectrogramPixels } from '../../web/src/spectrogram-worker.ts';
import { backgroundLike, RATE, screamLike, withEvent } from '../helpers/synth.ts';

const wav = (samples: Float32Array) => encodeWav(samples, RATE, { bitDepth: 16 });

/** Mean R+G+B of column `c`. */
function brightness(p: { pixels: Uint8ClampedArray; columns: number; nMels: number }, c: number): number {
  let sum = 0;
  for (let row = 0; row < p.nMels; row++) for (let k = 0; k < 3; k++) sum += p.pixels[4 * (row * p.columns + c) + k];
  return sum / p.nMels;
}

describe('spectrogram pixels', () => {
  it('a 7 s clip: one column per STFT frame, opaque, the tone at 3.2-3.8 s brightest where its seconds are', async () => {
    const quiet = backgroundLike(7, 51).map((v) => 0.05 * v);
    const p = await spectrogramPixels(wav(withEvent(quiet, screamLike(0.6, 52), 3.2)));
    const engine = melEngine();
    expect(p.frames).toBe(1 + Math.floor((7 * engine.sampleRate) / engine.hopLength));
    expect([p.columns, p.group, p.nMels]).toEqual([p.frames, 1, engine.nMels]);
    expect(p.pixels.length).toBe(4 * p.columns * p.nMels);
    expect(p.pixels.filter((_, i) => i % 4 === 3).every((a) => a === 255)).toBe(true);
    const at = (seconds: number) => brightness(p, Math.round(seconds / p.hop));
    expect(at(3.5)).toBeGreaterThan(at(1.5) + 60);
    expect(at(3.5)).toBeGreaterThan(at(5.5) + 60);
  });

  it('a 60 s recording: frames merged so that the columns stay within WEB.spectrogramMaxColumns', async () => {
    const p = await spectrogramPixels(wav(backgroundLike(60, 7)));
    expect(p.frames).toBeGreaterThan(WEB.spectrogramMaxColumns);
    expect(p.group).toBe(Math.ceil(p.frames / WEB.spectrogramMaxColumns));
    expect(p.columns).toBe(Math.ceil(p.frames / p.group));
    expect(p.columns).toBeLessThanOrEqual(WEB.spectrogramMaxColumns);
  });
});
