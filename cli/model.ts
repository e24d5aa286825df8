/** Where the CLI finds models and backbones, and how it loads them (Node side). */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readModelFiles } from '../adapters/model-files.ts';
import { initTfBackend } from '../adapters/tf-backend.ts';
import { SentinelError } from '../shared/errors.ts';
import { sha256Hex } from '../shared/hash.ts';
import { Detector } from '../shared/inference/detector.ts';
import { loadArtifact } from '../shared/model/artifact.ts';
import { foldBatchNorm } from '../shared/model/fold.ts';
import { buildMobileNetV2, loadMobileNetV2 } from '../shared/model/mobilenetv2.ts';
import { backboneOf, headOf } from '../shared/model/classifier.ts';
import type { ModelManifest, TrainingMode } from '../shared/model/types.ts';
import type { BackboneSpec } from '../shared/training/trainer.ts';
import type { CommandIO } from './command.ts';
import { MODEL } from '../shared/config.ts';

/** The project root (this file is cli/model.ts). */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The shipped model, used when no --model is given. */
export const DEFAULT_MODEL_DIR = join(ROOT, 'models', 'default');
/** ImageNet backbone beside the project (developers and CI have ../shared; it is never copied into the repo). */
export const DEFAULT_BACKBONE_DIR = join(ROOT, '..', 'shared', 'weights', 'mobilenet_v2_0.35_imagenet_notop');

let backendReady: Promise<unknown> | undefined;
export function ensureBackend(io: CommandIO): Promise<unknown> {
  return (backendReady ??= initTfBackend(process.env, (m) => io.stderr(`${m}\n`)));
}

export async function loadDetector(dir: string | undefined, io: CommandIO): Promise<Detector> {
  await ensureBackend(io);
  return Detector.fromFiles(await readModelFiles(dir ?? DEFAULT_MODEL_DIR));
}

/**
 * The backbone to train from: a parent model's (its serving classifier cut at out_relu: BN already folded), an ImageNet
 * tfjs backbone folder, or `random` (tests, experiments). Head mode embeds with a BN-folded copy (2-3x faster, same
 * features); fine-tuning needs the unfolded one.
 */
export async function loadBackbone(
  source: { from?: string; backbone?: string },
  mode: TrainingMode,
  io: CommandIO,
): Promise<{ backbone: BackboneSpec; parent?: { manifest: ModelManifest; head: tf.LayersModel } }> {
  await ensureBackend(io);
  if (source.from) {
    const files = await readModelFiles(source.from);
    const { model, manifest } = await loadArtifact(files);
    const features = backboneOf(model);
    const head = headOf(model);
    return {
      backbone: { model: features, id: `${manifest.version}:${files['weights.bin'] ? await sha256Hex(files['weights.bin']) : ''}`, alpha: manifest.backbone.alpha, weightsSource: manifest.version, folded: true },
      parent: { manifest, head },
    };
  }
  const dir = source.backbone ?? DEFAULT_BACKBONE_DIR;
  if (dir === 'random') {
    const model = buildMobileNetV2({ alpha: MODEL.alpha, inputShape: [null, null, 3], seed: 1 });
    return { backbone: { model: mode !== 'finetune' ? await foldBatchNorm(model) : model, id: 'random-1', alpha: MODEL.alpha, weightsSource: 'random', folded: mode !== 'finetune' } };
  }
  if (!existsSync(join(dir, 'model.json'))) {
    throw new SentinelError('BACKBONE_NOT_FOUND', `No backbone at ${dir}: pass --backbone DIR (a tfjs MobileNetV2 without top), --from MODEL_DIR, or --backbone random.`, { dir });
  }
  const files = await readModelFiles(dir);
  const model = await loadMobileNetV2(files);
  // Width from the last projection (makeDivisible(320 * alpha)): 112 -> 0.35, 160 -> 0.5, 240 -> 0.75, 320 -> 1.0.
  const projected = model.getLayer('block_16_project').getConfig().filters as number;
  const alpha = [0.35, 0.5, 0.75, 1.0, 1.3, 1.4].reduce((a, b) => (Math.abs(b * 320 - projected) < Math.abs(a * 320 - projected) ? b : a));
  return {
    backbone: {
      model: mode !== 'finetune' ? await foldBatchNorm(model) : model,
      id: await sha256Hex(files['weights.bin']),
      alpha,
      weightsSource: 'keras-imagenet',
      folded: mode !== 'finetune',
    },
  };
}
