import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '../../shared/model/tf.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelFiles, writeModelFiles } from '../../adapters/model-files.ts';
import { AUDIO, MEL } from '../../shared/config.ts';
import { loadArtifact, readManifest, serializeArtifact } from '../../shared/model/artifact.ts';
import { buildClassifier } from '../../shared/model/classifier.ts';
import { jsonBytes } from '../../shared/model/files.ts';
import { foldBatchNorm } from '../../shared/model/fold.ts';
import { buildMobileNetV2 } from '../../shared/model/mobilenetv2.ts';
import { MANIFEST_FILE, type ManifestInput } from '../../shared/model/types.ts';
import { maxAbsDiff, useWasm } from './model-helpers.ts';

let dir: string;
beforeAll(async () => {
  await useWasm();
  dir = await mkdtemp(join(tmpdir(), 'sentinel-model-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function manifest(overrides: Partial<ManifestInput> = {}): ManifestInput {
  return {
    version: 'v2',
    parentVersion: 'v1',
    createdAt: '2025-01-31T12:00:00.000Z',
    backbone: { name: 'mobilenetv2', alpha: 0.35, weightsSource: 'random', folded: false },
    frontEnd: 'librosa',
    audio: { sampleRate: AUDIO.sampleRate, windowSeconds: AUDIO.windowSeconds },
    mel: { ...MEL },
    representation: 'grey128',
    classLabels: [],
    threshold: 0.42,
    aggregation: 'pair',
    priorFloor: null,
    metrics: {},
    training: {
      data: { counts: { safe: 10, danger: 4 }, subclassCounts: { scream: 3, gunshot: 1 }, hashes: { dataset: 'ab'.repeat(32) } },
      command: 'sentinel train data/ --mode head',
      mode: 'head',
      epochs: 5,
    },
    ...overrides,
  };
}

/** Size-agnostic classifier (fits grey128's 128x130 by shape) that is cheap to run on small images. */
function smallClassifier(seed: number): tf.LayersModel {
  return buildClassifier({ backbone: buildMobileNetV2({ alpha: 0.35, inputShape: [null, null, 3], seed }), seed });
}

const decode = (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes));

describe('model artifact', () => {
  it('round-trips through the file map and a directory with identical outputs and manifest', async () => {
    const model = smallClassifier(1);
    const files = await serializeArtifact(model, manifest());
    expect(Object.keys(files).sort()).toEqual(['model.json', MANIFEST_FILE, 'weights.bin']);
    const written = readManifest(files);
    expect(written.schema).toBe('sentinel-model/1');
    expect(written.files['weights.bin'].bytes).toBe(files['weights.bin'].byteLength);
    expect(written.files['weights.bin'].sha256).toMatch(/^[0-9a-f]{64}$/);

    const target = join(dir, 'v2');
    await writeModelFiles(target, files);
    const { model: loaded, manifest: loadedManifest } = await loadArtifact(await readModelFiles(target));
    expect(loadedManifest).toEqual(written);
    const x = tf.randomUniform([2, 64, 64, 3], -1, 1, 'float32', 3);
    expect(maxAbsDiff(model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor)).toBe(0);
  });

  it("reads a manifest from before a model chose its aggregation as the highest window's ('window')", async () => {
    const files = await serializeArtifact(smallClassifier(3), manifest());
    expect(readManifest(files).aggregation).toBe('pair');
    const { aggregation: _, ...older } = decode(files[MANIFEST_FILE]);
    expect(readManifest({ ...files, [MANIFEST_FILE]: jsonBytes(older) }).aggregation).toBe('window');
    const wrong = jsonBytes({ ...older, aggregation: 'mean' });
    expect(() => readManifest({ ...files, [MANIFEST_FILE]: wrong })).toThrow(/aggregation/);
  });

  it('reads a manifest from before the prior floor as no floor, and refuses a floor on a model without a class prior', async () => {
    const files = await serializeArtifact(smallClassifier(3), manifest());
    const { priorFloor: _, ...older } = decode(files[MANIFEST_FILE]);
    expect(readManifest({ ...files, [MANIFEST_FILE]: jsonBytes(older) }).priorFloor).toBeNull();
    await expect(serializeArtifact(smallClassifier(3), manifest({ priorFloor: 1 }))).rejects.toThrow(/priorFloor/);
    expect(() => readManifest({ ...files, [MANIFEST_FILE]: jsonBytes({ ...older, priorFloor: 'high' }) })).toThrow(/priorFloor/);
  });

  it('a folded serving model round-trips too', async () => {
    const model = smallClassifier(2);
    const folded = await foldBatchNorm(model);
    const files = await serializeArtifact(folded, manifest({ backbone: { name: 'mobilenetv2', alpha: 0.35, weightsSource: 'random', folded: true } }));
    const { model: loaded } = await loadArtifact(files);
    const x = tf.randomUniform([1, 64, 64, 3], -1, 1, 'float32', 4);
    expect(maxAbsDiff(model.predict(x) as tf.Tensor, loaded.predict(x) as tf.Tensor)).toBeLessThan(1e-5);
  });

  it('refuses a model trained with other audio or mel settings (MODEL_CONFIG_MISMATCH naming the fields)', async () => {
    const files = await serializeArtifact(smallClassifier(3), manifest({ mel: { ...MEL, nMels: 64 }, audio: { sampleRate: 16000, windowSeconds: 3 } }));
    await expect(loadArtifact(files)).rejects.toMatchObject({
      code: 'MODEL_CONFIG_MISMATCH',
      message: expect.stringContaining('mel.nMels 64 (model) vs 128 (pipeline)'),
      details: { differences: { 'audio.sampleRate': { model: 16000, pipeline: 22050 }, 'mel.nMels': { model: 64, pipeline: 128 } } },
    });
    // The same files load under a pipeline configured like the model.
    const pipeline = { audio: { sampleRate: 16000, windowSeconds: 3 }, mel: { ...MEL, nMels: 64 } };
    await expect(loadArtifact(files, pipeline)).resolves.toHaveProperty('manifest.version', 'v2');
  });

  it('detects truncated or altered weights (MODEL_ARTIFACT_CORRUPT) and missing files (MODEL_ARTIFACT_INVALID)', async () => {
    const files = await serializeArtifact(smallClassifier(4), manifest());
    const weights = files['weights.bin'];
    await expect(loadArtifact({ ...files, 'weights.bin': weights.subarray(0, weights.length - 4) })).rejects.toMatchObject({
      code: 'MODEL_ARTIFACT_CORRUPT',
    });
    const flipped = weights.slice();
    flipped[100] ^= 1;
    await expect(loadArtifact({ ...files, 'weights.bin': flipped })).rejects.toMatchObject({ code: 'MODEL_ARTIFACT_CORRUPT' });
    const { [MANIFEST_FILE]: _m, ...noManifest } = files;
    await expect(loadArtifact(noManifest)).rejects.toMatchObject({ code: 'MODEL_ARTIFACT_INVALID', message: expect.stringContaining(MANIFEST_FILE) });
    const { 'weights.bin': _w, ...noWeights } = files;
    await expect(loadArtifact(noWeights)).rejects.toMatchObject({ code: 'MODEL_ARTIFACT_INVALID' });
  });

  it('refuses invalid manifests with the offending fields named', async () => {
    const files = await serializeArtifact(smallClassifier(5), manifest());
    const bad = { ...decode(files[MANIFEST_FILE]), threshold: 1.5, schema: 'sentinel-model/9' };
    await expect(loadArtifact({ ...files, [MANIFEST_FILE]: jsonBytes(bad) })).rejects.toMatchObject({
      code: 'MODEL_ARTIFACT_INVALID',
      message: expect.stringMatching(/schema.*threshold/s),
    });
    await expect(serializeArtifact(smallClassifier(5), manifest({ version: '' }))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('refuses a model whose input does not fit the representation', async () => {
    const fixed = buildClassifier({ backbone: buildMobileNetV2({ alpha: 0.35, inputShape: [96, 96, 3] }) });
    await expect(serializeArtifact(fixed, manifest({ representation: 'magma224' }))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('writes directories atomically: no temp dirs left, existing ones replaced only on request', async () => {
    const files = await serializeArtifact(smallClassifier(6), manifest());
    const target = join(dir, 'atomic');
    await writeModelFiles(target, files);
    await expect(writeModelFiles(target, files)).rejects.toMatchObject({ code: 'MODEL_EXISTS' });
    const other = await serializeArtifact(smallClassifier(7), manifest({ version: 'v3' }));
    await writeModelFiles(target, other, { overwrite: true });
    expect(readManifest(await readModelFiles(target)).version).toBe('v3');
    expect((await readdir(dir)).filter((n) => n.startsWith('.'))).toEqual([]);
    await expect(writeModelFiles(join(dir, 'evil'), { '../x': new Uint8Array(1) })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(readModelFiles(join(dir, 'missing'))).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
  });
});
