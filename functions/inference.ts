/**
 * Where /predict's CPU work runs: decode + analyse + the model (micro-batched). Two engines, one interface:
 * - InProcessEngine: on this thread (Lambda: one vCPU per container; tests).
 * - ThreadPoolEngine: N worker threads, each an InProcessEngine with its own tfjs-wasm instance (single-threaded in
 *   Node), so the local stack uses every core; the main thread keeps HTTP and the database. A request goes to the
 *   thread with the fewest requests in flight; each thread micro-batches its own. A long recording (more than
 *   API.shareWindowsAbove windows to score) comes back from that thread as its analysis, and its windows are scored
 *   on every thread, each its share; the verdict is assembled here.
 * Swapping the model never drops a request: the old model is disposed once its last batch has finished.
 */
import { RequestThread, threadModule, transferables } from '../adapters/threads.ts';
import type { Analysis } from '../shared/audio/index.ts';
import { API } from '../shared/config.ts';
import { SentinelError } from '../shared/errors.ts';
import { Batcher, type BatcherOptions } from '../shared/inference/batcher.ts';
import { Detector, gatedScores, isQuiet, verdict, type VerdictRule, type WindowScore } from '../shared/inference/detector.ts';
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
    return (await this.predictOrShare(bytes, Number.POSITIVE_INFINITY)) as Prediction;
  }

  /**
   * predict(), or, when the recording has more than `shareAbove` windows to score, its analysis for the caller to
   * have scored elsewhere (score(), with the version it names) and assembled with verdict().
   */
  async predictOrShare(bytes: Uint8Array, shareAbove: number): Promise<Prediction | SharedAnalysis> {
    const slot = this.#acquire();
    try {
      // The model's own front end; counted in flight from here, so a swap cannot dispose it under the analysis.
      const analysis = await slot.detector.analyse(bytes);
      const rule = slot.detector.rule();
      if (analysis.windows.filter((w) => !isQuiet(w)).length > shareAbove) return { analysis, rule };
      // Quiet windows (below the level gate's floor) never reach the model.
      const scores = await gatedScores(analysis.windows, (mels) => slot.batcher.submit(mels));
      return verdict(analysis, scores, rule);
    } finally {
      this.#release(slot);
    }
  }

  /** Scores of feature windows with the model `version` (MODEL_CHANGED when another one is served by now). */
  async score(mels: Float32Array[], version: string): Promise<WindowScore[]> {
    const slot = this.#acquire();
    try {
      if (slot.detector.version !== version) throw new SentinelError('MODEL_CHANGED', `Model ${version} is no longer served here (now ${slot.detector.version}).`);
      return await slot.batcher.submit(mels);
    } finally {
      this.#release(slot);
    }
  }

  #acquire(): Slot {
    const slot = this.#slot;
    if (!slot) throw new SentinelError('MODEL_NOT_READY', 'No model is being served yet: promote one (POST /models/{version}/promote) or retrain.');
    slot.inFlight++;
    return slot;
  }

  #release(slot: Slot): void {
    slot.inFlight--;
    if (slot.retired && slot.inFlight === 0) slot.detector.dispose();
  }

  async dispose(): Promise<void> {
    if (this.#slot) this.#retire(this.#slot);
    this.#slot = null;
  }
}

/** A recording analysed by one thread for its windows to be scored across the pool: the analysing model's figures. */
export interface SharedAnalysis {
  analysis: Analysis;
  /** The analysing model's threshold, version and aggregation: the verdict is that model's. */
  rule: VerdictRule;
}

/** What the pool asks its threads (functions/inference-worker.ts). */
export type InferenceRequest =
  | { type: 'load'; files: ModelFiles }
  | { type: 'predict'; bytes: Uint8Array; shareAbove: number }
  | { type: 'score'; mels: Float32Array[]; version: string };

/** The buffers of these feature windows, moved rather than copied between threads. */
export function featureBuffers(mels: readonly Float32Array[]): ArrayBuffer[] {
  return transferables(mels.map((m) => new Uint8Array(m.buffer, m.byteOffset, m.byteLength)));
}

export class ThreadPoolEngine implements InferenceEngine {
  #threads: RequestThread[] = [];
  #files: ModelFiles | null = null;
  #closed = false;
  #rr = 0;

  constructor(
    size: number,
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
    const shareAbove = this.#threads.length > 1 ? API.shareWindowsAbove : Number.POSITIVE_INFINITY;
    const reply = await this.#predictOn(this.#leastBusy(), bytes, shareAbove);
    if (!('analysis' in reply)) return reply;
    const { analysis, rule } = reply;
    try {
      const scores = await gatedScores(analysis.windows, (mels) => this.#scoreAcross(mels, rule.modelVersion));
      return verdict(analysis, scores, rule);
    } catch (error) {
      // A model swap between the analysis and its scores, or a thread replaced after a crash that has no model yet:
      // the whole recording again, on one thread.
      const retry = error instanceof SentinelError && (error.code === 'MODEL_CHANGED' || error.code === 'MODEL_NOT_READY');
      if (retry) return (await this.#predictOn(this.#leastBusy(), bytes, Number.POSITIVE_INFINITY)) as Prediction;
      throw error;
    }
  }

  /** Fewest in flight wins; ties rotate so an idle pool still spreads requests. */
  #leastBusy(): RequestThread {
    let best = this.#threads[this.#rr++ % this.#threads.length];
    for (const t of this.#threads) if (t.inFlight < best.inFlight) best = t;
    return best;
  }

  #predictOn(thread: RequestThread, bytes: Uint8Array, shareAbove: number): Promise<Prediction | SharedAnalysis> {
    // Copy into a buffer of its own and transfer it: no second copy, and the caller's bytes stay usable.
    const own = bytes.slice();
    return thread.request<Prediction | SharedAnalysis>({ type: 'predict', bytes: own, shareAbove } satisfies InferenceRequest, [own.buffer as ArrayBuffer]);
  }

  /** Windows split into one contiguous share per thread, scored concurrently (each thread batches its share). */
  async #scoreAcross(mels: Float32Array[], version: string): Promise<WindowScore[]> {
    const share = Math.ceil(mels.length / this.#threads.length);
    const parts = this.#threads.map((_, i) => mels.slice(i * share, (i + 1) * share)).filter((part) => part.length > 0);
    const scored = await Promise.all(
      parts.map((part) => this.#leastBusy().request<WindowScore[]>({ type: 'score', mels: part, version } satisfies InferenceRequest, featureBuffers(part))),
    );
    return scored.flat();
  }

  async dispose(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#threads.map((t) => t.terminate()));
  }
}
