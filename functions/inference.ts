/**
 * Where /predict's CPU work runs: decode + analyse + the model (micro-batched). Two engines, one interface:
 * - InProcessEngine: on this thread (Lambda: one vCPU per container; tests).
 * - ThreadPoolEngine: N worker threads, each an InProcessEngine with its own tfjs-wasm instance (single-threaded in
 *   Node), so the local stack uses every core; the main thread keeps HTTP and the database. A request goes to the
 *   thread with the fewest requests in flight; each thread micro-batches its own.
 * Swapping the model never drops a request: the old model is disposed once its last batch has finished.
 */
import { RequestThread, threadModule } from '../adapters/threads.ts';
import { SentinelError } from '../shared/errors.ts';
import { Batcher, type BatcherOptions } from '../shared/inference/batcher.ts';
import { Detector, gatedScores, verdict, type WindowScore } from '../shared/inference/detector.ts';
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
  batcher: Batcher<Float32Array, WindowScore>;
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
      batcher: new Batcher((mels: Float32Array[]) => detector.scores(mels, Math.max(1, this.batch.maxBatch)), this.batch),
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
    const slot = this.#slot;
    if (!slot) throw new SentinelError('MODEL_NOT_READY', 'No model is being served yet: promote one (POST /models/{version}/promote) or retrain.');
    slot.inFlight++;
    try {
      // The model's own front end; counted in flight from here, so a swap cannot dispose it under the analysis.
      const analysis = await slot.detector.analyse(bytes);
      // Quiet windows (below the level gate's floor) never reach the model.
      const scores = await gatedScores(analysis.windows, (mels) => slot.batcher.submit(mels));
      return verdict(analysis, scores, slot.detector.threshold, slot.detector.version);
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

/** What the pool asks its threads (functions/inference-worker.ts). */
export type InferenceRequest = { type: 'load'; files: ModelFiles } | { type: 'predict'; bytes: Uint8Array };

export class ThreadPoolEngine implements InferenceEngine {
  #threads: RequestThread[] = [];
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

  #spawn(): RequestThread {
    const thread: RequestThread = new RequestThread(threadModule('inference-worker', import.meta.url), { batch: this.batch }, {
      onError: (error) => this.log('inference thread failed', { error: String(error) }),
      onExit: () => {
        if (this.#closed) return;
        // Replace a crashed thread and give it the current model.
        const index = this.#threads.indexOf(thread);
        const fresh = this.#spawn();
        if (index >= 0) this.#threads[index] = fresh;
        if (this.#files) void fresh.request({ type: 'load', files: this.#files } satisfies InferenceRequest).catch(() => {});
      },
    });
    return thread;
  }

  async load(files: ModelFiles): Promise<LoadedModelInfo> {
    const results = await Promise.all(this.#threads.map((t) => t.request<LoadedModelInfo>({ type: 'load', files } satisfies InferenceRequest)));
    this.#files = files;
    return results[0];
  }

  async predict(bytes: Uint8Array): Promise<Prediction> {
    // Fewest in flight wins; ties rotate so an idle pool still spreads requests.
    let best = this.#threads[this.#rr++ % this.#threads.length];
    for (const t of this.#threads) if (t.inFlight < best.inFlight) best = t;
    // Copy into a buffer of its own and transfer it: no second copy, and the caller's bytes stay usable.
    const own = bytes.slice();
    return best.request<Prediction>({ type: 'predict', bytes: own } satisfies InferenceRequest, [own.buffer as ArrayBuffer]);
  }

  async dispose(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#threads.map((t) => t.terminate()));
  }
}
