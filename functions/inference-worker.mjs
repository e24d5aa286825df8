// Bootstrap of an inference thread: registers tsx in this thread, then loads the TypeScript worker.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
