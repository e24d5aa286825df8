/**
 * A small real Sentinel model for service tests, trained in seconds on synthetic clips: a random-init MobileNetV2
 * (BN gamma 3 so features stay O(1), as tests/unit/training.test.ts does), BN folded, grey128 input, no CV, no
 * augmentation. Nothing from ../shared and no binary is committed: tests build it in their setup.
 */
import * as tf from '../../shared/model/tf.ts';
import { zipSync } from 'fflate';
import { encodeWav } from '../../shared/audio/index.ts';
import type { ModelFiles } from '../../shared/model/files.ts';
import { foldBatchNorm } from '../../shared/model/fold.ts';
import { buildMobileNetV2 } from '../../shared/model/mobilenetv2.ts';
import { selectBackend } from '../../shared/model/backend.ts';
import { MemoryEmbeddingCache } from '../../shared/training/embedding-cache.ts';
import { trainModel, type BackboneSpec } from '../../shared/training/trainer.ts';
import type { LabeledClip } from '../../shared/types.ts';
import { backgroundLike, RATE, screamLike } from './synth.ts';

/** `n` clips alternating danger (scream-like) / safe (noise), 2-3 s long, as 16-bit WAV. */
export function syntheticClips(n: number, seed: number): LabeledClip[] {
  const clips: LabeledClip[] = [];
  for (let i = 0; i < n; i++) {
    const danger = i % 2 === 0;
    const seconds = 2 + (i % 2);
    const samples = danger ? screamLike(seconds, seed + i) : backgroundLike(seconds, seed + i);
    const label = danger ? 'danger' : 'safe';
    clips.push({ path: `${label}/c${seed}_${i}.wav`, label, bytes: encodeWav(samples, RATE, { bitDepth: 16 }) });
  }
  return clips;
}

/** A dataset zip: clips under safe/ and danger/ (plus any extra entries given). */
export function datasetZip(clips: readonly LabeledClip[], extra: Record<string, Uint8Array> = {}): Uint8Array {
  const files: Record<string, Uint8Array> = { ...extra };
  for (const c of clips) files[c.path] = c.bytes;
  return zipSync(files, { level: 1 });
}

/** A random-init, BN-folded MobileNetV2 whose activations stay O(1) like an ImageNet one's (BN gamma 3). */
export async function randomBackbone(): Promise<BackboneSpec> {
  const built = buildMobileNetV2({ alpha: 0.35, inputShape: [null, null, 3], seed: 3 });
  for (const layer of built.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const [gamma, ...rest] = layer.getWeights();
    layer.setWeights([tf.fill(gamma.shape, 3), ...rest]);
  }
  const folded = await foldBatchNorm(built);
  built.dispose();
  return { name: 'mobilenetv2', model: folded, id: 'random-3-folded', alpha: 0.35, weightsSource: 'random', folded: true };
}

/** Trains the tiny model (wasm backend) and returns its artifact files. ~10-20 s on a busy 2-core machine. */
export async function tinyModelFiles(options: { clips?: number; seed?: number; invert?: boolean } = {}): Promise<ModelFiles> {
  await selectBackend({ requested: 'wasm', log: () => {} });
  const backbone = await randomBackbone();
  const clips = syntheticClips(options.clips ?? 16, options.seed ?? 500);
  const result = await trainModel({
    // invert: a model that learned the labels the wrong way round (screams are "safe"), i.e. a bad current model.
    clips: options.invert ? clips.map((c) => ({ ...c, label: c.label === 'danger' ? ('safe' as const) : ('danger' as const) })) : clips,
    backbone,
    representation: 'grey128',
    folds: 0,
    // Two augmented views (crops, backgrounds mixed under screams): trained on clean clips only, the model missed a
    // scream laid over background, which is what the console and service tests play to it.
    augmentations: 2,
    epochs: 20,
    // Its clips are one window each, so its threshold says nothing about pairs of windows; and the console and
    // service tests play it a 3 s scream over background that, from its random backbone, one window hears clearly.
    aggregation: 'window',
    cache: new MemoryEmbeddingCache(),
    command: 'tests/helpers/tiny-model.ts',
  });
  backbone.model.dispose();
  return result.files;
}

/** Writes the tiny model as a model folder (model.json, weights.bin, sentinel.json), e.g. as a stack's default model. */
export async function writeTinyModel(dir: string, options: { clips?: number; seed?: number; invert?: boolean } = {}): Promise<void> {
  const { writeModelFiles } = await import('../../adapters/model-files.ts');
  await writeModelFiles(dir, await tinyModelFiles(options), { overwrite: true });
}
