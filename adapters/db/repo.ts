/**
 * The Repository port (shared/ports/repository.ts) on kysely. Same SQL on PGlite and Postgres/Neon:
 * only portable Postgres (no extensions), counts cast to int (int8 differs per driver), jsonb written as text.
 */
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import { SERVICE } from '../../shared/config.ts';
import { SentinelError } from '../../shared/errors.ts';
import type {
  DatabaseSchema,
  EpochMetrics,
  GateDecision,
  ModelStatus,
  SessionProgress,
  SessionStatus,
  TrainingSession,
  UploadStatus,
} from '../../shared/ports/db-schema.ts';
import { MODEL_STATUSES, SESSION_STATUSES, UPLOAD_STATUSES } from '../../shared/ports/db-schema.ts';
import type {
  ClaimResult,
  CreateSessionInput,
  CreateUploadInput,
  HistogramBin,
  NewReferenceClip,
  RecordModelInput,
  RecordPredictionInput,
  Repository,
  TimeRange,
  UpdateUploadInput,
} from '../../shared/ports/repository.ts';
import { isLabel, type Label } from '../../shared/types.ts';

/** JSON text for a jsonb column (see db-schema.ts: both drivers pass text through untouched). */
export function toJson(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new SentinelError('INVALID_ARGUMENT', 'Value is not JSON-serialisable.');
  return text;
}

const MAX_LIST = 1000;
const DEFAULT_LIST = 100;

function limitOf(limit: number | undefined): number {
  const n = limit ?? DEFAULT_LIST;
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIST) {
    throw new SentinelError('INVALID_ARGUMENT', `limit must be an integer from 1 to ${MAX_LIST}.`, { limit });
  }
  return n;
}

function requireText(name: string, value: unknown, max = 1000): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw new SentinelError('INVALID_ARGUMENT', `${name} must be a non-empty string of at most ${max} characters.`, {
      [name]: value,
    });
  }
  return value;
}

function requireNumber(name: string, value: unknown, min: number, max: number, integer = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new SentinelError('INVALID_ARGUMENT', `${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}.`, {
      [name]: value,
    });
  }
  return value;
}

function requireOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new SentinelError('INVALID_ARGUMENT', `${name} must be one of ${allowed.join(', ')}.`, { [name]: value });
  }
  return value as T;
}

function requireLabel(name: string, value: unknown): Label {
  if (!isLabel(value)) throw new SentinelError('INVALID_ARGUMENT', `${name} must be "safe" or "danger".`, { [name]: value });
  return value;
}

function requireSha256(name: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[0-9a-f]{64}$/.test(value)) {
    throw new SentinelError('INVALID_ARGUMENT', `${name} must be a lowercase hex SHA-256 (64 characters).`, { [name]: value });
  }
  return value;
}

function labelCounts(value: unknown): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SentinelError('INVALID_ARGUMENT', 'label_counts must be an object of label -> count.');
  }
  for (const [label, count] of Object.entries(value)) {
    requireLabel('label_counts key', label);
    requireNumber(`label_counts.${label}`, count, 0, Number.MAX_SAFE_INTEGER, true);
  }
  return toJson(value);
}

/** Postgres unique_violation -> CONFLICT, foreign_key_violation -> NOT_FOUND; anything else passes through. */
function mapDbError(error: unknown, what: string): never {
  const code = (error as { code?: unknown })?.code;
  if (code === '23505') throw new SentinelError('CONFLICT', `${what} already exists.`, undefined, { cause: error });
  if (code === '23503') throw new SentinelError('NOT_FOUND', `${what} refers to a row that does not exist.`, undefined, { cause: error });
  throw error;
}

function uploadPatch(patch: UpdateUploadInput): Record<string, unknown> {
  const set: Record<string, unknown> = {};
  if (patch.status !== undefined) set.status = requireOneOf('status', patch.status, UPLOAD_STATUSES);
  if (patch.bytes !== undefined) set.bytes = requireNumber('bytes', patch.bytes, 0, 2 ** 31 - 1, true);
  if (patch.sha256 !== undefined) set.sha256 = patch.sha256 === null ? null : requireSha256('sha256', patch.sha256);
  if (patch.label_counts !== undefined) set.label_counts = labelCounts(patch.label_counts);
  if (patch.error !== undefined) set.error = patch.error;
  return set;
}

function newId(): string {
  return globalThis.crypto.randomUUID();
}

const LIVE_SESSION_STATUSES: readonly SessionStatus[] = ['queued', 'running'];

export class KyselyRepository implements Repository {
  constructor(
    private readonly db: Kysely<DatabaseSchema>,
    private readonly inTransaction = false,
  ) {}

  async transaction<R>(fn: (repo: Repository) => Promise<R>): Promise<R> {
    if (this.inTransaction) return fn(this);
    return this.db.transaction().execute((trx: Transaction<DatabaseSchema>) => fn(new KyselyRepository(trx, true)));
  }

  // ---- Uploads ----

  async createUpload(input: CreateUploadInput) {
    const row = {
      id: input.id ?? newId(),
      object_key: requireText('object_key', input.object_key, 1024),
      filename: requireText('filename', input.filename),
      bytes: requireNumber('bytes', input.bytes, 0, 2 ** 31 - 1, true),
      sha256: input.sha256 == null ? null : requireSha256('sha256', input.sha256),
      label_counts: labelCounts(input.label_counts ?? {}),
      status: requireOneOf('status', input.status ?? 'pending', UPLOAD_STATUSES),
      error: null,
    };
    try {
      return await this.db.insertInto('uploads').values(row).returningAll().executeTakeFirstOrThrow();
    } catch (error) {
      mapDbError(error, `Upload ${row.id} / object ${row.object_key}`);
    }
  }

  async getUpload(id: string) {
    return (await this.db.selectFrom('uploads').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
  }

  async updateUpload(id: string, patch: UpdateUploadInput) {
    const set = uploadPatch(patch);
    if (Object.keys(set).length === 0) return this.getUpload(id);
    return (await this.db.updateTable('uploads').set(set).where('id', '=', id).returningAll().executeTakeFirst()) ?? null;
  }

  async transitionUpload(id: string, from: UploadStatus, patch: UpdateUploadInput) {
    requireOneOf('status', from, UPLOAD_STATUSES);
    const set = uploadPatch(patch);
    if (Object.keys(set).length === 0) return null;
    return (await this.db.updateTable('uploads').set(set).where('id', '=', id).where('status', '=', from).returningAll().executeTakeFirst()) ?? null;
  }

  async listUploads(options: { status?: UploadStatus; limit?: number } = {}) {
    let query = this.db.selectFrom('uploads').selectAll();
    if (options.status !== undefined) query = query.where('status', '=', requireOneOf('status', options.status, UPLOAD_STATUSES));
    return query.orderBy('created_at', 'desc').orderBy('id').limit(limitOf(options.limit)).execute();
  }

  // ---- Training sessions ----

  async createSession(input: CreateSessionInput) {
    const row = {
      id: input.id ?? newId(),
      status: 'queued' as const,
      mode: requireText('mode', input.mode, 100),
      epochs: requireNumber('epochs', input.epochs, 1, 100_000, true),
      epoch_metrics: '[]',
      upload_id: input.upload_id ?? null,
      parent_version: input.parent_version ?? null,
    };
    try {
      return await this.db.insertInto('training_sessions').values(row).returningAll().executeTakeFirstOrThrow();
    } catch (error) {
      mapDbError(error, `Training session ${row.id}`);
    }
  }

  async getSession(id: string) {
    return (await this.db.selectFrom('training_sessions').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
  }

  async listSessions(options: { status?: SessionStatus; limit?: number } = {}) {
    let query = this.db.selectFrom('training_sessions').selectAll();
    if (options.status !== undefined) query = query.where('status', '=', requireOneOf('status', options.status, SESSION_STATUSES));
    return query.orderBy('created_at', 'desc').orderBy('id').limit(limitOf(options.limit)).execute();
  }

  async markRunning(id: string, options: { staleAfterSeconds?: number } = {}): Promise<ClaimResult> {
    const stale = requireNumber(
      'staleAfterSeconds',
      options.staleAfterSeconds ?? SERVICE.db.staleHeartbeatSeconds,
      0,
      7 * 24 * 3600,
    );
    // One conditional UPDATE: Postgres re-checks the WHERE on the latest row version under the row lock,
    // so two concurrent claims cannot both succeed.
    const claimed = await this.db
      .updateTable('training_sessions')
      .set({
        status: 'running',
        attempts: sql`attempts + 1`,
        started_at: sql`now()`,
        heartbeat_at: sql`now()`,
        finished_at: null,
        // A re-claimed session trains from the start: the killed attempt's epoch rows would be repeated otherwise.
        epoch_metrics: '[]',
        progress: null,
      })
      .where('id', '=', id)
      .where((eb) =>
        eb.or([
          eb('status', '=', 'queued'),
          eb.and([eb('status', '=', 'running'), eb('heartbeat_at', '<', sql<Date>`now() - make_interval(secs => ${stale})`)]),
        ]),
      )
      .returningAll()
      .executeTakeFirst();
    if (claimed) return { claimed: true, session: claimed };
    return { claimed: false, session: await this.getSession(id) };
  }

  /** UPDATE … WHERE id AND status = running AND attempts = attempt: the run still owns the session. */
  private ownedRun(id: string, attempt: number) {
    requireNumber('attempt', attempt, 1, 2 ** 31 - 1, true);
    return this.db
      .updateTable('training_sessions')
      .where('id', '=', id)
      .where('status', '=', 'running')
      .where('attempts', '=', attempt);
  }

  async heartbeat(id: string, attempt: number, progress?: SessionProgress) {
    const set: { heartbeat_at: RawBuilder<Date>; progress?: string } = { heartbeat_at: sql<Date>`now()` };
    if (progress !== undefined) {
      requireText('progress.phase', progress?.phase, 100);
      requireNumber('progress.done', progress.done, 0, Number.MAX_SAFE_INTEGER);
      requireNumber('progress.total', progress.total, 0, Number.MAX_SAFE_INTEGER);
      set.progress = toJson(progress);
    }
    const row = await this.ownedRun(id, attempt).set(set).returning('id').executeTakeFirst();
    return row !== undefined;
  }

  async appendEpochMetrics(id: string, attempt: number, metrics: EpochMetrics) {
    requireNumber('epoch', metrics?.epoch, 0, 1_000_000, true);
    const row = await this.ownedRun(id, attempt)
      .set({
        epoch_metrics: sql`epoch_metrics || jsonb_build_array(cast(${toJson(metrics)} as text)::jsonb)`,
        heartbeat_at: sql`now()`,
      })
      .returning('id')
      .executeTakeFirst();
    return row !== undefined;
  }

  async markSucceeded(id: string, attempt: number, result: { final_metrics: Record<string, number>; model_version: string; gate_decision?: GateDecision | null }) {
    const row = await this.ownedRun(id, attempt)
      .set({
        status: 'succeeded',
        final_metrics: toJson(result.final_metrics),
        gate_decision: result.gate_decision ? toJson(result.gate_decision) : null,
        model_version: requireText('model_version', result.model_version, 200),
        finished_at: sql`now()`,
        error: null,
      })
      .returningAll()
      .executeTakeFirst();
    return row ?? null;
  }

  async markFailed(id: string, attempt: number, error: string) {
    const row = await this.ownedRun(id, attempt)
      .set({ status: 'failed', finished_at: sql`now()`, error: requireText('error', error, 10_000) })
      .returningAll()
      .executeTakeFirst();
    return row ?? null;
  }

  async requeueSession(id: string, attempt: number, error: string) {
    const row = await this.ownedRun(id, attempt)
      .set({ status: 'queued', heartbeat_at: null, error: requireText('error', error, 10_000) })
      .returningAll()
      .executeTakeFirst();
    return row ?? null;
  }

  async cancelSession(id: string) {
    const row = await this.db
      .updateTable('training_sessions')
      .set({ status: 'cancelled', finished_at: sql`now()` })
      .where('id', '=', id)
      .where('status', 'in', LIVE_SESSION_STATUSES)
      .returningAll()
      .executeTakeFirst();
    return row ?? null;
  }

  // ---- Models and aliases ----

  async recordModel(input: RecordModelInput) {
    const row = {
      version: requireText('version', input.version, 200),
      artifact_prefix: requireText('artifact_prefix', input.artifact_prefix, 1024),
      parent_version: input.parent_version ?? null,
      metrics: toJson(input.metrics ?? {}),
      threshold: requireNumber('threshold', input.threshold, 0, 1),
      status: requireOneOf('status', input.status ?? 'candidate', MODEL_STATUSES),
    };
    try {
      return await this.db.insertInto('models').values(row).returningAll().executeTakeFirstOrThrow();
    } catch (error) {
      mapDbError(error, `Model ${row.version}`);
    }
  }

  async getModel(version: string) {
    return (await this.db.selectFrom('models').selectAll().where('version', '=', version).executeTakeFirst()) ?? null;
  }

  async listModels(options: { status?: ModelStatus; limit?: number } = {}) {
    let query = this.db.selectFrom('models').selectAll();
    if (options.status !== undefined) query = query.where('status', '=', requireOneOf('status', options.status, MODEL_STATUSES));
    return query.orderBy('created_at', 'desc').orderBy('version', 'desc').limit(limitOf(options.limit)).execute();
  }

  async setModelStatus(version: string, status: ModelStatus) {
    const row = await this.db
      .updateTable('models')
      .set({ status: requireOneOf('status', status, MODEL_STATUSES) })
      .where('version', '=', version)
      .returningAll()
      .executeTakeFirst();
    return row ?? null;
  }

  async setAlias(name: string, version: string, actor: string, reason: string) {
    requireText('name', name, 100);
    requireText('version', version, 200);
    requireText('actor', actor, 200);
    requireText('reason', reason, 2000);
    return this.transaction(async (tx) => {
      const self = tx as KyselyRepository;
      const model = await self.db.selectFrom('models').select('version').where('version', '=', version).forShare().executeTakeFirst();
      if (!model) throw new SentinelError('NOT_FOUND', `No model with version "${version}".`, { version });
      // First set: insert. A concurrent first set waits on the primary key, then finds the row below.
      const created = await self.db
        .insertInto('aliases')
        .values({ name, version, updated_at: sql`now()` })
        .onConflict((oc) => oc.column('name').doNothing())
        .returningAll()
        .executeTakeFirst();
      let alias = created;
      let fromVersion: string | null = null;
      if (!created) {
        // Lock the row so concurrent setAlias calls serialise and each audit row's from_version is the
        // value it actually replaced.
        const current = await self.db.selectFrom('aliases').select('version').where('name', '=', name).forUpdate().executeTakeFirstOrThrow();
        fromVersion = current.version;
        alias = await self.db
          .updateTable('aliases')
          .set({ version, updated_at: sql`now()` })
          .where('name', '=', name)
          .returningAll()
          .executeTakeFirstOrThrow();
      }
      const audit = await self.db
        .insertInto('alias_audit')
        .values({ name, from_version: fromVersion, to_version: version, actor, reason })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { alias: alias!, audit };
    });
  }

  async getAlias(name: string) {
    return (await this.db.selectFrom('aliases').selectAll().where('name', '=', name).executeTakeFirst()) ?? null;
  }

  async listAliases() {
    return this.db.selectFrom('aliases').selectAll().orderBy('name').execute();
  }

  async aliasHistory(name: string, options: { limit?: number } = {}) {
    return this.db
      .selectFrom('alias_audit')
      .selectAll()
      .where('name', '=', name)
      .orderBy('id', 'desc')
      .limit(limitOf(options.limit))
      .execute();
  }

  // ---- The promotion gate's reference set ----

  async referenceSet() {
    const clips = await this.db.selectFrom('reference_clips').selectAll().orderBy('version').orderBy('sha256').execute();
    return { version: clips.reduce((v, c) => Math.max(v, c.version), 0), clips };
  }

  async addReferenceClips(clips: readonly NewReferenceClip[], sessionId: string | null) {
    const rows = clips.map((c) => ({
      sha256: requireSha256('sha256', c.sha256),
      object_key: requireText('object_key', c.object_key, 1024),
      label: requireLabel('label', c.label),
      path: requireText('path', c.path, 2000),
    }));
    return this.transaction(async (tx) => {
      const self = (tx as KyselyRepository).db;
      const { max } = await self
        .selectFrom('reference_clips')
        .select(sql<number | null>`max(version)`.as('max'))
        .executeTakeFirstOrThrow();
      const current = max ?? 0;
      const known = rows.length
        ? new Set((await self.selectFrom('reference_clips').select('sha256').where('sha256', 'in', rows.map((r) => r.sha256)).execute()).map((r) => r.sha256))
        : new Set<string>();
      const fresh = [...new Map(rows.filter((r) => !known.has(r.sha256)).map((r) => [r.sha256, r])).values()];
      if (fresh.length === 0) return current;
      try {
        await self.insertInto('reference_clips').values(fresh.map((r) => ({ ...r, session_id: sessionId, version: current + 1 }))).execute();
      } catch (error) {
        mapDbError(error, `Reference clips of session ${sessionId}`);
      }
      return current + 1;
    });
  }

  // ---- Predictions and stats ----

  async recordPrediction(input: RecordPredictionInput) {
    const row = this.predictionRow(input);
    try {
      return await this.db.insertInto('predictions').values(row).returningAll().executeTakeFirstOrThrow();
    } catch (error) {
      mapDbError(error, `Prediction ${row.id}`);
    }
  }

  async recordPredictions(inputs: readonly (RecordPredictionInput & { id: string })[]) {
    if (inputs.length === 0) return;
    const rows = inputs.map((input) => this.predictionRow({ ...input, id: requireText('id', input.id, 200) }));
    try {
      await this.db.insertInto('predictions').values(rows).execute();
    } catch (error) {
      mapDbError(error, `One of ${rows.length} predictions`);
    }
  }

  private predictionRow(input: RecordPredictionInput) {
    return {
      id: input.id ?? newId(),
      model_version: requireText('model_version', input.model_version, 200),
      duration_seconds: requireNumber('duration_seconds', input.duration_seconds, 0, 1e7),
      windows: toJson(input.windows ?? null),
      probability: requireNumber('probability', input.probability, 0, 1),
      class: requireLabel('class', input.class),
      object_key: input.object_key ?? null,
    };
  }

  async getPrediction(id: string) {
    return (await this.db.selectFrom('predictions').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
  }

  async listPredictions(options: { limit?: number; before?: Date; withFeedback?: boolean } = {}) {
    let query = this.db.selectFrom('predictions').selectAll();
    if (options.before) query = query.where('created_at', '<', options.before);
    if (options.withFeedback) query = query.where('feedback_label', 'is not', null);
    return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limitOf(options.limit)).execute();
  }

  async setFeedback(id: string, label: Label) {
    const row = await this.db
      .updateTable('predictions')
      .set({ feedback_label: requireLabel('label', label), feedback_at: sql`now()` })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row ?? null;
  }

  async predictionsPerClassPerDay(range: TimeRange = {}) {
    const day = sql<string>`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD')`;
    let query = this.db
      .selectFrom('predictions')
      .select([day.as('day'), 'class', sql<number>`count(*)::int`.as('count')]);
    if (range.since) query = query.where('created_at', '>=', range.since);
    if (range.until) query = query.where('created_at', '<', range.until);
    return query.groupBy([day, 'class']).orderBy('day').orderBy('class').execute();
  }

  async confidenceHistogram(options: TimeRange & { bins?: number } = {}): Promise<HistogramBin[]> {
    const bins = requireNumber('bins', options.bins ?? 10, 1, 1000, true);
    const confidence = sql<number>`case when class = 'danger' then probability else 1 - probability end`;
    // width_bucket puts exactly 1.0 in bucket bins+1: fold it into the last bin (closed upper edge).
    // `bins` (a checked integer) is inlined so the SELECT and GROUP BY expressions are textually equal.
    const bucket = sql<number>`least(width_bucket(${confidence}, 0, 1, ${sql.lit(bins)}), ${sql.lit(bins)})`;
    let query = this.db.selectFrom('predictions').select([bucket.as('bucket'), sql<number>`count(*)::int`.as('count')]);
    if (options.since) query = query.where('created_at', '>=', options.since);
    if (options.until) query = query.where('created_at', '<', options.until);
    const rows = await query.groupBy(bucket).execute();
    const counts = new Map(rows.map((r) => [Number(r.bucket), Number(r.count)]));
    return Array.from({ length: bins }, (_, i) => ({
      lower: i / bins,
      upper: (i + 1) / bins,
      count: counts.get(i + 1) ?? 0,
    }));
  }

  // ---- API keys ----

  async createApiKey(input: { id?: string; name: string; key_hash: string }) {
    const row = {
      id: input.id ?? newId(),
      name: requireText('name', input.name, 200),
      key_hash: requireSha256('key_hash', input.key_hash),
    };
    try {
      return await this.db.insertInto('api_keys').values(row).returningAll().executeTakeFirstOrThrow();
    } catch (error) {
      mapDbError(error, 'API key');
    }
  }

  async verifyApiKey(keyHash: string) {
    if (typeof keyHash !== 'string' || !/^[0-9a-f]{64}$/.test(keyHash)) return null;
    const row = await this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('key_hash', '=', keyHash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return row ?? null;
  }

  async revokeApiKey(id: string) {
    const row = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: sql`now()` })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .returning('id')
      .executeTakeFirst();
    return row !== undefined;
  }

  async listApiKeys() {
    return this.db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id').execute();
  }

  // ---- Events ----

  async recordEvent(type: string, payload: unknown) {
    return this.db
      .insertInto('events')
      .values({ type: requireText('type', type, 200), payload: toJson(payload ?? null) })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async listEvents(options: { afterId?: number; limit?: number } = {}) {
    let query = this.db.selectFrom('events').selectAll();
    if (options.afterId !== undefined) query = query.where('id', '>', options.afterId);
    return query.orderBy('id').limit(limitOf(options.limit)).execute();
  }
}

/** Typed guard for callers that hold a session row and want to know if it can still change. */
export function isTerminal(session: TrainingSession): boolean {
  return !LIVE_SESSION_STATUSES.includes(session.status);
}
