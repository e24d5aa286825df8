/**
 * tfjs LayersModel <-> an in-memory file map (`model.json` + weight shards), the format `tf.io` writes to disk.
 * Pure (no fs): adapters/model-files.ts moves the map to and from a directory, the browser can fetch it.
 */
import * as tf from './tf.ts';
import { SentinelError } from '../errors.ts';

/** File name -> bytes. Always has `model.json`; its weightsManifest names the weight files (we write `weights.bin`). */
export type ModelFiles = Record<string, Uint8Array>;

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

const utf8 = new TextEncoder();

function invalid(message: string, details?: Record<string, unknown>): SentinelError {
  return new SentinelError('MODEL_ARTIFACT_INVALID', message, details);
}

/** Reads a JSON file of the map; a missing or unparsable file is a MODEL_ARTIFACT_INVALID error. */
export function readJsonFile(files: ModelFiles, name: string): unknown {
  const bytes = files[name];
  if (bytes === undefined) throw invalid(`Model files lack ${name}.`, { file: name, present: Object.keys(files) });
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw new SentinelError('MODEL_ARTIFACT_INVALID', `${name} is not valid UTF-8 JSON.`, { file: name }, { cause });
  }
}

export function jsonBytes(value: unknown): Uint8Array {
  return utf8.encode(`${JSON.stringify(value, null, 2)}\n`);
}

/** Parses model.json and joins its weight shards, checking every shard exists and the byte count adds up. */
export function parseModelFiles(files: ModelFiles): tf.io.ModelArtifacts {
  const json = readJsonFile(files, MODEL_JSON) as Partial<tf.io.ModelJSON>;
  if (json === null || typeof json !== 'object' || json.modelTopology == null || !Array.isArray(json.weightsManifest)) {
    throw invalid('model.json is not a tfjs layers model (needs modelTopology and weightsManifest).');
  }
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const shards: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const path of group.paths) {
      const shard = files[path];
      if (shard === undefined) throw invalid(`Weight file ${path} named in model.json is missing.`, { file: path });
      shards.push(shard);
    }
  }
  const total = shards.reduce((n, s) => n + s.byteLength, 0);
  const expected = weightSpecs.reduce(
    (n, w) => n + w.shape.reduce((a, b) => a * b, 1) * (w.dtype === 'float32' || w.dtype === 'int32' ? 4 : 1),
    0,
  );
  if (weightSpecs.every((w) => w.quantization === undefined) && total !== expected) {
    throw invalid(`Weight files hold ${total} bytes but model.json describes ${expected}.`, { total, expected });
  }
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const s of shards) {
    weightData.set(s, offset);
    offset += s.byteLength;
  }
  return {
    modelTopology: json.modelTopology,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    weightSpecs,
    weightData: weightData.buffer,
  };
}

/** Builds the model described by the files (topology + weights), e.g. the shipped ImageNet backbone. */
export async function modelFromFiles(files: ModelFiles): Promise<tf.LayersModel> {
  const artifacts = parseModelFiles(files);
  try {
    return await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (cause) {
    throw new SentinelError('MODEL_ARTIFACT_INVALID', `model.json could not be built: ${String(cause)}`, {}, { cause });
  }
}

/** Serialises a model to `model.json` + one `weights.bin` (what tf.io's file handler writes, without fs). */
export async function modelToFiles(model: tf.LayersModel): Promise<ModelFiles> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (artifacts === undefined || artifacts.weightData === undefined || artifacts.weightSpecs === undefined) {
    throw new SentinelError('INTERNAL', 'tfjs model.save produced no weights.');
  }
  const modelJson: tf.io.ModelJSON = {
    modelTopology: artifacts.modelTopology as object,
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs }],
  };
  const data = tf.io.concatenateArrayBuffers(artifacts.weightData as ArrayBuffer | ArrayBuffer[]);
  return { [MODEL_JSON]: jsonBytes(modelJson), [WEIGHTS_BIN]: new Uint8Array(data) };
}
