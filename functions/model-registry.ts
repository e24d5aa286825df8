/**
 * The serving model of one process: loaded from the `current` alias, re-checked at most every `recheckSeconds` (a
 * promotion elsewhere reaches this process within that time; `refresh()` makes it immediate here), and handed to
 * the inference engine (functions/inference.ts: this thread, or a pool of threads), which swaps models without
 * dropping requests and micro-batches concurrent ones. A failed load keeps the previous model serving.
 */
import { API } from '../shared/config.ts';
import { SentinelError } from '../shared/errors.ts';
import type { BlobStore } from '../shared/ports/blob-store.ts';
import type { Repository } from '../shared/ports/repository.ts';
import type { Prediction } from '../shared/types.ts';
import { CURRENT_ALIAS, loadModelFiles } from '../adapters/model-store.ts';
import { InProcessEngine, type InferenceEngine, type LoadedModelInfo } from './inference.ts';

export interface ServingModel extends LoadedModelInfo {
  loadedAt: Date;
}

export interface ModelRegistryOptions {
  repo: Repository;
  blobs: BlobStore;
  recheckSeconds: number;
  /** Default: an InProcessEngine with API.batch. */
  engine?: InferenceEngine;
  alias?: string;
  now?: () => number;
  log?: (message: string, details?: Record<string, unknown>) => void;
}

export class ModelRegistry {
  #loaded: ServingModel | null = null;
  #checkedAt = -Infinity;
  #refreshing: Promise<void> | null = null;
  #lastError: string | null = null;
  readonly #engine: InferenceEngine;
  readonly #alias: string;
  readonly #now: () => number;

  constructor(private readonly options: ModelRegistryOptions) {
    this.#engine = options.engine ?? new InProcessEngine(API.batch);
    this.#alias = options.alias ?? CURRENT_ALIAS;
    this.#now = options.now ?? Date.now;
  }

  /** The model being served (after a re-check when due), or null when the alias points nowhere yet. */
  async current(): Promise<ServingModel | null> {
    if (this.#now() - this.#checkedAt >= this.options.recheckSeconds * 1000) await this.refresh();
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
    const { repo, blobs, log } = this.options;
    try {
      const alias = await repo.getAlias(this.#alias);
      this.#checkedAt = this.#now();
      if (!alias || alias.version === this.#loaded?.version) return;
      const model = await repo.getModel(alias.version);
      if (!model) throw new SentinelError('MODEL_NOT_FOUND', `Alias ${this.#alias} points at unknown model ${alias.version}.`);
      const info = await this.#engine.load(await loadModelFiles(blobs, model.artifact_prefix));
      const previous = this.#loaded?.version ?? null;
      this.#loaded = { ...info, loadedAt: new Date(this.#now()) };
      this.#lastError = null;
      log?.('model loaded', { version: info.version, previous });
    } catch (error) {
      // Keep serving the model we have; a broken promotion must not take /predict down. Retry at the next check.
      this.#checkedAt = this.#now();
      this.#lastError = error instanceof Error ? error.message : String(error);
      log?.('model load failed', { error: this.#lastError });
      if (!this.#loaded) throw error;
    }
  }

  /** Verdict on a recording (decoded and analysed whole) by the current model. */
  async predict(bytes: Uint8Array): Promise<Prediction> {
    await this.current().catch(() => null);
    if (!this.#loaded) {
      throw new SentinelError('MODEL_NOT_READY', 'No model is being served yet: promote one (POST /models/{version}/promote) or retrain.');
    }
    return this.#engine.predict(bytes);
  }

  /** For /health and /model/status: what is loaded and the last load error, if any. */
  status(): { loaded: ServingModel | null; lastError: string | null } {
    return { loaded: this.#loaded, lastError: this.#lastError };
  }

  async dispose(): Promise<void> {
    this.#loaded = null;
    await this.#engine.dispose();
  }
}
