/**
 * One inference thread of ThreadPoolEngine (functions/inference.ts): an InProcessEngine on its own tfjs-wasm
 * backend, answering load/predict requests from the main thread.
 */
import { workerData } from 'node:worker_threads';
import type { BatcherOptions } from '../shared/inference/batcher.ts';
import { initTfBackend } from '../adapters/tf-backend.ts';
import { serveRequests } from '../adapters/threads.ts';
import { InProcessEngine, type InferenceRequest } from './inference.ts';

const engine = new InProcessEngine((workerData as { batch: BatcherOptions }).batch);
await initTfBackend(process.env, () => {});

serveRequests(async (body) => {
  const m = body as InferenceRequest;
  return { result: m.type === 'load' ? await engine.load(m.files) : await engine.predict(m.bytes) };
});
