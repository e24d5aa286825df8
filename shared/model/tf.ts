/**
 * TensorFlow.js as every module of Sentinel imports it (`import * as tf from '…/model/tf.ts'`), the one place the
 * tfjs packages are put together: tfjs-core and tfjs-layers (the API the umbrella @tensorflow/tfjs re-exported, less
 * its converter, data and webgl packages), core's gradients and chained tensor methods (tf-registrations.mjs: core's
 * Node entry registers neither; infra/scripts/build-tfjs.ts says why it is a generated bundle), and the pure-JS cpu
 * backend: the last-resort backend, and the one whose kernels wasm's missing gradient kernels call (wasm-kernels.ts).
 * The wasm backend is loaded where a backend is chosen (backend.ts). Imports run in this order: core first, so the
 * registrations find its engine.
 */
import '@tensorflow/tfjs-core';
import './tf-registrations.mjs';
import '@tensorflow/tfjs-backend-cpu';

export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-layers';
