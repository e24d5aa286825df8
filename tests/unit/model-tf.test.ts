/** shared/model/tf.ts, the one tfjs import point: what it registers, and one tfjs-core under every tfjs package. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TF_REGISTRATIONS_FILE, tfRegistrationsModule } from '../../infra/scripts/build-tfjs.ts';
import * as tf from '../../shared/model/tf.ts';

const root = new URL('../../', import.meta.url);

describe('shared/model/tf.ts', () => {
  it("registers core's gradients and chained tensor methods, which tfjs-core's Node entry leaves out", async () => {
    await tf.setBackend('cpu');
    const x = tf.tensor1d([1, -2, 3]);
    expect(Array.from(tf.grad((v: tf.Tensor) => tf.sum(tf.mul(v, v)))(x).dataSync())).toEqual([2, -4, 6]);
    expect(Array.from(x.add(1).reshape([3, 1]).dataSync())).toEqual([2, -1, 4]);
  });

  it('layers and both backends resolve the tfjs-core it exports (a second copy would have its own kernel registry)', () => {
    const core = createRequire(root).resolve('@tensorflow/tfjs-core');
    for (const pkg of ['@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm']) {
      expect(createRequire(createRequire(root).resolve(pkg)).resolve('@tensorflow/tfjs-core'), pkg).toBe(core);
    }
  });

  it('the committed tf-registrations.mjs is what `npm run build:tfjs` makes from the installed tfjs-core', async () => {
    expect(readFileSync(new URL(TF_REGISTRATIONS_FILE, root), 'utf8')).toBe(await tfRegistrationsModule(fileURLToPath(root)));
  });
});
