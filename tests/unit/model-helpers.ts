/** Shared by the model tests: the ImageNet weights beside the repo (optional) and a wasm backend. */
import { existsSync, readFileSync } from 'node:fs';
import * as tf from '../../shared/model/tf.ts';
import { selectBackend } from '../../shared/model/backend.ts';
import type { ModelFiles } from '../../shared/model/files.ts';

/** Keras ImageNet MobileNetV2 0.35 no-top as tfjs files; CI has it, a user checkout may not (tests skipIf). */
export const IMAGENET_DIR = new URL('../../../shared/weights/mobilenet_v2_0.35_imagenet_notop/', import.meta.url).pathname;
export const HAVE_IMAGENET = existsSync(`${IMAGENET_DIR}model.json`) && existsSync(`${IMAGENET_DIR}weights.bin`);

export function imagenetFiles(): ModelFiles {
  return {
    'model.json': new Uint8Array(readFileSync(`${IMAGENET_DIR}model.json`)),
    'weights.bin': new Uint8Array(readFileSync(`${IMAGENET_DIR}weights.bin`)),
  };
}

/** wasm: the backend Sentinel runs inference on (never cpu for real models). */
export async function useWasm(): Promise<void> {
  await selectBackend({ requested: 'wasm', log: () => {} });
}

export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

export function maxAbs(a: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(a)).dataSync()[0]);
}
