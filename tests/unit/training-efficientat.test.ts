/**
 * Training on the AudioSet backbone (EfficientAT mn04, the committed weights): Kaldi front end, class logits and the
 * class prior beside the embedding, a two-output serving model whose second output names AudioSet classes, and a
 * warm start that keeps what its parent reads. Synthetic clips, so no ../shared.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { readModelFiles } from '../../adapters/model-files.ts';
import { analyse, encodeWav } from '../../shared/audio/index.ts';
import { KALDI_MEL, MODEL, TRAINING } from '../../shared/config.ts';
import { Detector } from '../../shared/inference/detector.ts';
import { loadArtifact } from '../../shared/model/artifact.ts';
import { loadEfficientAtFiles, AUDIOSET_CLASSES, EFFICIENTAT_EMBEDDING_DIM } from '../../shared/model/backbones/efficientat.ts';
import { BACKBONES } from '../../shared/model/backbones/index.ts';
import { classMaxOf } from '../../shared/model/class-prior.ts';
import { backboneOf, buildClassifier, classHeadOf, headOf, HEAD_LAYERS } from '../../shared/model/classifier.ts';
import { foldBatchNorm } from '../../shared/model/fold.ts';
import { MemoryEmbeddingCache } from '../../shared/training/embedding-cache.ts';
import { trainModel, withClassLogits, type BackboneSpec, type TrainResult } from '../../shared/training/trainer.ts';
import { extractFeatures } from '../../shared/training/compute.ts';
import { MEL_STATS_DIM, type MelStats } from '../../shared/model/mel-stats.ts';
import { melToModelInput } from '../../shared/model/input.ts';
import * as tf from '../../shared/model/tf.ts';
import type { LabeledClip } from '../../shared/types.ts';
import { backgroundLike, RATE, screamLike } from '../helpers/synth.ts';
import { useWasm } from './model-helpers.ts';

const DIR = new URL('../../models/backbones/efficientat-mn04/', import.meta.url).pathname;

function dataset(n: number, seed: number): LabeledClip[] {
  return Array.from({ length: n }, (_, i) => {
    const danger = i % 2 === 0;
    const samples = danger ? screamLike(2 + (i % 2), seed + i) : backgroundLike(2 + (i % 2), seed + i);
    return { path: `${danger ? 'danger' : 'safe'}/c${i}.wav`, label: danger ? 'danger' : 'safe', bytes: encodeWav(samples, RATE, { bitDepth: 16 }), subclass: danger ? 'tone' : 'noise', source: `s${i % 3}` };
  });
}

async function efficientAt(): Promise<BackboneSpec> {
  const files = { backbone: await readModelFiles(join(DIR, 'backbone')), audioSetHead: await readModelFiles(join(DIR, 'audioset-head')) };
  const { backbone, audioSetHead } = await loadEfficientAtFiles(files);
  const labels = JSON.parse(await readFile(join(DIR, 'labels.json'), 'utf8')) as string[];
  return { name: 'efficientat-mn04', model: await foldBatchNorm(backbone), classHead: { model: audioSetHead, labels }, id: 'mn04-test', alpha: 0.4, weightsSource: 'test', folded: true };
}

describe('trainModel on the AudioSet backbone', () => {
  let result: TrainResult;
  let backbone: BackboneSpec;
  const cache = new MemoryEmbeddingCache();

  beforeAll(async () => {
    await useWasm();
    backbone = await efficientAt();
    result = await trainModel({ clips: dataset(24, 7), backbone, mode: 'head', folds: 3, augmentations: 1, headEnsemble: 2, sourceCv: true, cache, command: 'test' });
  });

  it('records the Kaldi front end, the backbone, its class labels and where the threshold came from', () => {
    const m = result.manifest;
    expect(m.backbone.name).toBe('efficientat-mn04');
    expect(m.frontEnd).toBe('kaldi');
    expect(m.representation).toBe('logmel');
    expect(m.audio.sampleRate).toBe(KALDI_MEL.sampleRate);
    expect(m.mel).toEqual({ ...KALDI_MEL });
    expect(m.classLabels).toHaveLength(AUDIOSET_CLASSES);
    expect(m.classLabels[14]).toBe('Screaming');
    expect(m.training?.thresholdFrom).toBe('out-of-fold+out-of-source');
    expect(result.sourceCv?.sources).toBe(3);
  });

  it('separates the synthetic classes out of fold', () => {
    expect(result.cv!.pooled.rocAuc).toBeGreaterThanOrEqual(0.9);
  });

  it('says what the backbone hears in every out-of-fold clip: the classes the served model names for its window', async () => {
    const clips = dataset(24, 7);
    const detector = await Detector.fromFiles(result.files);
    for (const [i, clip] of result.cv!.outOfFold.slice(0, 4).entries()) {
      expect(clip.path).toBe(clips[i].path);
      const [window] = (await detector.predict(await detector.analyse(clips[i].bytes))).windows; // one window: <= 3 s
      expect(clip.classes!.map((c) => c.label)).toEqual(window.classes!.map((c) => c.label));
      clip.classes!.forEach((c, k) => expect(c.score).toBeCloseTo(window.classes![k].score, 4));
    }
    detector.dispose();
  });

  it('serves P(danger) and the top AudioSet classes per window, with its own front end', async () => {
    const detector = await Detector.fromFiles(result.files);
    expect(detector.frontEnd.name).toBe('kaldi');
    expect(detector.model.outputs.map((o) => o.shape)).toEqual([[null, 1], [null, AUDIOSET_CLASSES]]);
    const bytes = encodeWav(screamLike(4, 99), RATE, { bitDepth: 16 });
    const p = await detector.predict(await detector.analyse(bytes));
    expect(p.windows.length).toBeGreaterThanOrEqual(2);
    for (const w of p.windows) {
      expect(w.classes).toHaveLength(3);
      const scores = w.classes!.map((c) => c.score);
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
      expect(scores.every((s) => s > 0 && s < 1)).toBe(true);
      expect(result.manifest.classLabels).toContain(w.classes![0].label);
    }
    // A librosa analysis is not this model's input.
    await expect(detector.predict(await analyse(bytes))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    detector.dispose();
  });

  it("floors each window's P(danger) at the class prior less MODEL.priorFloor logits, in serving and in cross-validation", async () => {
    expect(result.manifest.priorFloor).toBe(MODEL.priorFloor);
    const detector = await Detector.fromFiles(result.files);
    const analysis = await detector.analyse(encodeWav(backgroundLike(5, 98), RATE, { bitDepth: 16 }));
    const mels = analysis.windows.map((w) => w.db);
    const input = melToModelInput(mels, 'logmel');
    const [raw, logits] = detector.model.predict(tf.tensor4d(input.data, input.shape)) as tf.Tensor[];
    const rawP = raw.dataSync();
    const rawLogits = logits.dataSync();
    const served = await detector.scores(mels);
    const dangerClasses = BACKBONES['efficientat-mn04'].dangerClasses;
    served.forEach((s, j) => {
      const prior = classMaxOf(rawLogits.subarray(j * AUDIOSET_CLASSES, (j + 1) * AUDIOSET_CLASSES), dangerClasses);
      expect(s.probability).toBeCloseTo(Math.max(rawP[j], 1 / (1 + Math.exp(MODEL.priorFloor! - prior))), 6);
    });
    // A floor far above the prior lifts every window: the served probability is the floor's, not the head's.
    const lifted = new Detector(detector.model, { ...detector.manifest, priorFloor: -30 });
    expect((await lifted.scores(mels)).every((s) => s.probability > 0.99)).toBe(true);
    expect(() => new Detector(detector.model, { ...detector.manifest, classLabels: [] })).toThrow(/priorFloor/);
    raw.dispose();
    logits.dispose();
    // Cross-validation scores clips with the same floor (so the stored threshold is chosen for it).
    const floored = await trainModel({ clips: dataset(24, 7), backbone, mode: 'head', folds: 3, augmentations: 1, headEnsemble: 2, priorFloor: -30, cache, command: 'test' });
    expect(floored.manifest.priorFloor).toBe(-30);
    expect(floored.cv!.outOfFold.every((c) => c.probability > 0.99)).toBe(true);
    const none = await trainModel({ clips: dataset(24, 7), backbone, mode: 'head', folds: 3, augmentations: 1, headEnsemble: 2, priorFloor: null, cache, command: 'test' });
    expect(none.manifest.priorFloor).toBeNull();
    expect(none.cv!.outOfFold.some((c) => c.probability < 0.5)).toBe(true);
    detector.dispose();
  });

  it('reads the embedding, the AudioSet logits and the class prior; the prior keeps a fixed share of the logit', async () => {
    const { model } = await loadArtifact(result.files);
    const classes = classHeadOf(model)!;
    expect(classes.readByHead).toBe(true);
    expect(classes.priorClasses).toEqual([...BACKBONES['efficientat-mn04'].dangerClasses]);
    expect(headOf(model).inputs[0].shape[1]).toBe(EFFICIENTAT_EMBEDDING_DIM + AUDIOSET_CLASSES + 1);
    expect(backboneOf(model).outputs[0].shape[3]).toBe(EFFICIENTAT_EMBEDDING_DIM);
    expect(model.layers.some((l) => l.name === HEAD_LAYERS.classPrior)).toBe(true);
    // The prior is the head's last input, read only by its own pair of units (relu(p) and relu(-p)): the logit is
    // its share times the prior, whatever the prior's sign.
    const [kernel, , out] = headOf(model).getWeights().map((w) => w.dataSync());
    const hidden = out.length;
    const last = (EFFICIENTAT_EMBEDDING_DIM + AUDIOSET_CLASSES) * hidden;
    const readers = Array.from({ length: hidden }, (_, h) => h).filter((h) => kernel[last + h] !== 0);
    expect(readers).toHaveLength(2);
    expect(Math.sign(kernel[last + readers[0]])).toBe(-Math.sign(kernel[last + readers[1]]));
    for (const h of readers) expect(kernel[last + h] * out[h]).toBeCloseTo(TRAINING.classPriorWeight, 6);
    model.dispose();
  });

  it("'top' mode fine-tunes its upper blocks through the layers (a GPU's job; one tiny epoch here) and exports a folded model", async () => {
    const unfolded = await efficientAt();
    const files = { backbone: await readModelFiles(join(DIR, 'backbone')) };
    const { backbone: fresh } = await loadEfficientAtFiles({ ...files, audioSetHead: await readModelFiles(join(DIR, 'audioset-head')) });
    const before = fresh.getLayer('features_15_project').getWeights()[0].dataSync().slice();
    const below = fresh.getLayer('features_3_expand').getWeights()[0].dataSync().slice();
    const top = await trainModel({
      clips: dataset(6, 3), backbone: { ...unfolded, model: fresh, folded: false }, mode: 'top', epochs: 1, folds: 0, augmentations: 0, cache, command: 'test',
    });
    expect(top.manifest.training?.mode).toBe('top');
    expect(top.manifest.backbone.folded).toBe(true);
    const after = fresh.getLayer('features_15_project').getWeights()[0].dataSync();
    expect(Array.from(after).some((v, i) => v !== before[i])).toBe(true);
    expect(Array.from(fresh.getLayer('features_3_expand').getWeights()[0].dataSync())).toEqual(Array.from(below));
    const { model } = await loadArtifact(top.files);
    expect(model.layers.some((l) => l.getClassName() === 'BatchNormalization')).toBe(false);
    model.dispose();
  });

  it('retrains from its own model (warm start) into a model of the same shape', async () => {
    const { model, manifest } = await loadArtifact(result.files);
    const classes = classHeadOf(model)!;
    const again = await trainModel({
      clips: dataset(12, 50), backbone: { ...backbone, model: backboneOf(model), classHead: { model: classes.model, labels: manifest.classLabels } },
      parent: { manifest, head: headOf(model) }, readClassLogits: classes.readByHead, mode: 'head', folds: 0, augmentations: 0, cache, command: 'test',
    });
    expect(again.manifest.parentVersion).toBe(manifest.version);
    const child = await loadArtifact(again.files);
    expect(headOf(child.model).inputs[0].shape[1]).toBe(headOf(model).inputs[0].shape[1]);
    child.model.dispose();
    model.dispose();
  });
});

describe('the AudioSet backbone with the acoustic statistics (opt-in: train --mel-stats)', () => {
  let backbone: BackboneSpec;
  const cache = new MemoryEmbeddingCache();
  const dangerClasses = [...BACKBONES['efficientat-mn04'].dangerClasses];

  beforeAll(async () => {
    await useWasm();
    backbone = await efficientAt();
  });

  it("the trainer's feature rows are the served graph's: [embedding, logits, statistics of the log-mel, prior]", async () => {
    const mels = (await analyse(encodeWav(screamLike(3, 5), RATE, { bitDepth: 16 }), { frontEnd: 'kaldi' })).windows.map((w) => w.db);
    const rows = await extractFeatures({ model: backbone.model, representation: 'logmel', pool: true, melStats: 2 }, mels);
    const [trainer] = await withClassLogits([Array.from({ length: mels.length }, (_, i) => rows.subarray(i * (rows.length / mels.length), (i + 1) * (rows.length / mels.length)))], EFFICIENTAT_EMBEDDING_DIM, backbone.classHead!.model, dangerClasses);
    const classifier = buildClassifier({ backbone: backbone.model, melStats: true, classHead: { model: backbone.classHead!.model, readByHead: true, priorClasses: dangerClasses } });
    expect((classifier.getLayer(HEAD_LAYERS.melStats) as MelStats).reads).toBe('logmel');
    const features = tf.model({ inputs: classifier.inputs, outputs: classifier.getLayer(HEAD_LAYERS.features).output as tf.SymbolicTensor });
    const input = melToModelInput(mels, 'logmel');
    const served = tf.tidy(() => (features.predict(tf.tensor4d(input.data, input.shape)) as tf.Tensor).arraySync() as number[][]);
    expect(served[0]).toHaveLength(EFFICIENTAT_EMBEDDING_DIM + AUDIOSET_CLASSES + MEL_STATS_DIM + 1);
    trainer.forEach((row, i) => {
      expect(row).toHaveLength(served[i].length);
      row.forEach((v, j) => expect(Math.abs(served[i][j] - v)).toBeLessThan(2e-3 * Math.max(1, Math.abs(v))));
    });
  });

  it('trains, saves and serves a head that reads them, the class prior still last with its fixed share', async () => {
    const r = await trainModel({ clips: dataset(12, 21), backbone, mode: 'head', melStats: true, folds: 0, augmentations: 0, headEnsemble: 1, cache, command: 'test' });
    const { model } = await loadArtifact(r.files);
    expect((model.getLayer(HEAD_LAYERS.melStats) as MelStats).reads).toBe('logmel');
    const width = EFFICIENTAT_EMBEDDING_DIM + AUDIOSET_CLASSES + MEL_STATS_DIM;
    expect(headOf(model).inputs[0].shape[1]).toBe(width + 1);
    const [kernel, , out] = headOf(model).getWeights().map((w) => w.dataSync());
    const hidden = out.length;
    const readers = Array.from({ length: hidden }, (_, h) => h).filter((h) => kernel[width * hidden + h] !== 0);
    expect(readers).toHaveLength(2);
    for (const h of readers) expect(kernel[width * hidden + h] * out[h]).toBeCloseTo(TRAINING.classPriorWeight, 6);
    model.dispose();
    const detector = await Detector.fromFiles(r.files);
    const p = await detector.predict(await detector.analyse(encodeWav(screamLike(4, 8), RATE, { bitDepth: 16 })));
    expect(p.probability).toBeGreaterThanOrEqual(0);
    expect(p.probability).toBeLessThanOrEqual(1);
    expect(p.windows[0].classes).toHaveLength(3);
    detector.dispose();
  });
});
