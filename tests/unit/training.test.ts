import * as tf from '../../shared/model/tf.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyseSamples, encodeWav } from '../../shared/audio/index.ts';
import { Detector } from '../../shared/inference/detector.ts';
import { buildMobileNetV2 } from '../../shared/model/mobilenetv2.ts';
import { foldBatchNorm } from '../../shared/model/fold.ts';
import { loadArtifact } from '../../shared/model/artifact.ts';
import { hasMelStats, headOf } from '../../shared/model/classifier.ts';
import { MEL_STATS_DIM } from '../../shared/model/mel-stats.ts';
import { MemoryEmbeddingCache } from '../../shared/training/embedding-cache.ts';
import { trainModel, type BackboneSpec, type TrainResult } from '../../shared/training/trainer.ts';
import type { LabeledClip } from '../../shared/types.ts';
import { backgroundLike, RATE, screamLike, withEvent } from '../helpers/synth.ts';
import { useWasm } from './model-helpers.ts';

function dataset(n: number, seed: number): LabeledClip[] {
  const clips: LabeledClip[] = [];
  for (let i = 0; i < n; i++) {
    const danger = i % 2 === 0;
    const seconds = 2 + (i % 3);
    const samples = danger ? screamLike(seconds, seed + i) : backgroundLike(seconds, seed + i);
    clips.push({ path: `${danger ? 'danger' : 'safe'}/c${i}.wav`, label: danger ? 'danger' : 'safe', bytes: encodeWav(samples, RATE, { bitDepth: 16 }), subclass: danger ? 'tone' : 'noise' });
  }
  return clips;
}

/**
 * A random-init MobileNetV2 whose activations neither vanish nor saturate: with BN's gamma at 1 a random net's
 * features shrink to ~1e-10 by the last block; gamma 3 keeps them O(1), so the tests need no ImageNet weights.
 */
async function randomBackbone(folded: boolean): Promise<BackboneSpec> {
  const built = buildMobileNetV2({ alpha: 0.35, inputShape: [null, null, 3], seed: 3 });
  for (const layer of built.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const [gamma, ...rest] = layer.getWeights();
    layer.setWeights([tf.fill(gamma.shape, 3), ...rest]);
  }
  return { name: 'mobilenetv2', model: folded ? await foldBatchNorm(built) : built, id: `random-3-${folded}`, alpha: 0.35, weightsSource: 'random', folded };
}

describe('trainModel (head mode) on synthetic separable clips', () => {
  let result: TrainResult;
  const cache = new MemoryEmbeddingCache();

  const epochs: { fold: number | null; epoch: number; loss: number; valLoss?: number }[] = [];
  const train = async () =>
    trainModel({ clips: dataset(40, 100), backbone: await randomBackbone(true), representation: 'grey128', mode: 'head', folds: 3, augmentations: 2, cache, command: 'test' });

  beforeAll(async () => {
    await useWasm();
    result = await trainModel({
      clips: dataset(40, 100), backbone: await randomBackbone(true), representation: 'grey128', mode: 'head', folds: 3, augmentations: 2, cache, command: 'test',
      onEpoch: (log) => epochs.push(log),
    });
  });

  it('reports every head epoch: validation loss during CV folds, training loss for the final head', () => {
    expect(new Set(epochs.map((e) => e.fold))).toEqual(new Set([1, 2, 3, null]));
    expect(epochs.filter((e) => e.fold === 1).every((e) => Number.isFinite(e.valLoss))).toBe(true);
    expect(epochs.filter((e) => e.fold === null).every((e) => e.valLoss === undefined && Number.isFinite(e.loss))).toBe(true);
    // sentinel.json keeps the same epochs as a session's epoch_metrics rows, so the console can draw the served model's.
    const rows = epochs.map((e) => ({ epoch: e.epoch, loss: e.loss, ...(e.valLoss !== undefined ? { val_loss: e.valLoss } : {}), ...(e.fold !== null ? { fold: e.fold } : {}) }));
    expect(result.manifest.training?.epochMetrics).toEqual(rows);
  });

  it('separates them in cross-validation and stores a threshold chosen on out-of-fold predictions', () => {
    expect(result.cv?.folds).toBe(3);
    expect(result.cv!.pooled.rocAuc).toBeGreaterThanOrEqual(0.95);
    expect(result.cv!.pooled.balancedAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(result.manifest.threshold).toBe(result.cv!.pooled.threshold);
    expect(result.manifest.threshold).toBeGreaterThan(0);
    expect(result.manifest.threshold).toBeLessThan(1);
    expect(result.manifest.metrics.cv).toBeDefined();
    expect(result.manifest.training?.data.counts).toEqual({ safe: 20, danger: 20 });
    expect(result.manifest.backbone.folded).toBe(true);
  });

  it('serves a head reading the acoustic statistics beside the embedding (grey128 default)', async () => {
    const { model } = await loadArtifact(result.files);
    expect(hasMelStats(model)).toBe(true);
    expect(headOf(model).inputs[0].shape[1]).toBe(1280 + MEL_STATS_DIM);
  });

  it('reuses cached embeddings on a second run with the same data and seed', async () => {
    const again = await train();
    expect(again.embeddings.computed).toBe(0);
    expect(again.manifest.threshold).toBeCloseTo(result.manifest.threshold, 6);
  });

  it('serves the artifact: fresh clips classified, and an event at 20 s of a 30 s recording found near 20 s', async () => {
    const detector = await Detector.fromFiles(result.files);
    const danger = await detector.predict(analyseSamples(screamLike(3, 999), RATE));
    const safe = await detector.predict(analyseSamples(backgroundLike(3, 998), RATE));
    expect(danger.class).toBe('danger');
    expect(safe.class).toBe('safe');

    // A quiet room (background at 1/5 of the training clips' level) with a 2 s scream-like call at 20 s.
    const recording = withEvent(backgroundLike(30, 5).map((v) => v * 0.2), screamLike(2, 6), 20);
    const prediction = await detector.predict(analyseSamples(recording, RATE));
    expect(prediction.class).toBe('danger');
    expect(prediction.windows.length).toBeGreaterThanOrEqual(28);
    expect(prediction.events).toHaveLength(1);
    const [event] = prediction.events;
    expect(event.start).toBeGreaterThanOrEqual(16);
    expect(event.start).toBeLessThanOrEqual(20.5);
    expect(event.end).toBeGreaterThanOrEqual(21.5);
    expect(event.end).toBeLessThanOrEqual(25.5);
    detector.dispose();
  });

  it('refuses data with one class', async () => {
    const onlySafe = dataset(6, 7).filter((c) => c.label === 'safe');
    await expect(
      trainModel({ clips: onlySafe, backbone: await randomBackbone(true), representation: 'grey128', folds: 0, augmentations: 0, cache, command: 'test' }),
    ).rejects.toMatchObject({ code: 'TRAINING_DATA_INVALID' });
  });
});

describe('trainModel: unseen-source test and the plain head', () => {
  it('scores every source by a model trained without it, and without acoustic statistics serves the embedding head', async () => {
    const clips = dataset(32, 300).map((c, i) => ({ ...c, source: `src${Math.floor(i / 2) % 4}` }));
    const progress: string[] = [];
    const result = await trainModel({
      clips, backbone: await randomBackbone(true), representation: 'grey128', mode: 'head', folds: 2, augmentations: 0, headEnsemble: 1, epochs: 8,
      melStats: false, sourceCv: true, cache: new MemoryEmbeddingCache(), command: 'test', onProgress: (p) => progress.push(p.phase),
    });
    const report = result.sourceCv!;
    expect(report.sources).toBe(4);
    expect(report.perSource.map((s) => [s.source, s.danger, s.safe])).toEqual([0, 1, 2, 3].map((k) => [`src${k}`, 4, 4]));
    expect(report.outOfSource).toHaveLength(32);
    expect(report.outOfSource.every((o) => o.probability >= 0 && o.probability <= 1)).toBe(true);
    // Tones and noise sound alike in every source: an unseen source is still told apart.
    expect(report.pooled.rocAuc).toBeGreaterThanOrEqual(0.9);
    expect(progress).toContain('source-cv');
    expect(result.manifest.metrics.sourceCv).toEqual(report.pooled);
    // The recorded history is the CV folds and the final fit: the per-source fits are evaluations, left out.
    const rows = result.manifest.training!.epochMetrics!;
    expect(new Set(rows.map((r) => r.fold))).toEqual(new Set([1, 2, undefined]));
    expect(rows.filter((r) => r.fold === undefined && r.epoch === 1)).toHaveLength(1);
    const { model } = await loadArtifact(result.files);
    expect(hasMelStats(model)).toBe(false);
  });
});

describe('trainModel (top mode) on synthetic separable clips', () => {
  it('trains blocks 14-16 and the head from cached maps, exports them, and hands the backbone back unchanged', async () => {
    await useWasm();
    const backbone = await randomBackbone(true);
    const before = backbone.model.getLayer('Conv_1').getWeights()[0].clone();
    const cache = new MemoryEmbeddingCache();
    const epochs: (number | null)[] = [];
    const run = () =>
      trainModel({ clips: dataset(40, 100), backbone, representation: 'grey128', mode: 'top', folds: 3, augmentations: 2, cache, command: 'test', onEpoch: (e) => epochs.push(e.fold) });
    const result = await run();
    expect(result.manifest.training?.mode).toBe('top');
    expect(result.cv!.pooled.rocAuc).toBeGreaterThanOrEqual(0.95);
    expect(result.cv!.pooled.balancedAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(new Set(epochs)).toEqual(new Set([1, 2, 3, null]));
    // The caller's backbone is as it came; the exported model's top differs from it (it was trained).
    expect(tf.tidy(() => backbone.model.getLayer('Conv_1').getWeights()[0].sub(before).abs().max().dataSync()[0])).toBe(0);
    const detector = await Detector.fromFiles(result.files);
    expect(tf.tidy(() => detector.model.getLayer('Conv_1').getWeights()[0].sub(before).abs().max().dataSync()[0])).toBeGreaterThan(0);
    expect(tf.tidy(() => detector.model.getLayer('block_13_project').getWeights()[0].sub(backbone.model.getLayer('block_13_project').getWeights()[0]).abs().max().dataSync()[0])).toBe(0);
    const danger = await detector.predict(analyseSamples(screamLike(3, 999), RATE));
    const safe = await detector.predict(analyseSamples(backgroundLike(3, 998), RATE));
    expect([danger.class, safe.class]).toEqual(['danger', 'safe']);
    detector.dispose();
    // Cut maps are cached like embeddings: a rerun computes none and gives the same threshold.
    const again = await run();
    expect(again.embeddings.computed).toBe(0);
    expect(again.manifest.threshold).toBeCloseTo(result.manifest.threshold, 6);
  }, 300_000); // two full top-mode runs: ~2 min alone, more on a busy 2-core machine
});

describe('trainModel (finetune mode)', () => {
  it('runs a one-epoch smoke fine-tune of the top block and exports a folded, loadable model', async () => {
    await useWasm();
    const backbone = await randomBackbone(false);
    const result = await trainModel({
      clips: dataset(6, 300),
      backbone,
      representation: 'grey128',
      mode: 'finetune',
      epochs: 1,
      finetuneFrom: 'block_16_expand',
      folds: 0,
      augmentations: 0,
      cache: new MemoryEmbeddingCache(),
      command: 'test',
    });
    expect(result.manifest.training?.mode).toBe('finetune');
    expect(result.manifest.backbone.folded).toBe(true);
    const detector = await Detector.fromFiles(result.files);
    expect(detector.model.layers.some((l) => l.getClassName() === 'BatchNormalization')).toBe(false);
    const p = await detector.probabilities([analyseSamples(screamLike(3, 1), RATE).windows[0].db]);
    expect(p[0]).toBeGreaterThanOrEqual(0);
    expect(p[0]).toBeLessThanOrEqual(1);
    // Fine-tuning ran on the backbone layers, which the trainer then froze again for serving.
    expect(backbone.model.getLayer('block_16_project').trainable).toBe(false);
    detector.dispose();
  });
});

describe('mergeHeads', () => {
  it('is one head whose output is the sigmoid of its members\' mean logit, and a warm start continues it as is', async () => {
    const { mergeHeads, trainHead } = await import('../../shared/training/head.ts');
    const { buildHead } = await import('../../shared/model/classifier.ts');
    const dim = 5;
    const x = tf.randomNormal([9, dim], 0, 1, 'float32', 3) as tf.Tensor2D;
    const members = [1, 2, 3].map((seed) => buildHead({ embeddingDim: dim, head: { hiddenUnits: 4, dropout: 0.3 }, seed }));
    const logit = (p: tf.Tensor) => tf.log(p.div(tf.scalar(1).sub(p)));
    const expected = tf.tidy(() => tf.sigmoid(tf.addN(members.map((m) => logit(m.predict(x) as tf.Tensor))).div(3)).dataSync());
    const merged = mergeHeads(members);
    expect(merged.getLayer('head_dense').getConfig().units).toBe(12);
    const got = (merged.predict(x) as tf.Tensor).dataSync();
    for (let i = 0; i < 9; i++) expect(got[i]).toBeCloseTo(expected[i], 5);
    // Linear heads merge the same way (each as two ReLU units: z = relu(z) - relu(-z)).
    const linear = [4, 5].map((seed) => buildHead({ embeddingDim: dim, head: { hiddenUnits: 0, dropout: 0 }, seed }));
    const expectedLinear = tf.tidy(() => tf.sigmoid(tf.addN(linear.map((m) => logit(m.predict(x) as tf.Tensor))).div(2)).dataSync());
    const gotLinear = (mergeHeads(linear).predict(x) as tf.Tensor).dataSync();
    for (let i = 0; i < 9; i++) expect(gotLinear[i]).toBeCloseTo(expectedLinear[i], 5);
    // Continue-training starts from the merged (wider) head: with a zero learning rate its outputs are unchanged.
    const y = Array.from({ length: 9 }, (_, i) => i % 2);
    const again = await trainHead({ x: x.dataSync() as Float32Array, y, dim, epochs: 1, learningRate: 0, seed: 9, initialHead: merged });
    const after = (again.head.predict(x) as tf.Tensor).dataSync();
    for (let i = 0; i < 9; i++) expect(after[i]).toBeCloseTo(got[i], 4);
  });
});

describe('trainHead warm start', () => {
  it('continues from a trained head: its predictions on raw embeddings are unchanged before any epoch', async () => {
    const { trainHead } = await import('../../shared/training/head.ts');
    const dim = 6;
    const n = 40;
    const x = Float32Array.from({ length: n * dim }, (_, i) => ((i * 7919) % 97) / 10 + (Math.floor(i / dim) % 2) * 3);
    const y = Array.from({ length: n }, (_, i) => i % 2);
    const first = await trainHead({ x, y, dim, epochs: 20, seed: 1, head: { hiddenUnits: 4, dropout: 0 } });
    const before = (first.head.predict(tf.tensor2d(x, [n, dim])) as tf.Tensor).dataSync();
    // Zero learning rate: the warm-started head must reproduce the parent exactly on the same raw inputs.
    const again = await trainHead({ x: x.map((v) => v * 1.5 + 2), y, dim, epochs: 1, learningRate: 0, seed: 2, head: { hiddenUnits: 4, dropout: 0 }, initialHead: first.head });
    const after = (again.head.predict(tf.tensor2d(x, [n, dim])) as tf.Tensor).dataSync();
    for (let i = 0; i < n; i++) expect(after[i]).toBeCloseTo(before[i], 4);
  });
});

describe('trainHead l2', () => {
  it("shrinks a linear head's weights toward zero, and more with a larger penalty", async () => {
    const { trainHead, standardiser } = await import('../../shared/training/head.ts');
    const dim = 5;
    const n = 60;
    // Separable on feature 0: without a penalty the logistic weights keep growing.
    const y = Array.from({ length: n }, (_, i) => i % 2);
    const x = Float32Array.from({ length: n * dim }, (_, i) => (i % dim === 0 ? y[Math.floor(i / dim)] * 4 - 2 : ((i * 7919) % 13) / 13));
    const std = standardiser(x, n, dim).std;
    // The trained kernel re-expressed on standardised inputs (the head stores it folded: W / std).
    const norm = async (l2: number) => {
      const { head } = await trainHead({ x, y, dim, epochs: 150, learningRate: 0.05, seed: 3, l2, head: { hiddenUnits: 0, dropout: 0 } });
      const k = head.getWeights()[0].dataSync();
      return Math.hypot(...Array.from(k, (v, j) => v * std[j]));
    };
    const [free, light, heavy] = [await norm(0), await norm(0.01), await norm(0.3)];
    expect(light).toBeLessThan(free);
    expect(heavy).toBeLessThan(light / 2);
    expect(heavy).toBeGreaterThan(0);
  });
});
