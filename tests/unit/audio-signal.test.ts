/** toMono, fixLength, sliding windows, the resampler's behaviour, and analyseSamples' window layout. */
import { describe, expect, it } from 'vitest';
import { committedAndAssembled } from '../helpers/wasm-kernels.ts';
import { AUDIO, WINDOW_SAMPLES } from '../../shared/config.js';
import {
  analyse,
  analyseSamples,
  encodeWav,
  fixedClip,
  fixLength,
  melEngine,
  resample,
  slidingWindows,
  toMono,
  windowGeometry,
} from '../../shared/audio/index.js';
import { polyphaseKernel } from '../../shared/audio/wasm/polyphase.ts';
import { tone, toneAmplitude } from '../helpers/tones.ts';

describe('toMono', () => {
  it('averages channels', () => {
    const a = Float32Array.from([1, 0, -1]);
    const b = Float32Array.from([0, 1, -1]);
    const c = Float32Array.from([0.5, 0.5, 1]);
    expect(Array.from(toMono([a, b]))).toEqual([0.5, 0.5, -1]);
    expect(Array.from(toMono([a, b, c]))).toEqual([0.5, 0.5, -1 / 3].map((v) => Math.fround(v)));
  });

  it('returns a single channel as is, and rejects no channels or ragged ones', () => {
    const a = new Float32Array(4);
    expect(toMono([a])).toBe(a);
    expect(() => toMono([])).toThrow(/at least one channel/);
    expect(() => toMono([a, new Float32Array(3)])).toThrow(/same length/);
  });
});

describe('fixLength (librosa.util.fix_length)', () => {
  it('zero-pads at the end or truncates', () => {
    const x = Float32Array.from([1, 2, 3]);
    expect(Array.from(fixLength(x, 5))).toEqual([1, 2, 3, 0, 0]);
    expect(Array.from(fixLength(x, 2))).toEqual([1, 2]);
    expect(fixLength(x, 3)).toHaveLength(3);
    expect(() => fixLength(x, -1)).toThrow(/non-negative/);
  });
});

describe('slidingWindows', () => {
  const rate = 1000;
  it('covers a 60 s recording whole: 58 windows of 3 s every 1 s, the last ending at 60 s', () => {
    const x = Float32Array.from({ length: 60 * rate }, (_, i) => i);
    const w = slidingWindows(x, rate, { windowSeconds: 3, hopSeconds: 1 });
    expect(w).toHaveLength(58);
    expect(w.map((v) => v.start)).toEqual(Array.from({ length: 58 }, (_, i) => i));
    expect(w[57].end).toBe(60);
    expect(w.every((v) => v.samples.length === 3000)).toBe(true);
    expect(w[10].samples[0]).toBe(10 * rate);
  });

  it('aligns the last window to the recording end instead of padding it with silence', () => {
    const x = Float32Array.from({ length: 60.5 * rate }, (_, i) => i);
    const w = slidingWindows(x, rate, { windowSeconds: 3, hopSeconds: 1 });
    expect(w).toHaveLength(59);
    const last = w[58];
    expect([last.start, last.end]).toEqual([57.5, 60.5]);
    expect(last.samples[0]).toBe(57500);
    expect(last.samples[2999]).toBe(60499);
    expect(w[57].start).toBe(57);
  });

  it('gives one zero-padded window for a recording shorter than a window', () => {
    const w = slidingWindows(new Float32Array(1200).fill(1), rate, { windowSeconds: 3, hopSeconds: 1 });
    expect(w).toHaveLength(1);
    expect([w[0].start, w[0].end, w[0].samples.length]).toEqual([0, 1.2, 3000]);
    expect(w[0].samples[1199]).toBe(1);
    expect(w[0].samples[1200]).toBe(0);
  });

  it('uses AUDIO defaults, can align the hop, and rejects nonsense', () => {
    expect(windowGeometry(AUDIO.sampleRate)).toEqual({ windowLength: WINDOW_SAMPLES, hopLength: 22050 });
    expect(windowGeometry(22050, { alignSamples: 512 }).hopLength).toBe(22016);
    expect(() => windowGeometry(22050, { hopSeconds: 0 })).toThrow(/hopSeconds/);
    expect(() => windowGeometry(22050, { windowSeconds: -1 })).toThrow(/windowSeconds/);
  });
});

describe('resample', () => {
  it('returns ceil(n * to / from) samples, and a copy for equal rates', () => {
    expect(resample(new Float32Array(1001), 44100, 22050)).toHaveLength(501);
    expect(resample(new Float32Array(48000), 16000, 22050)).toHaveLength(66150);
    expect(resample(new Float32Array(0), 16000, 22050)).toHaveLength(0);
    const x = Float32Array.from([1, 2, 3]);
    const same = resample(x, 22050, 22050);
    expect(same).toEqual(x);
    expect(same).not.toBe(x);
  });

  const passband: [number, number, number][] = [
    [44100, 22050, 1000],
    [48000, 22050, 7500],
    [16000, 22050, 7000],
    [8000, 22050, 3000],
    [22050, 16000, 6000],
    [16000, 32000, 7000], // 1:2, the AudioSet front end's usual input: even outputs are the input samples
    [44099, 22050, 2000], // reduced ratio 22050/44099: the interpolated-table path
  ];
  for (const [from, to, f] of passband) {
    it(`${from} -> ${to} Hz keeps a ${f} Hz tone (passband) at its amplitude and phase, across blocks`, () => {
      const y = resample(tone(from, 1, [[0.5, f]]), from, to);
      expect(toneAmplitude(y, to, f)).toBeCloseTo(0.5, 4);
      // Sample by sample against the ideal tone at the new rate, over several 4096-sample processing blocks.
      const ideal = tone(to, 1, [[0.5, f]]);
      let err = 0;
      for (let i = 200; i < ideal.length - 200; i++) err = Math.max(err, Math.abs(y[i] - ideal[i]));
      expect(err).toBeLessThan(1e-4);
    });
  }

  it('takes a filter design: a longer half-band (odd number of folded taps) is still exact in the passband', () => {
    const cfg = { passbandEdge: 0.9, stopbandEdge: 1.1, attenuationDb: 100 };
    const y = resample(tone(44100, 1, [[0.5, 3000]]), 44100, 22050, cfg);
    const ideal = tone(22050, 1, [[0.5, 3000]]);
    let err = 0;
    for (let i = 200; i < ideal.length - 200; i++) err = Math.max(err, Math.abs(y[i] - ideal[i]));
    expect(err).toBeLessThan(2e-5);
  });

  it('removes content above the new Nyquist instead of aliasing it (44.1 kHz: 15 kHz tone)', () => {
    const y = resample(tone(44100, 1, [[0.5, 15000]]), 44100, 22050);
    expect(toneAmplitude(y, 22050, 22050 - 15000)).toBeLessThan(1e-4); // would alias to 7050 Hz
  });

  it('upsamples 1:2 with the half-band filter: the input samples in the even outputs, odd ones band-limited', () => {
    const x = tone(16000, 1, [[0.4, 440], [0.2, 5000]]);
    for (let i = 0; i < x.length; i += 997) x[i] += 0.3; // clicks: broadband content
    const y = resample(x, 16000, 32000);
    expect(y).toHaveLength(32000);
    for (let i = 0; i < x.length; i++) expect(y[2 * i]).toBe(x[i]);
    const clean = resample(tone(16000, 1, [[0.4, 440], [0.2, 5000]]), 16000, 32000);
    const ideal = tone(32000, 1, [[0.4, 440], [0.2, 5000]]);
    let err = 0;
    for (let i = 200; i < ideal.length - 200; i++) err = Math.max(err, Math.abs(clean[i] - ideal[i]));
    expect(err).toBeLessThan(1e-4);
  });

  it('passes DC with unit gain and keeps a tone in phase (delay compensated)', () => {
    const dc = resample(new Float32Array(16000).fill(0.25), 16000, 22050);
    expect(dc[11025]).toBeCloseTo(0.25, 5);
    const y = resample(tone(44100, 1, [[0.5, 440]]), 44100, 22050);
    const ideal = tone(22050, 1, [[0.5, 440]]);
    let err = 0;
    for (let i = 200; i < 21850; i++) err = Math.max(err, Math.abs(y[i] - ideal[i]));
    expect(err).toBeLessThan(1e-4);
  });

  it('gives the same samples, to the bit, from the WebAssembly SIMD kernels as from the plain-JS loops', () => {
    expect(polyphaseKernel()).not.toBeNull(); // Node 20 has WebAssembly SIMD: the fast path is what runs here
    const longHalfBand = { passbandEdge: 0.9, stopbandEdge: 1.1, attenuationDb: 100 }; // an odd number of folded taps
    const pairs: [number, number, number, typeof longHalfBand?][] = [
      [16000, 22050, 48000], // 441 phases, several 4096-output blocks
      [16000, 32000, 48000], // 1:2 with the half-band filter: phase 1 alone
      [16000, 32000, 4097],
      [44100, 22050, 132300], // half-band 2:1
      [44100, 22050, 30001, longHalfBand],
      [48000, 22050, 150000],
      [8000, 22050, 8001],
      [22050, 16000, 70000],
      [24000, 22050, 5],
      [19, 20, 20000], // a speed change (training/augment.ts)
    ];
    for (const [from, to, n, cfg] of pairs) {
      const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.013) + 0.3 * Math.sin(i * 0.31 + 1) + ((i % 7) - 3) * 1e-3);
      const simd = resample(x, from, to, cfg);
      const js = resample(x, from, to, cfg, 'js');
      expect(simd.length).toBe(js.length);
      let differing = 0;
      for (let i = 0; i < js.length; i++) if (!Object.is(simd[i], js[i])) differing++;
      expect(differing, `${from} -> ${to}`).toBe(0);
    }
  });

  it('runs the committed kernel bytes: what shared/audio/wasm/polyphase.wat assembles to (npm run build:wasm)', async () => {
    const { committed, assembled } = await committedAndAssembled('shared/audio/wasm/polyphase.wat');
    expect(committed).toBe(assembled);
  });

  it('rejects non-integer or non-positive rates', () => {
    expect(() => resample(new Float32Array(10), 0, 22050)).toThrow(/fromRate/);
    expect(() => resample(new Float32Array(10), 44100, 22050.5)).toThrow(/toRate/);
  });
});

describe('analyseSamples window layout', () => {
  it('analyses a 60 s 16 kHz recording whole: first window librosa-exact, the others from the whole signal', () => {
    const rate = 16000;
    const x = tone(rate, 60, [[0.3, 440], [0.1, 2500]]);
    for (let i = 0; i < x.length; i += 9973) x[i] += 0.5; // clicks: windows differ from one another
    const result = analyseSamples(x, rate);
    // Hop 1 s rounded to the STFT grid: 22016 samples; windows every hop, the last (57 x 22016, within half a hop
    // of the end-aligned start 1256850) moved to end exactly at 60 s.
    expect(result.windows).toHaveLength(58);
    expect(result.windows[57].start).toBeCloseTo(57, 12);
    expect(result.windows[1].start).toBeCloseTo(22016 / 22050, 12);
    expect(result.windows[57].end).toBe(60);
    expect(result.duration).toBe(60);
    expect(result.sourceSampleRate).toBe(rate);
    const mel = melEngine();
    expect(result.windows[0].db).toEqual(mel.db(fixedClip(x, rate)));
    const y = resample(x, rate, 22050);
    for (const k of [1, 30, 56, 57]) {
      const start = k === 57 ? y.length - WINDOW_SAMPLES : k * 22016;
      expect(result.windows[k].db).toEqual(mel.db(fixLength(y.subarray(start), WINDOW_SAMPLES)));
    }
  });

  it('stops after maxWindows and rejects a bad value', async () => {
    const wav = encodeWav(tone(22050, 10, [[0.3, 440]]), 22050, { bitDepth: 16 });
    expect((await analyse(wav)).windows).toHaveLength(8); // starts 0..6 x 22016, then 154350 (end-aligned)
    expect((await analyse(wav, { maxWindows: 2 })).windows).toHaveLength(2);
    await expect(analyse(wav, { maxWindows: 0 })).rejects.toThrow(/maxWindows/);
  });
});
