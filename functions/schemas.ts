/**
 * Request and response schemas of the API (zod, with OpenAPI metadata): the routes validate requests with them and
 * /openapi.json is generated from them. JSON names are snake_case, as in the database, and the seed's names
 * (`prediction`, `class`, `confidence`, `model_loaded`…) are kept where the original API had them.
 */
import { z } from '@hono/zod-openapi';
import { AGGREGATIONS, TRAINING_MODES } from '../shared/model/types.ts';
import type { Prediction } from '../shared/types.ts';

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'unsupported_format' }),
      message: z.string().openapi({ example: 'Not an audio format Sentinel can decode.' }),
      details: z.record(z.string(), z.unknown()).optional(),
      request_id: z.string().openapi({
        description: "The answer's X-Request-Id (the caller's when it sent a sane one, else a new UUID): quote it when reporting a problem.",
        example: '8bfa78ee-b9c1-4741-b9d9-9c924d18547e',
      }),
    }),
  })
  .openapi('Error');

const label = z.enum(['safe', 'danger']);
const isoDate = z.string().openapi({ format: 'date-time', example: '2026-01-31T12:00:00.000Z' });
const metricValues = z.record(z.string(), z.number()).openapi({ example: { accuracy: 0.93, balancedAccuracy: 0.92 } });
const binary = z.any().openapi({ type: 'string', format: 'binary' });
const flag = z.enum(['true', 'false', '1', '0']);

export const ServiceInfoSchema = z
  .object({
    service: z.literal('sentinel'),
    message: z.string(),
    model_version: z.string().nullable(),
    docs: z.string(),
    openapi: z.string(),
  })
  .openapi('ServiceInfo');

const checkSchema = z.object({ ok: z.boolean(), ms: z.number(), detail: z.string().optional() });
export const HealthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    checks: z.object({ database: checkSchema, blobs: checkSchema, model: checkSchema }),
    services: z.record(z.string(), z.string()),
  })
  .openapi('Health');

export const ModelStatusSchema = z
  .object({
    model_loaded: z.boolean(),
    is_training: z.boolean(),
    training_status: z.enum(['idle', 'queued', 'running', 'succeeded', 'failed', 'cancelled']),
    model_accuracy: z.number().nullable(),
    model_version: z.string().nullable(),
    threshold: z.number().nullable(),
    representation: z.string().nullable(),
    metrics: metricValues,
    created_at: isoDate.nullable(),
    loaded_at: isoDate.nullable(),
    training_session_id: z.string().nullable(),
    promotion_gate: z
      .object({
        metric: z.string(),
        margin: z.number().openapi({ description: 'How much better than the current model a retrained one must score' }),
        min_clips_per_class: z.number().int().openapi({ description: 'Reference clips of each class needed before the gate decides (SENTINEL_GATE_MIN_CLIPS_PER_CLASS)' }),
      })
      .openapi({ description: "The rule the worker's promotion gate applies to the next retrain (as configured on this server)" }),
  })
  .openapi('ModelStatus');

export const PredictFormSchema = z.object({
  file: binary.optional().openapi({ description: 'The recording (wav, mp3, flac, ogg/opus, webm, m4a); analysed whole, up to 10 minutes.' }),
  keep: flag.optional().openapi({ description: 'Keep the audio so that feedback on this prediction becomes training data.' }),
});

export const PredictJsonSchema = z.object({
  object_key: z.string().min(1).max(1024).openapi({ description: 'Key returned by POST /uploads, after the upload finished.' }),
  keep: z.boolean().optional(),
});

export const PredictionSchema = z
  .object({
    prediction: label.openapi({ description: 'Seed name of `class`.' }),
    class: label,
    confidence: z.number().openapi({
      description:
        'Confidence in the verdict given (`class`): `probability` for a danger verdict, 1 − `probability` for a safe one. ' +
        'A safe verdict at P(danger) 0.59 with threshold 0.79 has confidence 0.41: read `probability` against `threshold` ' +
        'to say how close a call was ("Safe — P(danger) 59%, below the 79% threshold").',
    }),
    probability: z.number().openapi({
      description:
        "P(danger) of the recording, 0 to 1: its most dangerous window's, or, for a model scored by pairs (`aggregation: 'pair'`), " +
        'its most dangerous pair of adjacent windows (the sigmoid of their mean logit).',
    }),
    aggregation: z.enum(AGGREGATIONS).openapi({
      description: "How `probability` and `events` come from the windows: 'window' = the highest window, 'pair' = the highest pair of adjacent windows. The model's own, chosen when it was trained.",
    }),
    threshold: z.number().openapi({ description: "The served model's decision threshold: danger when `probability` ≥ `threshold`." }),
    duration: z.number().openapi({ description: 'seconds' }),
    windows: z.array(
      z.object({
        start: z.number(),
        end: z.number(),
        probability: z.number().openapi({ description: "P(danger); 0 for a window the level gate skipped (`skipped: 'quiet'`). Models with a `priorFloor` never score a heard window below AudioSet's own danger score less that many logits." }),
        level: z.number().openapi({ description: "RMS level of the window's audio, dB re full scale (-120 for digital silence)" }),
        skipped: z
          .literal('quiet')
          .optional()
          .openapi({ description: "Present when the model did not score the window: 'quiet' = its level is below the level gate's floor (-50 dB by default)" }),
        classes: z
          .array(z.object({ label: z.string(), score: z.number() }))
          .optional()
          .openapi({ description: "What the window sounds like to the backbone: its top AudioSet classes and their sigmoid scores (models on the AudioSet backbone only)." }),
      }),
    ),
    events: z.array(z.object({ start: z.number(), end: z.number(), peak_probability: z.number() })).openapi({
      description: 'Runs of windows (or pairs of windows) at or above the threshold, merged where they overlap.',
    }),
    model_version: z.string(),
    prediction_id: z.string(),
    logged: z
      .boolean()
      .optional()
      .openapi({ description: 'false when the verdict could not be stored (database failing): it stands, but feedback on it is impossible.' }),
  })
  .openapi('Prediction');

export const UploadRequestSchema = z
  .object({
    filename: z.string().min(1).max(255),
    content_type: z.string().min(3).max(200).openapi({ example: 'application/zip' }),
    purpose: z.enum(['audio', 'dataset']).openapi({ description: 'audio: for /predict; dataset: a zip for /retrain (needs an API key)' }),
    bytes: z.number().int().nonnegative().optional().openapi({ description: 'Declared size; refused with 413 when over the limit.' }),
  })
  .openapi('UploadRequest');

export const UploadTicketSchema = z
  .object({
    upload_id: z.string(),
    object_key: z.string(),
    url: z.string(),
    method: z.literal('PUT'),
    headers: z.record(z.string(), z.string()),
    expires_in: z.number(),
    max_bytes: z.number(),
  })
  .openapi('UploadTicket');

export const TrainFormSchema = z.object({
  file: binary.optional().openapi({ description: 'A zip with safe/ and danger/ folders of audio clips (optional manifest.csv).' }),
  mode: z.enum(TRAINING_MODES).optional(),
  epochs: z.string().regex(/^\d{1,5}$/).optional(),
});

export const TrainJsonSchema = z.object({
  object_key: z.string().min(1).max(1024).optional().openapi({ description: 'Key of a dataset zip uploaded via POST /uploads.' }),
  mode: z.enum(TRAINING_MODES).optional(),
  epochs: z.number().int().min(1).max(10_000).optional(),
});

const skippedSchema = z.object({ path: z.string(), code: z.string(), reason: z.string() });
export const TrainAcceptedSchema = z
  .object({
    status: z.literal('queued'),
    session_id: z.string(),
    upload_id: z.string().nullable(),
    counts: z.object({ safe: z.number(), danger: z.number() }).nullable(),
    skipped: z.array(skippedSchema),
  })
  .openapi('TrainAccepted');

export const GateDecisionSchema = z
  .object({
    outcome: z.enum(['promoted', 'kept', 'too_few_clips']).openapi({ description: 'promoted: better by the margin; kept: not (a tie included); too_few_clips: too few reference clips of a class to decide' }),
    metric: z.string(),
    candidate: z.number().openapi({ description: "The candidate's metric on the reference clips" }),
    current: z.number().openapi({ description: "The current model's metric on the same clips" }),
    margin: z.number(),
    min_clips_per_class: z.number().int(),
    clips: z.object({ safe: z.number().int(), danger: z.number().int() }),
    reference_version: z.number().int(),
    held_out: z.number().int(),
    candidate_version: z.string(),
    current_version: z.string(),
  })
  .openapi('GateDecision');

export const SessionSchema = z
  .object({
    id: z.string(),
    status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']),
    mode: z.string(),
    epochs: z.number(),
    progress: z.object({ phase: z.string(), done: z.number(), total: z.number(), detail: z.string().optional() }).nullable(),
    epoch_metrics: z.array(z.record(z.string(), z.number())),
    final_metrics: metricValues.nullable(),
    gate_decision: GateDecisionSchema.nullable(),
    model_version: z.string().nullable(),
    upload_id: z.string().nullable(),
    parent_version: z.string().nullable(),
    attempts: z.number(),
    created_at: isoDate,
    started_at: isoDate.nullable(),
    heartbeat_at: isoDate.nullable(),
    finished_at: isoDate.nullable(),
    error: z.string().nullable(),
  })
  .openapi('Session');

export const SessionListSchema = z.object({ sessions: z.array(SessionSchema) }).openapi('SessionList');

export const ModelSchema = z
  .object({
    version: z.string(),
    status: z.enum(['candidate', 'promoted', 'rejected', 'archived']),
    parent_version: z.string().nullable(),
    threshold: z.number(),
    metrics: metricValues,
    artifact_prefix: z.string(),
    created_at: isoDate,
    current: z.boolean(),
  })
  .openapi('Model');

export const ModelListSchema = z.object({ current: z.string().nullable(), models: z.array(ModelSchema) }).openapi('ModelList');

export const AliasChangeSchema = z
  .object({ current: z.string(), previous: z.string().nullable(), actor: z.string(), reason: z.string() })
  .openapi('AliasChange');

export const ReasonSchema = z.object({ reason: z.string().min(1).max(2000).optional() });

export const StatsSchema = z
  .object({
    dataset: z.object({
      uploads: z.object({ safe: z.number(), danger: z.number() }),
      feedback: z.object({ safe: z.number(), danger: z.number() }),
      total: z.object({ safe: z.number(), danger: z.number() }),
    }),
    predictions: z.object({
      since: isoDate,
      per_class: z.object({ safe: z.number(), danger: z.number() }),
      per_day: z.array(z.object({ day: z.string(), class: label, count: z.number() })),
      confidence_histogram: z.array(z.object({ lower: z.number(), upper: z.number(), count: z.number() })),
    }),
  })
  .openapi('Stats');

export const FeedbackSchema = z.object({ label }).openapi('FeedbackRequest');
export const FeedbackResultSchema = z
  .object({ prediction_id: z.string(), feedback_label: label, training_data: z.boolean() })
  .openapi('FeedbackResult');

export const IdParam = z.object({ id: z.string().min(1).max(200).openapi({ param: { name: 'id', in: 'path' } }) });
export const VersionParam = z.object({
  version: z.string().min(1).max(200).openapi({ param: { name: 'version', in: 'path' } }),
});
export const ModelFileParams = z.object({
  version: z.string().min(1).max(200).openapi({ param: { name: 'version', in: 'path' } }),
  // Plain file names only: the name becomes part of a storage key.
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/).openapi({ param: { name: 'name', in: 'path' }, example: 'sentinel.json' }),
});
export const SessionQuery = z.object({
  status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

/** A verdict in the API's words (POST /predict's body without the stored prediction's id). */
export type PredictionJson = Omit<z.infer<typeof PredictionSchema>, 'prediction_id' | 'logged'>;

export function predictionJson(p: Prediction): PredictionJson {
  return {
    prediction: p.class,
    class: p.class,
    confidence: p.confidence,
    probability: p.probability,
    aggregation: p.aggregation,
    threshold: p.threshold,
    duration: p.duration,
    windows: p.windows,
    events: p.events.map((e) => ({ start: e.start, end: e.end, peak_probability: e.peakProbability })),
    model_version: p.modelVersion,
  };
}
