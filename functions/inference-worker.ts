/**
 * One inference thread of ThreadPoolEngine (functions/inference.ts): an InProcessEngine on its own tfjs-wasm
 * backend, answering load/predict messages from the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { BatcherOptions } from '../shared/inference/batcher.ts';
import { initTfBackend } from '../adapters/tf-backend.ts';
import { InProcessEngine, serializeError, type FromWorker, type ToWorker } from './inference.ts';

const port = parentPort!;
const engine = new InProcessEngine((workerData as { batch: BatcherOptions }).batch);
await initTfBackend(process.env, () => {});

port.on('message', (m: ToWorker) => {
  const run = m.type === 'load' ? engine.load(m.files) : engine.predict(m.bytes);
  run.then(
    (result) => port.postMessage({ id: m.id, ok: true, result } satisfies FromWorker),
    (error: unknown) => port.postMessage({ id: m.id, ok: false, error: serializeError(error) } satisfies FromWorker),
  );
});
port.postMessage({ id: 0, ready: true } satisfies FromWorker);
