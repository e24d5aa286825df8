/**
 * One thread of TrainingThreads (adapters/training-threads.ts): the in-process compute's functions on this thread's
 * own tfjs backend, one task at a time.
 */
import { workerData } from 'node:worker_threads';
import { selectBackend } from '../shared/model/backend.ts';
import { modelFromFiles, modelToFiles } from '../shared/model/files.ts';
import { extractFeatures, serialQueue, type FeatureSpec } from '../shared/training/compute.ts';
import { trainHead } from '../shared/training/head.ts';
import { serveRequests } from './threads.ts';
import type { TrainedHeadData, TrainingThreadRequest } from './training-threads.ts';

const { backend } = workerData as { backend: string };
await selectBackend({ requested: backend === 'tensorflow' ? 'node' : backend, log: () => {} });
const extractors = new Map<number, FeatureSpec>();
const serial = serialQueue();

serveRequests(async (body, emit) => {
  const m = body as TrainingThreadRequest;
  switch (m.type) {
    case 'extractor':
      extractors.set(m.key, { ...m.spec, model: await modelFromFiles(m.files) });
      return { result: null };
    case 'extract': {
      const spec = extractors.get(m.key);
      if (!spec) throw new Error(`no extractor ${m.key} in this thread`);
      return { result: await serial(() => extractFeatures(spec, m.mels)) };
    }
    case 'drop-extractor':
      extractors.get(m.key)?.model.dispose();
      extractors.delete(m.key);
      return { result: null };
    case 'train-head': {
      const run = await serial(async () => {
        const initialHead = m.initialHead && (await modelFromFiles(m.initialHead));
        try {
          return await trainHead({ ...m.job, initialHead, onEpoch: emit });
        } finally {
          initialHead?.dispose();
        }
      });
      const result: TrainedHeadData = { head: await modelToFiles(run.head), history: run.history, bestEpoch: run.bestEpoch };
      run.head.dispose();
      return { result };
    }
  }
});
