/**
 * shared/model/backbones/efficientat.ts: the EfficientAT mn04_as port has upstream's architecture and, with the
 * committed weights (models/backbones/efficientat-mn04), gives PyTorch's embedding and logits on its parity mel
 * (tests/fixtures/efficientat, from shared/weights/efficientat_mn04_as/parity) on wasm and cpu, folded and fused
 * too. Tests reading the checkpoint itself skip where ../shared is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as tf from '../../shared/model/tf.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelFiles } from '../../adapters/model-files.ts';
import {
  AUDIOSET_CLASSES,
  EFFICIENTAT_EMBEDDING_DIM,
  EFFICIENTAT_OUTPUT,
  buildAudioSetHead,
  buildEfficientAtBackbone,
  loadEfficientAtFiles,
  loadEfficientAtWeights,
} from '../../shared/model/backbones/efficientat.ts';
import { SentinelError } from '../../shared/errors.ts';
import { modelToFiles, WEIGHTS_BIN } from '../../shared/model/files.ts';
import { foldBatchNorm } from '../../shared/model/fold.ts';
import { fusedPredictor } from '../../shared/model/fused.ts';
import { maxAbs, maxAbsDiff, useWasm } from './model-helpers.ts';

const MODEL_DIR = new URL('../../models/backbones/efficientat-mn04/', import.meta.url).pathname;
const FIXTURES = new URL('../fixtures/efficientat/', import.meta.url).pathname;
const SOURCE_DIR = new URL('../../../shared/weights/efficientat_mn04_as/', import.meta.url).pathname;
const HAVE_SOURCE = existsSync(`${SOURCE_DIR}mn04_as_weights.index.json`) && existsSync(`${SOURCE_DIR}mn04_as_weights.f32.bin`);

interface IndexJson {
  tensors: Array<{ name: string; shape: number[]; offset: number; length: number }>;
}
const sourceIndex = (): IndexJson => JSON.parse(readFileSync(`${SOURCE_DIR}mn04_as_weights.index.json`, 'utf8'));
const sourceBin = () => new Uint8Array(readFileSync(`${SOURCE_DIR}mn04_as_weights.f32.bin`));

function readF32(name: string): Float32Array {
  const b = readFileSync(`${FIXTURES}${name}`);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

let models: { backbone: tf.LayersModel; audioSetHead: tf.LayersModel };
const mel = readF32('mel_128xT.f32');
const parityInput = () => tf.tensor4d(mel, [1, 128, mel.length / 128, 1]);

beforeAll(async () => {
  await useWasm();
  models = await loadEfficientAtFiles({
    backbone: await readModelFiles(`${MODEL_DIR}backbone`),
    audioSetHead: await readModelFiles(`${MODEL_DIR}audioset-head`),
  });
});
afterAll(() => {
  models.backbone.dispose();
  models.audioSetHead.dispose();
});

/** Embedding (global average of the feature map) and logits of `forward` on the parity mel. */
function runParity(forward: (x: tf.Tensor) => tf.Tensor): { embedding: tf.Tensor; logits: tf.Tensor } {
  return tf.tidy(() => {
    const embedding = forward(parityInput()).mean([1, 2]);
    return { embedding, logits: models.audioSetHead.predict(embedding) as tf.Tensor };
  });
}

function expectParity(forward: (x: tf.Tensor) => tf.Tensor): void {
  const { embedding, logits } = runParity(forward);
  const wantEmbedding = tf.tensor2d(readF32('embedding_384.f32'), [1, EFFICIENTAT_EMBEDDING_DIM]);
  const wantLogits = tf.tensor2d(readF32('logits_527.f32'), [1, AUDIOSET_CLASSES]);
  // The vector is not trivial: an untrained or zeroed model could not pass by accident.
  expect(maxAbs(wantEmbedding)).toBeGreaterThan(0.5);
  expect(maxAbs(wantLogits)).toBeGreaterThan(1);
  expect(maxAbsDiff(embedding, wantEmbedding)).toBeLessThan(1e-3);
  expect(maxAbsDiff(logits, wantLogits)).toBeLessThan(1e-3);
  tf.dispose([embedding, logits, wantEmbedding, wantLogits]);
}

describe('EfficientAT mn04 architecture', () => {
  it('maps a 128 x 300 mel to a [4, 10, 384] feature map, with upstream blocks (SE, residuals, stride-2 padding)', () => {
    const model = buildEfficientAtBackbone();
    expect(model.inputs[0].shape).toEqual([null, 128, null, 1]);
    expect(model.outputs[0].sourceLayer.name).toBe(EFFICIENTAT_OUTPUT);
    const out = tf.tidy(() => (model.predict(tf.zeros([2, 128, 300, 1])) as tf.Tensor).shape);
    expect(out).toEqual([2, 4, 10, EFFICIENTAT_EMBEDDING_DIM]);
    const blocksWith = (suffix: string) =>
      model.layers.filter((l) => l.name.endsWith(suffix)).map((l) => Number(l.name.split('_')[1]));
    expect(blocksWith('_se_scale')).toEqual([4, 5, 6, 11, 12, 13, 14, 15]);
    expect(blocksWith('_add')).toEqual([1, 3, 5, 6, 8, 9, 10, 12, 14, 15]);
    expect(blocksWith('_pad')).toEqual([0, 2, 4, 7, 13]); // stem and the four stride-2 depthwise convs
    expect(blocksWith('_expand')).not.toContain(1); // block 1's expansion equals its input: no expand conv
    // Padded symmetrically, (k-1)/2 per side: 5x5 depthwise of block 4 pads 2 everywhere.
    expect(model.getLayer('features_4_dw_pad').getConfig().padding).toEqual([[2, 2], [2, 2]]);
    expect(model.getLayer('features_7_dw_act').getClassName()).toBe('SentinelHardSwish');
    expect(model.getLayer('features_4_dw_act').getClassName()).toBe('ReLU');
    model.dispose();
  });

  it.skipIf(!HAVE_SOURCE)('counts the checkpoint\'s parameters: all float tensors (tfjs counts BN running stats too), trainable ones without them', () => {
    const backbone = buildEfficientAtBackbone();
    const head = buildAudioSetHead();
    const tensors = sourceIndex().tensors.filter((t) => !t.name.endsWith('num_batches_tracked'));
    const total = tensors.reduce((n, t) => n + t.length, 0);
    const running = tensors.filter((t) => /running_(mean|var)$/.test(t.name)).reduce((n, t) => n + t.length, 0);
    expect(backbone.countParams() + head.countParams()).toBe(total);
    const trainable = [...backbone.trainableWeights, ...head.trainableWeights].reduce((n, w) => n + w.shape.reduce((a, b) => a! * b!, 1)!, 0);
    expect(trainable).toBe(total - running);
    expect(trainable).toBeGreaterThan(900_000); // upstream: 0.98 M parameters
    backbone.dispose();
    head.dispose();
  });
});

describe('EfficientAT mn04 parity with PyTorch (committed weights)', () => {
  it('gives the parity embedding and logits within 1e-3 on wasm', () => {
    expect(tf.getBackend()).toBe('wasm');
    expectParity((x) => models.backbone.predict(x) as tf.Tensor);
  });

  it('and on the cpu backend', async () => {
    try {
      expect(await tf.setBackend('cpu')).toBe(true);
      expectParity((x) => models.backbone.predict(x) as tf.Tensor);
    } finally {
      await useWasm();
    }
    expect(tf.getBackend()).toBe('wasm');
  });

  it('folded (BatchNorm merged into the convs) and run fused, equals the unfolded model within 1e-4', async () => {
    const folded = await foldBatchNorm(models.backbone);
    expect(folded.layers.filter((l) => l.getClassName() === 'BatchNormalization')).toHaveLength(0);
    expect(models.backbone.layers.filter((l) => l.getClassName() === 'BatchNormalization').length).toBeGreaterThan(40);
    const forward = fusedPredictor(folded);
    const x = tf.randomUniform([2, 128, 130, 1], -2, 1, 'float32', 7);
    const plain = models.backbone.predict(x) as tf.Tensor;
    const viaFold = folded.predict(x) as tf.Tensor;
    const viaFused = tf.tidy(() => forward(x));
    const viaFusedUnfolded = tf.tidy(() => fusedPredictor(models.backbone)(x));
    expect(maxAbs(plain)).toBeGreaterThan(1);
    expect(maxAbsDiff(viaFold, plain)).toBeLessThan(1e-4);
    expect(maxAbsDiff(viaFused, plain)).toBeLessThan(1e-4);
    expect(maxAbsDiff(viaFusedUnfolded, plain)).toBeLessThan(1e-4);
    // The serving kernels (hardswish, squeeze-excitation, residuals fused) change no output beyond float rounding.
    expect(maxAbsDiff(viaFused, viaFold)).toBeLessThan(1e-5 * maxAbs(viaFold));
    expectParity(forward);
    tf.dispose([x, plain, viaFold, viaFused, viaFusedUnfolded]);
    folded.dispose();
  });
});

describe('EfficientAT weight loading', () => {
  it.skipIf(!HAVE_SOURCE)('the checkpoint converts to exactly the committed weights', async () => {
    const fresh = loadEfficientAtWeights(sourceBin(), sourceIndex());
    const committed = (dir: string) => new Uint8Array(readFileSync(`${MODEL_DIR}${dir}/${WEIGHTS_BIN}`));
    expect(Buffer.from((await modelToFiles(fresh.backbone))[WEIGHTS_BIN]).equals(committed('backbone'))).toBe(true);
    expect(Buffer.from((await modelToFiles(fresh.audioSetHead))[WEIGHTS_BIN]).equals(committed('audioset-head'))).toBe(true);
    fresh.backbone.dispose();
    fresh.audioSetHead.dispose();
  });

  it.skipIf(!HAVE_SOURCE)('rejects an index with a tensor missing, or one the architecture does not use (MODEL_WEIGHTS_MISMATCH naming it)', () => {
    const bin = sourceBin();
    const index = sourceIndex();
    const dropped = 'features.13.block.2.conc_se_layers.0.fc2.bias';
    const missing = { ...index, tensors: index.tensors.filter((t) => t.name !== dropped) };
    expect(missing.tensors).toHaveLength(index.tensors.length - 1);
    const error = (() => {
      try {
        loadEfficientAtWeights(bin, missing);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(SentinelError);
    expect(error).toMatchObject({ code: 'MODEL_WEIGHTS_MISMATCH', details: { missing: [dropped], unused: [] } });
    const extra = { ...index, tensors: [...index.tensors, { ...index.tensors[0], name: 'features.17.0.weight' }] };
    expect(() => loadEfficientAtWeights(bin, extra)).toThrow(/1 unused \(features\.17\.0\.weight\)/);
    // A linear weight stored [in, out] instead of PyTorch's [out, in] does not fit its dense kernel.
    const transposed = {
      ...index,
      tensors: index.tensors.map((t) => (t.name === 'classifier.2.weight' ? { ...t, shape: [...t.shape].reverse() } : t)),
    };
    expect(() => loadEfficientAtWeights(bin, transposed)).toThrow(expect.objectContaining({ code: 'MODEL_WEIGHTS_MISMATCH', details: expect.objectContaining({ tensor: 'classifier.2.weight' }) }));
  });

  it('rejects an index without a tensor list, and swapped backbone / head files', async () => {
    expect(() => loadEfficientAtWeights(new Uint8Array(8), { tensors: 'no' })).toThrow(SentinelError);
    const files = { backbone: await readModelFiles(`${MODEL_DIR}audioset-head`), audioSetHead: await readModelFiles(`${MODEL_DIR}backbone`) };
    await expect(loadEfficientAtFiles(files)).rejects.toMatchObject({ code: 'MODEL_ARTIFACT_INVALID' });
  });
});
