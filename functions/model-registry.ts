/**
 * The serving model of one process: loaded once from the `current` alias, re-checked at most every
 * `recheckSeconds` (a promotion elsewhere reaches this process within that time; `refresh()` makes it immediate
 * here), and swapped without dropping requests: the old model is disposed when its last batch has finished.
 * Concurrent /predict calls are micro-batched into one model call (shared/inference/batcher.ts).
 */
import { SentinelError } from '../shared/errors.ts';
import { Batcher, type BatcherOptions } from '../shared/inference/batcher.ts';
import { Detector, verdict } from '../shared/inference/detector.ts';
import type { Analysis } from '../shared/audio/index.ts';
import type { ModelManifest } from '../shared/model/types.ts';
import type { BlobStore } from '../shared/ports/blob-store.ts';
import type { Repository } from '../shared/ports/repository.ts';
import type { Prediction } from '../shared/types.ts';
import { CURRENT_ALIAS, loadModelFiles } from '../adapters/model-store.ts';

export interface ServingModel {
  version: string;
  threshold: number;
  manifest: ModelManifest;
  loadedAt: Date;
}

interface Loaded extends ServingModel {
  detector: Detector;
  batcher: Batcher<Float32Array, number>;
  inFlight: number;
  retired: boolean;
}

export interface ModelRegistryOptions {
  repo: Repository;
  blobs: BlobStore;
  recheckSeconds: number;
  batch: BatcherOptions;
  alias?: string;
  now?: () => number;
  log?: (message: string, details?: Record<string, unknown>) => void;
}

export class ModelRegistry {
  #loaded: Loaded | null = null;
  #checkedAt = -Infinity;
  #refreshing: Promise<void> | null = null;
  #lastError: string | null = null;
  readonly #o: Required<Omit<ModelRegistryOptions, 'log'>> & Pick<ModelRegistryOptions, 'log'>;

  constructor(options: ModelRegistryOptions) {
    this.#o = { alias: CURRENT_ALIAS, now: Date.now, ...options };
  }

  /** The model being served (after a re-check when due), or null when the alias points nowhere yet. */
  async current(): Promise<ServingModel | null> {
    if (this.#o.now() - this.#checkedAt >= this.#o.recheckSeconds * 1000) await this.refresh();
    return this.#loaded;
  }

  /** Re-read the alias now and load its model if it changed. One refresh at a time; callers share it. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #refresh(): Promise<void> {
    try {
      const alias = await this.#o.repo.getAlias(this.#o.alias);
      this.#checkedAt = this.#o.now();
      if (!alias || alias.version === this.#loaded?.version) return;
      const model = await this.#o.repo.getModel(alias.version);
      if (!model) throw new SentinelError('MODEL_NOT_FOUND', `Alias ${this.#o.alias} points at unknown model ${alias.version}.`);
      const detector = await Detector.fromFiles(await loadModelFiles(this.#o.blobs, model.artifact_prefix));
      const loaded: Loaded = {
        version: detector.version,
        threshold: detector.threshold,
        manifest: detector.manifest,
        loadedAt: new Date(this.#o.now()),
        detector,
        inFlight: 0,
        retired: false,
        batcher: new Batcher((mels: Float32Array[]) => detector.probabilities(mels, Math.max(this.#o.batch.maxBatch, 1)), this.#o.batch),
      };
      const old = this.#loaded;
      this.#loaded = loaded;
      this.#lastError = null;
      this.#o.log?.('model loaded', { version: loaded.version, previous: old?.version ?? null });
      if (old) this.#retire(old);
    } catch (error) {
      // Keep serving the model we have; a broken promotion must not take /predict down. Retry at the next check.
      this.#checkedAt = this.#o.now();
      this.#lastError = error instanceof Error ? error.message : String(error);
      this.#o.log?.('model load failed', { error: this.#lastError });
      if (!this.#loaded) throw error;
    }
  }

  #retire(model: Loaded): void {
    model.retired = true;
    if (model.inFlight === 0) model.detector.dispose();
  }

  /** Verdict on an analysed recording by the current model; its windows share model calls with concurrent requests. */
  async predict(analysis: Analysis): Promise<Prediction> {
    await this.current();
    const model = this.#loaded;
    if (!model) {
      throw new SentinelError('MODEL_NOT_READY', 'No model is being served yet: promote one (POST /models/{version}/promote) or retrain.');
    }
    model.inFlight++;
    try {
      const probabilities = await model.batcher.submit(analysis.windows.map((w) => w.db));
      return verdict(analysis, probabilities, model.threshold, model.version);
    } finally {
      model.inFlight--;
      if (model.retired && model.inFlight === 0) model.detector.dispose();
    }
  }

  /** For /health and /model/status: what is loaded and the last load error, if any. */
  status(): { loaded: ServingModel | null; lastError: string | null } {
    const m = this.#loaded;
    return {
      loaded: m ? { version: m.version, threshold: m.threshold, manifest: m.manifest, loadedAt: m.loadedAt } : null,
      lastError: this.#lastError,
    };
  }

  dispose(): void {
    if (this.#loaded) this.#retire(this.#loaded);
    this.#loaded = null;
  }
}
