/**
 * The examples /openapi.json and /docs show: each taken from a real response of the local stack (npm start, shipped
 * model 20261203T212153Z-2fbf62 = v0.6, scored by its highest window, clips of the dev set, 2026-12-03), arrays cut to
 * two items. Error examples are named by their code and keep the API's own messages (request ids:
 * `exampleRequestId`); `errorResponses(...codes)` groups a route's codes by status.
 * tests/integration/observability.test.ts checks every example against its schema and ERROR_CODES.
 */
import { createHash } from 'node:crypto';

const VERSION = '20261203T212153Z-2fbf62';
const CANDIDATE = '20261203T233253Z-46ef2a';
const METRICS = {
  n: 1008,
  f1: 0.9042145593869731,
  prAuc: 0.9563684572898706,
  recall: 0.8581818181818182,
  rocAuc: 0.978881309686221,
  accuracy: 0.9503968253968254,
  precision: 0.9554655870445344,
  balancedAccuracy: 0.9215874984497086,
};
const CANDIDATE_METRICS = { n: 9, f1: 0.8, prAuc: 1, recall: 1, rocAuc: 1, accuracy: 0.7777777777777778, precision: 0.6666666666666666, balancedAccuracy: 0.8 };

const session = {
  id: 'aaf888ad-20e2-48c0-8c2c-c22e6a0cc937',
  status: 'succeeded' as const,
  mode: 'head',
  epochs: 30,
  progress: { done: 0, phase: 'gate', total: 9 },
  epoch_metrics: [
    { fold: 1, loss: 0.48289044156612815, epoch: 1, val_loss: 0.7089917988758578 },
    { fold: 1, loss: 0.05913396370272304, epoch: 2, val_loss: 0.9437562647877469 },
  ],
  final_metrics: { ...CANDIDATE_METRICS, skipped_clips: 0 },
  gate_decision: {
    clips: { safe: 5, danger: 4 },
    margin: 0.02,
    metric: 'balancedAccuracy',
    current: 1,
    outcome: 'too_few_clips' as const,
    held_out: 9,
    candidate: 0.8,
    current_version: VERSION,
    candidate_version: CANDIDATE,
    reference_version: 1,
    min_clips_per_class: 30,
  },
  model_version: CANDIDATE,
  upload_id: 'd29b2931-f892-4b5e-b0d5-2d0596ccce88',
  parent_version: VERSION,
  attempts: 1,
  created_at: '2026-12-03T23:32:50.280Z',
  started_at: '2026-12-03T23:32:50.306Z',
  heartbeat_at: '2026-12-03T23:33:12.096Z',
  finished_at: '2026-12-03T23:33:16.940Z',
  error: null,
};

const apiKey = { id: '9ac01d7f-1426-41c6-92ba-ba049563b1dc', name: 'ci-deploy', created_at: '2026-12-03T23:32:40.566Z', revoked_at: null };

/** 2xx bodies, one per response schema. */
export const EXAMPLES = {
  serviceInfo: {
    service: 'sentinel' as const,
    message: 'Sentinel acoustic distress detector: POST a recording to /predict.',
    model_version: VERSION,
    docs: '/docs',
    openapi: '/openapi.json',
  },
  health: {
    status: 'ok' as const,
    checks: { database: { ok: true, ms: 4.38 }, blobs: { ok: true, ms: 3.68 }, model: { ok: true, ms: 0.1, detail: VERSION } },
    services: { database: 'pglite', blobs: 'fs', queue: 'db' },
  },
  healthDegraded: {
    status: 'degraded' as const,
    checks: { database: { ok: true, ms: 3.91 }, blobs: { ok: true, ms: 2.75 }, model: { ok: false, ms: 0.2, detail: 'no model is promoted to current' } },
    services: { database: 'pglite', blobs: 'fs', queue: 'db' },
  },
  modelStatus: {
    model_loaded: true,
    is_training: false,
    training_status: 'idle' as const,
    model_accuracy: 0.9503968253968254,
    model_version: VERSION,
    threshold: 0.14638233929872513,
    representation: 'logmel',
    metrics: METRICS,
    created_at: '2026-12-03T21:21:53.061Z',
    loaded_at: '2026-12-03T23:32:25.207Z',
    training_session_id: null,
    promotion_gate: { metric: 'balancedAccuracy', margin: 0.02, min_clips_per_class: 30 },
  },
  predictionDanger: {
    prediction: 'danger' as const,
    class: 'danger' as const,
    confidence: 0.9794537425041199,
    probability: 0.9794537425041199,
    aggregation: 'window' as const,
    threshold: 0.14638233929872513,
    duration: 3.8545,
    windows: [
      {
        start: 0,
        end: 3,
        level: -14.931433274119662,
        probability: 0.9794537425041199,
        classes: [
          { label: 'Screaming', score: 0.2877596308297091 },
          { label: 'Speech', score: 0.27416680728524206 },
          { label: 'Groan', score: 0.2530280729518611 },
        ],
      },
      {
        start: 0.8545,
        end: 3.8545,
        level: -20.13463475032247,
        probability: 0.8045522570610046,
        classes: [
          { label: 'Speech', score: 0.5268022248652168 },
          { label: 'Screaming', score: 0.17766478525169585 },
          { label: 'Groan', score: 0.1090695356380266 },
        ],
      },
    ],
    events: [{ start: 0, end: 3.8545, peak_probability: 0.9794537425041199 }],
    model_version: VERSION,
    prediction_id: '2e9921f0-c19a-4948-9ded-9ae7346a2545',
    logged: true,
  },
  predictionSafe: {
    prediction: 'safe' as const,
    class: 'safe' as const,
    confidence: 0.9243396073579788,
    probability: 0.07566039264202118,
    aggregation: 'window' as const,
    threshold: 0.14638233929872513,
    duration: 4,
    windows: [
      {
        start: 0,
        end: 3,
        level: -30.867747096836528,
        probability: 0.0023405966348946095,
        classes: [
          { label: 'Speech', score: 0.5059246600052258 },
          { label: 'Chop', score: 0.13099441458263808 },
          { label: 'Arrow', score: 0.09034645703075081 },
        ],
      },
      {
        start: 1,
        end: 4,
        level: -34.534585765865444,
        probability: 0.07566039264202118,
        classes: [
          { label: 'Speech', score: 0.33712147795720276 },
          { label: 'Gunshot, gunfire', score: 0.11942392244480461 },
          { label: 'Music', score: 0.048298357345686355 },
        ],
      },
    ],
    events: [],
    model_version: VERSION,
    prediction_id: '84d98b8c-f9cc-4d74-a6ce-fc05449d8a19',
    logged: true,
  },
  feedbackResult: { prediction_id: '2e9921f0-c19a-4948-9ded-9ae7346a2545', feedback_label: 'danger' as const, training_data: true },
  uploadTicket: {
    upload_id: '8104d2fd-7482-48a6-bccc-ee8d572e9412',
    object_key: 'uploads/8104d2fd-7482-48a6-bccc-ee8d572e9412/night-03.wav',
    url: 'http://127.0.0.1:8787/blobs/uploads/8104d2fd-7482-48a6-bccc-ee8d572e9412/night-03.wav?op=put&expires=1796341660&ct=audio%2Fwav&max=67108864&sig=e14eae020ac1a0cb7ea13f81afcc4c2a7f2c30eb513304cf93b0468aa14b377e',
    method: 'PUT' as const,
    headers: { 'Content-Type': 'audio/wav' },
    expires_in: 900,
    max_bytes: 67108864,
  },
  trainAccepted: {
    status: 'queued' as const,
    session_id: 'aaf888ad-20e2-48c0-8c2c-c22e6a0cc937',
    upload_id: 'd29b2931-f892-4b5e-b0d5-2d0596ccce88',
    counts: { safe: 24, danger: 18 },
    skipped: [],
  },
  trainExistingAccepted: { status: 'queued' as const, session_id: '106b12bc-31fa-46a3-a745-f914882fed89', upload_id: null, counts: null, skipped: [] },
  gateDecision: session.gate_decision,
  session,
  sessionList: { sessions: [session] },
  model: {
    version: CANDIDATE,
    status: 'candidate' as const,
    parent_version: VERSION,
    threshold: 0.020700599998235703,
    metrics: CANDIDATE_METRICS,
    artifact_prefix: `models/${CANDIDATE}/`,
    created_at: '2026-12-03T23:33:16.939Z',
    current: false,
  },
  modelList: {
    current: VERSION,
    models: [
      {
        version: CANDIDATE,
        status: 'candidate' as const,
        parent_version: VERSION,
        threshold: 0.020700599998235703,
        metrics: CANDIDATE_METRICS,
        artifact_prefix: `models/${CANDIDATE}/`,
        created_at: '2026-12-03T23:33:16.939Z',
        current: false,
      },
      {
        version: VERSION,
        status: 'promoted' as const,
        parent_version: null,
        threshold: 0.14638233929872513,
        metrics: METRICS,
        artifact_prefix: `models/${VERSION}/`,
        created_at: '2026-12-03T23:32:20.535Z',
        current: true,
      },
    ],
  },
  promoted: { current: CANDIDATE, previous: VERSION, actor: 'api-key:bootstrap', reason: 'better on night recordings' },
  rolledBack: { current: VERSION, previous: CANDIDATE, actor: 'api-key:bootstrap', reason: `rollback from ${CANDIDATE}` },
  stats: {
    dataset: { uploads: { safe: 0, danger: 0 }, feedback: { safe: 0, danger: 1 }, total: { safe: 0, danger: 1 } },
    predictions: {
      since: '2026-11-03T23:32:40.663Z',
      per_class: { safe: 1, danger: 6 },
      per_day: [
        { day: '2026-12-03', class: 'danger' as const, count: 6 },
        { day: '2026-12-03', class: 'safe' as const, count: 1 },
      ],
      confidence_histogram: [
        { lower: 0, upper: 0.1, count: 0 },
        { lower: 0.1, upper: 0.2, count: 2 },
        { lower: 0.2, upper: 0.3, count: 1 },
        { lower: 0.3, upper: 0.4, count: 0 },
        { lower: 0.4, upper: 0.5, count: 0 },
        { lower: 0.5, upper: 0.6, count: 0 },
        { lower: 0.6, upper: 0.7, count: 1 },
        { lower: 0.7, upper: 0.8, count: 0 },
        { lower: 0.8, upper: 0.9, count: 0 },
        { lower: 0.9, upper: 1, count: 3 },
      ],
    },
  },
  apiKey,
  revokedApiKey: { ...apiKey, revoked_at: '2026-12-03T23:33:53.268Z' },
  apiKeyList: { keys: [{ id: '6072017e-17db-450b-ae0d-b5ede3f8e62f', name: 'bootstrap', created_at: '2026-12-03T23:32:19.827Z', revoked_at: null }] },
  newApiKey: { ...apiKey, key: 'snt_ae458b292c2ae38c3efcb226cf78369b51ffc6513a93477fed22dbfba316a2c2' },
};

interface ErrorExample {
  status: number;
  message: string;
  details?: Record<string, unknown>;
}

/** Every error code a route documents, with its status and a message the API gave (or gives, for the 503s). */
export const ERROR_CODES = {
  invalid_request: { status: 400, message: 'limit: Too small: expected number to be >=1', details: { issues: [{ path: 'limit', message: 'Too small: expected number to be >=1' }] } },
  no_file: { status: 400, message: 'No audio file: send it as multipart/form-data in a field named "file".' },
  too_many_files: { status: 400, message: 'Send one audio file in the "file" field, not 2.' },
  empty: { status: 400, message: 'The file is empty.' },
  too_short: { status: 400, message: 'The WAV file is 0.050 s long; at least 0.1 s is needed.', details: { durationSeconds: 0.05, minDurationSeconds: 0.1 } },
  corrupt: { status: 400, message: 'The WAV file is damaged: the data chunk declares 96000 bytes but only 10 are present (cut off).', details: { format: 'wav' } },
  invalid_content_type: { status: 400, message: '"audio wav" is not a media type.' },
  invalid_zip: { status: 400, message: 'not a readable zip archive: End of central directory record signature not found. Either not a zip file, or file is truncated.' },
  needs_both_labels: { status: 400, message: 'A retrain needs clips in both safe/ and danger/; got 0 safe and 1 danger.', details: { counts: { safe: 0, danger: 1 } } },
  reserved_name: { status: 400, message: '"bootstrap" names the configured admin key; choose another name.' },
  missing_api_key: { status: 401, message: 'This route needs an API key: send "Authorization: Bearer <key>" or "X-API-Key: <key>".' },
  invalid_api_key: { status: 403, message: 'The API key is not valid (unknown or revoked).' },
  cross_site_request: { status: 403, message: 'Writes from another site (https://evil.example) are not accepted.' },
  upload_not_found: { status: 404, message: 'No upload has the key "uploads/x/y"; ask POST /uploads for one.' },
  prediction_not_found: { status: 404, message: 'No prediction 2e9921f0-c19a-4948-9ded-9ae7346a2546.' },
  session_not_found: { status: 404, message: 'No training session aaf888ad-20e2-48c0-8c2c-c22e6a0cc938.' },
  model_not_found: { status: 404, message: 'No model version 20261203T000000Z-000000.' },
  model_file_not_found: { status: 404, message: `Model ${VERSION} has no file "nope.bin".` },
  api_key_not_found: { status: 404, message: 'No API key 9ac01d7f-1426-41c6-92ba-ba049563b1dd.' },
  upload_used: { status: 409, message: 'The upload "uploads/8104d2fd-7482-48a6-bccc-ee8d572e9412/night-03.wav" was already used; ask POST /uploads for a new one.' },
  upload_incomplete: { status: 409, message: 'Nothing was uploaded to "uploads/f7b2e64f-a72e-440b-bfb9-44a69a689a1c/night.zip" yet: PUT the file to the presigned URL first.' },
  no_training_data: { status: 409, message: 'There is no stored training data yet: POST /retrain with a zip first.' },
  nothing_to_roll_back: { status: 409, message: 'The current model has no predecessor to roll back to.' },
  already_revoked: { status: 409, message: 'API key 9ac01d7f-1426-41c6-92ba-ba049563b1dc was revoked at 2026-12-03T23:33:53.268Z.' },
  last_api_key: { status: 409, message: 'This is the last live API key: create another one first.' },
  payload_too_large: { status: 413, message: 'A audio file may be at most 67108864 bytes.', details: { max_bytes: 67108864 } },
  too_long: { status: 413, message: 'The WAV file is 601.00 s long; the limit is 600 s.', details: { durationSeconds: 601, maxDurationSeconds: 600 } },
  zip_bomb: { status: 413, message: 'entry "danger/scream.wav" compresses 1029:1; at most 200:1' },
  unsupported_format: {
    status: 415,
    message: 'Unrecognised audio format (first bytes: 76 6d 0a). Supported: WAV, MP3, FLAC, Ogg Vorbis, Opus, WebM, M4A/AAC, AAC (ADTS).',
  },
  unsupported_media_type: { status: 415, message: 'Unsupported Media Type' },
  rate_limited: { status: 429, message: 'Too many requests from this client: at most 60 a minute. Retry in 2 s.', details: { retry_after_seconds: 2 } },
  storage_quota_exceeded: {
    status: 429,
    message: 'Open uploads may keep 2147483648 bytes and 2147001432 are in use; send without keep, or ask an admin to free space.',
    details: { max_bytes: 2147483648, used_bytes: 2147001432, retry_after_seconds: 3600 },
  },
  model_not_ready: { status: 503, message: 'No model is being served yet: promote one (POST /models/{version}/promote) or retrain.' },
  database_unavailable: {
    status: 503,
    message: 'The database is failing, so this request could not be carried out. Try again later.',
    details: { reason: 'Connection terminated unexpectedly' },
  },
  storage_unavailable: {
    status: 503,
    message: 'The file store is failing, so this request could not be carried out. Try again later.',
    details: { reason: 'ENOSPC: no space left on device' },
  },
} satisfies Record<string, ErrorExample>;

export type ErrorCode = keyof typeof ERROR_CODES;

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad input',
  401: 'API key missing',
  403: 'API key invalid, or a write from another site',
  404: 'Not found',
  409: 'Conflict with the current state',
  413: 'Too large',
  415: 'Unsupported media type or audio format',
  429: 'Rate limit or storage quota reached (see Retry-After)',
  503: 'Not ready, or storage failing',
};

/**
 * An example's request id: what the API sends when the caller gave none (a version 4 UUID), made from the code
 * rather than drawn at random so that /openapi.json is the same from one start to the next.
 */
export function exampleRequestId(code: string): string {
  const hex = createHash('sha256').update(code).digest('hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The error responses of a route: one per status, each code of that status a named example. */
export function errorResponses<S extends { openapi: unknown }>(schema: S, ...codes: ErrorCode[]) {
  const byStatus: Record<number, { description: string; content: { 'application/json': { schema: S; examples: Record<string, { summary: string; value: unknown }> } } }> = {};
  for (const code of codes) {
    const { status, message, ...rest } = ERROR_CODES[code] as ErrorExample;
    byStatus[status] ??= { description: STATUS_TEXT[status] ?? `HTTP ${status}`, content: { 'application/json': { schema, examples: {} } } };
    const details = 'details' in rest ? { details: rest.details } : {};
    byStatus[status].content['application/json'].examples[code] = { summary: code, value: { error: { code, message, ...details, request_id: exampleRequestId(code) } } };
  }
  return byStatus;
}
