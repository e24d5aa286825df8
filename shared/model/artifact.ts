/**
 * The model artifact: tfjs files (`model.json` + `weights.bin`) plus the `sentinel.json` manifest (types.ts), as an
 * in-memory file map. Pure; adapters/model-files.ts reads/writes the map from/to a directory, the API from blobs.
 *
 * Loading checks, in order, and fails with a SentinelError:
 * - MODEL_ARTIFACT_INVALID: a file is missing, sentinel.json is not a manifest this code knows, or the model's
 *   input/output does not fit the manifest;
 * - MODEL_ARTIFACT_CORRUPT: a file's size or sha256 differs from the manifest (truncated/altered upload);
 * - MODEL_CONFIG_MISMATCH: the model was trained with other audio/mel settings than the running pipeline's, so its
 *   outputs would be meaningless.
 */
import * as tf from './tf.ts';
import { z } from 'zod';
import { AUDIO, type AudioConfig, type KaldiMelConfig, type MelConfig } from '../config.ts';
import { frontEnd, FRONT_END_NAMES } from '../audio/frontends/index.ts';
import { SentinelError } from '../errors.ts';
import { sha256Hex } from '../hash.ts';
import { keepFrozenBatchNormInInferenceMode } from './classifier.ts';
import { priorClassesOf } from './class-prior.ts';
// Registers the acoustic-statistics layer class by name, so models that have it load anywhere (Node, Lambda, browser).
import './mel-stats.ts';
import { jsonBytes, modelFromFiles, modelToFiles, readJsonFile, MODEL_JSON, type ModelFiles } from './files.ts';
import { REPRESENTATION_SHAPES } from './input.ts';
import { AGGREGATIONS, BACKBONE_NAMES, MANIFEST_FILE, MANIFEST_SCHEMA, TRAINING_MODES, type ManifestInput, type ModelManifest } from './types.ts';

export interface ModelArtifact {
  model: tf.LayersModel;
  manifest: ModelManifest;
}

/** The running pipeline's settings a model must have been trained with (default: its front end's, today's code). */
export interface PipelineConfig {
  audio: Pick<AudioConfig, 'sampleRate' | 'windowSeconds'>;
  mel: MelConfig | KaldiMelConfig;
}

/** What today's code computes for a manifest's front end. */
function pipelineOf(manifest: Pick<ModelManifest, 'frontEnd'>): PipelineConfig {
  const fe = frontEnd(manifest.frontEnd);
  return { audio: { sampleRate: fe.sampleRate, windowSeconds: AUDIO.windowSeconds }, mel: fe.config };
}

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const count = z.number().int().nonnegative();

const manifestSchema = z.object({
  schema: z.literal(MANIFEST_SCHEMA),
  version: z.string().min(1),
  parentVersion: z.string().min(1).nullable(),
  createdAt: z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 date'),
  backbone: z.object({
    // Models made before the backbone was a choice call MobileNetV2 'mobilenet_v2'.
    name: z.preprocess((v) => (v === 'mobilenet_v2' ? 'mobilenetv2' : v), z.enum(BACKBONE_NAMES)),
    alpha: finite.refine((a) => a > 0, 'must be > 0'),
    weightsSource: z.string().min(1),
    folded: z.boolean(),
  }),
  frontEnd: z.enum(FRONT_END_NAMES as [string, ...string[]]).default('librosa'),
  audio: z.object({ sampleRate: finite, windowSeconds: finite }),
  // Each front end has its own parameters; checkPipelineCompatibility compares them key by key.
  mel: z.record(z.string(), finite),
  representation: z.enum(['magma224', 'grey128', 'logmel']),
  classLabels: z.array(z.string()).default([]),
  threshold: finite.refine((t) => t >= 0 && t <= 1, 'must be in [0, 1]'),
  aggregation: z.enum(AGGREGATIONS).default('window'),
  priorFloor: finite.nullable().default(null),
  // Metrics' shape belongs to shared/metrics; here only "an object per evaluation set".
  metrics: z.record(z.string(), z.record(z.string(), z.unknown())),
  training: z
    .object({
      data: z.object({
        counts: z.object({ safe: count, danger: count }),
        subclassCounts: z.record(z.string(), count),
        hashes: z.record(z.string(), z.string()),
      }),
      command: z.string(),
      mode: z.enum(TRAINING_MODES),
      epochs: count,
      thresholdFrom: z.enum(['out-of-fold', 'out-of-fold+out-of-source', 'validation']).optional(),
      epochMetrics: z.array(z.object({ epoch: count, loss: finite, val_loss: finite.optional(), fold: count.optional() })).optional(),
    })
    .nullable(),
  files: z.record(z.string(), z.object({ bytes: count, sha256: z.string().regex(/^[0-9a-f]{64}$/) })),
});

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/** Parses and validates a manifest object (throws `code` with the first problems listed). */
function validateManifest(value: unknown, code: string, what: string): ModelManifest {
  const parsed = manifestSchema.safeParse(value);
  if (!parsed.success) {
    throw new SentinelError(code, `${what} is not a valid ${MANIFEST_SCHEMA} manifest: ${describeIssues(parsed.error)}`, {
      issues: parsed.error.issues.slice(0, 20).map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  return parsed.data as unknown as ModelManifest;
}

/** Throws MODEL_CONFIG_MISMATCH listing every audio/mel setting that differs between the manifest and `pipeline`. */
export function checkPipelineCompatibility(manifest: ModelManifest, pipeline: PipelineConfig = pipelineOf(manifest)): void {
  const differences: Record<string, { model: unknown; pipeline: unknown }> = {};
  for (const key of ['sampleRate', 'windowSeconds'] as const) {
    if (manifest.audio[key] !== pipeline.audio[key]) {
      differences[`audio.${key}`] = { model: manifest.audio[key], pipeline: pipeline.audio[key] };
    }
  }
  const [model, running] = [manifest.mel as unknown as Record<string, number>, pipeline.mel as unknown as Record<string, number>];
  for (const key of new Set([...Object.keys(running), ...Object.keys(model)])) {
    if (model[key] !== running[key]) differences[`mel.${key}`] = { model: model[key], pipeline: running[key] };
  }
  const keys = Object.keys(differences);
  if (keys.length > 0) {
    const list = keys.map((k) => `${k} ${differences[k].model} (model) vs ${differences[k].pipeline} (pipeline)`).join(', ');
    throw new SentinelError(
      'MODEL_CONFIG_MISMATCH',
      `Model ${manifest.version} was trained with different audio settings than this pipeline: ${list}.`,
      { version: manifest.version, differences },
    );
  }
}

/**
 * The model's input must be the representation's [h, w, c] (or size-agnostic) and its output one probability, plus
 * the backbone's class logits as a second output when the manifest lists class labels.
 */
function checkModelFitsManifest(model: tf.LayersModel, manifest: Pick<ModelManifest, 'representation' | 'classLabels' | 'priorFloor'>, code: string): void {
  const [h, w, c] = REPRESENTATION_SHAPES[manifest.representation];
  const input = model.inputs[0]?.shape;
  const output = model.outputs[0]?.shape;
  const labels = manifest.classLabels?.length ?? 0;
  const logits = model.outputs[1]?.shape;
  const inputOk =
    model.inputs.length === 1 && input?.length === 4 && (input[1] === h || input[1] === null) &&
    (input[2] === w || input[2] === null) && input[3] === c;
  const outputOk =
    model.outputs.length === (labels > 0 ? 2 : 1) && output?.length === 2 && output[1] === 1 &&
    (labels === 0 || (logits?.length === 2 && logits[1] === labels));
  if (!inputOk || !outputOk) {
    throw new SentinelError(
      code,
      `Model takes [${input}] and gives [${model.outputs.map((o) => `[${o.shape}]`).join(', ')}], but representation ${manifest.representation} needs [null,${h},${w},${c}] -> [null,1]${labels ? ` and [null,${labels}]` : ''}.`,
      { input, outputs: model.outputs.map((o) => o.shape), representation: manifest.representation },
    );
  }
  // The floor is computed from the class logits the model outputs, at the prior's own classes.
  if (manifest.priorFloor != null && (labels === 0 || priorClassesOf(model) === undefined)) {
    throw new SentinelError(code, 'The manifest sets priorFloor, but the model has no class prior (its ClassMax layer) or no class logits.', { priorFloor: manifest.priorFloor });
  }
}

/** Reads and validates sentinel.json alone (no digest or pipeline checks), e.g. to list models. */
export function readManifest(files: ModelFiles): ModelManifest {
  return validateManifest(readJsonFile(files, MANIFEST_FILE), 'MODEL_ARTIFACT_INVALID', MANIFEST_FILE);
}

/** Model + manifest -> file map { model.json, weights.bin, sentinel.json } with sizes and sha256 recorded. */
export async function serializeArtifact(model: tf.LayersModel, manifest: ManifestInput): Promise<ModelFiles> {
  checkModelFitsManifest(model, manifest, 'INVALID_ARGUMENT');
  const files = await modelToFiles(model);
  const digests: ModelManifest['files'] = {};
  for (const [name, bytes] of Object.entries(files)) digests[name] = { bytes: bytes.byteLength, sha256: await sha256Hex(bytes) };
  const full = validateManifest({ ...manifest, schema: MANIFEST_SCHEMA, files: digests }, 'INVALID_ARGUMENT', 'The manifest');
  return { ...files, [MANIFEST_FILE]: jsonBytes(full) };
}

/** File map -> checked model + manifest (see the module comment for the checks and error codes). */
export async function loadArtifact(files: ModelFiles, pipeline?: PipelineConfig): Promise<ModelArtifact> {
  const manifest = readManifest(files);
  if (manifest.files[MODEL_JSON] === undefined) {
    throw new SentinelError('MODEL_ARTIFACT_INVALID', `${MANIFEST_FILE} does not list ${MODEL_JSON}.`);
  }
  for (const [name, expected] of Object.entries(manifest.files)) {
    const bytes = files[name];
    if (bytes === undefined) throw new SentinelError('MODEL_ARTIFACT_INVALID', `Model file ${name} is missing.`, { file: name });
    const actual = { bytes: bytes.byteLength, sha256: await sha256Hex(bytes) };
    if (actual.bytes !== expected.bytes || actual.sha256 !== expected.sha256) {
      throw new SentinelError(
        'MODEL_ARTIFACT_CORRUPT',
        `Model file ${name} does not match its manifest entry (${actual.bytes} bytes, expected ${expected.bytes}; sha256 ${
          actual.sha256 === expected.sha256 ? 'matches' : 'differs'
        }).`,
        { file: name, expected, actual },
      );
    }
  }
  checkPipelineCompatibility(manifest, pipeline);
  const model = await modelFromFiles(files);
  checkModelFitsManifest(model, manifest, 'MODEL_ARTIFACT_INVALID');
  keepFrozenBatchNormInInferenceMode(model);
  return { model, manifest };
}
