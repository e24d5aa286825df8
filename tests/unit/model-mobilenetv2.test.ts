import * as tf from '../../shared/model/tf.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { SentinelError } from '../../shared/errors.ts';
import { modelToFiles } from '../../shared/model/files.ts';
import {
  buildMobileNetV2,
  decodeWeightFiles,
  loadMobileNetV2,
  loadWeightsByName,
  makeDivisible,
} from '../../shared/model/mobilenetv2.ts';
import { HAVE_IMAGENET, imagenetFiles, maxAbsDiff, useWasm } from './model-helpers.ts';

beforeAll(useWasm);

describe('buildMobileNetV2 architecture', () => {
  it('alpha 0.35 no-top has Keras layer names, 155 layers and 410,208 parameters', () => {
    const model = buildMobileNetV2({ alpha: 0.35, inputShape: [224, 224, 3] });
    expect(model.countParams()).toBe(410_208);
    expect(model.layers).toHaveLength(155);
    const names = model.layers.map((l) => l.name);
    expect(names.slice(0, 8)).toEqual([
      'input_1', 'Conv1_pad', 'Conv1', 'bn_Conv1', 'Conv1_relu',
      'expanded_conv_depthwise', 'expanded_conv_depthwise_BN', 'expanded_conv_depthwise_relu',
    ]);
    for (const n of ['block_1_expand', 'block_1_pad', 'block_2_add', 'block_13_pad', 'block_16_project_BN']) {
      expect(names).toContain(n);
    }
    expect(names.slice(-3)).toEqual(['Conv_1', 'Conv_1_bn', 'out_relu']);
    expect(model.outputs[0].shape).toEqual([null, 7, 7, 1280]);
    // Residual adds exactly where Keras has them (stride 1, same channels).
    expect(names.filter((n) => n.endsWith('_add'))).toEqual(
      [2, 4, 5, 7, 8, 9, 11, 12, 14, 15].map((b) => `block_${b}_add`),
    );
  });

  it('alpha 1.0 matches the Keras parameter count (2,257,984)', () => {
    expect(buildMobileNetV2({ alpha: 1.0, inputShape: [224, 224, 3] }).countParams()).toBe(2_257_984);
  });

  it('_make_divisible rounds like Keras', () => {
    expect(makeDivisible(32 * 0.35)).toBe(16);
    expect(makeDivisible(Math.trunc(16 * 0.35))).toBe(8);
    expect(makeDivisible(Math.trunc(320 * 0.35))).toBe(112);
    expect(makeDivisible(32 * 0.75)).toBe(24);
    expect(makeDivisible(1280 * 1.4)).toBe(1792);
  });

  it('pads stride-2 convs like Keras correct_pad: known odd sizes get ((1,1)), unknown sizes ((0,1))', () => {
    const known = buildMobileNetV2({ alpha: 0.35, inputShape: [128, 130, 3] });
    const dynamic = buildMobileNetV2({ alpha: 0.35, inputShape: [null, null, 3] });
    expect(known.outputs[0].shape).toEqual([null, 4, 5, 1280]); // 130 -> 65 -> 33 -> 17 -> 9 -> 5
    expect(known.getLayer('block_1_pad').getConfig().padding).toEqual([[0, 1], [1, 1]]);
    expect(dynamic.getLayer('block_1_pad').getConfig().padding).toEqual([[0, 1], [0, 1]]);
    const y = tf.tidy(() => dynamic.predict(tf.zeros([1, 128, 130, 3])) as tf.Tensor);
    expect(y.shape).toEqual([1, 4, 4, 1280]);
    y.dispose();
  });

  it('rejects bad options with INVALID_ARGUMENT', () => {
    expect(() => buildMobileNetV2({ alpha: 0, inputShape: [224, 224, 3] })).toThrow(SentinelError);
    expect(() => buildMobileNetV2({ alpha: 0.35, inputShape: [16, 224, 3] })).toThrow(/>= 32/);
  });

  it('the same seed gives the same weights', () => {
    const a = buildMobileNetV2({ alpha: 0.35, inputShape: [32, 32, 3], seed: 7 });
    const b = buildMobileNetV2({ alpha: 0.35, inputShape: [32, 32, 3], seed: 7 });
    expect(maxAbsDiff(a.getLayer('block_5_expand').getWeights()[0], b.getLayer('block_5_expand').getWeights()[0])).toBe(0);
  });
});

describe('loading weights by name', () => {
  it('moves every weight of one model into another by Keras name (same outputs)', async () => {
    const source = buildMobileNetV2({ alpha: 0.35, inputShape: [null, null, 3], seed: 1 });
    const target = buildMobileNetV2({ alpha: 0.35, inputShape: [64, 64, 3], seed: 2 });
    const weights = decodeWeightFiles(await modelToFiles(source));
    const report = loadWeightsByName(target, weights, { requireAll: true });
    expect(report.loaded).toHaveLength(260);
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    const x = tf.randomUniform([2, 64, 64, 3], -1, 1, 'float32', 3);
    expect(maxAbsDiff(source.predict(x) as tf.Tensor, target.predict(x) as tf.Tensor)).toBe(0);
  });

  it('a weights file for another alpha is a MODEL_WEIGHTS_MISMATCH error', async () => {
    const weights = decodeWeightFiles(await modelToFiles(buildMobileNetV2({ alpha: 0.35, inputShape: [32, 32, 3] })));
    const wider = buildMobileNetV2({ alpha: 0.5, inputShape: [32, 32, 3] });
    expect(() => loadWeightsByName(wider, weights)).toThrow(expect.objectContaining({ code: 'MODEL_WEIGHTS_MISMATCH' }));
  });
});

describe.skipIf(!HAVE_IMAGENET)('Keras ImageNet weights (../shared/weights)', () => {
  it('load by name into the builder and reproduce the shipped model exactly, and the README check values', async () => {
    const files = imagenetFiles();
    const shipped = await loadMobileNetV2(files);
    const built = buildMobileNetV2({ alpha: 0.35, inputShape: [224, 224, 3] });
    const report = loadWeightsByName(built, decodeWeightFiles(files), { requireAll: true });
    expect(report.unexpected).toEqual([]);
    expect(shipped.countParams()).toBe(410_208);

    const n = 224 * 224 * 3;
    const x = tf.tidy(() => tf.mul(tf.sin(tf.mul(tf.range(0, n), 0.0137)), tf.cos(tf.mul(tf.range(0, n), 0.00071))).reshape([1, 224, 224, 3]));
    expect(maxAbsDiff(built.predict(x) as tf.Tensor, shipped.predict(x) as tf.Tensor)).toBe(0);

    const gap = tf.tidy(() => (built.predict(tf.fill([1, 224, 224, 3], 0.5)) as tf.Tensor).mean([1, 2]).dataSync());
    const mean = Array.from(gap).reduce((s, v) => s + v, 0) / gap.length;
    expect(mean).toBeCloseTo(0.1023605, 6);
    expect(gap[3]).toBeCloseTo(0.7175585, 5);
    expect(gap[26]).toBeCloseTo(2.480387, 5);
    expect(gap.filter((v) => v !== 0)).toHaveLength(268);
  });
});
