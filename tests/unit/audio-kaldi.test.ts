/**
 * Kaldi log-mel front end of the EfficientAT AudioSet backbone (shared/audio/frontends/kaldi.ts): parity with the
 * upstream PyTorch front end on the vector in ../shared (skipped when absent, required when SENTINEL_REQUIRE_SHARED=1),
 * then self-contained checks of the frame count, the filterbank, tones, silence, windows and bad input.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { committedAndAssembled } from '../helpers/wasm-kernels.ts';
import { KALDI_MEL } from '../../shared/config.js';
import { SentinelError } from '../../shared/errors.js';
import { denseFilterbank, fixLength } from '../../shared/audio/index.js';
import { RealFftPower } from '../../shared/audio/real-fft.js';
import { pffftRealPlan } from '../../shared/audio/wasm/pffft.js';
import {
  KaldiMelSpectrogram,
  kaldiHzToMel,
  kaldiMelBanks,
  kaldiMelToHz,
  symmetricHannWindow,
} from '../../shared/audio/frontends/kaldi.js';

const PARITY_DIR = new URL('../../../shared/weights/efficientat_mn04_as/parity/', import.meta.url);
const WAVE = new URL('wave_32k_1s.f32', PARITY_DIR);
const MEL = new URL('mel_128xT.f32', PARITY_DIR);
const HAVE = existsSync(WAVE) && existsSync(MEL);
/** CI sets it: there a missing parity vector is a failure, not a skip. */
const REQUIRE = process.env.SENTINEL_REQUIRE_SHARED === '1';

const kaldi = new KaldiMelSpectrogram();

function readF32(url: URL): Float32Array {
  const bytes = readFileSync(url);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: bytes.byteLength / 4 }, (_, i) => view.getFloat32(4 * i, true));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Deterministic test signal: noise plus a slow sweep, in [-1, 1]. */
function testSignal(n: number, seed = 1): Float32Array {
  let s = seed;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    x[i] = 0.3 * (s / 2 ** 32 - 0.5) + 0.5 * Math.sin(2 * Math.PI * (200 + i / 20) * (i / 32000));
  }
  return x;
}

/**
 * One frame straight from the definition, written independently of the engine: numpy-style reflect padding of the
 * pre-emphasised clip, symmetric Hann 800 centred in 1024, a direct DFT, Kaldi triangles, log and normalisation.
 */
function referenceFrame(x: Float32Array, t: number): Float64Array {
  const y = Array.from({ length: x.length - 1 }, (_, n) => x[n + 1] - 0.97 * x[n]);
  const M = y.length;
  const reflected = (j: number): number => {
    while (j < 0 || j >= M) j = M === 1 ? 0 : j < 0 ? -j : 2 * (M - 1) - j;
    return y[j];
  };
  const frame = new Float64Array(1024);
  for (let i = 112; i < 912; i++) {
    frame[i] = reflected(t * 320 - 512 + i) * (0.5 - 0.5 * Math.cos((2 * Math.PI * (i - 112)) / 799));
  }
  const power = new Float64Array(512);
  for (let k = 0; k < 512; k++) {
    let re = 0;
    let im = 0;
    for (let i = 0; i < 1024; i++) {
      re += frame[i] * Math.cos((2 * Math.PI * ((i * k) % 1024)) / 1024);
      im -= frame[i] * Math.sin((2 * Math.PI * ((i * k) % 1024)) / 1024);
    }
    power[k] = re * re + im * im;
  }
  const mel = (f: number) => 1127 * Math.log(1 + f / 700);
  const step = mel(15000) / 129;
  const out = new Float64Array(128);
  for (let m = 0; m < 128; m++) {
    let sum = 0;
    for (let k = 0; k < 512; k++) {
      const d = (mel(k * 31.25) - (m + 1) * step) / step;
      sum += Math.max(0, 1 - Math.abs(d)) * power[k];
    }
    out[m] = (Math.log(sum + 1e-5) + 4.5) / 5;
  }
  return out;
}

function expectInvalid(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SentinelError);
    expect((err as SentinelError).code).toBe('INVALID_ARGUMENT');
    return;
  }
  expect.fail('expected an INVALID_ARGUMENT SentinelError');
}

describe('KaldiMelSpectrogram vs upstream EfficientAT (../shared parity vector)', () => {
  it.skipIf(!HAVE && !REQUIRE)('turns the 1 s parity wave into the upstream 128 x 100 mel within 1e-4', () => {
    if (!HAVE) throw new Error(`SENTINEL_REQUIRE_SHARED=1 but the parity vector is missing under ${PARITY_DIR.pathname}`);
    const wave = readF32(WAVE);
    const expected = readF32(MEL);
    expect(wave).toHaveLength(32000);
    expect(expected).toHaveLength(128 * 100);
    const got = kaldi.features(wave);
    expect(maxAbsDiff(got, expected)).toBeLessThan(1e-4);
    // The same clip as a window of itself.
    expect(maxAbsDiff(kaldi.featureWindows(wave, [0], wave.length)[0], got)).toBe(0);
  });
});

describe('KaldiMelSpectrogram frames', () => {
  it('counts 1 + floor((N - 1) / 320) frames: 1 s -> 100, 3 s -> 300', () => {
    expect(kaldi.frameCount(32000)).toBe(100);
    expect(kaldi.frameCount(96000)).toBe(300);
    expect(kaldi.features(testSignal(32000))).toHaveLength(128 * 100);
    expect(kaldi.features(testSignal(96000))).toHaveLength(128 * 300);
    // Pre-emphasis drops a sample: 321 samples make 320, still one hop; 322 reach a second frame.
    expect(kaldi.frameCount(321)).toBe(2);
    expect(kaldi.frameCount(320)).toBe(1);
    expect(kaldi.frameCount(322)).toBe(2);
  });

  it('gives very short clips (shorter than the reflect padding) finite frames', () => {
    for (const n of [2, 3, 100, 512]) {
      const out = kaldi.features(testSignal(n));
      expect(out).toHaveLength(128 * kaldi.frameCount(n));
      expect(out.every(Number.isFinite)).toBe(true);
    }
    expect(kaldi.frameCount(2)).toBe(1);
    expectInvalid(() => kaldi.features(new Float32Array(1)));
  });

  it.each([32000, 600, 300])('matches the definition, edge frames included, for %i samples', (n) => {
    const x = testSignal(n, 5);
    const out = kaldi.features(x);
    const T = kaldi.frameCount(n);
    for (const t of new Set([0, 1, 2, T >> 1, T - 2, T - 1].filter((f) => f >= 0 && f < T))) {
      const ref = referenceFrame(x, t);
      let worst = 0;
      for (let m = 0; m < 128; m++) worst = Math.max(worst, Math.abs(out[m * T + t] - ref[m]));
      expect(worst, `frame ${t}`).toBeLessThan(1e-5);
    }
  });

  it('pads with reflection, not zeros: a constant signal gives the same edge and interior frames', () => {
    const out = kaldi.features(new Float32Array(32000).fill(0.25));
    let worst = 0;
    for (let m = 0; m < 128; m++) {
      for (let t = 0; t < 100; t++) worst = Math.max(worst, Math.abs(out[m * 100 + t] - out[m * 100 + 50]));
    }
    expect(worst).toBeLessThan(1e-6);
  });

  it('maps silence to the normalised log offset, (ln(1e-5) + 4.5) / 5, everywhere', () => {
    const floor = Math.fround((Math.log(1e-5) + 4.5) / 5);
    const out = kaldi.features(new Float32Array(96000));
    expect(out.every((v) => v === floor)).toBe(true);
    expect(floor).toBeCloseTo(-1.40259, 5);
  });
});

describe('Kaldi mel filterbank', () => {
  const fb = kaldiMelBanks(32000, KALDI_MEL);
  const dense = denseFilterbank(fb);
  const nBins = 513;

  it('uses the Kaldi mel scale 1127 ln(1 + f / 700)', () => {
    expect(kaldiHzToMel(700)).toBeCloseTo(1127 * Math.LN2, 10);
    expect(kaldiHzToMel(0)).toBe(0);
    for (const f of [50, 1000, 15000]) expect(kaldiMelToHz(kaldiHzToMel(f))).toBeCloseTo(f, 8);
    // 130 corners from 0 Hz to 15 kHz, equally spaced on that scale.
    expect(fb.edgesHz).toHaveLength(130);
    expect(fb.edgesHz[0]).toBeCloseTo(0, 9);
    expect(fb.edgesHz[129]).toBeCloseTo(15000, 6);
    const step = kaldiHzToMel(15000) / 129;
    for (let i = 0; i < 130; i++) expect(kaldiHzToMel(fb.edgesHz[i])).toBeCloseTo(i * step, 8);
  });

  it('has 128 triangles over the first 512 bins and a zero Nyquist column', () => {
    expect(fb.nMels).toBe(128);
    expect(fb.nBins).toBe(nBins);
    expect(dense).toHaveLength(128 * nBins);
    const problems: string[] = [];
    for (let m = 0; m < 128; m++) {
      if (dense[m * nBins + 512] !== 0) problems.push(`band ${m}: Nyquist weight`);
      if (fb.length[m] === 0) problems.push(`band ${m}: empty`);
      for (let k = 0; k < nBins; k++) {
        const w = dense[m * nBins + k];
        const hz = (k * 32000) / 1024;
        if (!(w >= 0 && w <= 1)) problems.push(`band ${m} bin ${k}: weight ${w}`);
        // Non-zero strictly between the band's feet only.
        if (w > 0 && !(hz > fb.edgesHz[m] && hz < fb.edgesHz[m + 2])) problems.push(`band ${m} bin ${k}: outside`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('peaks each band at the FFT bin nearest its centre, with weight 1 - |mel distance| / step', () => {
    const step = kaldiHzToMel(15000) / 129;
    for (let m = 0; m < 128; m++) {
      let best = 0;
      for (let k = 1; k < nBins; k++) if (dense[m * nBins + k] > dense[m * nBins + best]) best = k;
      const centreMel = kaldiHzToMel(fb.edgesHz[m + 1]);
      const binMel = (k: number) => kaldiHzToMel((k * 32000) / 1024);
      // The peak bin is the one closest to the centre on the mel scale ...
      let closest = 0;
      for (let k = 1; k < 512; k++) if (Math.abs(binMel(k) - centreMel) < Math.abs(binMel(closest) - centreMel)) closest = k;
      expect(best).toBe(closest);
      // ... and the triangle is linear in mel with unit height.
      expect(dense[m * nBins + best]).toBeCloseTo(1 - Math.abs(binMel(best) - centreMel) / step, 6);
    }
  });

  it('makes neighbouring triangles sum to 1 between the first and last centres (Kaldi tiling)', () => {
    for (let k = 0; k < 512; k++) {
      const hz = (k * 32000) / 1024;
      if (hz <= fb.edgesHz[1] || hz >= fb.edgesHz[128]) continue;
      let sum = 0;
      for (let m = 0; m < 128; m++) sum += dense[m * nBins + k];
      expect(sum).toBeCloseTo(1, 6);
    }
  });
});

describe('KaldiMelSpectrogram signals', () => {
  const centres = kaldiMelBanks(32000, KALDI_MEL).edgesHz.slice(1, 129);

  it.each([1000, 2000, 4000, 8000, 12000])('puts a %i Hz tone in the band whose centre is nearest', (f) => {
    const x = Float32Array.from({ length: 32000 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * f * i) / 32000));
    const out = kaldi.features(x);
    let loudest = 0;
    let loudestSum = -Infinity;
    for (let m = 0; m < 128; m++) {
      let sum = 0;
      for (let t = 2; t < 98; t++) sum += out[m * 100 + t];
      if (sum > loudestSum) [loudest, loudestSum] = [m, sum];
    }
    let nearest = 0;
    for (let m = 1; m < 128; m++) if (Math.abs(centres[m] - f) < Math.abs(centres[nearest] - f)) nearest = m;
    expect(loudest).toBe(nearest);
  });

  it('featureWindows equals features() of each slice, zero-padded past the end, to the bit', () => {
    const signal = testSignal(80000, 3);
    // Hop-aligned overlapping starts (shared frames), an unaligned one, and windows past the end of the signal.
    const starts = [0, 32000, 16000, 320 * 7, 12345, 70000, 79999];
    const L = 32000;
    const windows = kaldi.featureWindows(signal, starts, L);
    expect(windows).toHaveLength(starts.length);
    starts.forEach((s, i) => {
      const alone = kaldi.features(fixLength(signal.subarray(s), L));
      expect(windows[i]).toHaveLength(128 * 100);
      expect(maxAbsDiff(windows[i], alone)).toBe(0);
    });
  });

  it('writes into a caller buffer of the right size', () => {
    const x = testSignal(9600);
    const out = new Float32Array(128 * kaldi.frameCount(9600));
    expect(kaldi.features(x, out)).toBe(out);
    expect(maxAbsDiff(out, kaldi.features(x))).toBe(0);
    expectInvalid(() => kaldi.features(x, new Float32Array(10)));
  });
});

describe('KaldiMelSpectrogram building blocks', () => {
  it('uses the symmetric Hann window (torch periodic=False): zero at both ends', () => {
    const w = symmetricHannWindow(800);
    expect(kaldi.window).toEqual(w);
    expect(w[0]).toBe(0);
    expect(w[799]).toBeCloseTo(0, 15);
    for (let i = 0; i < 400; i++) expect(w[i]).toBeCloseTo(w[799 - i], 14);
    expect(w[200]).toBeCloseTo(0.5 - 0.5 * Math.cos((2 * Math.PI * 200) / 799), 15);
  });

  // fft.js in float64; PFFFT (n >= 32) in float32: its error is float32 rounding of the frame and the sums, relative to
  // the spectrum's largest power.
  it.each([
    [4, 'fft.js'],
    [8, 'fft.js'],
    [16, 'fft.js'],
    [64, 'fft.js'],
    [1024, 'fft.js'],
    [64, 'pffft'],
    [1024, 'pffft'],
    [2048, 'pffft'],
  ] as const)('RealFftPower(%i, %s) matches a direct DFT, all bins and only the low ones', (n, name) => {
    const frame = Float64Array.from(testSignal(n, n));
    const expected = new Float64Array(n / 2 + 1);
    for (let k = 0; k <= n / 2; k++) {
      let re = 0;
      let im = 0;
      for (let j = 0; j < n; j++) {
        const a = (-2 * Math.PI * ((j * k) % n)) / n;
        re += frame[j] * Math.cos(a);
        im += frame[j] * Math.sin(a);
      }
      expected[k] = re * re + im * im;
    }
    const fft = new RealFftPower(n, name);
    expect(fft.fft).toBe(name);
    const run = (P: Float64Array, bins: number) => {
      fft.frame().set(frame);
      fft.power(P, bins);
    };
    const all = new Float64Array(n / 2 + 1);
    run(all, n / 2 + 1);
    const peak = Math.max(...expected);
    expect(maxAbsDiff(all, expected)).toBeLessThan(name === 'pffft' ? 1e-6 * peak : 1e-10 * n);
    // With fewer bins the ones asked for are unchanged (the mirror half is skipped, not approximated).
    const low = new Float64Array(n / 2 + 1);
    run(low, n / 4 + 1);
    expect(maxAbsDiff(low.subarray(0, n / 4 + 1), all.subarray(0, n / 4 + 1))).toBe(0);
  });

  it('runs the committed PFFFT bytes: the installed @echogarden/pffft-wasm SIMD build (npm run build:wasm)', async () => {
    const { readFileSync } = await import('node:fs');
    const { pffftModuleTs } = await import('../../infra/scripts/wasm-assemble.ts');
    const pkg = new URL('../../node_modules/@echogarden/pffft-wasm/', import.meta.url);
    const { version } = JSON.parse(readFileSync(new URL('package.json', pkg), 'utf8')) as { version: string };
    const simd = new URL('dist/simd/', pkg);
    const expected = pffftModuleTs(`@echogarden/pffft-wasm ${version} dist/simd`, readFileSync(new URL('pffft.js', simd), 'utf8'), readFileSync(new URL('pffft.wasm', simd)));
    expect(readFileSync(new URL('../../shared/audio/wasm/pffft-wasm.ts', import.meta.url), 'utf8')).toBe(expected);
  });

  it('frame.wat beside PFFFT: pre-emphasis, power and band sums are the JS loops\' values to the bit, and their log', () => {
    const n = 1024;
    const fft = new RealFftPower(n, 'pffft');
    const x = testSignal(2000, 7);
    const window = symmetricHannWindow(801); // odd: the kernel's scalar tail
    const a = 0.97;
    const frame = fft.frame();
    frame.fill(0);
    expect(fft.preemphasisFrame(x, 300, 111, a, window)).toBe(true);
    const want = new Float32Array(n);
    for (let i = 0; i < window.length; i++) want[111 + i] = (x[300 + i + 1] - a * x[300 + i]) * window[i];
    expect(maxAbsDiff(fft.frame(), want)).toBe(0);
    // Power: the spectrum as the JS loop squares it, for an odd and an even number of bins.
    const P = new Float64Array(n / 2 + 1);
    fft.frame().set(want);
    for (const bins of [n / 2 + 1, 480, 7]) {
      fft.power(P, bins);
      const X = pffftRealPlan(n)!;
      X.input().set(want);
      const S = X.forward();
      expect(P[0]).toBe(S[0] * S[0]);
      expect(P[n / 2]).toBe(S[1] * S[1]);
      for (let k = 1; k < Math.min(n / 2, bins); k++) expect(P[k]).toBe(S[2 * k] * S[2 * k] + S[2 * k + 1] * S[2 * k + 1]);
    }
    // Band sums of the last spectrum, each band from 0 in increasing bin order.
    const fb = kaldiMelBanks(32000, KALDI_MEL);
    const sums = fft.bandSums(fb, 1e-5)!;
    for (let m = 0; m < fb.nMels; m++) {
      let acc = 0;
      for (let j = 0; j < fb.length[m]; j++) acc += fb.weights[fb.offset[m] + j] * P[fb.start[m] + j];
      expect(sums[m]).toBe(acc + 1e-5);
    }
    expect(new RealFftPower(n, 'fft.js').bandSums(fb, 0)).toBeNull();
    // Their logarithm in the kernel: (ln(x) + shift) / scale within 1e-15 of Math.log's (ln within 1 ulp), the same
    // float32 value; zero, infinity and NaN as Math.log gives them.
    for (let trial = 0; trial < 200; trial++) {
      const input = testSignal(n, trial + 2);
      for (let i = 0; i < n; i++) input[i] *= Math.exp((trial % 20) - 10);
      fft.frame().set(input);
      fft.power(P, n / 2 + 1);
      const logMel = fft.logBandSums(fb, 1e-5, 4.5, 5)!;
      for (let m = 0; m < fb.nMels; m++) {
        let acc = 0;
        for (let j = 0; j < fb.length[m]; j++) acc += fb.weights[fb.offset[m] + j] * P[fb.start[m] + j];
        const want = (Math.log(acc + 1e-5) + 4.5) / 5;
        expect(Math.abs(logMel[m] - want)).toBeLessThan(1e-15);
        expect(Math.fround(logMel[m])).toBe(Math.fround(want));
      }
    }
    fft.frame().fill(0);
    fft.power(P, n / 2 + 1);
    expect(fft.logBandSums(fb, 0, 0, 1)![0]).toBe(-Infinity);
    fft.frame()[0] = Number.POSITIVE_INFINITY;
    fft.power(P, n / 2 + 1);
    expect(fft.logBandSums(fb, 0, 0, 1)![1]).toBe(Number.POSITIVE_INFINITY);
    fft.frame()[0] = Number.NaN;
    fft.power(P, n / 2 + 1);
    expect(fft.logBandSums(fb, 0, 0, 1)![1]).toBeNaN();
  });

  it('logMelFrames: a run of frames in one kernel call gives what the per-frame calls give, in both layouts', () => {
    const n = 1024;
    const hop = 320;
    const window = symmetricHannWindow(800);
    const fb = kaldiMelBanks(32000, KALDI_MEL);
    const x = testSignal(300 * hop + 2000, 11);
    const count = 300; // more than one 256-frame kernel call
    const single = new RealFftPower(n, 'pffft');
    const want = new Float32Array(count * fb.nMels); // frame-major
    for (let t = 0; t < count; t++) {
      single.frame().fill(0);
      single.preemphasisFrame(x, 5 + t * hop, 112, 0.97, window);
      expect(single.powerForBands(478)).toBe(true);
      want.set(single.logBandSums(fb, 1e-5, 4.5, 5)!, t * fb.nMels);
    }
    const batched = new RealFftPower(n, 'pffft');
    const job = { signal: x, first: 5, count, hop, window, offset: 112, preemphasis: 0.97, bins: 478, filterbank: fb, bias: 1e-5, shift: 4.5, scale: 5 };
    const frameMajor = new Float32Array(count * fb.nMels + 7);
    expect(batched.logMelFrames({ ...job, out: frameMajor, outAt: 7, frameStride: fb.nMels, melStride: 1 })).toBe(true);
    expect(maxAbsDiff(frameMajor.subarray(7), want)).toBe(0);
    const melMajor = new Float32Array(fb.nMels * (count + 3));
    batched.logMelFrames({ ...job, out: melMajor, outAt: 3, frameStride: 1, melStride: count + 3 });
    for (let t = 0; t < count; t += 37) for (let m = 0; m < fb.nMels; m++) expect(melMajor[3 + t + m * (count + 3)]).toBe(want[t * fb.nMels + m]);
    expect(() => batched.logMelFrames({ ...job, first: x.length - 500, count: 2, out: melMajor, outAt: 0, frameStride: 1, melStride: 1 })).toThrow(RangeError);
    expect(new RealFftPower(n, 'fft.js').logMelFrames({ ...job, out: frameMajor, outAt: 0, frameStride: fb.nMels, melStride: 1 })).toBe(false);
  });

  it('runs the committed frame kernel bytes: what shared/audio/wasm/frame.wat assembles to (npm run build:wasm)', async () => {
    const { committed, assembled } = await committedAndAssembled('shared/audio/wasm/frame.wat');
    expect(committed).toBe(assembled);
  });

  it('falls back to fft.js where PFFFT takes no plan (real sizes below 32)', () => {
    expect(new RealFftPower(16).fft).toBe('fft.js');
    expect(new RealFftPower(32).fft).toBe('pffft');
  });
});

describe('KaldiMelSpectrogram bad input', () => {
  it('refuses audio at another rate than its config, a NaN rate and fMax above Nyquist', () => {
    expectInvalid(() => new KaldiMelSpectrogram(16000));
    expectInvalid(() => new KaldiMelSpectrogram(22050, KALDI_MEL));
    expectInvalid(() => new KaldiMelSpectrogram(Number.NaN));
    expectInvalid(() => new KaldiMelSpectrogram(Number.NaN, { ...KALDI_MEL, sampleRate: Number.NaN }));
    expectInvalid(() => new KaldiMelSpectrogram(32000, { ...KALDI_MEL, fMax: 17000 }));
    expectInvalid(() => new KaldiMelSpectrogram(16000, { ...KALDI_MEL, sampleRate: 16000 }));
    expectInvalid(() => new KaldiMelSpectrogram(32000, { ...KALDI_MEL, winLength: 2048 }));
    expectInvalid(() => new KaldiMelSpectrogram(32000, { ...KALDI_MEL, nFft: 1000 }));
    expectInvalid(() => new RealFftPower(6));
  });

  it('refuses window starts outside the signal and windows shorter than 2 samples', () => {
    const x = testSignal(1000);
    expectInvalid(() => kaldi.featureWindows(x, [1000], 500));
    expectInvalid(() => kaldi.featureWindows(x, [-1], 500));
    expectInvalid(() => kaldi.featureWindows(x, [0.5], 500));
    expectInvalid(() => kaldi.featureWindows(x, [0], 1));
  });
});
