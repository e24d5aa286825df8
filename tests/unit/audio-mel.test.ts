/**
 * MelSpectrogram against librosa 0.11 golden data (tests/fixtures/golden): window, filterbank, STFT power frames,
 * mel power and mel dB of the five golden signals computed from float arrays.
 */
import { describe, expect, it } from 'vitest';
import { MEL, WINDOW_FRAMES, WINDOW_SAMPLES } from '../../shared/config.js';
import { denseFilterbank, fixLength, MelSpectrogram, powerToDb } from '../../shared/audio/index.js';
import { golden } from '../fixtures/golden/load.js';
import { GOLDEN_SIGNALS, goldenSignal } from '../fixtures/golden/signals.js';

const mel = new MelSpectrogram(22050, MEL);
const noise = golden.f32('input_c_noise');
/** The seed's input: the raw signal zero-padded / truncated to 66150 samples. */
const input = (name: (typeof GOLDEN_SIGNALS)[number]) => fixLength(goldenSignal(name, noise), WINDOW_SAMPLES);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Largest |a - b| / (|b| + floor): the golden README's rtol-with-absolute-floor criterion. */
function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>, floor: number): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (Math.abs(b[i]) + floor));
  return m;
}

function max(a: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < a.length; i++) m = Math.max(m, a[i]);
  return m;
}

describe('MelSpectrogram building blocks vs librosa', () => {
  it('uses the periodic Hann window (scipy get_window hann, fftbins=True)', () => {
    expect(mel.window).toHaveLength(2048);
    expect(maxAbsDiff(mel.window, golden.f64('hann_window_2048'))).toBeLessThan(1e-15);
  });

  it('places the 130 mel band edges where librosa.mel_frequencies does', () => {
    expect(maxRelDiff(mel.filterbank.edgesHz, golden.f64('mel_frequencies_130'), 1e-9)).toBeLessThan(1e-12);
  });

  it('builds the Slaney filterbank sparse, with librosa float32 weights', () => {
    const fb = mel.filterbank;
    expect(Array.from(fb.start)).toEqual(Array.from(golden.i32('filterbank_start')));
    expect(Array.from(fb.length)).toEqual(Array.from(golden.i32('filterbank_length')));
    // Every band is non-empty and only its non-zero range is stored (1466 weights instead of 128 x 1025).
    expect(Math.min(...fb.length)).toBeGreaterThan(0);
    expect(fb.weights).toHaveLength(golden.f32('filterbank_values').length);
    expect(maxRelDiff(fb.weights, golden.f32('filterbank_values'), 0)).toBeLessThanOrEqual(2 ** -23);
    // The dense view agrees with the sparse one and is zero outside each band's range.
    const dense = denseFilterbank(fb);
    expect(dense).toHaveLength(128 * 1025);
    let sum = 0;
    for (const w of dense) sum += w;
    let sparseSum = 0;
    for (const w of fb.weights) sparseSum += w;
    expect(sum).toBeCloseTo(sparseSum, 9);
  });
});

describe('STFT power frames vs librosa (center=True, zero padding)', () => {
  for (const sig of ['a_sine440', 'b_chirp', 'c_noise'] as const) {
    it(`${sig}: frames ${JSON.stringify(golden.meta(`stft_power_${sig}`).frames)}`, () => {
      const y = input(sig);
      const frames = golden.meta(`stft_power_${sig}`).frames as number[];
      const ref = golden.f32(`stft_power_${sig}`);
      const floor = 1e-6 * max(ref);
      frames.forEach((f, i) => {
        const mine = Float64Array.from(mel.stftPower(y, f));
        expect(maxRelDiff(mine, ref.subarray(i * 1025, (i + 1) * 1025), floor)).toBeLessThan(1e-5);
      });
    });
  }
});

describe('mel spectrogram of the golden signals (float arrays)', () => {
  it('has 128 x 130 values for a 3 s clip', () => {
    expect(mel.frameCount(WINDOW_SAMPLES)).toBe(WINDOW_FRAMES);
    expect(mel.power(input('a_sine440'))).toHaveLength(128 * 130);
  });

  for (const sig of GOLDEN_SIGNALS) {
    it(`${sig}: mel power within rtol 1e-5 (+1e-6 x max) and mel dB within 1e-3 dB`, () => {
      const y = input(sig);
      const power = mel.power(y);
      if (sig === 'd_silence') {
        expect(max(power)).toBe(0);
      } else {
        const ref = golden.f32(`mel_power_${sig}`);
        const refMax = golden.meta(`mel_power_${sig}`).ref_max as number;
        expect(max(power) / refMax - 1).toBeLessThan(1e-5);
        expect(maxRelDiff(power, ref, 1e-6 * refMax)).toBeLessThan(1e-5);
      }
      expect(maxAbsDiff(mel.db(y), golden.f32(`mel_db_${sig}`))).toBeLessThan(1e-3);
    });
  }
});

describe('powerToDb (librosa.power_to_db with ref=max)', () => {
  it('is 0 dB at the maximum, floors at top_db below it, and uses amin', () => {
    const S = Float32Array.from([1, 0.1, 1e-3, 1e-9, 0]);
    expect(Array.from(powerToDb(S))).toEqual(
      [0, -10, -30, -80, -80].map((v) => expect.closeTo(v, 5)),
    );
    // top_db off (Infinity): amin = 1e-10 bounds the smallest value at -100 dB below a max of 1.
    expect(powerToDb(S, { topDb: Infinity })[4]).toBeCloseTo(-100, 5);
  });

  it('equals the plain formula on every value, including ones right at the -80 dB floor', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const S = Float32Array.from({ length: 5000 }, () => 10 ** (3 - 18 * rand()));
    S[0] = 1e3; // max: the floor is at 1e-5
    S[1] = Math.fround(1e-5);
    S[2] = Math.fround(1e-5 * (1 + 1e-7));
    S[3] = Math.fround(1e-5 * (1 - 1e-7));
    S[4] = 0;
    const plain = (x: number) => 10 * Math.log10(Math.max(1e-10, x)) - 10 * Math.log10(1e3);
    const expected = Array.from(S, (x) => Math.max(plain(x), plain(1e3) - 80));
    const db = powerToDb(S);
    expected.forEach((e, i) => expect(db[i]).toBeCloseTo(e, 5));
    expect(db[4]).toBe(-80);
  });

  it('keeps silence finite (all values equal)', () => {
    const db = powerToDb(new Float32Array(8));
    expect(Array.from(db)).toEqual(new Array(8).fill(0));
  });
});

describe('MelSpectrogram.dbWindows', () => {
  it('gives exactly what db() gives on each zero-padded window, shared frames or not', () => {
    const long = Float32Array.from({ length: 22050 * 7 + 1234 }, (_, n) => Math.sin(n * 0.05) * Math.sin(n * 0.0007) + 0.01 * Math.cos(n * 1.3));
    const starts = [0, 22016, 44032, 66048, 88064, 110080, 132096, 5000, long.length - 10];
    const many = mel.dbWindows(long, starts, WINDOW_SAMPLES);
    starts.forEach((s, i) => {
      const single = mel.db(fixLength(long.subarray(s), WINDOW_SAMPLES));
      expect(many[i]).toEqual(single);
    });
  });

  it('rejects starts outside the signal', () => {
    expect(() => mel.dbWindows(new Float32Array(1000), [1000], 500)).toThrow(/outside the signal/);
  });
});

describe('MelSpectrogram argument checks', () => {
  it('rejects an empty signal and bad configurations', () => {
    expect(() => mel.power(new Float32Array(0))).toThrow(/empty/);
    expect(() => new MelSpectrogram(22050, { ...MEL, nFft: 1000 })).toThrow(/power of two/);
    expect(() => new MelSpectrogram(8000, MEL)).toThrow(/Nyquist/);
    expect(() => mel.power(new Float32Array(100), new Float32Array(3))).toThrow(/expected/);
  });
});
