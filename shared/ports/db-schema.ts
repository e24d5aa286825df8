/**
 * The database schema as kysely types: one interface per table, columns exactly as in migration 001
 * (adapters/db/migrations/001_initial.ts). snake_case everywhere, and the same names are used in the
 * repository's results and the API's JSON, so one thing has one name end to end.
 *
 * Conventions:
 * - Entity ids are text UUIDs made by the service; append-only logs (alias_audit, events) use identity ints.
 * - Timestamps are `timestamptz`, read back as Date. Counts and sizes are `integer` (int8 would come back as
 *   a string from pg and a BigInt from PGlite).
 * - jsonb columns are written as JSON text (use `toJson()` in adapters/db/repo.ts): both drivers pass a
 *   string through untouched, whereas pg would turn a JS array into a Postgres array literal.
 *
 * Type-only imports: kysely's types are erased, so this module stays browser-safe.
 */
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { Label } from '../types.ts';

/** A timestamptz column: Date when read; Date or ISO string when written. */
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** A timestamptz column the database fills (`default now()`). */
export type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
/** A nullable timestamptz column. */
export type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
/** A jsonb column holding `T`, written as JSON text. */
export type Jsonb<T> = ColumnType<T, string, string>;
/** A jsonb column with a database default (may be omitted on insert). */
export type JsonbWithDefault<T> = ColumnType<T, string | undefined, string>;
/** A nullable jsonb column. */
export type NullableJsonb<T> = ColumnType<T | null, string | null | undefined, string | null>;
/** A column with a database default (may be omitted on insert). */
export type WithDefault<T> = ColumnType<T, T | undefined, T>;

/** pending: presigned, not used yet; ready: a checked dataset (training data); used: audio a /predict spent; failed: refused or abandoned. */
export type UploadStatus = 'pending' | 'ready' | 'used' | 'failed';
export type SessionStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export type ModelStatus = 'candidate' | 'promoted' | 'rejected' | 'archived';

export const UPLOAD_STATUSES: readonly UploadStatus[] = ['pending', 'ready', 'used', 'failed'];
export const SESSION_STATUSES: readonly SessionStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
export const MODEL_STATUSES: readonly ModelStatus[] = ['candidate', 'promoted', 'rejected', 'archived'];

/** Metrics are free-form numbers by name (accuracy, recall, f1, loss, …), owned by shared/metrics. */
export type MetricValues = Record<string, number>;
/** One epoch's metrics, appended while a session trains. */
export type EpochMetrics = { epoch: number } & MetricValues;

/** A training dataset uploaded by a user (a zip or a folder of labelled clips), stored as one blob. */
export interface UploadsTable {
  id: string;
  /** BlobStore key of the uploaded bytes. */
  object_key: string;
  /** The name the user gave the file, for display only (never used as a key). */
  filename: string;
  bytes: number;
  /** Hex SHA-256 of the bytes, once verified; null while pending. */
  sha256: string | null;
  /** Clips per label found in the upload, e.g. {"safe": 120, "danger": 80}. */
  label_counts: JsonbWithDefault<Partial<Record<Label, number>>>;
  status: UploadStatus;
  error: string | null;
  created_at: CreatedAt;
}

export interface TrainingSessionsTable {
  id: string;
  status: SessionStatus;
  /** How the model is trained (e.g. fine-tune of parent vs. from scratch); defined by the training core. */
  mode: string;
  epochs: number;
  epoch_metrics: JsonbWithDefault<EpochMetrics[]>;
  final_metrics: NullableJsonb<MetricValues>;
  /** Version of the model this session produced; null until it succeeds. */
  model_version: string | null;
  upload_id: string | null;
  /** Version the session started from (fine-tune); null for from-scratch. */
  parent_version: string | null;
  /** Times the session was claimed by `markRunning`; also the fencing token of the current run. */
  attempts: WithDefault<number>;
  created_at: CreatedAt;
  started_at: NullableTimestamp;
  /** Last sign of life of the current run; a stale one lets another worker re-claim the session. */
  heartbeat_at: NullableTimestamp;
  finished_at: NullableTimestamp;
  error: string | null;
  /** Live progress of the current run (migration 002), refreshed with the heartbeat; null before the first report. */
  progress: NullableJsonb<SessionProgress>;
  /** The promotion gate's decision and its figures (migration 003); null until the session succeeds. */
  gate_decision: NullableJsonb<GateDecision>;
}

/**
 * Why a trained candidate was or was not made `current`: both models scored on the same reference clips.
 * `promoted`: better by at least the margin. `kept`: not better by the margin (a tie included). `too_few_clips`:
 * fewer reference clips of a class than the minimum, so no automatic promotion whatever the scores.
 */
export interface GateDecision {
  outcome: 'promoted' | 'kept' | 'too_few_clips';
  /** The metric compared (WORKER.gate.metric), e.g. balancedAccuracy. */
  metric: string;
  /** The candidate's and the current model's metric on the reference clips, each at its own threshold. */
  candidate: number;
  current: number;
  margin: number;
  min_clips_per_class: number;
  /** Reference clips scored, per class (undecodable ones left out). */
  clips: Record<Label, number>;
  /** The reference-set version scored: the registry's set before this job plus this job's held-out clips. */
  reference_version: number;
  /** This job's held-out clips, part of the clips scored and of the reference set from now on. */
  held_out: number;
  candidate_version: string;
  current_version: string;
}

/** Where a running session is: the training phase and how much of it is done (`done` of `total` units). */
export interface SessionProgress {
  phase: string;
  done: number;
  total: number;
  detail?: string;
}

export interface ModelsTable {
  version: string;
  /** BlobStore prefix under which the model's files live (model.json, weights, metadata). */
  artifact_prefix: string;
  parent_version: string | null;
  metrics: JsonbWithDefault<MetricValues>;
  /** Decision threshold on P(danger) chosen for this model. */
  threshold: number;
  status: ModelStatus;
  created_at: CreatedAt;
}

/** Named pointers to model versions (e.g. `production`); every change is audited in alias_audit. */
export interface AliasesTable {
  name: string;
  version: string;
  updated_at: Timestamp;
}

export interface AliasAuditTable {
  id: Generated<number>;
  name: string;
  from_version: string | null;
  to_version: string;
  actor: string;
  reason: string;
  at: CreatedAt;
}

export interface PredictionsTable {
  id: string;
  model_version: string;
  duration_seconds: number;
  /** Compact summary of the windows (count, top windows, events): not every window of a 10-minute file. */
  windows: Jsonb<unknown>;
  /** The recording's P(danger) (its best window's, or pair's: the model's aggregation). */
  probability: number;
  class: Label;
  /** A person's correction or confirmation, when given. */
  feedback_label: Label | null;
  feedback_at: NullableTimestamp;
  /** BlobStore key of the kept audio, when the user allowed keeping it. */
  object_key: string | null;
  created_at: CreatedAt;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  /** Hex SHA-256 of the key; the key itself is shown once and never stored. */
  key_hash: string;
  created_at: CreatedAt;
  revoked_at: NullableTimestamp;
}

/** Append-only log of notable happenings (uploads, promotions, failures) for the console's activity feed. */
export interface EventsTable {
  id: Generated<number>;
  type: string;
  payload: Jsonb<unknown>;
  at: CreatedAt;
}

/**
 * The promotion gate's reference set (migration 003): clips no model trained by the worker has seen, kept under
 * `reference/clips/<sha256>`. Append-only; version v of the set is every row with `version` <= v.
 */
export interface ReferenceClipsTable {
  sha256: string;
  object_key: string;
  label: Label;
  /** Where the clip came from, for display: `<upload>/<path in the zip>` or `feedback/<prediction>`. */
  path: string;
  /** The session whose held-out part it was. */
  session_id: string | null;
  version: number;
  created_at: CreatedAt;
}

/** The db queue's storage (adapters/queue/db.ts). One table serves several named queues. */
export interface JobsTable {
  id: string;
  queue: string;
  body: Jsonb<unknown>;
  dedup_id: string | null;
  /** The job is receivable once now() >= visible_at. */
  visible_at: Timestamp;
  receive_count: WithDefault<number>;
  /** Handle of the current delivery; null before the first receive. */
  receipt: string | null;
  created_at: CreatedAt;
  acked_at: NullableTimestamp;
  dead_at: NullableTimestamp;
}

export interface DatabaseSchema {
  uploads: UploadsTable;
  training_sessions: TrainingSessionsTable;
  models: ModelsTable;
  aliases: AliasesTable;
  alias_audit: AliasAuditTable;
  predictions: PredictionsTable;
  api_keys: ApiKeysTable;
  events: EventsTable;
  jobs: JobsTable;
  reference_clips: ReferenceClipsTable;
}

export type Upload = Selectable<UploadsTable>;
export type NewUpload = Insertable<UploadsTable>;
export type TrainingSession = Selectable<TrainingSessionsTable>;
export type TrainingSessionUpdate = Updateable<TrainingSessionsTable>;
export type Model = Selectable<ModelsTable>;
export type Alias = Selectable<AliasesTable>;
export type AliasAudit = Selectable<AliasAuditTable>;
export type PredictionRecord = Selectable<PredictionsTable>;
export type ApiKey = Selectable<ApiKeysTable>;
export type EventRecord = Selectable<EventsTable>;
export type ReferenceClip = Selectable<ReferenceClipsTable>;
