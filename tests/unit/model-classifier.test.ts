import * as tf from '../../shared/model/tf.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildClassifier,
  buildHead,
  embed,
  headConfigOf,
  HEAD_LAYERS,
  setBackboneTrainable,
} from '../../shared/model/classifier.ts';
import { melToModelInput } from '../../shared/model/input.ts';
import { buildMobileNetV2 } from '../../shared/model/mobilenetv2.ts';
import { maxAbsDiff, useWasm } from './model-helpers.ts';

beforeAll(useWasm);

/** Small and fast: 32x32 input -> 1x1x1280 feature map. */
const smallBackbone = (seed = 1) => buildMobileNetV2({ alpha: 0.35, inputShape: [32, 32, 3], seed });

function bnStats(model: tf.LayersModel): Float32Array[] {
  return model.layers
    .filter((l) => l.getClassName() === 'BatchNormalization')
    .flatMap((l) => l.getWeights().slice(2).map((w) => w.dataSync() as Float32Array)); // moving mean, moving variance
}

function changed(before: Float32Array[], after: Float32Array[]): number {
  return before.filter((b, i) => b.some((v, j) => v !== after[i][j])).length;
}

async function fitOnce(model: tf.LayersModel, seed: number): Promise<void> {
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'binaryCrossentropy' });
  const x = tf.randomUniform([8, 32, 32, 3], -1, 1, 'float32', seed);
  const y = tf.tensor2d([0, 1, 0, 1, 1, 0, 1, 0], [8, 1]);
  await model.fit(x, y, { epochs: 1, batchSize: 4, verbose: 0, shuffle: false });
  tf.dispose([x, y]);
}

describe('heads', () => {
  it('buildHead: embedding -> Dense(relu) -> Dropout -> Dense(1, sigmoid)', () => {
    const head = buildHead({ embeddingDim: 1280, head: { hiddenUnits: 64, dropout: 0.25 }, seed: 3 });
    expect(head.layers.map((l) => l.name)).toEqual([HEAD_LAYERS.input, HEAD_LAYERS.hidden, HEAD_LAYERS.dropout, HEAD_LAYERS.output]);
    expect(head.outputs[0].shape).toEqual([null, 1]);
    expect(head.countParams()).toBe(1280 * 64 + 64 + 64 + 1);
    expect(headConfigOf(head)).toEqual({ hiddenUnits: 64, dropout: 0.25 });
    const linear = buildHead({ embeddingDim: 1280, head: { hiddenUnits: 0, dropout: 0 } });
    expect(linear.countParams()).toBe(1281);
  });

  it('a head trained on embeddings, transplanted into the classifier, gives the same probabilities', async () => {
    const backbone = smallBackbone();
    const images = tf.randomUniform([5, 32, 32, 3], -1, 1, 'float32', 9);
    const embeddings = await embed(backbone, images as tf.Tensor4D, 2);
    expect(embeddings).toHaveLength(5 * 1280);

    const head = buildHead({ embeddingDim: 1280, head: { hiddenUnits: 16, dropout: 0.5 }, seed: 4 });
    head.compile({ optimizer: tf.train.adam(0.01), loss: 'binaryCrossentropy' });
    const e = tf.tensor2d(embeddings, [5, 1280]);
    await head.fit(e, tf.tensor2d([1, 0, 1, 0, 1], [5, 1]), { epochs: 3, verbose: 0 });

    const classifier = buildClassifier({ backbone, head });
    expect(headConfigOf(classifier)).toEqual({ hiddenUnits: 16, dropout: 0.5 });
    const viaHead = head.predict(e) as tf.Tensor;
    const viaClassifier = classifier.predict(images) as tf.Tensor;
    expect(maxAbsDiff(viaHead, viaClassifier)).toBeLessThan(1e-6);
    // The copy is independent: training the head further does not change the classifier.
    await head.fit(e, tf.tensor2d([0, 1, 0, 1, 0], [5, 1]), { epochs: 2, verbose: 0 });
    expect(maxAbsDiff(viaClassifier, classifier.predict(images) as tf.Tensor)).toBe(0);
  });

  it('a head for another embedding size is refused', () => {
    const head = buildHead({ embeddingDim: 640 });
    expect(() => buildClassifier({ backbone: smallBackbone(), head })).toThrow(expect.objectContaining({ code: 'MODEL_WEIGHTS_MISMATCH' }));
  });
});

describe('embed', () => {
  it('is the global average of the feature map, for tensors, ModelInput and mels alike, any batch size', async () => {
    const backbone = buildMobileNetV2({ alpha: 0.35, inputShape: [null, null, 3], seed: 2 });
    const mels = [0, 1, 2].map((s) => Float32Array.from({ length: 128 * 130 }, (_, i) => -40 + 40 * Math.sin(i * 0.01 * (s + 1))));
    const input = melToModelInput(mels, 'grey128');
    const x = tf.tensor4d(input.data, input.shape);
    const expected = tf.tidy(() => (backbone.predict(x) as tf.Tensor).mean([1, 2]).dataSync() as Float32Array);
    for (const [source, batch] of [[x, 1], [input, 2], [{ mels, representation: 'grey128' as const }, 8]] as const) {
      const got = await embed(backbone, source, batch);
      expect(got).toHaveLength(3 * 1280);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - expected[i]));
      expect(worst).toBeLessThan(1e-5);
    }
    await expect(embed(backbone, x, 0)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('frozen BatchNormalization', () => {
  it('plain tfjs-layers updates the moving statistics of non-trainable BN during fit (why the fix exists)', async () => {
    const backbone = smallBackbone();
    const pooled = tf.layers.globalAveragePooling2d({}).apply(backbone.outputs[0]) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 1, activation: 'sigmoid' }).apply(pooled) as tf.SymbolicTensor;
    const plain = tf.model({ inputs: backbone.inputs, outputs: out });
    for (const l of backbone.layers) l.trainable = false;
    const before = bnStats(backbone);
    await fitOnce(plain, 1);
    expect(changed(before, bnStats(backbone))).toBeGreaterThan(0);
  });

  it('buildClassifier keeps a frozen backbone frozen: no BN statistics and no weights change, the head learns', async () => {
    const backbone = smallBackbone();
    const classifier = buildClassifier({ backbone, head: { hiddenUnits: 8, dropout: 0 }, seed: 5 });
    const bnBefore = bnStats(backbone);
    const backboneBefore = backbone.getWeights().map((w) => w.dataSync() as Float32Array);
    const headBefore = classifier.getLayer(HEAD_LAYERS.output).getWeights()[0].dataSync() as Float32Array;
    await fitOnce(classifier, 2);
    expect(changed(bnBefore, bnStats(backbone))).toBe(0);
    expect(changed(backboneBefore, backbone.getWeights().map((w) => w.dataSync() as Float32Array))).toBe(0);
    expect(changed([headBefore], [classifier.getLayer(HEAD_LAYERS.output).getWeights()[0].dataSync() as Float32Array])).toBe(1);
  });

  it('partial unfreezing trains (and updates the BN of) only the layers from the named one on', async () => {
    const backbone = smallBackbone();
    const classifier = buildClassifier({ backbone, head: { hiddenUnits: 8, dropout: 0 } });
    setBackboneTrainable(classifier, { from: 'block_16_expand' });
    const early = () => bnStats(tf.model({ inputs: backbone.inputs, outputs: backbone.getLayer('block_15_add').output }));
    const lateBn = () => classifier.getLayer('Conv_1_bn').getWeights()[2].dataSync() as Float32Array;
    const earlyBefore = early();
    const lateBefore = lateBn();
    const earlyKernel = backbone.getLayer('block_15_project').getWeights()[0].dataSync() as Float32Array;
    await fitOnce(classifier, 3);
    expect(changed(earlyBefore, early())).toBe(0);
    expect(changed([earlyKernel], [backbone.getLayer('block_15_project').getWeights()[0].dataSync() as Float32Array])).toBe(0);
    expect(changed([lateBefore], [lateBn()])).toBe(1);
    expect(() => setBackboneTrainable(classifier, { from: 'no_such_layer' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
