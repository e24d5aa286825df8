/** Where the CLI finds models and backbones, and how it loads them (Node side). */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tf from '../shared/model/tf.ts';
import { readModelFiles } from '../adapters/model-files.ts';
import { initTfBackend } from '../adapters/tf-backend.ts';
import { SentinelError } from '../shared/errors.ts';
import { sha256Hex } from '../shared/hash.ts';
import { Detector } from '../shared/inference/detector.ts';
import { loadArtifact } from '../shared/model/artifact.ts';
import { foldBatchNorm } from '../shared/model/fold.ts';
import { buildMobileNetV2, loadMobileNetV2 } from '../shared/model/mobilenetv2.ts';
import { backboneOf, classHeadOf, headOf } from '../shared/model/classifier.ts';
import { loadEfficientAtFiles } from '../shared/model/backbones/efficientat.ts';
import { BACKBONES } from '../shared/model/backbones/index.ts';
import { BACKBONE_NAMES, type BackboneName, type ModelManifest, type TrainingMode } from '../shared/model/types.ts';
import type { BackboneSpec } from '../shared/training/trainer.ts';
import type { CommandIO } from './command.ts';
import { requirePath } from './files.ts';
import { ROOT } from './root.ts';
import { MODEL } from '../shared/config.ts';

export { ROOT };
/** The shipped model, used when no --model is given. */
export const DEFAULT_MODEL_DIR = join(ROOT, 'models', 'default');
/** ImageNet backbone beside the project (developers and CI have ../shared; it is never copied into the repo). */
export const DEFAULT_BACKBONE_DIR = join(ROOT, '..', 'shared', 'weights', 'mobilenet_v2_0.35_imagenet_notop');
/** Where each backbone's pretrained weights are by default: the AudioSet one ships with the project (MIT). */
export const BACKBONE_DIRS: Readonly<Record<BackboneName, string>> = {
  mobilenetv2: DEFAULT_BACKBONE_DIR,
  'efficientat-mn04': join(ROOT, 'models', 'backbones', 'efficientat-mn04'),
};

let backendReady: Promise<unknown> | undefined;
export function ensureBackend(io: CommandIO): Promise<unknown> {
  return (backendReady ??= initTfBackend(process.env, (m) => io.stderr(`${m}\n`)));
}

export async function loadDetector(dir: string | undefined, io: CommandIO): Promise<Detector> {
  await requirePath(dir ?? DEFAULT_MODEL_DIR, 'model folder');
  await ensureBackend(io);
  return Detector.fromFiles(await readModelFiles(dir ?? DEFAULT_MODEL_DIR));
}

/**
 * The backbone to train from: a parent model's (its serving classifier cut where the pooling reads: BN already
 * folded; its class head too), a backbone by name (`mobilenetv2`, `efficientat-mn04`: their default folders), a
 * folder of either (a tfjs MobileNetV2 without top; an EfficientAT folder with backbone/ and audioset-head/), or
 * `random` (a random MobileNetV2: tests, experiments). Head mode embeds with a BN-folded copy (2-3x faster, same
 * features); fine-tuning needs the unfolded one.
 */
export async function loadBackbone(
  source: { from?: string; backbone?: string },
  mode: TrainingMode,
  io: CommandIO,
): Promise<{ backbone: BackboneSpec; parent?: { manifest: ModelManifest; head: tf.LayersModel }; readClassLogits?: boolean }> {
  await ensureBackend(io);
  if (source.from) {
    const files = await readModelFiles(source.from);
    const { model, manifest } = await loadArtifact(files);
    const features = backboneOf(model);
    const head = headOf(model);
    const classHead = classHeadOf(model);
    return {
      backbone: {
        name: manifest.backbone.name,
        model: features,
        ...(classHead ? { classHead: { model: classHead.model, labels: manifest.classLabels } } : {}),
        id: `${manifest.version}:${files['weights.bin'] ? await sha256Hex(files['weights.bin']) : ''}`,
        alpha: manifest.backbone.alpha,
        weightsSource: manifest.version,
        folded: true,
      },
      parent: { manifest, head },
      readClassLogits: classHead?.readByHead,
    };
  }
  const named = (BACKBONE_NAMES as readonly string[]).includes(source.backbone ?? '') ? (source.backbone as BackboneName) : undefined;
  const dir = named ? BACKBONE_DIRS[named] : (source.backbone ?? BACKBONE_DIRS[MODEL.backbone]);
  if (dir === 'random') {
    const model = buildMobileNetV2({ alpha: MODEL.alpha, inputShape: [null, null, 3], seed: 1 });
    return { backbone: { name: 'mobilenetv2', model: mode !== 'finetune' ? await foldBatchNorm(model) : model, id: 'random-1', alpha: MODEL.alpha, weightsSource: 'random', folded: mode !== 'finetune' } };
  }
  if (existsSync(join(dir, 'backbone', 'model.json'))) {
    const files = { backbone: await readModelFiles(join(dir, 'backbone')), audioSetHead: await readModelFiles(join(dir, 'audioset-head')) };
    const { backbone, audioSetHead } = await loadEfficientAtFiles(files);
    const labels = JSON.parse(await readFile(join(dir, 'labels.json'), 'utf8')) as string[];
    const spec = BACKBONES['efficientat-mn04'];
    const folded = mode !== 'finetune' && mode !== 'top';
    return {
      backbone: {
        name: spec.name,
        model: folded ? await foldBatchNorm(backbone) : backbone,
        classHead: { model: audioSetHead, labels },
        id: await sha256Hex(files.backbone['weights.bin']),
        alpha: spec.alpha,
        weightsSource: spec.weightsSource,
        folded,
      },
    };
  }
  if (!existsSync(join(dir, 'model.json'))) {
    throw new SentinelError('BACKBONE_NOT_FOUND', `No backbone at ${dir}: pass --backbone ${BACKBONE_NAMES.join('|')}|DIR|random, or --from MODEL_DIR.`, { dir });
  }
  const files = await readModelFiles(dir);
  const model = await loadMobileNetV2(files);
  // Width from the last projection (makeDivisible(320 * alpha)): 112 -> 0.35, 160 -> 0.5, 240 -> 0.75, 320 -> 1.0.
  const projected = model.getLayer('block_16_project').getConfig().filters as number;
  const alpha = [0.35, 0.5, 0.75, 1.0, 1.3, 1.4].reduce((a, b) => (Math.abs(b * 320 - projected) < Math.abs(a * 320 - projected) ? b : a));
  return {
    backbone: {
      name: 'mobilenetv2',
      model: mode !== 'finetune' ? await foldBatchNorm(model) : model,
      id: await sha256Hex(files['weights.bin']),
      alpha,
      weightsSource: BACKBONES.mobilenetv2.weightsSource,
      folded: mode !== 'finetune',
    },
  };
}
