/**
 * Resampler choice, reproducible: our Kaiser polyphase filter vs libsamplerate-js SRC_SINC_BEST_QUALITY, both against
 * librosa's soxr_hq output in the golden fixture (first 2000 samples of the 44.1 kHz and 16 kHz cases; max abs error
 * away from the first/last 100 samples) and the mel dB of the resampled 3 s clip, plus time per 3 s clip.
 * Run: node --import tsx tests/bench/resampler-compare.ts
 */
import libsamplerate from '@alexanderolsen/libsamplerate-js';
import { decodeAudio, encodeWav, fixLength, melEngine, resample, toMono } from '../../shared/audio/index.ts';
import { golden } from '../fixtures/golden/load.ts';
import { resampleSource } from '../fixtures/golden/signals.ts';

type Src = { simple(x: Float32Array): Float32Array; destroy(): void };
const { create, ConverterType } = libsamplerate as unknown as {
  create(ch: number, from: number, to: number, opts: { converterType: number }): Promise<Src>;
  ConverterType: { SRC_SINC_BEST_QUALITY: number };
};

function median(f: () => void, runs: number): number {
  for (let i = 0; i < 3; i++) f();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    f();
    t.push(performance.now() - s);
  }
  return t.sort((a, b) => a - b)[runs >> 1];
}

for (const rate of [44100, 16000] as const) {
  const audio = await decodeAudio(encodeWav(resampleSource(rate), rate, { bitDepth: 16 }));
  const x = toMono(audio.channels).subarray(0, 3 * rate); // librosa.load(duration=3.0) reads int(3 * sr) samples
  const ref = golden.f32(`resample_r${rate}_first2000`);
  const refDb = golden.f32(`mel_db_resampled_r${rate}`);
  const src = await create(1, rate, 22050, { converterType: ConverterType.SRC_SINC_BEST_QUALITY });
  const candidates: [string, () => Float32Array][] = [
    ['kaiser (ours)', () => resample(x, rate, 22050)],
    ['libsamplerate best', () => src.simple(x)],
  ];
  for (const [name, run] of candidates) {
    const y = fixLength(run(), 66150);
    let err = 0;
    for (let i = 100; i < 1900; i++) err = Math.max(err, Math.abs(y[i] - ref[i]));
    const db = melEngine().db(y);
    let dbInterior = 0;
    let dbAll = 0;
    for (let m = 0; m < 128; m++) {
      for (let f = 0; f < 130; f++) {
        const e = Math.abs(db[m * 130 + f] - refDb[m * 130 + f]);
        dbAll = Math.max(dbAll, e);
        if (f >= 2 && f < 128) dbInterior = Math.max(dbInterior, e);
      }
    }
    const ms = median(run, name.startsWith('kaiser') ? 50 : 10);
    console.log(
      `${rate} Hz  ${name.padEnd(20)} sample err ${err.toExponential(2)}  mel dB err frames 2-127 ${dbInterior.toExponential(2)}, all ${dbAll.toExponential(2)}  ${ms.toFixed(2)} ms / 3 s`,
    );
  }
  src.destroy();
}
