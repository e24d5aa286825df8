import { describe, expect, it } from 'vitest';
import { AUGMENT, MEL, WINDOW_FRAMES, WINDOW_SAMPLES } from '../../shared/config.ts';
import { SentinelError } from '../../shared/errors.ts';
import { applyGain, bandLimit, changeSpeed, mixAtSnr, randomCrop, reverberate, rms, specAugment } from '../../shared/training/augment.ts';
import { augmentedViews, type PreparedClip } from '../../shared/training/views.ts';
import { createRng } from '../../shared/training/random.ts';

const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => i + 1);
const noise = (n: number, seed: number, std = 1) => {
  const r = createRng(seed);
  return Float32Array.from({ length: n }, () => r.normal(0, std));
};
/** Exact element-wise equality; much faster than toEqual on 66k-element typed arrays. */
const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
const tone = (n: number, hz: number, amp: number) =>
  Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / 22050));

describe('randomCrop', () => {
  it('cuts a contiguous window of the requested length from a longer clip, at varying offsets', () => {
    const x = ramp(1000);
    const rng = createRng(1);
    const starts = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const c = randomCrop(x, 300, rng);
      expect(c.length).toBe(300);
      const start = c[0] - 1;
      expect(start).toBeGreaterThanOrEqual(0);
      expect(start).toBeLessThanOrEqual(700);
      expect(c).toEqual(x.subarray(start, start + 300));
      starts.add(start);
    }
    expect(starts.size).toBeGreaterThan(100);
    // Both extremes are reachable.
    const r2 = createRng(2);
    const tiny = Array.from({ length: 200 }, () => randomCrop(ramp(3), 2, r2)[0]);
    expect(new Set(tiny)).toEqual(new Set([1, 2]));
  });

  it('places a shorter clip at a random offset in zeros', () => {
    const x = ramp(100);
    const rng = createRng(3);
    const offsets = new Set<number>();
    for (let i = 0; i < 100; i++) {
      const c = randomCrop(x, 250, rng);
      expect(c.length).toBe(250);
      const offset = c.findIndex((v) => v !== 0);
      expect(c.subarray(offset, offset + 100)).toEqual(x);
      expect(c.reduce((a, v) => a + (v === 0 ? 1 : 0), 0)).toBe(150);
      offsets.add(offset);
    }
    expect(Math.min(...offsets)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...offsets)).toBeLessThanOrEqual(150);
    expect(offsets.size).toBeGreaterThan(30);
  });

  it('copies an exact-length clip, does not alias the input, and is seeded', () => {
    const x = ramp(WINDOW_SAMPLES);
    const c = randomCrop(x, WINDOW_SAMPLES, createRng(4));
    expect(same(c, x)).toBe(true);
    c[0] = -1;
    expect(x[0]).toBe(1);
    const long = noise(100_000, 5);
    expect(same(randomCrop(long, WINDOW_SAMPLES, createRng(6)), randomCrop(long, WINDOW_SAMPLES, createRng(6)))).toBe(true);
    expect(same(randomCrop(long, WINDOW_SAMPLES, createRng(6)), randomCrop(long, WINDOW_SAMPLES, createRng(7)))).toBe(false);
  });

  it('rejects bad lengths and non-Float32Array input', () => {
    expect(() => randomCrop(ramp(10), 0, createRng(1))).toThrow(SentinelError);
    expect(() => randomCrop(ramp(10), 2.5, createRng(1))).toThrow(SentinelError);
    expect(() => randomCrop([1, 2, 3] as never, 2, createRng(1))).toThrow(SentinelError);
  });
});

describe('mixAtSnr', () => {
  const snrOf = (signal: Float32Array, mixed: Float32Array) => {
    const added = mixed.map((v, i) => v - signal[i]);
    return 20 * Math.log10(rms(signal) / rms(added));
  };

  it('achieves the requested SNR within 0.1 dB over a range of levels', () => {
    const signal = tone(WINDOW_SAMPLES, 440, 0.3);
    const background = noise(WINDOW_SAMPLES, 8, 0.05);
    for (const snr of [-10, -3, 0, 5, 12.5, 20, 40]) {
      const mixed = mixAtSnr(signal, background, snr);
      expect(mixed.length).toBe(signal.length);
      expect(Math.abs(snrOf(signal, mixed) - snr)).toBeLessThan(0.1);
    }
  });

  it('loops a short background and truncates a long one to the signal length', () => {
    const signal = tone(10_000, 1000, 0.5);
    const shortBg = noise(3_000, 9);
    const mixed = mixAtSnr(signal, shortBg, 6);
    expect(Math.abs(snrOf(signal, mixed) - 6)).toBeLessThan(0.1);
    // The added part repeats with the background's period.
    const added = mixed.map((v, i) => v - signal[i]);
    expect(added[3_000 + 17]).toBeCloseTo(added[17], 5);
    const longBg = noise(50_000, 10);
    expect(mixAtSnr(signal, longBg, 6).length).toBe(10_000);
  });

  it('leaves the inputs untouched and is independent of the background level', () => {
    const signal = tone(5000, 300, 0.2);
    const bg = noise(5000, 11, 0.1);
    const before = Float32Array.from(bg);
    const a = mixAtSnr(signal, bg, 10);
    const b = mixAtSnr(signal, bg.map((v) => v * 7), 10);
    expect(bg).toEqual(before);
    for (let i = 0; i < a.length; i += 97) expect(b[i]).toBeCloseTo(a[i], 5);
  });

  it('adds nothing for a silent background or a silent signal', () => {
    const signal = tone(1000, 300, 0.2);
    expect(mixAtSnr(signal, new Float32Array(1000), 0)).toEqual(signal);
    const silent = new Float32Array(1000);
    expect(mixAtSnr(silent, noise(1000, 12), 0)).toEqual(silent);
  });

  it('rejects a non-finite SNR and an empty background', () => {
    expect(() => mixAtSnr(ramp(4), ramp(4), Number.NaN)).toThrow(SentinelError);
    expect(() => mixAtSnr(ramp(4), new Float32Array(0), 3)).toThrow(/background is empty/);
  });
});

describe('specAugment', () => {
  const nMels = MEL.nMels;
  const nFrames = WINDOW_FRAMES;
  // Distinct values in (-80, 0] (7919 is coprime with 128*130, so i*7919 mod n is a permutation): masked cells are
  // found by comparison; the one cell holding the minimum (the default fill) cannot be told apart and is skipped.
  const N = nMels * nFrames;
  const image = () => Float32Array.from({ length: N }, (_, i) => (-80 * ((i * 7919) % N)) / N);
  const opts = { freqMasks: AUGMENT.freqMasks, freqWidth: AUGMENT.freqWidth, timeMasks: AUGMENT.timeMasks, timeWidth: AUGMENT.timeWidth };

  /** Rows fully masked, columns fully masked, and whether every masked cell lies in one of them. */
  function masks(input: Float32Array, out: Float32Array, fill: number) {
    const ambiguous = (m: number, t: number) => input[m * nFrames + t] === fill;
    const masked = (m: number, t: number) => out[m * nFrames + t] !== input[m * nFrames + t] || ambiguous(m, t);
    const rows: number[] = [];
    const cols: number[] = [];
    const all = (n: number, f: (i: number) => boolean) => {
      for (let i = 0; i < n; i++) if (!f(i)) return false;
      return true;
    };
    for (let m = 0; m < nMels; m++) if (all(nFrames, (t) => masked(m, t))) rows.push(m);
    for (let t = 0; t < nFrames; t++) if (all(nMels, (m) => masked(m, t))) cols.push(t);
    const rowSet = new Set(rows);
    const colSet = new Set(cols);
    let stray = 0;
    let wrongFill = 0;
    for (let m = 0; m < nMels; m++)
      for (let t = 0; t < nFrames; t++)
        if (masked(m, t) && !ambiguous(m, t)) {
          if (!rowSet.has(m) && !colSet.has(t)) stray++;
          if (out[m * nFrames + t] !== fill) wrongFill++;
        }
    return { rows, cols, stray, wrongFill };
  }

  it('masks whole mel bands and whole frame runs, within the configured widths, with the minimum dB', () => {
    const input = image();
    const min = input.reduce((a, v) => Math.min(a, v), Infinity);
    const rng = createRng(13);
    let sawRows = false;
    let sawCols = false;
    for (let trial = 0; trial < 50; trial++) {
      const out = specAugment(input, nMels, nFrames, rng, opts);
      expect(out.length).toBe(input.length);
      const { rows, cols, stray, wrongFill } = masks(input, out, min);
      expect(stray).toBe(0);
      expect(wrongFill).toBe(0);
      expect(rows.length).toBeLessThanOrEqual(opts.freqMasks * opts.freqWidth);
      expect(cols.length).toBeLessThanOrEqual(opts.timeMasks * opts.timeWidth);
      for (const r of rows) expect(r >= 0 && r < nMels).toBe(true);
      for (const c of cols) expect(c >= 0 && c < nFrames).toBe(true);
      sawRows ||= rows.length > 0;
      sawCols ||= cols.length > 0;
    }
    expect(sawRows && sawCols).toBe(true);
  });

  it('reaches the image edges without running past them (widths up to the full axis)', () => {
    const input = image();
    const rng = createRng(14);
    let touchedTop = false;
    let touchedEnd = false;
    for (let trial = 0; trial < 300; trial++) {
      const out = specAugment(input, nMels, nFrames, rng, { freqMasks: 1, freqWidth: 40, timeMasks: 1, timeWidth: 40, fillValue: 5 });
      const { rows, cols, stray } = masks(input, out, 5);
      expect(stray).toBe(0);
      touchedTop ||= rows.includes(nMels - 1);
      touchedEnd ||= cols.includes(nFrames - 1);
    }
    expect(touchedTop && touchedEnd).toBe(true);
    const full = specAugment(input, nMels, nFrames, createRng(1), { freqMasks: 0, freqWidth: 0, timeMasks: 1, timeWidth: nFrames, fillValue: -80 });
    expect(full.length).toBe(nMels * nFrames);
  });

  it('uses the given fill value, leaves the input untouched and is seeded', () => {
    const input = image();
    const copy = Float32Array.from(input);
    const a = specAugment(input, nMels, nFrames, createRng(15), { ...opts, fillValue: -100 });
    expect(same(input, copy)).toBe(true);
    expect(a.some((v) => v === -100)).toBe(true);
    expect(same(specAugment(input, nMels, nFrames, createRng(15), { ...opts, fillValue: -100 }), a)).toBe(true);
    expect(same(specAugment(input, nMels, nFrames, createRng(16), { ...opts, fillValue: -100 }), a)).toBe(false);
  });

  it('is the identity with zero masks', () => {
    const input = image();
    expect(same(specAugment(input, nMels, nFrames, createRng(1), { freqMasks: 0, freqWidth: 10, timeMasks: 0, timeWidth: 10 }), input)).toBe(true);
  });

  it('rejects a shape mismatch and out-of-range options', () => {
    const input = image();
    const rng = createRng(1);
    expect(() => specAugment(input, nMels, nFrames - 1, rng, opts)).toThrow(/nMels \* nFrames/);
    expect(() => specAugment(input, nMels, nFrames, rng, { ...opts, freqWidth: nMels + 1 })).toThrow(SentinelError);
    expect(() => specAugment(input, nMels, nFrames, rng, { ...opts, timeMasks: -1 })).toThrow(SentinelError);
    expect(() => specAugment(input, nMels, nFrames, rng, { ...opts, fillValue: Number.NaN })).toThrow(SentinelError);
  });
});

describe('AUGMENT defaults', () => {
  it('are within the shapes they apply to', () => {
    expect(AUGMENT.snrDbMin).toBeLessThanOrEqual(AUGMENT.snrDbMax);
    expect(AUGMENT.freqWidth).toBeLessThanOrEqual(MEL.nMels);
    expect(AUGMENT.timeWidth).toBeLessThanOrEqual(WINDOW_FRAMES);
    for (const p of [AUGMENT.mixProbability, AUGMENT.specAugmentProbability, AUGMENT.speedProbability]) expect(p >= 0 && p <= 1).toBe(true);
    for (const f of AUGMENT.speedFactors) expect(f > 0.5 && f < 2 && f !== 1).toBe(true);
  });
});

/** Frequency of the strongest DFT bin of x, scanning 1 Hz steps in [lo, hi] (a single tone, so no FFT needed). */
function peakHz(x: Float32Array, lo: number, hi: number): number {
  let best = { hz: lo, power: -1 };
  for (let hz = lo; hz <= hi; hz++) {
    let re = 0;
    let im = 0;
    for (let i = 0; i < x.length; i++) {
      re += x[i] * Math.cos((2 * Math.PI * hz * i) / 22050);
      im -= x[i] * Math.sin((2 * Math.PI * hz * i) / 22050);
    }
    if (re * re + im * im > best.power) best = { hz, power: re * re + im * im };
  }
  return best.hz;
}

describe('changeSpeed', () => {
  it('plays a clip faster and higher (or slower and lower): length / factor, frequency x factor', () => {
    const x = tone(22050, 440, 0.5);
    const fast = changeSpeed(x, 1.1);
    const slow = changeSpeed(x, 0.9);
    expect(fast.length).toBe(Math.ceil(22050 / 1.1));
    expect(slow.length).toBe(Math.ceil(22050 / 0.9));
    expect(peakHz(fast, 460, 510)).toBe(484);
    expect(peakHz(slow, 370, 420)).toBe(396);
    expect(rms(fast)).toBeCloseTo(rms(x), 2);
    expect(() => changeSpeed(x, 0)).toThrow(SentinelError);
  });
});

describe('augmentedViews', () => {
  const clip = (hash: string, seconds: number): PreparedClip => ({
    path: `${hash}.wav`,
    label: 'danger',
    group: hash,
    source: 'test',
    hash,
    samples: tone(Math.round(22050 * seconds), 600, 0.3),
    duration: seconds,
  });

  it('names the speed in the view id, keeps the ids views had before speed existed without it, and makes the same image every call', () => {
    const c = clip('a'.repeat(64), 3.5);
    const backgrounds = [clip('b'.repeat(64), 4)];
    const withSpeed = augmentedViews(c, 12, 7, backgrounds, { ...AUGMENT, speedProbability: 0.5 });
    const without = augmentedViews(c, 12, 7, backgrounds, { ...AUGMENT, speedProbability: 0 });
    expect(without.every((v) => !v.id.includes(':x'))).toBe(true);
    const sped = withSpeed.filter((v) => /:x[\d.]+$/.test(v.id));
    expect(sped.length).toBeGreaterThan(0);
    expect(sped.length).toBeLessThan(12);
    // The draws made before speed existed are unchanged: strip the speed suffix and the ids match.
    expect(withSpeed.map((v) => v.id.replace(/:x[\d.]+$/, ''))).toEqual(without.map((v) => v.id));
    for (const v of sped) expect(AUGMENT.speedFactors).toContain(Number(v.id.split(':x')[1]));
    const mel = sped[0].mel();
    expect(mel.length).toBe(MEL.nMels * WINDOW_FRAMES);
    expect(same(mel, sped[0].mel())).toBe(true); // seeded: the same view twice is the same image
  });

  it('adds the channel (band limit, room, level) only when drawn, names it in the id, and leaves other views as they were', () => {
    const c = clip('c'.repeat(64), 3.5);
    const backgrounds = [clip('d'.repeat(64), 4)];
    const channel = { ...AUGMENT, bandLimitProbability: 0.5, reverbProbability: 0.5, gainProbability: 0.5 };
    const withChannel = augmentedViews(c, 16, 3, backgrounds, channel);
    const without = augmentedViews(c, 16, 3, backgrounds, AUGMENT);
    const suffix = /(:b\d+)?(:r[\d.]+\/[\d.]+\/\d+)?(:g-?[\d.]+)?$/;
    expect(withChannel.map((v) => v.id.replace(suffix, ''))).toEqual(without.map((v) => v.id));
    expect(withChannel.some((v) => v.id.includes(':b'))).toBe(true);
    expect(withChannel.some((v) => v.id.includes(':r'))).toBe(true);
    expect(withChannel.some((v) => v.id.includes(':g'))).toBe(true);
    expect(withChannel.some((v) => v.id === without[withChannel.indexOf(v)].id)).toBe(true);
    const changed = withChannel.find((v) => v.id.includes(':g'))!;
    const plain = without[withChannel.indexOf(changed)];
    expect(same(changed.mel(), plain.mel())).toBe(false);
    expect(same(changed.mel(), changed.mel())).toBe(true);
  });
});

describe('channel augmentation', () => {
  const at = (n: number, hz: number, rate: number) => Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * hz * i) / rate));

  it('band limiting removes what a lower-rate recorder could not hold and keeps the rest', () => {
    const rate = 32000;
    const high = bandLimit(at(rate, 6000, rate), rate, 8000);
    const low = bandLimit(at(rate, 1000, rate), rate, 8000);
    expect(high.length).toBe(rate);
    expect(rms(high.subarray(2000, 30000))).toBeLessThan(0.005);
    expect(rms(low.subarray(2000, 30000))).toBeCloseTo(0.5 / Math.SQRT2, 2);
    expect(() => bandLimit(low, rate, 32000)).toThrow(SentinelError);
  });

  it('reverberation keeps the direct sound, rings on after it stops, and fades with the DRR', () => {
    const rate = 16000;
    const burst = new Float32Array(rate);
    burst.set(at(1600, 500, rate));
    const wet = reverberate(burst, rate, 0.5, 0, createRng(1));
    const dry = reverberate(burst, rate, 0.5, 60, createRng(1));
    expect(rms(wet.subarray(2000, 4000))).toBeGreaterThan(0.01); // the tail after the burst ended
    expect(rms(dry.subarray(2000, 4000))).toBeLessThan(1e-3);
    expect(rms(dry.subarray(0, 1600))).toBeCloseTo(rms(burst.subarray(0, 1600)), 3);
    expect(same(wet, reverberate(burst, rate, 0.5, 0, createRng(1)))).toBe(true);
  });

  it('gain scales the samples by the decibels asked', () => {
    const x = at(1000, 440, 16000);
    expect(rms(applyGain(x, -20))).toBeCloseTo(rms(x) / 10, 6);
    expect(() => applyGain(x, Number.NaN)).toThrow(SentinelError);
  });
});
