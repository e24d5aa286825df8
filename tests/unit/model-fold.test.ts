import * as tf from '../../shared/model/tf.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildClassifier } from '../../shared/model/classifier.ts';
import { foldBatchNorm } from '../../shared/model/fold.ts';
import { buildMobileNetV2, decodeWeightFiles, loadWeightsByName } from '../../shared/model/mobilenetv2.ts';
import { HAVE_IMAGENET, imagenetFiles, maxAbs, maxAbsDiff, useWasm } from './model-helpers.ts';

beforeAll(useWasm);

/** Gives every BN layer non-trivial statistics (random init has mean 0, var 1, gamma 1, beta 0: folding would be a no-op). */
function randomiseBatchNorm(model: tf.LayersModel, seed: number): void {
  let s = seed;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const n = layer.getWeights()[0].shape[0]; // getWeights returns the live variables: never dispose them
    tf.tidy(() =>
      layer.setWeights([
        tf.randomUniform([n], 0.5, 1.5, 'float32', s++),
        tf.randomUniform([n], -0.3, 0.3, 'float32', s++),
        tf.randomUniform([n], -0.3, 0.3, 'float32', s++),
        tf.randomUniform([n], 0.5, 2, 'float32', s++),
      ]),
    );
  }
}

describe('foldBatchNorm', () => {
  it('removes every BN of MobileNetV2, gives convs a bias, and computes the same function (1e-5 relative)', async () => {
    const model = buildMobileNetV2({ alpha: 0.35, inputShape: [96, 96, 3], seed: 3 });
    randomiseBatchNorm(model, 10);
    const folded = await foldBatchNorm(model);
    expect(folded.layers.filter((l) => l.getClassName() === 'BatchNormalization')).toHaveLength(0);
    expect(folded.layers).toHaveLength(155 - 52);
    expect(folded.getLayer('Conv1').getConfig().useBias).toBe(true);
    expect(folded.getLayer('block_3_depthwise').getWeights()).toHaveLength(2);
    // Parameters: minus 4 per BN channel, plus 1 bias per conv output channel.
    const bnChannels = model.layers.filter((l) => l.getClassName() === 'BatchNormalization').reduce((n, l) => n + l.getWeights()[0].shape[0], 0);
    expect(folded.countParams()).toBe(model.countParams() - 3 * bnChannels);

    const x = tf.randomUniform([2, 96, 96, 3], -1, 1, 'float32', 4);
    const a = model.predict(x) as tf.Tensor;
    const b = folded.predict(x) as tf.Tensor;
    expect(maxAbs(a)).toBeGreaterThan(1);
    expect(maxAbsDiff(a, b) / maxAbs(a)).toBeLessThan(1e-5);
  });

  it('folds a classifier (BN feeding ReLU -> GAP -> head) to the same probabilities and leaves the input model intact', async () => {
    const backbone = buildMobileNetV2({ alpha: 0.35, inputShape: [null, null, 3], seed: 5 });
    randomiseBatchNorm(backbone, 100);
    const classifier = buildClassifier({ backbone, head: { hiddenUnits: 16, dropout: 0.2 }, seed: 6 });
    const x = tf.randomUniform([3, 64, 80, 3], -1, 1, 'float32', 7);
    const before = classifier.predict(x) as tf.Tensor;
    const folded = await foldBatchNorm(classifier);
    expect(maxAbsDiff(before, folded.predict(x) as tf.Tensor)).toBeLessThan(1e-5);
    expect(folded.inputs[0].shape).toEqual([null, null, null, 3]);
    expect(maxAbsDiff(before, classifier.predict(x) as tf.Tensor)).toBe(0);
  });

  it('leaves BN that does not follow a linear conv alone', async () => {
    const input = tf.input({ shape: [8, 8, 3] });
    const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', name: 'c' }).apply(input) as tf.SymbolicTensor;
    const bn = tf.layers.batchNormalization({ name: 'bn' }).apply(conv) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: bn });
    randomiseBatchNorm(model, 1);
    const folded = await foldBatchNorm(model);
    expect(folded.layers.map((l) => l.name)).toContain('bn');
    const x = tf.randomUniform([1, 8, 8, 3], -1, 1, 'float32', 2);
    expect(maxAbsDiff(model.predict(x) as tf.Tensor, folded.predict(x) as tf.Tensor)).toBe(0);
  });
});

describe.skipIf(!HAVE_IMAGENET)('foldBatchNorm on the ImageNet weights', () => {
  it('folded and unfolded agree to 1e-5 of the output range at 224x224', async () => {
    const model = buildMobileNetV2({ alpha: 0.35, inputShape: [224, 224, 3] });
    loadWeightsByName(model, decodeWeightFiles(imagenetFiles()), { requireAll: true });
    const folded = await foldBatchNorm(model);
    const x = tf.randomUniform([2, 224, 224, 3], -1, 1, 'float32', 5);
    const a = model.predict(x) as tf.Tensor;
    expect(maxAbsDiff(a, folded.predict(x) as tf.Tensor) / maxAbs(a)).toBeLessThan(1e-5);
  });
});
