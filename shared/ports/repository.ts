/**
 * Repository: the operations the API and the worker need on the database, behind one interface.
 * Implementation: adapters/db/repo.ts (kysely; same code on PGlite and on Neon/Postgres).
 * Results are the table rows of db-schema.ts (snake_case), so names match the database and the API JSON.
 *
 * Errors: bad input -> SentinelError `INVALID_ARGUMENT`; a reference to a missing row where the caller must
 * know (setAlias to an unknown model) -> `NOT_FOUND`; a unique-key clash -> `CONFLICT`. "Not there" for
 * plain reads is `null`, and a guarded transition that does not apply returns `null`/`false` (not an error):
 * losing a race is a normal outcome for a worker.
 *
 * Training-session lifecycle (the guard that keeps a redelivered job from training twice):
 *   queued --markRunning--> running --markSucceeded/markFailed--> succeeded/failed
 *   running --requeueSession--> queued           queued|running --cancelSession--> cancelled
 *   running (heartbeat older than staleAfterSeconds) --markRunning--> running (attempts + 1)
 * `attempts` is incremented by every successful markRunning and is the run's fencing token: every later
 * write of that run passes it, and is refused once another run has re-claimed the session.
 *
 * The reference set (reference_clips) only grows: addReferenceClips appends a version, and version v is fixed once
 * written. The worker appends in the same transaction as markSucceeded, one job at a time per deployment.
 */
import type { Label } from '../types.ts';
import type {
  Alias,
  AliasAudit,
  ApiKey,
  EpochMetrics,
  EventRecord,
  GateDecision,
  MetricValues,
  Model,
  ModelStatus,
  PredictionRecord,
  ReferenceClip,
  SessionProgress,
  SessionStatus,
  TrainingSession,
  Upload,
  UploadStatus,
} from './db-schema.ts';

export interface CreateUploadInput {
  /** Defaults to a new UUID. */
  id?: string;
  object_key: string;
  filename: string;
  bytes: number;
  sha256?: string | null;
  label_counts?: Partial<Record<Label, number>>;
  /** Defaults to `pending` (presigned, bytes not verified yet). */
  status?: UploadStatus;
}

export interface UpdateUploadInput {
  status?: UploadStatus;
  bytes?: number;
  sha256?: string | null;
  label_counts?: Partial<Record<Label, number>>;
  error?: string | null;
}

export interface CreateSessionInput {
  id?: string;
  mode: string;
  epochs: number;
  upload_id?: string | null;
  parent_version?: string | null;
}

/** markRunning's answer: the claimed session, or why not (the current row, null if there is none). */
export type ClaimResult = { claimed: true; session: TrainingSession } | { claimed: false; session: TrainingSession | null };

/** A clip joining the reference set; its bytes are already stored under `object_key`. */
export interface NewReferenceClip {
  sha256: string;
  object_key: string;
  label: Label;
  path: string;
}

export interface RecordModelInput {
  version: string;
  artifact_prefix: string;
  parent_version?: string | null;
  metrics: MetricValues;
  threshold: number;
  /** Defaults to `candidate`. */
  status?: ModelStatus;
}

export interface RecordPredictionInput {
  id?: string;
  model_version: string;
  duration_seconds: number;
  windows: unknown;
  probability: number;
  class: Label;
  object_key?: string | null;
}

export interface TimeRange {
  /** Inclusive lower bound on created_at. */
  since?: Date;
  /** Exclusive upper bound on created_at. */
  until?: Date;
}

export interface ClassDayCount {
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  class: Label;
  count: number;
}

export interface HistogramBin {
  lower: number;
  upper: number;
  count: number;
}

export interface Repository {
  /** Run `fn` in one transaction (nested calls join the outer one). */
  transaction<R>(fn: (repo: Repository) => Promise<R>): Promise<R>;

  // Uploads
  createUpload(input: CreateUploadInput): Promise<Upload>;
  getUpload(id: string): Promise<Upload | null>;
  updateUpload(id: string, patch: UpdateUploadInput): Promise<Upload | null>;
  /** Applies `patch` only while the upload is in status `from` (one caller wins a race); null when it was not. */
  transitionUpload(id: string, from: UploadStatus, patch: UpdateUploadInput): Promise<Upload | null>;
  /** Newest first. */
  listUploads(options?: { status?: UploadStatus; limit?: number }): Promise<Upload[]>;

  // Training sessions
  createSession(input: CreateSessionInput): Promise<TrainingSession>;
  getSession(id: string): Promise<TrainingSession | null>;
  listSessions(options?: { status?: SessionStatus; limit?: number }): Promise<TrainingSession[]>;
  /**
   * Claim the session for a run: only from `queued`, or from `running` whose heartbeat is older than
   * `staleAfterSeconds` (default SERVICE.db.staleHeartbeatSeconds). Sets running, attempts + 1, heartbeat, and
   * clears the previous attempt's epoch metrics and progress (a new run trains from the start).
   */
  markRunning(id: string, options?: { staleAfterSeconds?: number }): Promise<ClaimResult>;
  /** Refresh the run's heartbeat (and its progress, when given); false when the run lost the session (re-claimed, cancelled, finished). */
  heartbeat(id: string, attempt: number, progress?: SessionProgress): Promise<boolean>;
  appendEpochMetrics(id: string, attempt: number, metrics: EpochMetrics): Promise<boolean>;
  markSucceeded(
    id: string,
    attempt: number,
    result: { final_metrics: MetricValues; model_version: string; gate_decision?: GateDecision | null },
  ): Promise<TrainingSession | null>;
  markFailed(id: string, attempt: number, error: string): Promise<TrainingSession | null>;
  /** Give the session back (retryable failure): running -> queued, keeping `error` for display. */
  requeueSession(id: string, attempt: number, error: string): Promise<TrainingSession | null>;
  cancelSession(id: string): Promise<TrainingSession | null>;

  // Models and aliases
  recordModel(input: RecordModelInput): Promise<Model>;
  getModel(version: string): Promise<Model | null>;
  /** Newest first. */
  listModels(options?: { status?: ModelStatus; limit?: number }): Promise<Model[]>;
  setModelStatus(version: string, status: ModelStatus): Promise<Model | null>;
  /** Point alias `name` at `version` and write its audit row, in one transaction. NOT_FOUND if no such model. */
  setAlias(name: string, version: string, actor: string, reason: string): Promise<{ alias: Alias; audit: AliasAudit }>;
  getAlias(name: string): Promise<Alias | null>;
  listAliases(): Promise<Alias[]>;
  /** Newest first. */
  aliasHistory(name: string, options?: { limit?: number }): Promise<AliasAudit[]>;

  // The promotion gate's reference set
  /** The latest version of the reference set and its clips (version 0 and none while it is empty). */
  referenceSet(): Promise<{ version: number; clips: ReferenceClip[] }>;
  /**
   * Appends the clips not in the set yet (by sha256) as the next version; returns the set's version afterwards
   * (unchanged when every clip was already in it).
   */
  addReferenceClips(clips: readonly NewReferenceClip[], sessionId: string | null): Promise<number>;

  // Predictions and stats
  recordPrediction(input: RecordPredictionInput): Promise<PredictionRecord>;
  /** Several predictions in one statement (group commit under load); all or none. Each input needs its `id`. */
  recordPredictions(inputs: readonly (RecordPredictionInput & { id: string })[]): Promise<void>;
  getPrediction(id: string): Promise<PredictionRecord | null>;
  /** Newest first. */
  listPredictions(options?: { limit?: number; before?: Date; withFeedback?: boolean }): Promise<PredictionRecord[]>;
  setFeedback(id: string, label: Label): Promise<PredictionRecord | null>;
  /** Predictions per UTC day and class, ascending by day then class; days without predictions are absent. */
  predictionsPerClassPerDay(range?: TimeRange): Promise<ClassDayCount[]>;
  /**
   * Histogram of confidence (P(danger) for `danger`, 1 - P(danger) for `safe`: how sure each verdict was)
   * over [0, 1] in `bins` equal bins (default 10); every bin present, the last one closed.
   */
  confidenceHistogram(options?: TimeRange & { bins?: number }): Promise<HistogramBin[]>;

  // API keys
  createApiKey(input: { id?: string; name: string; key_hash: string }): Promise<ApiKey>;
  /** The key with this SHA-256 hex hash, when it exists and is not revoked. */
  verifyApiKey(keyHash: string): Promise<ApiKey | null>;
  revokeApiKey(id: string): Promise<boolean>;
  listApiKeys(): Promise<ApiKey[]>;

  // Events
  recordEvent(type: string, payload: unknown): Promise<EventRecord>;
  /** Oldest first, ids greater than `afterId` (for tailing). */
  listEvents(options?: { afterId?: number; limit?: number }): Promise<EventRecord[]>;
}
