/**
 * The Sentinel HTTP API (Hono + zod-openapi): the same app runs on Lambda (functions/api.ts) and in the local stack
 * (functions/server.ts). Routes are declared with their schemas, so /openapi.json and /docs come from the code.
 *
 * Auth: admin routes (retrain, promote, rollback, feedback export) need an API key; /predict, /uploads (audio) and
 * feedback are open or keyed by configuration (`predictAuth`). CORS only for configured origins. Request bodies are
 * bounded (413) before they are parsed. Open writes are rate-limited per client, what they keep is under a quota, and
 * storage failures answer 503 with a code (functions/safety.ts). Key management: functions/routes/keys.ts.
 */
import { randomUUID } from 'node:crypto';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { zipSync } from 'fflate';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { sniffContainer } from '../shared/audio/container.ts';
import { API, SERVICE, TRAINING } from '../shared/config.ts';
import { SentinelError } from '../shared/errors.ts';
import type { BlobStore } from '../shared/ports/blob-store.ts';
import type { Model, TrainingSession } from '../shared/ports/db-schema.ts';
import type { JobQueue } from '../shared/ports/job-queue.ts';
import type { Repository } from '../shared/ports/repository.ts';
import type { Prediction } from '../shared/types.ts';
import type { TrainingMode } from '../shared/model/types.ts';
import { DEFAULT_GATE_RULE, type GateRule } from '../shared/training/promotion.ts';
import { intakeZip, safeSegment, storeCheckedDataset, uploadPrefix, type ZipIntake } from '../adapters/dataset-store.ts';
import { CURRENT_ALIAS } from '../adapters/model-store.ts';
import type { TrainingJob, TrainingKind } from '../worker/job.ts';
import { ApiKeyVerifier, type AuthVariables } from './auth.ts';
import { ApiError, errorJson, errorResponse, type ErrorBody } from './errors.ts';
import { docsRoutes } from './docs.ts';
import { audit, httpBasics } from './observability.ts';
import { EXAMPLES, errorResponses as documentedErrors, type ErrorCode } from './openapi-examples.ts';
import { keysRouter } from './routes/keys.ts';
import { crossSiteGuard, guardPort, hostGuard, RateLimiter, StorageQuota, type StoragePart } from './safety.ts';
import type { ModelRegistry } from './model-registry.ts';
import { PredictionLog } from './prediction-log.ts';
import * as S from './schemas.ts';

export interface AppConfig {
  predictAuth: 'open' | 'key';
  corsOrigins: readonly string[];
  maxAudioBytes: number;
  maxDatasetBytes: number;
  /** Head epochs when a retrain request names none. */
  defaultEpochs?: number;
  /** The worker's promotion gate, which /model/status shows (the console states it). Default DEFAULT_GATE_RULE. */
  gateRule?: GateRule;
  /** Open writes (/predict, /uploads, feedback) per client a minute; 0 = no limit. Default API.rateLimitPerMinute. */
  rateLimitPerMinute?: number;
  /** Bytes open routes may keep (kept audio, audio uploads not used yet); 0 = no quota. Default API.openStorageQuotaBytes. */
  openStorageQuotaBytes?: number;
  /** Host names answered (any port); empty = any (see hostGuard). */
  allowedHosts?: readonly string[];
}

export interface AppDeps {
  repo: Repository;
  blobs: BlobStore;
  queue: JobQueue<TrainingJob>;
  models: ModelRegistry;
  config: AppConfig;
  /** {database, blobs, queue} adapter kinds for /health. */
  describe?: () => Record<string, string>;
  /** Local stack: serves presigned fs blob URLs (mounted on SERVICE.blob.localRoute). */
  blobHandler?: (request: Request) => Promise<Response>;
  /** Local stack: the console page for browsers at GET / (JSON service info otherwise). */
  consolePage?: (c: Context) => Response | Promise<Response>;
  /** The client a request comes from, for rate limits (the socket's address; one shared bucket when absent). */
  clientAddress?: (c: Context) => string | undefined;
  /** Static assets (the built console), served to GET and HEAD only. */
  assets?: MiddlewareHandler;
  /** Called after a job is queued (the in-process worker wakes at once). */
  onJobQueued?: () => void;
  /** Reads and decodes a dataset zip (default: on this thread; the local stack: adapters/intake/thread.ts). */
  intake?: (zip: Uint8Array) => Promise<ZipIntake>;
  log?: (level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>) => void;
}

type Env = { Variables: AuthVariables };

export type SentinelApp = OpenAPIHono<Env> & {
  /**
   * Deletes what interrupted or abandoned uploads left (pending past their URL's lifetime plus `graceSeconds`):
   * their blobs go and the upload is marked failed. Returns the upload ids cleaned.
   */
  sweepUploads(options?: { graceSeconds?: number; now?: Date }): Promise<string[]>;
};

/** Where kept /predict audio lives: its own prefix, out of reach of any presigned upload URL. */
const KEPT_AUDIO_PREFIX = 'predictions/';
const HEALTH_PROBE_KEY = 'health/probe';
/** Thrown to roll back /health's database write probe (a SentinelError, so no storage fault is reported). */
const ROLLBACK = new SentinelError('ROLLBACK', 'health probe rolled back');

/** Multipart overhead allowed above a file limit (boundaries, part headers, small fields). */
const FORM_OVERHEAD = 64 * 1024;

/** A route's documented errors: every code a named example under its status (functions/openapi-examples.ts). */
const errors = (...codes: ErrorCode[]) => documentedErrors(S.ErrorSchema, ...codes);

/** A JSON response with its examples (named, as /docs lists them), each a real answer of the API. */
function json<T extends z.ZodType>(schema: T, description: string, examples: Record<string, z.input<T>>) {
  return { description, content: { 'application/json': { schema, examples: Object.fromEntries(Object.entries(examples).map(([name, value]) => [name, { value }])) } } };
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function sessionBody(s: TrainingSession): z.infer<typeof S.SessionSchema> {
  return {
    id: s.id,
    status: s.status,
    mode: s.mode,
    epochs: s.epochs,
    progress: s.progress ?? null,
    epoch_metrics: s.epoch_metrics,
    final_metrics: s.final_metrics,
    gate_decision: s.gate_decision,
    model_version: s.model_version,
    upload_id: s.upload_id,
    parent_version: s.parent_version,
    attempts: s.attempts,
    created_at: s.created_at.toISOString(),
    started_at: iso(s.started_at),
    heartbeat_at: iso(s.heartbeat_at),
    finished_at: iso(s.finished_at),
    error: s.error,
  };
}

function modelBody(m: Model, current: string | null): z.infer<typeof S.ModelSchema> {
  return {
    version: m.version,
    status: m.status,
    parent_version: m.parent_version,
    threshold: m.threshold,
    metrics: m.metrics,
    artifact_prefix: m.artifact_prefix,
    created_at: m.created_at.toISOString(),
    current: m.version === current,
  };
}

export function predictionBody(p: Prediction, id: string): z.infer<typeof S.PredictionSchema> {
  return { ...S.predictionJson(p), prediction_id: id };
}

function isJson(c: Context): boolean {
  return /^application\/json\b/i.test(c.req.header('content-type') ?? '');
}

/** The one file of a multipart form, as bytes; `no_file` when absent, 413 over `max`. */
async function formFile(value: unknown, max: number, what: string): Promise<{ bytes: Uint8Array; name: string; type: string }> {
  if (Array.isArray(value)) throw new ApiError(400, 'too_many_files', `Send one ${what} in the "file" field, not ${value.length}.`);
  if (value === undefined || value === null || value === '') {
    throw new ApiError(400, 'no_file', `No ${what}: send it as multipart/form-data in a field named "file".`);
  }
  if (typeof value === 'string' || typeof (value as Blob).arrayBuffer !== 'function') {
    throw new ApiError(400, 'no_file', `The "file" field must be a file upload, not text.`);
  }
  const file = value as File;
  if (file.size > max) throw new ApiError(413, 'payload_too_large', `The ${what} is ${file.size} bytes; the limit is ${max}.`, { max_bytes: max });
  const bytes = new Uint8Array(await file.arrayBuffer());
  return { bytes, name: file.name || 'upload', type: file.type || 'application/octet-stream' };
}

/**
 * The bytes of an upload made by POST /uploads (`uploads/<id>/<name>`), checked against the database. Only a
 * `pending` upload is read: one that was used, or failed, is spent (409 `upload_used`).
 */
async function uploadedObject(repo: Repository, blobs: BlobStore, key: string, max: number) {
  const match = /^uploads\/([0-9a-f-]{36})\/[^/]+$/.exec(key);
  const upload = match ? await repo.getUpload(match[1]) : null;
  if (!upload || upload.object_key !== key) {
    throw new ApiError(404, 'upload_not_found', `No upload has the key "${key}"; ask POST /uploads for one.`);
  }
  if (upload.status !== 'pending') {
    throw new ApiError(409, 'upload_used', `The upload "${key}" was already used (${upload.status}); ask POST /uploads for a new one.`);
  }
  const head = await blobs.head(key);
  if (!head) throw new ApiError(409, 'upload_incomplete', `Nothing was uploaded to "${key}" yet: PUT the file to the presigned URL first.`);
  // S3 cannot bound a presigned PUT: the size is checked here, before the bytes are read.
  if (head.size > max) throw new ApiError(413, 'payload_too_large', `The uploaded object is ${head.size} bytes; the limit is ${max}.`, { max_bytes: max });
  const bytes = await blobs.get(key);
  if (!bytes) throw new ApiError(409, 'upload_incomplete', `The object "${key}" disappeared while being read.`);
  return { upload, bytes };
}

export function createApp(deps: AppDeps): SentinelApp {
  const { queue, models, config } = deps;
  const log = deps.log ?? (() => {});
  const onFault = (part: StoragePart, error: unknown) => log('error', `${part} failing`, { error: error instanceof Error ? error.message : String(error) });
  // Every storage failure becomes a 503 with a code (database_unavailable, storage_unavailable), not a bare 500.
  const repo = guardPort(deps.repo, 'database', onFault);
  const blobs = guardPort(deps.blobs, 'blobs', onFault);
  const keys = new ApiKeyVerifier(repo);
  const clientOf = (c: Context) => deps.clientAddress?.(c) ?? 'unknown';
  const rateLimit = new RateLimiter(config.rateLimitPerMinute ?? API.rateLimitPerMinute).middleware(clientOf);
  // The quota counts kept audio from what the store holds at the first use; reservations and releases follow it.
  const quota = new StorageQuota(config.openStorageQuotaBytes ?? API.openStorageQuotaBytes, async () => {
    const kept = (await blobs.list(KEPT_AUDIO_PREFIX)).reduce((sum, e) => sum + e.size, 0);
    const pending = await repo.listUploads({ status: 'pending', limit: 1000 });
    return kept + pending.reduce((sum, u) => sum + audioReservation(u.bytes), 0);
  });
  /** What a presigned audio upload holds against the quota until it is used or swept. */
  const audioReservation = (declared: number) => (declared > 0 ? declared : config.maxAudioBytes);
  const predictions = new PredictionLog(repo);
  const gate = config.gateRule ?? DEFAULT_GATE_RULE;
  const admin = keys.middleware();
  const predictGuard: MiddlewareHandler<Env> = config.predictAuth === 'key' ? admin : async (_c, next) => next();
  const limit = (max: number): MiddlewareHandler<Env> =>
    bodyLimit({
      maxSize: max + FORM_OVERHEAD,
      onError: () => {
        throw new ApiError(413, 'payload_too_large', `Request body is over the limit of ${max} bytes.`, { max_bytes: max });
      },
    });

  const hook: ConstructorParameters<typeof OpenAPIHono<Env>>[0] = {
    defaultHook: (result) => {
      if (!result.success) {
        const issues = result.error.issues.slice(0, 10).map((i) => ({ path: i.path.join('.'), message: i.message }));
        const first = issues[0];
        throw new ApiError(400, 'invalid_request', first ? `${first.path || 'request'}: ${first.message}` : 'Invalid request.', { issues });
      }
    },
  };
  const app = new OpenAPIHono<Env>(hook) as SentinelApp;
  // /health's write probes: an insert rolled back, a blob written and deleted.
  const databaseWriteProbe = recentResult(API.healthWriteProbeSeconds, async () => {
    try {
      await repo.transaction(async (tx) => {
        await tx.recordEvent('health.probe', {});
        throw ROLLBACK;
      });
    } catch (error) {
      if (error !== ROLLBACK) throw error;
    }
  });
  const blobWriteProbe = recentResult(API.healthWriteProbeSeconds, async () => {
    await blobs.put(HEALTH_PROBE_KEY, new Uint8Array([1]));
    await blobs.delete(HEALTH_PROBE_KEY);
  });

  app.onError((error, c) => {
    const { status, body, unexpected } = errorResponse(error);
    if (unexpected) log('error', 'request failed', { request_id: c.get('requestId'), path: c.req.path, error: error instanceof Error ? error.stack ?? error.message : String(error) });
    const retry = body.error.details?.retry_after_seconds;
    if (typeof retry === 'number') c.header('Retry-After', String(retry));
    return errorJson(c, status, body.error);
  });
  app.notFound((c) => errorJson(c, 404, { code: 'not_found', message: `No route ${c.req.method} ${c.req.path}.` }));
  // Request id, access log, security headers and compression for every answer, refusals included.
  for (const middleware of httpBasics(log, { crossOrigin: config.corsOrigins.length > 0 })) app.use('*', middleware);
  app.use('*', hostGuard(config.allowedHosts ?? []));
  app.use('*', crossSiteGuard(config.corsOrigins));

  if (config.corsOrigins.length > 0) {
    const allowed = new Set(config.corsOrigins);
    app.use(
      '*',
      cors({
        origin: (origin) => (allowed.has(origin) ? origin : null),
        allowHeaders: ['Content-Type', 'Authorization', 'X-API-Key'],
        allowMethods: ['GET', 'POST', 'PUT', 'OPTIONS'],
        maxAge: 600,
      }),
    );
  }
  app.openAPIRegistry.registerComponent('securitySchemes', 'ApiKey', { type: 'http', scheme: 'bearer', description: 'Sentinel API key (snt_…); X-API-Key also accepted.' });
  const keyed = [{ ApiKey: [] as string[] }];
  const predictSecurity = config.predictAuth === 'key' ? keyed : [];

  // ---- service ----

  app.openapi(
    createRoute({
      method: 'get',
      path: '/',
      tags: ['service'],
      summary: 'Service info (browsers get the console page)',
      responses: { 200: json(S.ServiceInfoSchema, 'What this is and where the docs are', { service: EXAMPLES.serviceInfo }) },
    }),
    async (c) => {
      if (deps.consolePage && (c.req.header('accept') ?? '').includes('text/html')) return deps.consolePage(c) as never;
      const current = await models.current().catch(() => null);
      return c.json(
        {
          service: 'sentinel' as const,
          message: 'Sentinel acoustic distress detector: POST a recording to /predict.',
          model_version: current?.version ?? null,
          docs: '/docs',
          openapi: '/openapi.json',
        },
        200,
      );
    },
  );

  // The console page and service info are read-only: other methods on / are not a way to fetch them.
  app.on(['POST', 'PUT', 'PATCH', 'DELETE'], '/', (c) => {
    c.header('Allow', 'GET, HEAD');
    return errorJson(c, 405, { code: 'method_not_allowed', message: `${c.req.method} / is not supported: GET it.` });
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/health',
      tags: ['service'],
      summary: 'Checks the database, the blob store and the model',
      responses: { 200: json(S.HealthSchema, 'All good', { ok: EXAMPLES.health }), 503: json(S.HealthSchema, 'A dependency failed', { no_model: EXAMPLES.healthDegraded }) },
    }),
    async (c) => {
      const check = async (fn: () => Promise<string | undefined>) => {
        const t = performance.now();
        try {
          const detail = await fn();
          return { ok: true, ms: +(performance.now() - t).toFixed(2), ...(detail ? { detail } : {}) };
        } catch (error) {
          const reason = error instanceof ApiError ? error.details?.reason : undefined;
          return { ok: false, ms: +(performance.now() - t).toFixed(2), detail: String(reason ?? (error instanceof Error ? error.message : error)) };
        }
      };
      // Writes are probed too: a read-only database or a full disk still answers reads.
      const [database, blobCheck, model] = [
        await check(async () => {
          await repo.getAlias(CURRENT_ALIAS);
          await databaseWriteProbe();
          return undefined;
        }),
        await check(async () => {
          await blobs.head(HEALTH_PROBE_KEY);
          await blobWriteProbe();
          return undefined;
        }),
        await check(async () => {
          const m = await models.current();
          if (!m) throw new Error('no model is promoted to current');
          return m.version;
        }),
      ];
      const ok = database.ok && blobCheck.ok && model.ok;
      const body = { status: ok ? ('ok' as const) : ('degraded' as const), checks: { database, blobs: blobCheck, model }, services: deps.describe?.() ?? {} };
      return ok ? c.json(body, 200) : c.json(body, 503);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/model/status',
      tags: ['models'],
      summary: 'The served model and the training state (seed fields kept)',
      responses: { 200: json(S.ModelStatusSchema, 'Model and training status', { serving: EXAMPLES.modelStatus }) },
    }),
    async (c) => {
      const current = await models.current().catch(() => null);
      const [latest] = await repo.listSessions({ limit: 1 });
      const row = current ? await repo.getModel(current.version) : null;
      const metrics = row?.metrics ?? {};
      return c.json(
        {
          model_loaded: current !== null,
          is_training: latest?.status === 'running' || latest?.status === 'queued',
          training_status: latest?.status ?? ('idle' as const),
          model_accuracy: typeof metrics.accuracy === 'number' ? metrics.accuracy : null,
          model_version: current?.version ?? null,
          threshold: current?.threshold ?? null,
          representation: current?.manifest.representation ?? null,
          metrics,
          created_at: current?.manifest.createdAt ?? null,
          loaded_at: current ? current.loadedAt.toISOString() : null,
          training_session_id: latest?.id ?? null,
          promotion_gate: { metric: gate.metric, margin: gate.margin, min_clips_per_class: gate.minClipsPerClass },
        },
        200,
      );
    },
  );

  // ---- predict ----

  app.openapi(
    createRoute({
      method: 'post',
      path: '/predict',
      tags: ['predict'],
      summary: 'Classify a recording as danger or safe (the whole recording, in 3 s windows)',
      description:
        'multipart/form-data with the audio in `file`, or JSON `{object_key}` for a file uploaded via POST /uploads. ' +
        'Concurrent requests share model calls (micro-batching).',
      security: predictSecurity,
      middleware: [predictGuard, rateLimit, limit(config.maxAudioBytes)] as const,
      request: {
        body: {
          content: {
            'multipart/form-data': { schema: S.PredictFormSchema },
            'application/json': { schema: S.PredictJsonSchema },
          },
        },
      },
      responses: {
        200: json(S.PredictionSchema, 'The verdict', { danger: EXAMPLES.predictionDanger, safe: EXAMPLES.predictionSafe }),
        ...errors('invalid_request', 'no_file', 'too_many_files', 'empty', 'too_short', 'corrupt', 'missing_api_key', 'invalid_api_key', 'cross_site_request', 'upload_not_found', 'upload_used', 'upload_incomplete', 'payload_too_large', 'too_long', 'unsupported_format', 'unsupported_media_type', 'rate_limited', 'storage_quota_exceeded', 'model_not_ready', 'database_unavailable', 'storage_unavailable'),
      },
    }),
    async (c) => {
      let bytes: Uint8Array;
      let contentType = 'application/octet-stream';
      let keep: boolean;
      /** The presigned upload this request spends: its object is deleted once analysed (kept audio is a copy). */
      let spent: string | null = null;
      if (isJson(c)) {
        const body = c.req.valid('json') as z.infer<typeof S.PredictJsonSchema>;
        if (!body.object_key) throw new ApiError(400, 'no_file', 'Send the audio as multipart/form-data "file", or JSON {"object_key"}.');
        const found = await uploadedObject(repo, blobs, body.object_key, config.maxAudioBytes);
        // Claimed once: a second /predict with the same key, even a concurrent one, is refused.
        if (!(await repo.transitionUpload(found.upload.id, 'pending', { status: 'used', bytes: found.bytes.byteLength }))) {
          throw new ApiError(409, 'upload_used', `The upload "${body.object_key}" was already used; ask POST /uploads for a new one.`);
        }
        quota.release(audioReservation(found.upload.bytes));
        ({ bytes } = found);
        spent = body.object_key;
        contentType = (await blobs.head(spent))?.contentType ?? contentType;
        keep = body.keep === true;
      } else {
        const form = c.req.valid('form') as Record<string, unknown>;
        const file = await formFile(form.file, config.maxAudioBytes, 'audio file');
        bytes = file.bytes;
        contentType = /^[\w.+-]+\/[\w.+-]+$/.test(file.type) ? file.type : contentType;
        keep = form.keep === 'true' || form.keep === '1';
      }
      let prediction: Prediction;
      try {
        if (bytes.byteLength === 0) throw new ApiError(400, 'empty', 'The file is empty.');
        prediction = await models.predict(bytes);
      } finally {
        // Unkept audio is not stored past its analysis, whatever the verdict.
        if (spent) await blobs.delete(spent).catch((error) => log('warn', 'spent upload not deleted', { key: spent, error: String(error) }));
      }
      const id = randomUUID();
      let keptKey: string | null = null;
      if (keep) {
        keptKey = `${KEPT_AUDIO_PREFIX}${id}/audio`;
        await quota.reserve(bytes.byteLength);
        try {
          await blobs.put(keptKey, bytes, { contentType });
        } catch (error) {
          quota.release(bytes.byteLength);
          throw error;
        }
      }
      const top = [...prediction.windows].sort((a, b) => b.probability - a.probability).slice(0, API.storedTopWindows);
      let logged = true;
      try {
        await predictions.record({
          id,
          model_version: prediction.modelVersion,
          duration_seconds: prediction.duration,
          windows: { count: prediction.windows.length, top, events: prediction.events },
          probability: prediction.probability,
          class: prediction.class,
          object_key: keptKey,
        });
      } catch (error) {
        // The verdict is computed: the caller gets it even when its log row cannot be written.
        logged = false;
        log('error', 'prediction not logged', { prediction_id: id, error: error instanceof Error ? error.message : String(error) });
        if (keptKey) {
          await blobs.delete(keptKey).catch(() => {});
          quota.release(bytes.byteLength);
        }
      }
      return c.json({ ...predictionBody(prediction, id), logged }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/predictions/{id}/feedback',
      tags: ['predict'],
      summary: 'Correct or confirm a prediction; with kept audio it becomes training data',
      security: predictSecurity,
      middleware: [predictGuard, rateLimit] as const,
      request: { params: S.IdParam, body: { content: { 'application/json': { schema: S.FeedbackSchema } }, required: true } },
      responses: {
        200: json(S.FeedbackResultSchema, 'Feedback stored', { kept_audio: EXAMPLES.feedbackResult }),
        ...errors('invalid_request', 'missing_api_key', 'invalid_api_key', 'cross_site_request', 'prediction_not_found', 'unsupported_media_type', 'rate_limited', 'database_unavailable'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const { label } = c.req.valid('json');
      const row = await repo.setFeedback(id, label);
      if (!row) throw new ApiError(404, 'prediction_not_found', `No prediction ${id}.`);
      await repo.recordEvent('prediction.feedback', { prediction_id: id, label, predicted: row.class });
      return c.json({ prediction_id: id, feedback_label: label, training_data: row.object_key !== null }, 200);
    },
  );

  // ---- uploads ----

  app.openapi(
    createRoute({
      method: 'post',
      path: '/uploads',
      tags: ['uploads'],
      summary: 'A presigned URL to upload a large file straight to the store, then /predict or /retrain by its object_key',
      description: 'purpose "dataset" needs an API key; "audio" follows the /predict setting. The URL writes once; the upload is spent by the /predict or /retrain that uses it, and an unused one is deleted after the URL expires.',
      security: predictSecurity,
      middleware: [rateLimit] as const,
      request: { body: { content: { 'application/json': { schema: S.UploadRequestSchema } }, required: true } },
      responses: {
        201: json(S.UploadTicketSchema, 'Where and how to PUT the file', { audio: EXAMPLES.uploadTicket }),
        ...errors('invalid_request', 'invalid_content_type', 'missing_api_key', 'invalid_api_key', 'cross_site_request', 'payload_too_large', 'unsupported_media_type', 'rate_limited', 'storage_quota_exceeded', 'database_unavailable', 'storage_unavailable'),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      if (body.purpose === 'dataset' || config.predictAuth === 'key') await keys.verify(c.req);
      const max = body.purpose === 'dataset' ? config.maxDatasetBytes : config.maxAudioBytes;
      if (body.bytes !== undefined && body.bytes > max) {
        throw new ApiError(413, 'payload_too_large', `A ${body.purpose} file may be at most ${max} bytes.`, { max_bytes: max });
      }
      if (!/^[\w.+-]+\/[\w.+-]+$/.test(body.content_type)) throw new ApiError(400, 'invalid_content_type', `"${body.content_type}" is not a media type.`);
      const id = randomUUID();
      const key = `${uploadPrefix(id)}${safeSegment(body.filename)}`;
      // An audio upload holds its size against the open quota until /predict spends it or the sweep removes it.
      const reserved = body.purpose === 'audio' ? audioReservation(body.bytes ?? 0) : 0;
      if (reserved) await quota.reserve(reserved);
      try {
        await repo.createUpload({ id, object_key: key, filename: body.filename, bytes: body.bytes ?? 0, status: 'pending' });
      } catch (error) {
        quota.release(reserved);
        throw error;
      }
      const expires = SERVICE.blob.presignExpiresSeconds;
      const ticket = await blobs.presignPut(key, { expiresSeconds: expires, contentType: body.content_type, maxBytes: max });
      return c.json({ upload_id: id, object_key: key, url: ticket.url, method: ticket.method, headers: ticket.headers, expires_in: expires, max_bytes: max }, 201);
    },
  );

  // ---- training ----

  /**
   * Reads, checks and stores a dataset zip (direct or uploaded) and returns its upload id and index. A zip refused
   * for any reason, or an intake that fails half-way, leaves nothing behind: its blobs are deleted and the upload
   * (if it had a row) is `failed`, so it never becomes training data.
   */
  async function intakeDataset(form: Record<string, unknown> | null, objectKey: string | undefined, kind: 'retrain' | 'continue') {
    let bytes: Uint8Array;
    let filename: string;
    let existing: { id: string; object_key: string } | null = null;
    if (form) {
      const file = await formFile(form.file, config.maxDatasetBytes, 'dataset zip');
      bytes = file.bytes;
      filename = file.name;
    } else {
      if (!objectKey) throw new ApiError(400, 'no_file', 'Send the dataset zip as multipart/form-data "file", or JSON {"object_key"} after POST /uploads.');
      const found = await uploadedObject(repo, blobs, objectKey, config.maxDatasetBytes);
      bytes = found.bytes;
      filename = found.upload.filename;
      existing = found.upload;
    }
    const id = existing?.id ?? randomUUID();
    let stored = false;
    try {
      if (bytes.byteLength === 0) throw new ApiError(400, 'empty', 'The zip is empty.');
      // Refuse a hostile or useless zip before anything is stored.
      const { zip, dataset, sha256 } = await (deps.intake ?? intakeZip)(bytes);
      bytes = zip; // an intake thread took the buffer over and handed it back
      const counts = { safe: 0, danger: 0 };
      for (const clip of dataset.clips) counts[clip.label]++;
      if (kind === 'retrain' && dataset.clips.length > 0 && (counts.safe === 0 || counts.danger === 0)) {
        throw new ApiError(400, 'needs_both_labels', `A retrain needs clips in both safe/ and danger/; got ${counts.safe} safe and ${counts.danger} danger.`, { counts });
      }
      if (!existing) {
        const key = `${uploadPrefix(id)}${safeSegment(filename)}`;
        await repo.createUpload({ id, object_key: key, filename, bytes: bytes.byteLength, sha256, status: 'pending' });
        stored = true;
        await blobs.put(key, bytes, { contentType: 'application/zip' });
      }
      const index = await storeCheckedDataset(blobs, id, dataset);
      await repo.updateUpload(id, { status: 'ready', bytes: bytes.byteLength, sha256, label_counts: index.counts });
      return { uploadId: id, index };
    } catch (error) {
      if (existing || stored) await discardUpload(id, error);
      throw error;
    }
  }

  /** Marks an upload failed and deletes its blobs; a failure here is logged (the sweep retries it later). */
  async function discardUpload(id: string, cause: unknown): Promise<void> {
    try {
      await repo.updateUpload(id, { status: 'failed', error: cause instanceof Error ? cause.message : String(cause) });
      for (const { key } of await blobs.list(uploadPrefix(id))) await blobs.delete(key);
    } catch (error) {
      log('warn', 'failed upload not cleaned up', { upload_id: id, error: String(error) });
    }
  }

  app.sweepUploads = async ({ graceSeconds = 3600, now = new Date() } = {}) => {
    const cutoff = now.getTime() - (SERVICE.blob.presignExpiresSeconds + graceSeconds) * 1000;
    const cleaned: string[] = [];
    for (const upload of await repo.listUploads({ status: 'pending', limit: 1000 })) {
      if (upload.created_at.getTime() > cutoff) continue;
      await discardUpload(upload.id, new Error('abandoned: not used before its upload URL expired'));
      cleaned.push(upload.id);
    }
    // Used and failed uploads keep no blobs: a late PUT to a spent URL, or a crash before the delete, left some.
    for (const status of ['used', 'failed'] as const) {
      for (const upload of await repo.listUploads({ status, limit: 1000 })) {
        const left = await blobs.list(uploadPrefix(upload.id));
        for (const { key } of left) await blobs.delete(key);
        if (left.length > 0) cleaned.push(upload.id);
      }
    }
    if (cleaned.length > 0) quota.reset();
    return cleaned;
  };

  async function enqueue(c: Context<Env>, kind: TrainingKind, uploadId: string | null, mode: TrainingMode, epochs: number) {
    const current = await models.current().catch(() => null);
    const session = await repo.createSession({ mode, epochs, upload_id: uploadId, parent_version: current?.version ?? null });
    try {
      await queue.send({ session_id: session.id, kind }, queue.capabilities.dedup ? { dedupId: session.id } : {});
    } catch (error) {
      await repo.cancelSession(session.id);
      throw error;
    }
    await repo.recordEvent('training.queued', { session_id: session.id, kind, upload_id: uploadId, actor: c.get('apiKey')?.name ?? null });
    deps.onJobQueued?.();
    return session;
  }

  const trainRoute = (path: string, summary: string) =>
    createRoute({
      method: 'post',
      path,
      tags: ['training'],
      summary,
      security: keyed,
      middleware: [admin, limit(config.maxDatasetBytes)] as const,
      request: {
        body: {
          content: {
            'multipart/form-data': { schema: S.TrainFormSchema },
            'application/json': { schema: S.TrainJsonSchema },
          },
        },
      },
      responses: {
        202: json(S.TrainAcceptedSchema, 'Queued; follow it at GET /sessions/{session_id}', { queued: EXAMPLES.trainAccepted }),
        ...errors('invalid_request', 'no_file', 'empty', 'invalid_zip', 'needs_both_labels', 'missing_api_key', 'invalid_api_key', 'cross_site_request', 'upload_not_found', 'upload_used', 'upload_incomplete', 'payload_too_large', 'zip_bomb', 'unsupported_media_type', 'database_unavailable', 'storage_unavailable'),
      },
    });

  const trainWithUpload = (kind: 'retrain' | 'continue') => async (c: Context<Env>) => {
    const jsonBody = isJson(c);
    const form = jsonBody ? null : ((c.req.valid as (t: 'form') => Record<string, unknown>)('form'));
    const body = jsonBody ? ((c.req.valid as (t: 'json') => z.infer<typeof S.TrainJsonSchema>)('json')) : null;
    const mode = (body?.mode ?? (form?.mode as TrainingMode | undefined)) ?? TRAINING.defaultMode;
    const epochs = body?.epochs ?? (typeof form?.epochs === 'string' ? Number(form.epochs) : (config.defaultEpochs ?? TRAINING.maxEpochs));
    if (!Number.isInteger(epochs) || epochs < 1 || epochs > 10_000) throw new ApiError(400, 'invalid_request', 'epochs must be an integer from 1 to 10000.');
    const { uploadId, index } = await intakeDataset(form, body?.object_key, kind);
    const session = await enqueue(c, kind, uploadId, mode, epochs);
    return c.json({ status: 'queued' as const, session_id: session.id, upload_id: uploadId, counts: index.counts, skipped: index.skipped }, 202);
  };

  app.openapi(trainRoute('/retrain', "Train a new model on a labelled zip (safe/, danger/); promoted only if better on the reference set by the gate's margin"), trainWithUpload('retrain') as never);
  app.openapi(
    trainRoute('/continue-training', 'Continue training the current model with a new zip plus all earlier data'),
    trainWithUpload('continue') as never,
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/retrain-existing',
      tags: ['training'],
      summary: 'Retrain on all stored data (earlier uploads and feedback clips), no new upload',
      security: keyed,
      middleware: [admin] as const,
      request: { body: { content: { 'application/json': { schema: S.TrainJsonSchema.pick({ mode: true, epochs: true }) } } } },
      responses: { 202: json(S.TrainAcceptedSchema, 'Queued', { queued: EXAMPLES.trainExistingAccepted }), ...errors('invalid_request', 'missing_api_key', 'invalid_api_key', 'cross_site_request', 'no_training_data', 'unsupported_media_type') },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const [upload] = await repo.listUploads({ status: 'ready', limit: 1 });
      const [feedback] = await repo.listPredictions({ withFeedback: true, limit: 1 });
      if (!upload && !feedback) throw new ApiError(409, 'no_training_data', 'There is no stored training data yet: POST /retrain with a zip first.');
      const session = await enqueue(c, 'existing', null, body.mode ?? TRAINING.defaultMode, body.epochs ?? config.defaultEpochs ?? TRAINING.maxEpochs);
      return c.json({ status: 'queued' as const, session_id: session.id, upload_id: null, counts: null, skipped: [] }, 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/sessions',
      tags: ['training'],
      summary: 'Training sessions, newest first',
      request: { query: S.SessionQuery },
      responses: { 200: json(S.SessionListSchema, 'Sessions', { sessions: EXAMPLES.sessionList }), ...errors('invalid_request') },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const sessions = await repo.listSessions({ ...(q.status ? { status: q.status } : {}), limit: q.limit ?? 50 });
      return c.json({ sessions: sessions.map(sessionBody) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/sessions/{id}',
      tags: ['training'],
      summary: 'One session: status, progress, per-epoch metrics, result',
      request: { params: S.IdParam },
      responses: { 200: json(S.SessionSchema, 'The session', { succeeded: EXAMPLES.session }), ...errors('session_not_found') },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const session = await repo.getSession(id);
      if (!session) throw new ApiError(404, 'session_not_found', `No training session ${id}.`);
      return c.json(sessionBody(session), 200);
    },
  );

  // ---- models ----

  app.openapi(
    createRoute({
      method: 'get',
      path: '/models',
      tags: ['models'],
      summary: 'Every model version, newest first, and which one is current',
      responses: { 200: json(S.ModelListSchema, 'Models', { models: EXAMPLES.modelList }) },
    }),
    async (c) => {
      const alias = await repo.getAlias(CURRENT_ALIAS);
      const list = await repo.listModels({ limit: 200 });
      return c.json({ current: alias?.version ?? null, models: list.map((m) => modelBody(m, alias?.version ?? null)) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/models/{version}/files/{name}',
      tags: ['models'],
      summary: "A model version's artifact file (model.json, weights.bin, sentinel.json): the console's live monitor runs the model in the browser",
      description: 'A version never changes, so responses are cacheable forever.',
      security: predictSecurity,
      middleware: [predictGuard] as const,
      request: { params: S.ModelFileParams },
      responses: {
        200: { description: 'The file', content: { 'application/octet-stream': { schema: z.any().openapi({ type: 'string', format: 'binary' }) } } },
        ...errors('missing_api_key', 'invalid_api_key', 'model_file_not_found'),
      },
    }),
    async (c) => {
      const { version, name } = c.req.valid('param');
      const model = await repo.getModel(version);
      const key = model ? `${model.artifact_prefix}${name}` : null;
      const [head, bytes] = key ? await Promise.all([blobs.head(key), blobs.get(key)]) : [null, null];
      if (!head || !bytes) throw new ApiError(404, 'model_file_not_found', `Model ${version} has no file "${name}".`);
      return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
        'Content-Type': head.contentType,
        'Cache-Control': 'public, max-age=31536000, immutable',
        ...(head.etag ? { ETag: `"${head.etag}"` } : {}),
      });
    },
  );

  /** Points `current` at `version` (one transaction with its audit row) and updates both models' status. */
  async function switchCurrent(version: string, actor: string, reason: string, previousStatus: 'archived' | 'rejected') {
    const result = await repo.transaction(async (tx) => {
      const before = await tx.getAlias(CURRENT_ALIAS);
      const { alias } = await tx.setAlias(CURRENT_ALIAS, version, actor, reason);
      await tx.setModelStatus(version, 'promoted');
      if (before && before.version !== version) await tx.setModelStatus(before.version, previousStatus);
      return { current: alias.version, previous: before?.version ?? null };
    });
    await repo.recordEvent('model.alias', { ...result, actor, reason });
    await models.refresh();
    return result;
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/models/{version}/promote',
      tags: ['models'],
      summary: 'Serve this version (admin override of the gate)',
      security: keyed,
      middleware: [audit(log, 'model.promote'), admin] as const,
      request: { params: S.VersionParam, body: { content: { 'application/json': { schema: S.ReasonSchema } } } },
      responses: { 200: json(S.AliasChangeSchema, 'Now current', { promoted: EXAMPLES.promoted }), ...errors('invalid_request', 'missing_api_key', 'invalid_api_key', 'cross_site_request', 'model_not_found') },
    }),
    async (c) => {
      const { version } = c.req.valid('param');
      const body = c.req.valid('json');
      if (!(await repo.getModel(version))) throw new ApiError(404, 'model_not_found', `No model version ${version}.`);
      const actor = `api-key:${c.get('apiKey').name}`;
      const reason = body.reason ?? 'promoted by hand';
      const change = await switchCurrent(version, actor, reason, 'archived');
      c.set('audit', { ...change, reason });
      return c.json({ ...change, actor, reason }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/models/rollback',
      tags: ['models'],
      summary: 'Serve the version that was current before the last change',
      security: keyed,
      middleware: [audit(log, 'model.rollback'), admin] as const,
      request: { body: { content: { 'application/json': { schema: S.ReasonSchema } } } },
      responses: { 200: json(S.AliasChangeSchema, 'Rolled back', { rolled_back: EXAMPLES.rolledBack }), ...errors('invalid_request', 'missing_api_key', 'invalid_api_key', 'cross_site_request', 'nothing_to_roll_back') },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const [last] = await repo.aliasHistory(CURRENT_ALIAS, { limit: 1 });
      if (!last?.from_version) throw new ApiError(409, 'nothing_to_roll_back', 'The current model has no predecessor to roll back to.');
      const actor = `api-key:${c.get('apiKey').name}`;
      const reason = body.reason ?? `rollback from ${last.to_version}`;
      const change = await switchCurrent(last.from_version, actor, reason, 'rejected');
      c.set('audit', { ...change, reason });
      return c.json({ ...change, actor, reason }, 200);
    },
  );

  app.route('/keys', keysRouter({ repo, keys, admin, hook, audit: (action) => audit(log, action) }));

  // ---- stats and exports ----

  app.openapi(
    createRoute({
      method: 'get',
      path: '/stats',
      tags: ['stats'],
      summary: 'Dataset distribution, predictions per class and day, confidence distribution',
      responses: { 200: json(S.StatsSchema, 'Figures for the console', { last_30_days: EXAMPLES.stats }) },
    }),
    async (c) => {
      const since = new Date(Date.now() - API.statsDays * 86_400_000);
      const uploads = { safe: 0, danger: 0 };
      for (const u of await repo.listUploads({ status: 'ready', limit: 1000 })) {
        uploads.safe += u.label_counts.safe ?? 0;
        uploads.danger += u.label_counts.danger ?? 0;
      }
      const feedback = { safe: 0, danger: 0 };
      for (const p of await repo.listPredictions({ withFeedback: true, limit: 1000 })) if (p.feedback_label && p.object_key) feedback[p.feedback_label]++;
      const perDay = await repo.predictionsPerClassPerDay({ since });
      const perClass = { safe: 0, danger: 0 };
      for (const d of perDay) perClass[d.class] += d.count;
      return c.json(
        {
          dataset: { uploads, feedback, total: { safe: uploads.safe + feedback.safe, danger: uploads.danger + feedback.danger } },
          predictions: {
            since: since.toISOString(),
            per_class: perClass,
            per_day: perDay,
            confidence_histogram: await repo.confidenceHistogram({ since }),
          },
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/feedback/export',
      tags: ['stats'],
      summary: 'Feedback clips as a dataset zip (safe/, danger/), usable with /retrain or the CLI',
      security: keyed,
      middleware: [admin] as const,
      responses: {
        200: { description: 'application/zip', content: { 'application/zip': { schema: z.any().openapi({ type: 'string', format: 'binary' }) } } },
        ...errors('missing_api_key', 'invalid_api_key'),
      },
    }),
    async (c) => {
      const files: Record<string, Uint8Array> = {};
      for (const p of await repo.listPredictions({ withFeedback: true, limit: 1000 })) {
        if (!p.object_key || !p.feedback_label) continue;
        const bytes = await blobs.get(p.object_key);
        if (!bytes) continue;
        files[`${p.feedback_label}/${p.id}.${sniffContainer(bytes) ?? 'bin'}`] = bytes;
      }
      // Audio is already compressed (or PCM that deflate barely shrinks): store, don't deflate.
      const zip = zipSync(files, { level: 0 });
      return c.body(zip as Uint8Array<ArrayBuffer>, 200, {
        'Content-Type': 'application/zip',
        'Content-Disposition': 'attachment; filename="sentinel-feedback.zip"',
      });
    },
  );

  // ---- docs, blobs ----

  app.doc('/openapi.json', {
    openapi: '3.0.3',
    info: {
      title: 'Sentinel API',
      version: '1.0.0',
      description: 'Acoustic distress detection. Errors are always {"error": {"code", "message", "request_id"}}; request_id is the X-Request-Id of the answer.',
    },
  });
  app.route('/docs', docsRoutes('/openapi.json'));
  if (deps.blobHandler) {
    const handler = deps.blobHandler;
    const uploadPut = new RegExp(`^${SERVICE.blob.localRoute}/uploads/([0-9a-f-]{36})/`);
    app.all(`${SERVICE.blob.localRoute}/*`, async (c) => {
      // A spent upload's URL is refused even after its object was deleted: the URL is single-use, not just write-once.
      const id = c.req.method === 'PUT' ? uploadPut.exec(c.req.path)?.[1] : undefined;
      const upload = id ? await repo.getUpload(id) : null;
      if (upload && upload.status !== 'pending') throw new ApiError(409, 'upload_used', `This upload was already used (${upload.status}); ask POST /uploads for a new URL.`);
      const res = await handler(c.req.raw);
      // The store's refusals are in the API's envelope already; they gain the request id like every other error.
      if (res.ok || !res.headers.get('content-type')?.startsWith('application/json')) return res;
      const { error } = (await res.json()) as ErrorBody;
      return errorJson(c, res.status, error);
    });
  }
  if (deps.assets) app.on(['GET', 'HEAD'], '/*', deps.assets);
  return app;
}

/** `fn`, run at most once per `seconds`: callers in between share the last run's outcome (success or failure). */
function recentResult(seconds: number, fn: () => Promise<void>): () => Promise<void> {
  let last: { at: number; run: Promise<void> } | null = null;
  return () => {
    const now = Date.now();
    if (!last || now - last.at >= seconds * 1000) last = { at: now, run: fn() };
    return last.run;
  };
}

