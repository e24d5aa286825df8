import * as tf from '../../shared/model/tf.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAGMA_RGB, melToModelInput, REPRESENTATION_SHAPES } from '../../shared/model/input.ts';
import { useWasm } from './model-helpers.ts';

const N_MELS = 128;
const N_FRAMES = 130;

beforeAll(useWasm);

function constantMel(db: number): Float32Array {
  return new Float32Array(N_MELS * N_FRAMES).fill(db);
}

/** A smooth-but-busy test spectrogram in [-80, 0] dB. */
function wavyMel(seed: number): Float32Array {
  return Float32Array.from({ length: N_MELS * N_FRAMES }, (_, i) => -40 + 40 * Math.sin(i * 0.37 + seed) * Math.cos(i * 0.011));
}

/** Expected model value of magma entry k, channel c (byte / 127.5 - 1). */
const magma = (k: number, c: number) => MAGMA_RGB[k * 3 + c] / 127.5 - 1;

/** Exact element-wise equality (vitest's toEqual is slow on 150k-element typed arrays). */
function sameArray(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function allPixelsEqual(data: Float32Array, rgb: [number, number, number]): boolean {
  for (let i = 0; i < data.length; i += 3) {
    if (Math.abs(data[i] - rgb[0]) > 1e-6 || Math.abs(data[i + 1] - rgb[1]) > 1e-6 || Math.abs(data[i + 2] - rgb[2]) > 1e-6) return false;
  }
  return true;
}

describe('magma LUT', () => {
  it('holds matplotlib magma bytes floor(255 * _magma_data)', () => {
    expect(MAGMA_RGB).toHaveLength(768);
    // _magma_data[0] = (0.001462, 0.000466, 0.013866), [128] = (0.716387, 0.214982, 0.475290), [255] = (0.987053, 0.991438, 0.749504)
    expect(Array.from(MAGMA_RGB.subarray(0, 3))).toEqual([0, 0, 3]);
    expect(Array.from(MAGMA_RGB.subarray(128 * 3, 129 * 3))).toEqual([182, 54, 121]);
    expect(Array.from(MAGMA_RGB.subarray(255 * 3))).toEqual([251, 252, 191]);
  });
});

describe('melToModelInput', () => {
  it('gives NHWC shapes per representation, for one clip or a batch', () => {
    expect(REPRESENTATION_SHAPES.magma224).toEqual([224, 224, 3]);
    expect(REPRESENTATION_SHAPES.grey128).toEqual([128, 130, 3]);
    const one = melToModelInput(wavyMel(0), 'magma224');
    expect(one.shape).toEqual([1, 224, 224, 3]);
    expect(one.data).toHaveLength(224 * 224 * 3);
    const batch = melToModelInput([wavyMel(0), wavyMel(1), wavyMel(2)], 'grey128');
    expect(batch.shape).toEqual([3, 128, 130, 3]);
    expect(batch.data).toHaveLength(3 * 128 * 130 * 3);
  });

  it('a batch equals its clips converted one by one', () => {
    const mels = [wavyMel(0), wavyMel(1)];
    for (const rep of ['magma224', 'grey128'] as const) {
      const batch = melToModelInput(mels, rep).data;
      const per = batch.length / 2;
      expect(sameArray(batch.subarray(per), melToModelInput(mels[1], rep).data)).toBe(true);
      expect(sameArray(batch.subarray(0, per), melToModelInput(mels[0], rep).data)).toBe(true);
    }
  });

  it('magma224: -80 dB (and below) -> magma[0], 0 dB (and above) -> magma[255], -40 dB -> magma[128]', () => {
    const rgb = (k: number): [number, number, number] => [magma(k, 0), magma(k, 1), magma(k, 2)];
    expect(allPixelsEqual(melToModelInput(constantMel(-80), 'magma224').data, rgb(0))).toBe(true);
    expect(allPixelsEqual(melToModelInput(constantMel(-200), 'magma224').data, rgb(0))).toBe(true);
    expect(allPixelsEqual(melToModelInput(constantMel(0), 'magma224').data, rgb(255))).toBe(true);
    expect(allPixelsEqual(melToModelInput(constantMel(3), 'magma224').data, rgb(255))).toBe(true);
    expect(allPixelsEqual(melToModelInput(constantMel(-40), 'magma224').data, rgb(128))).toBe(true);
    // matplotlib's index is floor(256 * u): just below a bin edge stays in the lower bin.
    expect(allPixelsEqual(melToModelInput(constantMel(-80 + (80 * 10) / 256 - 1e-3), 'magma224').data, rgb(9))).toBe(true);
  });

  it('values stay in [-1, 1] for both representations', () => {
    for (const rep of ['magma224', 'grey128'] as const) {
      const { data } = melToModelInput([wavyMel(3), constantMel(-120), constantMel(10)], rep);
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of data) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      expect(lo).toBeGreaterThanOrEqual(-1);
      expect(hi).toBeLessThanOrEqual(1);
    }
  });

  it('grey128 maps [-80, 0] dB linearly to [-1, 1], 3 equal channels, low frequencies at the bottom', () => {
    const mel = constantMel(-80);
    for (let c = 0; c < N_FRAMES; c++) {
      mel[0 * N_FRAMES + c] = 0; // lowest mel band
      mel[64 * N_FRAMES + c] = -40;
    }
    const { data } = melToModelInput(mel, 'grey128');
    const px = (row: number, col: number, ch: number) => data[(row * N_FRAMES + col) * 3 + ch];
    expect(px(127, 5, 0)).toBe(1); // bottom image row = mel band 0
    expect(px(127, 5, 2)).toBe(1);
    expect(px(127 - 64, 77, 1)).toBeCloseTo(0, 6);
    expect(px(0, 0, 0)).toBe(-1); // top row = highest band
  });

  it('magma224 puts low frequencies at the bottom of the image', () => {
    const mel = constantMel(-80);
    for (let c = 0; c < N_FRAMES; c++) mel[c] = 0; // lowest band loud
    const { data } = melToModelInput(mel, 'magma224');
    const red = (y: number) => data[(y * 224 + 100) * 3];
    expect(red(223)).toBeCloseTo(magma(255, 0), 6);
    expect(red(0)).toBeCloseTo(magma(0, 0), 6);
  });

  it('magma224 resize equals tf.image.resizeBilinear (half-pixel centres) of the colour-mapped spectrogram', () => {
    const mel = wavyMel(5);
    const native = new Float32Array(N_MELS * N_FRAMES * 3);
    for (let r = 0; r < N_MELS; r++) {
      for (let c = 0; c < N_FRAMES; c++) {
        const u = (mel[(N_MELS - 1 - r) * N_FRAMES + c] + 80) / 80;
        const k = Math.min(255, Math.max(0, Math.floor(u * 256)));
        for (let ch = 0; ch < 3; ch++) native[(r * N_FRAMES + c) * 3 + ch] = magma(k, ch);
      }
    }
    const expected = tf.tidy(() => tf.image.resizeBilinear(tf.tensor3d(native, [N_MELS, N_FRAMES, 3]), [224, 224], false, true));
    const actual = tf.tensor3d(melToModelInput(mel, 'magma224').data, [224, 224, 3]);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(expected, actual))).dataSync()[0])).toBeLessThan(1e-4); // float32 rounding only
    tf.dispose([expected, actual]);
  });

  it('writes into a caller-provided buffer when given one', () => {
    const out = new Float32Array(2 * 224 * 224 * 3 + 10);
    const result = melToModelInput([wavyMel(0), wavyMel(1)], 'magma224', out);
    expect(result.data.buffer).toBe(out.buffer);
    expect(result.data).toHaveLength(2 * 224 * 224 * 3);
    expect(sameArray(result.data, melToModelInput([wavyMel(0), wavyMel(1)], 'magma224').data)).toBe(true);
    expect(() => melToModelInput([wavyMel(0), wavyMel(1)], 'magma224', new Float32Array(10))).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('rejects wrong sizes, NaN and unknown representations with INVALID_ARGUMENT', () => {
    expect(() => melToModelInput(new Float32Array(100), 'magma224')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    const nan = wavyMel(0);
    nan[500] = Number.NaN;
    expect(() => melToModelInput([wavyMel(1), nan], 'grey128')).toThrow(/Mel spectrogram 1 has a non-finite value at 500/);
    expect(() => melToModelInput(wavyMel(0), 'rainbow' as 'grey128')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
