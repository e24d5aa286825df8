/**
 * The thread of ThreadRunner (thread-runner.ts): one request, a candidate's training or its gate, run by runner.ts's
 * functions on this thread's own tfjs backend. Progress and epochs go back as events while it runs.
 */
import { workerData } from 'node:worker_threads';
import { selectBackend } from '../shared/model/backend.ts';
import { MemoryEmbeddingCache } from '../shared/training/embedding-cache.ts';
import { FsEmbeddingCache } from '../adapters/embedding-cache-fs.ts';
import { serveRequests, transferables } from '../adapters/threads.ts';
import { scoreCandidate, trainCandidate } from './runner.ts';
import type { RunnerEvent, RunnerRequest, RunnerThreadData } from './thread-runner.ts';

const { backend, cacheDir, training } = workerData as RunnerThreadData;
await selectBackend({ requested: backend, log: () => {} });
const cache = cacheDir ? new FsEmbeddingCache(cacheDir) : new MemoryEmbeddingCache();

serveRequests(async (body, emit) => {
  const m = body as RunnerRequest;
  const send = (event: RunnerEvent) => emit(event);
  if (m.type === 'train') {
    const result = await trainCandidate(m.job, { cache, training }, { onProgress: (progress) => send({ progress }), onEpoch: (epoch) => send({ epoch }) });
    return { result, transfer: transferables(Object.values(result.files)) };
  }
  return { result: await scoreCandidate(m.job, (done, total) => send({ gate: { done, total } })) };
});
