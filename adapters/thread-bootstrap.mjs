// Bootstrap of a worker thread (adapters/threads.ts): registers tsx in this thread, then loads its TypeScript module.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
