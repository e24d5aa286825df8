import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { MEL, WINDOW_FRAMES } from '../../shared/config.ts';
import { buildClassifier, buildHead, embed, hasMelStats, headOf, HEAD_LAYERS } from '../../shared/model/classifier.ts';
import { foldBatchNorm } from '../../shared/model/fold.ts';
import { melToModelInput } from '../../shared/model/input.ts';
import { MEL_STATS_DIM, melStats } from '../../shared/model/mel-stats.ts';
import { buildMobileNetV2 } from '../../shared/model/mobilenetv2.ts';
import { mergeHeadParts } from '../../shared/training/head.ts';
import { sourceWeights } from '../../shared/training/trainer.ts';
import { maxAbsDiff, useWasm } from './model-helpers.ts';

beforeAll(useWasm);

const B = MEL.nMels;
const T = WINDOW_FRAMES;

/** A mel dB image [band][frame] in [-80, 0]: a rising tone over a noise floor, with a silent gap. */
function syntheticMel(seed: number): Float32Array {
  const mel = new Float32Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const tone = Math.abs(b - (20 + ((t * seed) % 60))) < 2 ? 0 : -60;
      const noise = -70 + 10 * Math.sin(b * 0.37 * seed + t * 0.11);
      mel[b * T + t] = t > 90 && t < 100 ? -80 : Math.max(tone, noise);
    }
  }
  return mel;
}

/** The statistics computed by plain loops over the mel (band 0 = lowest), in melStats' order. */
function reference(mel: Float32Array): number[] {
  const db = (b: number, t: number) => mel[b * T + t];
  const mean: number[] = [], sd: number[] = [], change: number[] = [];
  for (let b = 0; b < B; b++) {
    let s = 0, s2 = 0, d = 0;
    for (let t = 0; t < T; t++) (s += db(b, t)), (s2 += db(b, t) ** 2);
    for (let t = 1; t < T; t++) d += Math.abs(db(b, t) - db(b, t - 1));
    mean.push(s / T);
    sd.push(Math.sqrt(Math.max(0, s2 / T - (s / T) ** 2)));
    change.push(d / (T - 1));
  }
  const energy: number[] = [], centroid: number[] = [], flatness: number[] = [];
  for (let t = 0; t < T; t++) {
    let p = 0, pb = 0, logs = 0;
    for (let b = 0; b < B; b++) {
      const power = 10 ** (db(b, t) / 10);
      p += power;
      pb += power * b;
      logs += Math.log(power + 1e-10);
    }
    energy.push(10 * Math.log10(p / B + 1e-10));
    centroid.push(pb / (p + 1e-10));
    flatness.push(Math.exp(logs / B) / (p / B + 1e-10));
  }
  const summary = (s: number[]) => {
    const m = s.reduce((a, v) => a + v, 0) / s.length;
    return [m, Math.sqrt(s.reduce((a, v) => a + (v - m) ** 2, 0) / s.length), Math.min(...s), Math.max(...s)];
  };
  // The image puts high frequencies first: per-band statistics come out in image row order.
  return [...mean.reverse(), ...sd.reverse(), ...change.reverse(), ...summary(energy), ...summary(centroid), ...summary(flatness)];
}

describe('melStats', () => {
  it('equals the statistics computed by plain loops over the mel dB, from the grey128 image', () => {
    const mels = [syntheticMel(1), syntheticMel(3)];
    const input = melToModelInput(mels, 'grey128');
    const got = tf.tidy(() => melStats(tf.tensor4d(input.data, input.shape)).arraySync());
    expect(got[0]).toHaveLength(MEL_STATS_DIM);
    mels.forEach((mel, i) => {
      const want = reference(mel);
      want.forEach((v, j) => expect(Math.abs(got[i][j] - v)).toBeLessThan(1e-3 * Math.max(1, Math.abs(v))));
    });
    // The two clips differ where they should: the tone moves at another speed.
    expect(Math.max(...got[0].map((v, j) => Math.abs(v - got[1][j])))).toBeGreaterThan(1);
  });
});

describe('classifier with acoustic statistics', () => {
  // Size-agnostic, as the trainer's and the served backbones are: the statistics' width comes from the layer's bands.
  const backbone = () => buildMobileNetV2({ alpha: 0.35, inputShape: [null, null, 3], seed: 2 });

  it('is backbone+GAP and the statistics side by side into the head; it saves, reloads and folds to the same outputs', async () => {
    const bb = backbone();
    const dim = 1280 + MEL_STATS_DIM;
    const head = buildHead({ embeddingDim: dim, head: { hiddenUnits: 8, dropout: 0 }, seed: 4 });
    const classifier = buildClassifier({ backbone: bb, head });
    expect(hasMelStats(classifier)).toBe(true);
    const input = melToModelInput([syntheticMel(1), syntheticMel(2), syntheticMel(5)], 'grey128');
    const x = tf.tensor4d(input.data, input.shape);
    // What training does (embed with statistics, then the head) is what serving does (the classifier on images).
    const features = await embed(bb, x, 2, true);
    const viaHead = head.predict(tf.tensor2d(features, [3, dim])) as tf.Tensor;
    const direct = classifier.predict(x) as tf.Tensor;
    expect(maxAbsDiff(viaHead, direct)).toBeLessThan(1e-5);

    let saved: tf.io.ModelArtifacts | undefined;
    await classifier.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const reloaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    expect(maxAbsDiff(reloaded.predict(x) as tf.Tensor, direct)).toBeLessThan(1e-6);
    expect(() => classifier.predict(tf.zeros([1, 64, T, 3]))).toThrow(/128 mel bands/);
    const folded = await foldBatchNorm(classifier);
    expect(hasMelStats(folded)).toBe(true);
    expect(maxAbsDiff(folded.predict(x) as tf.Tensor, direct)).toBeLessThan(1e-4);
    // headOf gives the head back, as wide as the features (warm starts).
    const again = headOf(reloaded);
    expect(again.inputs[0].shape[1]).toBe(dim);
    expect(maxAbsDiff(again.predict(tf.tensor2d(features, [3, dim])) as tf.Tensor, direct)).toBeLessThan(1e-5);
  });

  it('a plain head gives a plain classifier; a head of another width is refused', () => {
    const bb = backbone();
    const plain = buildClassifier({ backbone: bb, head: buildHead({ embeddingDim: 1280, head: { hiddenUnits: 4, dropout: 0 } }) });
    expect(hasMelStats(plain)).toBe(false);
    expect(plain.layers.some((l) => l.name === HEAD_LAYERS.features)).toBe(false);
    expect(() => buildClassifier({ backbone: bb, head: buildHead({ embeddingDim: 1300 }) })).toThrow(/1280/);
  });
});

describe('mergeHeadParts', () => {
  it("is one head whose logit is the weighted sum of its parts' logits, each on its own columns, linear parts included", () => {
    const dim = 7;
    const x = tf.randomNormal([11, dim], 0, 1, 'float32', 5) as tf.Tensor2D;
    const a = buildHead({ embeddingDim: 4, head: { hiddenUnits: 3, dropout: 0.2 }, seed: 1 });
    const b = buildHead({ embeddingDim: 3, head: { hiddenUnits: 0, dropout: 0 }, seed: 2 });
    const logit = (p: tf.Tensor) => tf.log(p.div(tf.scalar(1).sub(p)));
    const expected = tf.tidy(() =>
      tf.sigmoid(logit(a.predict(x.slice([0, 0], [11, 4])) as tf.Tensor).mul(0.7).add(logit(b.predict(x.slice([0, 4], [11, 3])) as tf.Tensor).mul(0.3))).dataSync(),
    );
    const merged = mergeHeadParts([{ head: a, from: 0, weight: 0.7 }, { head: b, from: 4, weight: 0.3 }], dim);
    expect(merged.getLayer(HEAD_LAYERS.hidden).getConfig().units).toBe(3 + 2);
    const got = (merged.predict(x) as tf.Tensor).dataSync();
    for (let i = 0; i < 11; i++) expect(got[i]).toBeCloseTo(expected[i], 5);
    expect(() => mergeHeadParts([{ head: b, from: 5, weight: 1 }], dim)).toThrow(/columns/);
  });
});

describe('sourceWeights', () => {
  it('evens sources out within each class by n^-balance and keeps each class total', () => {
    const sources = ['a', 'a', 'a', 'b', 'a', 'c'];
    const y = [0, 0, 0, 0, 1, 1];
    const w = sourceWeights(sources, y, 1);
    // Safe: a has 3 clips, b one -> per clip 1/3 and 1, rescaled to sum 4: 2/3 each for a, 2 for b.
    [2 / 3, 2 / 3, 2 / 3, 2].forEach((v, i) => expect(w[i]).toBeCloseTo(v, 6));
    // Danger: one clip per source, unchanged.
    expect([w[4], w[5]]).toEqual([1, 1]);
    // balance 0: every clip weighs 1; 0.5: in between.
    expect(Array.from(sourceWeights(sources, y, 0))).toEqual([1, 1, 1, 1, 1, 1]);
    const half = sourceWeights(sources, y, 0.5);
    expect(half[3] / half[0]).toBeCloseTo(Math.sqrt(3), 5);
  });
});
