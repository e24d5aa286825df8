/**
 * One inference thread of ThreadPoolEngine (functions/inference.ts): an InProcessEngine on its own tfjs-wasm
 * backend, answering load/predict requests from the main thread.
 */
import { workerData } from 'node:worker_threads';
import type { BatcherOptions } from '../shared/inference/batcher.ts';
import { initTfBackend } from '../adapters/tf-backend.ts';
import { serveRequests } from '../adapters/threads.ts';
import { featureBuffers, InProcessEngine, type InferenceRequest } from './inference.ts';

const engine = new InProcessEngine((workerData as { batch: BatcherOptions }).batch);
await initTfBackend(process.env, () => {});

serveRequests(async (body) => {
  const m = body as InferenceRequest;
  if (m.type === 'load') return { result: await engine.load(m.files) };
  if (m.type === 'score') return { result: await engine.score(m.mels, m.version) };
  const result = await engine.predictOrShare(m.bytes, m.shareAbove);
  // A shared analysis moves its feature windows to the main thread instead of copying them.
  return 'analysis' in result ? { result, transfer: featureBuffers(result.analysis.windows.map((w) => w.db)) } : { result };
});
