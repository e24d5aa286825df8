// Bootstrap of a worker thread (adapters/threads.ts): loads its module; a TypeScript one (tsx, vitest) after
// registering tsx in this thread, a compiled one (dist/) as it is.
import { workerData } from 'node:worker_threads';

if (workerData.entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(workerData.entry);
