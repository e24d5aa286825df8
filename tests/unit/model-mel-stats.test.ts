import * as tf from '../../shared/model/tf.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { MEL, WINDOW_FRAMES } from '../../shared/config.ts';
import { buildClassifier, buildHead, embed, hasMelStats, headOf, HEAD_LAYERS } from '../../shared/model/classifier.ts';
import { foldBatchNorm } from '../../shared/model/fold.ts';
import { melToModelInput } from '../../shared/model/input.ts';
import { logMelStats, logMelToDb, MEL_STATS_DIM, MelStats, melStats, melStatsDim, melStatsOf, melStatsVersionOfDim, type MelStatsVersion } from '../../shared/model/mel-stats.ts';
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

const graph = (mels: Float32Array[], version: MelStatsVersion) => {
  const input = melToModelInput(mels, 'grey128');
  return tf.tidy(() => melStats(tf.tensor4d(input.data, input.shape), version).arraySync());
};

describe('melStats', () => {
  it('the graph (from the grey128 image) and the plain loops (from the mel dB) agree, both versions', () => {
    const mels = [syntheticMel(1), syntheticMel(3)];
    for (const version of [1, 2] as const) {
      const got = graph(mels, version);
      expect(got[0]).toHaveLength(melStatsDim(version));
      mels.forEach((mel, i) => {
        const want = melStatsOf(mel, T, version);
        expect(want).toHaveLength(melStatsDim(version));
        want.forEach((v, j) => expect(Math.abs(got[i][j] - v)).toBeLessThan(1e-3 * Math.max(1, Math.abs(v))));
      });
      // The two clips differ where they should: the tone moves at another speed.
      expect(Math.max(...got[0].map((v, j) => Math.abs(v - got[1][j])))).toBeGreaterThan(1);
    }
    expect(MEL_STATS_DIM).toBe(melStatsDim(2));
    expect(melStatsVersionOfDim(396)).toBe(1);
    expect(melStatsVersionOfDim(4 * B + 12 + B / 16)).toBe(2);
    expect(melStatsVersionOfDim(400)).toBeUndefined();
  });

  it('hand-computed values: band means and spreads, the 90th percentile over time, spectral contrast', () => {
    // Every band ramps from -80 dB to 0 over the window, except one band in each group of 16 that stays at 0 dB.
    const mel = new Float32Array(B * T);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) mel[b * T + t] = b % 16 === 5 ? 0 : -80 + (80 * t) / (T - 1);
    const s = melStatsOf(mel, T, 2);
    const ramp = B - 1 - 0; // image row of band 0 (a ramping band)
    const flat = B - 1 - 5; // image row of band 5 (the 0 dB band)
    expect(s[ramp]).toBeCloseTo(-40, 4); // mean of the ramp
    expect(s[flat]).toBe(0);
    expect(s[B + flat]).toBe(0); // no spread
    expect(s[2 * B + ramp]).toBeCloseTo(80 / (T - 1), 5); // mean |change| per frame
    // 90th percentile (numpy's linear interpolation) of the ramp: 0.9 of the way from -80 to 0.
    expect(s[3 * B + 12 + ramp]).toBeCloseTo(-8, 4);
    expect(s[3 * B + 12 + flat]).toBe(0);
    // Contrast per group of 16: loudest (0 dB) minus the mean of 15 ramps at value r and one 0: mean over t of -15r/16.
    for (let g = 0; g < B / 16; g++) expect(s[4 * B + 12 + g]).toBeCloseTo((15 / 16) * 40, 3);
    // Version 1 is version 2's prefix.
    expect(Array.from(melStatsOf(mel, T, 1))).toEqual(Array.from(s.subarray(0, melStatsDim(1))));
  });

  it('a layer saved before versions existed (no version in its config) still computes version 1', () => {
    const old = MelStats.fromConfig(MelStats, { name: 'mel_stats', bands: B }) as MelStats;
    expect(old.version).toBe(1);
    expect(old.computeOutputShape([null, B, T, 3])).toEqual([null, melStatsDim(1)]);
    const input = melToModelInput([syntheticMel(2)], 'grey128');
    const out = tf.tidy(() => (old.apply(tf.tensor4d(input.data, input.shape)) as tf.Tensor).arraySync() as number[][]);
    expect(out[0]).toHaveLength(melStatsDim(1));
    expect(new MelStats({ version: 2 }).getConfig().version).toBe(2);
  });

  it("reads the AudioSet backbone's Kaldi log-mel too: the graph on its model input equals the loops on its dB", () => {
    // (ln(power) + 4.5) / 5 of a tone whose loudness falls with the band and moves over time: a flipped band order,
    // a wrong scale or a wrong offset changes the band means.
    const frames = 300;
    const logMel = (k: number) =>
      Float32Array.from({ length: B * frames }, (_, i) => {
        const [b, t] = [Math.floor(i / frames), i % frames];
        return (Math.log(1e-5 + 1e3 * Math.exp(-b / 20) * (1.01 + Math.sin((k * t) / 7 + b / 5))) + 4.5) / 5;
      });
    const mels = [logMel(1), logMel(3)];
    const input = melToModelInput(mels, 'logmel');
    const layer = MelStats.fromConfig(MelStats, new MelStats({ name: 'mel_stats', version: 2, input: 'logmel' }).getConfig()) as MelStats;
    expect(layer.reads).toBe('logmel');
    for (const got of [
      tf.tidy(() => logMelStats(tf.tensor4d(input.data, input.shape)).arraySync()),
      tf.tidy(() => (layer.apply(tf.tensor4d(input.data, input.shape)) as tf.Tensor).arraySync() as number[][]),
    ]) {
      mels.forEach((mel, i) => {
        const db = logMelToDb(mel);
        expect(db[0]).toBeCloseTo((10 / Math.LN10) * Math.log(1e-5 + 1010), 3); // band 0, frame 0
        const want = melStatsOf(db, frames, 2);
        want.forEach((v, j) => expect(Math.abs(got[i][j] - v)).toBeLessThan(1e-3 * Math.max(1, Math.abs(v))));
      });
    }
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
    const mels = [syntheticMel(1), syntheticMel(2), syntheticMel(5)];
    const input = melToModelInput(mels, 'grey128');
    const x = tf.tensor4d(input.data, input.shape);
    // What training does (embed, the statistics from the mel, then the head) is what serving does (the classifier on images).
    const pooled = await embed(bb, x, 2);
    const features = new Float32Array(3 * dim);
    mels.forEach((mel, i) => {
      features.set(pooled.subarray(i * 1280, (i + 1) * 1280), i * dim);
      features.set(melStatsOf(mel, T), i * dim + 1280);
    });
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

  it("a head as wide as version 1's statistics (models saved before version 2) gets version 1, saved and reloaded", async () => {
    const bb = backbone();
    const dim = 1280 + melStatsDim(1);
    const classifier = buildClassifier({ backbone: bb, head: buildHead({ embeddingDim: dim, head: { hiddenUnits: 4, dropout: 0 }, seed: 3 }) });
    let saved: tf.io.ModelArtifacts | undefined;
    await classifier.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    // As session 3 saved it: no version in the layer's config.
    const topology = JSON.stringify(saved!.modelTopology).replace(/,"version":1/, '');
    expect(topology).not.toMatch(/"version":1/);
    const reloaded = await tf.loadLayersModel(tf.io.fromMemory({ ...saved!, modelTopology: JSON.parse(topology) }));
    expect((reloaded.getLayer(HEAD_LAYERS.melStats) as MelStats).version).toBe(1);
    expect(headOf(reloaded).inputs[0].shape[1]).toBe(dim);
    const input = melToModelInput([syntheticMel(4)], 'grey128');
    const x = tf.tensor4d(input.data, input.shape);
    expect(maxAbsDiff(reloaded.predict(x) as tf.Tensor, classifier.predict(x) as tf.Tensor)).toBeLessThan(1e-6);
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
