/**
 * The whole front end against librosa golden data: WAV bytes -> decodeAudio -> mono -> 22050 Hz -> first 3 s window
 * -> mel dB, for the golden signals' 16-bit and float WAVs (synthesised here with encodeWav, which reproduces the
 * golden WAV files byte for byte, see tests/fixtures/golden/build.ts) and for the 44.1 kHz / 16 kHz resampling cases.
 */
import { describe, expect, it } from 'vitest';
import { WINDOW_SAMPLES } from '../../shared/config.js';
import { analyse, decodeAudio, encodeWav, fixedClip, toMono } from '../../shared/audio/index.js';
import { golden } from '../fixtures/golden/load.js';
import { GOLDEN_SIGNALS, goldenSignal, resampleSource } from '../fixtures/golden/signals.js';

const noise = golden.f32('input_c_noise');

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>, from = 0, to = a.length): number {
  let m = 0;
  for (let i = from; i < to; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Max |dB difference| over frames [f0, f1) of 128 x 130 spectrograms. */
function maxDbDiff(a: Float32Array, b: Float32Array, f0 = 0, f1 = 130): number {
  let m = 0;
  for (let mel = 0; mel < 128; mel++) for (let f = f0; f < f1; f++) m = Math.max(m, Math.abs(a[mel * 130 + f] - b[mel * 130 + f]));
  return m;
}

describe('golden signals through WAV files (librosa.load path)', () => {
  for (const sig of GOLDEN_SIGNALS) {
    it(`${sig}: 16-bit WAV -> mel dB within 1e-3 dB of librosa`, async () => {
      const wav = encodeWav(goldenSignal(sig, noise), 22050, { bitDepth: 16 });
      const result = await analyse(wav, { maxWindows: 1 });
      expect(result.sampleRate).toBe(22050);
      expect([result.nMels, result.frames]).toEqual([128, 130]);
      expect(maxDbDiff(result.windows[0].db, golden.f32(`mel_db_${sig}_pcm16`))).toBeLessThan(1e-3);
    });

    it(`${sig}: float WAV -> the float-array golden within 1e-3 dB`, async () => {
      const wav = encodeWav(goldenSignal(sig, noise), 22050, { bitDepth: 32, float: true });
      const result = await analyse(wav, { maxWindows: 1 });
      expect(maxDbDiff(result.windows[0].db, golden.f32(`mel_db_${sig}`))).toBeLessThan(1e-3);
    });
  }

  it('the 16-bit path differs from the float path (quantisation is really exercised)', async () => {
    const wav = encodeWav(goldenSignal('b_chirp', noise), 22050, { bitDepth: 16 });
    const db = (await analyse(wav, { maxWindows: 1 })).windows[0].db;
    expect(maxDbDiff(db, golden.f32('mel_db_b_chirp'))).toBeGreaterThan(0.01);
  });
});

describe('resampling to 22050 Hz vs librosa (soxr_hq)', () => {
  // Measured with RESAMPLE defaults: max abs sample error away from the edges 5.1e-6 (44.1 kHz) and 8.9e-5 (16 kHz);
  // mel dB interior 2.1e-4 / 5.0e-3 dB. At the clip edges the filters' start-up transients differ (soxr's vs ours).
  const cases = [
    { rate: 44100 as const, sampleTol: 2e-5, edgeSampleTol: 2e-3, interiorDbTol: 1e-3, edgeDbTol: 0.2 },
    { rate: 16000 as const, sampleTol: 2e-4, edgeSampleTol: 3e-2, interiorDbTol: 1e-2, edgeDbTol: 5 },
  ];
  for (const c of cases) {
    it(`${c.rate} Hz: first 2000 samples within ${c.sampleTol} away from the first/last 100`, async () => {
      const audio = await decodeAudio(encodeWav(resampleSource(c.rate), c.rate, { bitDepth: 16 }));
      expect(audio.sampleRate).toBe(c.rate);
      const y = fixedClip(toMono(audio.channels), audio.sampleRate);
      expect(y).toHaveLength(WINDOW_SAMPLES);
      const ref = golden.f32(`resample_r${c.rate}_first2000`);
      expect(maxAbsDiff(y, ref, 100, 1900)).toBeLessThan(c.sampleTol);
      expect(maxAbsDiff(y, ref, 0, 2000)).toBeLessThan(c.edgeSampleTol);
    });

    it(`${c.rate} Hz: mel dB within ${c.interiorDbTol} dB on frames 2..127 (${c.edgeDbTol} dB on the edge frames)`, async () => {
      const result = await analyse(encodeWav(resampleSource(c.rate), c.rate, { bitDepth: 16 }));
      // 3.5 s source: the librosa-exact first window plus one aligned to the end.
      expect(result.windows.map((w) => [w.start, w.end])).toEqual([
        [0, 3],
        [0.5, 3.5],
      ]);
      const ref = golden.f32(`mel_db_resampled_r${c.rate}`);
      expect(maxDbDiff(result.windows[0].db, ref, 2, 128)).toBeLessThan(c.interiorDbTol);
      expect(maxDbDiff(result.windows[0].db, ref)).toBeLessThan(c.edgeDbTol);
    });
  }
});
