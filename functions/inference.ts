/**
 * Where /predict's CPU work runs: decode + analyse + the model (micro-batched). Two engines, one interface:
 * - InProcessEngine: on this thread (Lambda: one vCPU per container; tests).
 * - ThreadPoolEngine: N worker threads, each an InProcessEngine with its own tfjs-wasm instance (single-threaded in
 *   Node), so the local stack uses every core; the main thread keeps HTTP and the database. A request goes to the
 *   thread with the fewest requests in flight; each thread micro-batches its own.
 * Swapping the model never drops a request: the old model is disposed once its last batch has finished.
 */
import { Worker } from 'node:worker_threads';
import { analyse } from '../shared/audio/index.ts';
import { AudioError, type AudioErrorCode } from '../shared/audio/errors.ts';
import { SentinelError } from '../shared/errors.ts';
import { Batcher, type BatcherOptions } from '../shared/inference/batcher.ts';
import { Detector, verdict } from '../shared/inference/detector.ts';
import type { ModelFiles } from '../shared/model/files.ts';
import type { ModelManifest } from '../shared/model/types.ts';
import type { Prediction } from '../shared/types.ts';

export interface LoadedModelInfo {
  version: string;
  threshold: number;
  manifest: ModelManifest;
}

export interface InferenceEngine {
  /** Loads `files` (checked) and makes it the model every later request uses. */
  load(files: ModelFiles): Promise<LoadedModelInfo>;
  /** The verdict on one recording; AudioError for bad audio, MODEL_NOT_READY before any load. */
  predict(bytes: Uint8Array): Promise<Prediction>;
  dispose(): Promise<void>;
}

interface Slot {
  detector: Detector;
  batcher: Batcher<Float32Array, number>;
  inFlight: number;
  retired: boolean;
}

export class InProcessEngine implements InferenceEngine {
  #slot: Slot | null = null;
  constructor(private readonly batch: BatcherOptions) {}

  async load(files: ModelFiles): Promise<LoadedModelInfo> {
    const detector = await Detector.fromFiles(files);
    const slot: Slot = {
      detector,
      inFlight: 0,
      retired: false,
      batcher: new Batcher((mels: Float32Array[]) => detector.probabilities(mels, Math.max(1, this.batch.maxBatch)), this.batch),
    };
    const old = this.#slot;
    this.#slot = slot;
    if (old) this.#retire(old);
    return { version: detector.version, threshold: detector.threshold, manifest: detector.manifest };
  }

  #retire(slot: Slot): void {
    slot.retired = true;
    if (slot.inFlight === 0) slot.detector.dispose();
  }

  async predict(bytes: Uint8Array): Promise<Prediction> {
    const analysis = await analyse(bytes);
    const slot = this.#slot;
    if (!slot) throw new SentinelError('MODEL_NOT_READY', 'No model is being served yet: promote one (POST /models/{version}/promote) or retrain.');
    slot.inFlight++;
    try {
      const probabilities = await slot.batcher.submit(analysis.windows.map((w) => w.db));
      return verdict(analysis, probabilities, slot.detector.threshold, slot.detector.version);
    } finally {
      slot.inFlight--;
      if (slot.retired && slot.inFlight === 0) slot.detector.dispose();
    }
  }

  async dispose(): Promise<void> {
    if (this.#slot) this.#retire(this.#slot);
    this.#slot = null;
  }
}

/** Messages between the pool and its threads (functions/inference-worker.ts). */
export type ToWorker = { id: number; type: 'load'; files: ModelFiles } | { id: number; type: 'predict'; bytes: Uint8Array };
export type SerializedError = { name: string; code?: string; message: string; details?: Record<string, unknown> };
export type FromWorker =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: SerializedError }
  | { id: 0; ready: true };

export function serializeError(error: unknown): SerializedError {
  if (error instanceof SentinelError) return { name: error.name, code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) };
  return { name: 'Error', message: error instanceof Error ? error.message : String(error) };
}

export function deserializeError(e: SerializedError): Error {
  if (e.name === 'AudioError' && e.code) return new AudioError(e.code as AudioErrorCode, e.message, e.details);
  if (e.code) return new SentinelError(e.code, e.message, e.details);
  return new Error(e.message);
}

interface Thread {
  worker: Worker;
  ready: Promise<void>;
  inFlight: number;
  pending: Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>;
}

export class ThreadPoolEngine implements InferenceEngine {
  #threads: Thread[] = [];
  #nextId = 1;
  #files: ModelFiles | null = null;
  #closed = false;
  #rr = 0;

  constructor(
    private readonly size: number,
    private readonly batch: BatcherOptions,
    private readonly log: (message: string, details?: Record<string, unknown>) => void = () => {},
  ) {
    if (!Number.isInteger(size) || size < 1) throw new SentinelError('CONFIG', `Inference thread count must be a positive integer, got ${size}.`);
    for (let i = 0; i < size; i++) this.#threads.push(this.#spawn());
  }

  #spawn(): Thread {
    // A .mjs bootstrap registers tsx inside the thread (--import in execArgv does not reach worker threads).
    const worker = new Worker(new URL('./inference-worker.mjs', import.meta.url), {
      workerData: { entry: new URL('./inference-worker.ts', import.meta.url).href, batch: this.batch },
    });
    let markReady!: () => void;
    const thread: Thread = { worker, inFlight: 0, pending: new Map(), ready: new Promise<void>((r) => (markReady = r)) };
    worker.on('message', (m: FromWorker) => {
      if ('ready' in m) return markReady();
      const p = thread.pending.get(m.id);
      if (!p) return;
      thread.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(deserializeError(m.error));
    });
    worker.on('error', (error) => this.log('inference thread failed', { error: String(error) }));
    worker.on('exit', (code) => {
      for (const p of thread.pending.values()) p.reject(new SentinelError('INTERNAL', `Inference thread exited (code ${code}).`));
      thread.pending.clear();
      if (this.#closed) return;
      // Replace a crashed thread and give it the current model.
      const index = this.#threads.indexOf(thread);
      const fresh = this.#spawn();
      if (index >= 0) this.#threads[index] = fresh;
      if (this.#files) void this.#call(fresh, { type: 'load', files: this.#files }).catch(() => {});
    });
    return thread;
  }

  async #call(thread: Thread, message: { type: 'load'; files: ModelFiles } | { type: 'predict'; bytes: Uint8Array }, transfer: ArrayBuffer[] = []): Promise<unknown> {
    await thread.ready;
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      thread.worker.postMessage({ id, ...message } as ToWorker, transfer);
    });
  }

  async load(files: ModelFiles): Promise<LoadedModelInfo> {
    const results = await Promise.all(this.#threads.map((t) => this.#call(t, { type: 'load', files })));
    this.#files = files;
    return results[0] as LoadedModelInfo;
  }

  async predict(bytes: Uint8Array): Promise<Prediction> {
    // Fewest in flight wins; ties rotate so an idle pool still spreads requests.
    let best = this.#threads[this.#rr++ % this.#threads.length];
    for (const t of this.#threads) if (t.inFlight < best.inFlight) best = t;
    best.inFlight++;
    try {
      // Copy into a buffer of its own and transfer it: no second copy, and the caller's bytes stay usable.
      const own = bytes.slice();
      return (await this.#call(best, { type: 'predict', bytes: own }, [own.buffer as ArrayBuffer])) as Prediction;
    } finally {
      best.inFlight--;
    }
  }

  async dispose(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#threads.map((t) => t.worker.terminate()));
  }
}
