/**
 * The HTTP API, route by route, in-process (PGlite in memory, fs blobs, db queue) with a tiny model trained in
 * setup on synthetic clips. Every bad input of issue 4 item 7 gets its status and error code checked.
 */
import { zipSync } from 'fflate';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { encodeWav } from '../../shared/audio/index.ts';
import { Detector } from '../../shared/inference/detector.ts';
import type { ModelFiles } from '../../shared/model/files.ts';
import { backgroundLike, RATE, screamLike, withEvent } from '../helpers/synth.ts';
import { datasetZip, syntheticClips, tinyModelFiles } from '../helpers/tiny-model.ts';
import { errorResponse } from '../../functions/errors.ts';
import { WORKER } from '../../shared/config.ts';
import { invalidArgument } from '../../shared/errors.ts';
import { DEFAULT_GATE_RULE } from '../../shared/training/promotion.ts';
import { pcm8Bomb, rawWav, ulawBomb } from '../helpers/raw-wav.ts';
import { createApiHarness, errorOf, fileForm, PUBLIC_URL, type ApiHarness } from './helpers/api-harness.ts';

const wav = (samples: Float32Array, rate = RATE) => encodeWav(samples, rate, { bitDepth: 16 });
const screamWav = wav(screamLike(3, 4242, 16000), 16000);
const quietWav = wav(backgroundLike(3, 4243, 16000), 16000);

let files: ModelFiles;
let h: ApiHarness;
/** No model, no data, small body limits: for the "nothing there yet" and 413 cases. */
let bare: ApiHarness;

beforeAll(async () => {
  files = await tinyModelFiles();
  [h, bare] = await Promise.all([
    createApiHarness({ model: files }),
    createApiHarness({ model: null, config: { maxAudioBytes: 50_000, maxDatasetBytes: 50_000, gateRule: { ...DEFAULT_GATE_RULE, minClipsPerClass: 7 } } }),
  ]);
});
afterAll(async () => {
  await h?.close();
  await bare?.close();
});

const post = (path: string, body: BodyInit | null, headers: Record<string, string> = {}) => h.app.request(path, { method: 'POST', body, headers });
const postJson = (path: string, value: unknown, headers: Record<string, string> = {}) =>
  post(path, JSON.stringify(value), { 'content-type': 'application/json', ...headers });

describe('service routes', () => {
  it('GET / gives service info as JSON, the console page to browsers', async () => {
    const res = await h.app.request('/');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ service: 'sentinel', docs: '/docs', openapi: '/openapi.json', model_version: expect.any(String) });
    const page = await h.app.request('/', { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type')).toContain('text/html');
  });

  it('GET /health checks database, blobs and model', async () => {
    const res = await h.app.request('/health');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean; detail?: string }> };
    expect(body.status).toBe('ok');
    expect(body.checks.database.ok && body.checks.blobs.ok && body.checks.model.ok).toBe(true);
    expect(body.checks.model.detail).toBe((await h.models.current())!.version);
  });

  it('GET /health is 503 without a model, and /predict says why', async () => {
    const res = await bare.app.request('/health');
    expect(res.status).toBe(503);
    expect(((await res.json()) as { checks: { model: { ok: boolean } } }).checks.model.ok).toBe(false);
    const predict = await bare.app.request('/predict', { method: 'POST', body: fileForm(wav(screamLike(1, 1, 16000), 16000)) });
    expect(await errorOf(predict)).toMatchObject({ status: 503, code: 'model_not_ready' });
  });

  it('GET /model/status keeps the seed fields', async () => {
    const body = (await (await h.app.request('/model/status')).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ model_loaded: true, is_training: false, training_status: 'idle', model_version: expect.any(String) });
    expect(body.model_accuracy).toEqual(expect.any(Number));
    expect(body.threshold).toEqual(expect.any(Number));
  });

  it("GET /model/status states the promotion gate as this server applies it, not WORKER.gate's default", async () => {
    const gate = async (app: ApiHarness) => ((await (await app.app.request('/model/status')).json()) as { promotion_gate: unknown }).promotion_gate;
    expect(await gate(h)).toEqual({ metric: WORKER.gate.metric, margin: WORKER.gate.margin, min_clips_per_class: WORKER.gate.minClipsPerClass });
    expect(await gate(bare)).toEqual({ metric: WORKER.gate.metric, margin: WORKER.gate.margin, min_clips_per_class: 7 });
  });

  it('serves OpenAPI JSON for every route and interactive docs', async () => {
    const spec = (await (await h.app.request('/openapi.json')).json()) as { paths: Record<string, unknown>; components: { securitySchemes: unknown } };
    for (const path of [
      '/', '/health', '/model/status', '/predict', '/uploads', '/retrain', '/continue-training', '/retrain-existing', '/sessions',
      '/sessions/{id}', '/models', '/models/{version}/promote', '/models/rollback', '/models/{version}/files/{name}', '/stats',
      '/predictions/{id}/feedback', '/feedback/export',
    ]) {
      expect(spec.paths, path).toHaveProperty([path]);
    }
    expect(spec.components.securitySchemes).toHaveProperty('ApiKey');
    const docs = await h.app.request('/docs');
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('/openapi.json');
  });

  it('unknown routes answer 404 in the error shape', async () => {
    expect(await errorOf(await h.app.request('/nope'))).toMatchObject({ status: 404, code: 'not_found' });
  });
});

describe('POST /predict', () => {
  it('classifies a 16 kHz clip with the seed-compatible fields', async () => {
    const res = await post('/predict', fileForm(screamWav));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ prediction: 'danger', class: 'danger', model_version: (await h.models.current())!.version });
    expect(body.confidence).toBeGreaterThan(0.5);
    expect(body.probability).toBeGreaterThanOrEqual(body.threshold as number);
    expect(body.windows).toHaveLength(1);
    expect((await h.repo.getPrediction(body.prediction_id as string))!.class).toBe('danger');
    const safe = (await (await post('/predict', fileForm(quietWav))).json()) as Record<string, unknown>;
    expect(safe).toMatchObject({ prediction: 'safe', class: 'safe', events: [] });
  });

  it('analyses a long recording whole: an event at 20 s of 30 s is found there', async () => {
    const recording = withEvent(backgroundLike(30, 5).map((v) => v * 0.2), screamLike(2, 6), 20);
    const body = (await (await post('/predict', fileForm(wav(recording)))).json()) as {
      duration: number;
      windows: unknown[];
      events: { start: number; end: number }[];
      class: string;
    };
    expect(body.duration).toBeCloseTo(30, 1);
    expect(body.windows.length).toBeGreaterThanOrEqual(27);
    expect(body.class).toBe('danger');
    // The loudest evidence is the call at 20-22 s, far past the first 3 s the seed analysed.
    const peak = [...(body.windows as { start: number; end: number; probability: number }[])].sort((a, b) => b.probability - a.probability)[0];
    expect(peak.start).toBeGreaterThanOrEqual(17);
    expect(peak.start).toBeLessThanOrEqual(21);
    expect(body.events.some((e) => e.start <= 21 && e.end >= 21)).toBe(true);
  });

  it('micro-batches concurrent requests into fewer model calls', async () => {
    const spy = vi.spyOn(Detector.prototype, 'scores');
    try {
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => post('/predict', fileForm(i % 2 ? screamWav : quietWav))));
      expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
      expect(spy.mock.calls.length).toBeGreaterThanOrEqual(1);
      expect(spy.mock.calls.length).toBeLessThan(8);
      // Each call carried the windows of several requests.
      expect(Math.max(...spy.mock.calls.map((c) => c[0].length))).toBeGreaterThan(1);
    } finally {
      spy.mockRestore();
    }
  });

  it.each([
    ['no file', () => fileForm(null, undefined, undefined, { keep: 'false' }), 400, 'no_file'],
    ['a text field instead of a file', () => fileForm(null, undefined, undefined, { file: 'hello' }), 400, 'no_file'],
    ['an empty file', () => fileForm(new Uint8Array(0)), 400, 'empty'],
    ['not audio', () => fileForm(new TextEncoder().encode('hello, this is not audio at all'), 'notes.wav'), 415, 'unsupported_format'],
    ['a corrupt WAV (no fmt/data chunk)', () => {
      const b = new Uint8Array(5000);
      b.set(screamWav.slice(0, 12));
      return fileForm(b);
    }, 400, 'corrupt'],
    ['a truncated WAV', () => fileForm(screamWav.slice(0, 2000)), 400, 'corrupt'],
    ['a too short WAV', () => fileForm(wav(new Float32Array(100), 16000)), 400, 'too_short'],
    ['a recording over 10 minutes', () => fileForm(wav(new Float32Array(16000 * 601), 16000)), 413, 'too_long'],
  ])('refuses %s', async (_name, form, status, code) => {
    expect(await errorOf(await post('/predict', form()))).toMatchObject({ status, code });
  });

  it('refuses a wrong content type with 415 and bad JSON with 400', async () => {
    expect(await errorOf(await post('/predict', 'just text', { 'content-type': 'text/plain' }))).toMatchObject({ status: 415, code: 'unsupported_media_type' });
    expect(await errorOf(await post('/predict', screamWav as Uint8Array<ArrayBuffer>, { 'content-type': 'audio/wav' }))).toMatchObject({ status: 415 });
    expect(await errorOf(await postJson('/predict', { keep: true }))).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(await errorOf(await post('/predict', '{"object_key":', { 'content-type': 'application/json' }))).toMatchObject({ status: 400 });
  });

  it('refuses a body over the configured limit with 413 before parsing it', async () => {
    const big = wav(screamLike(5, 1), RATE); // ~220 kB
    expect(await errorOf(await bare.app.request('/predict', { method: 'POST', body: fileForm(big) }))).toMatchObject({ status: 413, code: 'payload_too_large' });
  });
});

describe('POST /predict: decode budget and isolation (issue 14)', () => {
  it('a poisoned clip (±1e38 float WAV) among valid ones sent at once: every valid one 200, the poisoned one 400', async () => {
    const poisoned = encodeWav(Float32Array.from({ length: 48000 }, (_, i) => (i % 2 ? 1e38 : -1e38)), 16000, { bitDepth: 32, float: true });
    const clips = Array.from({ length: 9 }, (_, i) => (i === 4 ? poisoned : i % 2 ? screamWav : quietWav));
    const responses = await Promise.all(clips.map((clip) => post('/predict', fileForm(clip))));
    for (const [i, res] of responses.entries()) {
      if (i === 4) expect(await errorOf(res)).toMatchObject({ status: 400, code: 'invalid_samples' });
      else expect(res.status, `clip ${i}`).toBe(200);
    }
  });

  it.each([
    ['the μ-law 65,535-channel bomb', () => ulawBomb(), 400, 'too_many_channels'],
    ['the 8-bit 4,096-channel bomb', () => pcm8Bomb(), 400, 'too_many_channels'],
    ['a 500 Hz WAV', () => wav(new Float32Array(500), 500), 400, 'unsupported_sample_rate'],
    ['a header declaring 150 M samples', () => rawWav({ formatTag: 1, channels: 1, sampleRate: 384_000, blockAlign: 2, bits: 16, dataSize: 300e6, payload: 64 }), 413, 'too_large'],
  ])('refuses %s', async (_name, bytes, status, code) => {
    expect(await errorOf(await post('/predict', fileForm(bytes())))).toMatchObject({ status, code });
  });

  it("never shows the core's internal INVALID_ARGUMENT code: clients get the documented invalid_request", () => {
    const { status, body } = errorResponse(invalidArgument('maxWindows must be a positive integer, got 0.'));
    expect(status).toBe(400);
    expect(body.error.code).toBe('invalid_request');
  });
});

describe('presigned uploads and prediction by object key', () => {
  it('POST /uploads -> PUT to the URL -> POST /predict {object_key}', async () => {
    const res = await postJson('/uploads', { filename: 'long recording.wav', content_type: 'audio/wav', purpose: 'audio', bytes: screamWav.byteLength });
    expect(res.status).toBe(201);
    const ticket = (await res.json()) as { upload_id: string; object_key: string; url: string; headers: Record<string, string>; max_bytes: number };
    expect(ticket.url.startsWith(`${PUBLIC_URL}/blobs/uploads/${ticket.upload_id}/`)).toBe(true);
    expect(ticket.object_key).toBe(`uploads/${ticket.upload_id}/long_recording.wav`);

    // Before the PUT: the key is known but there is nothing yet.
    expect(await errorOf(await postJson('/predict', { object_key: ticket.object_key }))).toMatchObject({ status: 409, code: 'upload_incomplete' });
    const put = await h.app.request(ticket.url, { method: 'PUT', body: screamWav as Uint8Array<ArrayBuffer>, headers: ticket.headers });
    expect(put.status).toBe(200);
    const predicted = await postJson('/predict', { object_key: ticket.object_key });
    expect(predicted.status).toBe(200);
    expect(((await predicted.json()) as { class: string }).class).toBe('danger');
  });

  it('refuses unknown keys (404), oversized declarations (413), datasets without a key (401)', async () => {
    expect(await errorOf(await postJson('/predict', { object_key: 'models/x/weights.bin' }))).toMatchObject({ status: 404, code: 'upload_not_found' });
    expect(await errorOf(await postJson('/uploads', { filename: 'a.wav', content_type: 'audio/wav', purpose: 'audio', bytes: 10 ** 9 }))).toMatchObject({
      status: 413,
    });
    expect(await errorOf(await postJson('/uploads', { filename: 'd.zip', content_type: 'application/zip', purpose: 'dataset' }))).toMatchObject({
      status: 401,
      code: 'missing_api_key',
    });
    const keyed = await postJson('/uploads', { filename: 'd.zip', content_type: 'application/zip', purpose: 'dataset' }, h.auth);
    expect(keyed.status).toBe(201);
    expect(await errorOf(await postJson('/uploads', { filename: 'a.wav', content_type: 'not a type', purpose: 'audio' }))).toMatchObject({ status: 400 });
  });
});

describe('feedback', () => {
  it('stores a correction; with kept audio it is training data and appears in the export', async () => {
    const kept = (await (await post('/predict', fileForm(screamWav, 'a.wav', 'audio/wav', { keep: 'true' }))).json()) as { prediction_id: string };
    const res = await postJson(`/predictions/${kept.prediction_id}/feedback`, { label: 'safe' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ prediction_id: kept.prediction_id, feedback_label: 'safe', training_data: true });

    const notKept = (await (await post('/predict', fileForm(quietWav))).json()) as { prediction_id: string };
    expect(await (await postJson(`/predictions/${notKept.prediction_id}/feedback`, { label: 'safe' })).json()).toMatchObject({ training_data: false });

    expect(await errorOf(await postJson('/predictions/nope/feedback', { label: 'safe' }))).toMatchObject({ status: 404, code: 'prediction_not_found' });
    expect(await errorOf(await postJson(`/predictions/${kept.prediction_id}/feedback`, { label: 'maybe' }))).toMatchObject({ status: 400 });

    expect(await errorOf(await h.app.request('/feedback/export'))).toMatchObject({ status: 401 });
    const exported = await h.app.request('/feedback/export', { headers: h.auth });
    expect(exported.headers.get('content-type')).toBe('application/zip');
    const entries = unzipSync(new Uint8Array(await exported.arrayBuffer()));
    expect(Object.keys(entries)).toEqual([`safe/${kept.prediction_id}.wav`]);
    expect(entries[`safe/${kept.prediction_id}.wav`]).toEqual(screamWav);
  });
});

describe('training routes', () => {
  const zipOf = (entries: Record<string, Uint8Array>, level: 0 | 9 = 0) => zipSync(entries, { level });
  const retrain = (body: BodyInit | null, headers: Record<string, string> = h.auth) => post('/retrain', body, headers);

  it('need an API key: 401 without, 403 with a wrong one', async () => {
    const form = fileForm(datasetZip(syntheticClips(8, 1)), 'd.zip', 'application/zip');
    expect(await errorOf(await retrain(form, {}))).toMatchObject({ status: 401, code: 'missing_api_key' });
    expect(await errorOf(await retrain(form, { authorization: 'Bearer snt_wrong' }))).toMatchObject({ status: 403, code: 'invalid_api_key' });
    expect(await errorOf(await retrain(form, { 'x-api-key': 'snt_wrong' }))).toMatchObject({ status: 403 });
  });

  it('POST /retrain stores the zip and its clips, queues a session and answers 202', async () => {
    const clips = syntheticClips(8, 10);
    const res = await retrain(fileForm(datasetZip(clips, { 'notes.txt': new TextEncoder().encode('x') }), 'my data.zip', 'application/zip'));
    expect(res.status).toBe(202);
    const body = (await res.json()) as { status: string; session_id: string; upload_id: string; counts: unknown; skipped: { path: string; code: string }[] };
    expect(body).toMatchObject({ status: 'queued', counts: { safe: 4, danger: 4 } });
    expect(body.skipped).toEqual([expect.objectContaining({ path: 'notes.txt', code: 'not_audio' })]);
    const upload = await h.repo.getUpload(body.upload_id);
    expect(upload).toMatchObject({ status: 'ready', label_counts: { safe: 4, danger: 4 }, filename: 'my data.zip' });
    expect(await h.blobs.head(upload!.object_key)).not.toBeNull();
    expect((await h.blobs.list(`uploads/${body.upload_id}/clips/`)).length).toBe(8);

    const session = (await (await h.app.request(`/sessions/${body.session_id}`)).json()) as Record<string, unknown>;
    expect(session).toMatchObject({ id: body.session_id, status: 'queued', upload_id: body.upload_id, epoch_metrics: [], progress: null });
    const list = (await (await h.app.request('/sessions?status=queued')).json()) as { sessions: { id: string }[] };
    expect(list.sessions.map((s) => s.id)).toContain(body.session_id);
    const [job] = await h.queue.receive({ waitSeconds: 1 });
    expect(job.body).toEqual({ session_id: body.session_id, kind: 'retrain' });
    await h.queue.ack(job.receipt);
    expect(await errorOf(await h.app.request('/sessions/nope'))).toMatchObject({ status: 404, code: 'session_not_found' });
    expect(await errorOf(await h.app.request('/sessions?limit=0'))).toMatchObject({ status: 400 });
  });

  it('POST /retrain by object_key after a presigned upload', async () => {
    const zip = datasetZip(syntheticClips(8, 20));
    const ticket = (await (await postJson('/uploads', { filename: 'd.zip', content_type: 'application/zip', purpose: 'dataset' }, h.auth)).json()) as {
      object_key: string;
      url: string;
      headers: Record<string, string>;
    };
    await h.app.request(ticket.url, { method: 'PUT', body: zip as Uint8Array<ArrayBuffer>, headers: ticket.headers });
    const res = await postJson('/retrain', { object_key: ticket.object_key, epochs: 3 }, h.auth);
    expect(res.status).toBe(202);
    const body = (await res.json()) as { session_id: string };
    expect((await h.repo.getSession(body.session_id))!.epochs).toBe(3);
    await h.queue.receive({ waitSeconds: 1 }).then(([j]) => h.queue.ack(j.receipt));
  });

  const wavBytes = screamWav;
  it.each([
    ['no file', () => fileForm(null), 400, 'no_file'],
    ['an empty zip file', () => fileForm(new Uint8Array(0), 'd.zip', 'application/zip'), 400, 'empty'],
    ['not a zip', () => fileForm(new TextEncoder().encode('not a zip at all'), 'd.zip', 'application/zip'), 400, 'invalid_zip'],
    ['a zip with path traversal', () => fileForm(zipOf({ 'danger/a.wav': wavBytes, '../evil.wav': wavBytes }), 'd.zip'), 400, 'zip_unsafe_path'],
    ['a zip bomb', () => fileForm(zipOf({ 'danger/a.wav': wavBytes, 'safe/bomb.wav': new Uint8Array(4 * 1024 * 1024) }, 9), 'd.zip'), 413, 'zip_bomb'],
    ['a zip without labels', () => fileForm(zipOf({ 'a.wav': wavBytes, 'clips/b.wav': wavBytes }), 'd.zip'), 400, 'no_labeled_clips'],
    ['a zip of non-audio files', () => fileForm(zipOf({ 'safe/a.txt': new TextEncoder().encode('x'), 'danger/b.pdf': new Uint8Array(10) }), 'd.zip'), 400, 'no_labeled_clips'],
    ['a zip whose "audio" does not decode', () => fileForm(zipOf({ 'safe/a.wav': new TextEncoder().encode('nope'), 'danger/b.wav': new Uint8Array(300) }), 'd.zip'), 400, 'no_valid_clips'],
    ['a zip with one class only', () => fileForm(zipOf({ 'safe/a.wav': wavBytes, 'safe/b.wav': quietWav }), 'd.zip'), 400, 'needs_both_labels'],
  ])('POST /retrain refuses %s', async (_name, form, status, code) => {
    expect(await errorOf(await retrain(form()))).toMatchObject({ status, code });
  });

  it('POST /retrain refuses a zip over the limit (413) and a wrong content type (415)', async () => {
    const res = await bare.app.request('/retrain', { method: 'POST', body: fileForm(datasetZip(syntheticClips(6, 3)), 'd.zip'), headers: bare.auth });
    expect(await errorOf(res)).toMatchObject({ status: 413, code: 'payload_too_large' });
    const text = await bare.app.request('/retrain', { method: 'POST', body: 'zip?', headers: { ...bare.auth, 'content-type': 'text/plain' } });
    expect(await errorOf(text)).toMatchObject({ status: 415 });
  });

  it('POST /continue-training and /retrain-existing queue their kinds; retrain-existing needs stored data', async () => {
    expect(await errorOf(await bare.app.request('/retrain-existing', { method: 'POST', headers: bare.auth }))).toMatchObject({
      status: 409,
      code: 'no_training_data',
    });
    const cont = await post('/continue-training', fileForm(datasetZip(syntheticClips(4, 30)), 'd.zip'), h.auth);
    expect(cont.status).toBe(202);
    const existing = await post('/retrain-existing', null, h.auth);
    expect(existing.status).toBe(202);
    expect(await existing.json()).toMatchObject({ status: 'queued', upload_id: null });
    const kinds = [];
    for (let i = 0; i < 2; i++) {
      const [job] = await h.queue.receive({ waitSeconds: 1 });
      kinds.push(job.body.kind);
      await h.queue.ack(job.receipt);
    }
    expect(kinds.sort()).toEqual(['continue', 'existing']);
    const status = (await (await h.app.request('/model/status')).json()) as { is_training: boolean; training_status: string };
    expect(status).toMatchObject({ is_training: true, training_status: 'queued' });
  });
});

describe('models, rollback, stats', () => {
  it('lists models; promote and rollback need a key, switch `current` and the served model', async () => {
    const first = (await h.models.current())!.version;
    const second = await tinyModelFiles({ seed: 900, clips: 8 });
    const { storeModel } = await import('../../adapters/model-store.ts');
    const { model } = await storeModel(h.repo, h.blobs, second, { status: 'candidate' });

    const list = (await (await h.app.request('/models')).json()) as { current: string; models: { version: string; current: boolean; status: string }[] };
    expect(list.current).toBe(first);
    expect(list.models.find((m) => m.version === model.version)).toMatchObject({ current: false, status: 'candidate' });

    expect(await errorOf(await postJson(`/models/${model.version}/promote`, {}))).toMatchObject({ status: 401 });
    expect(await errorOf(await postJson('/models/nope/promote', {}, h.auth))).toMatchObject({ status: 404, code: 'model_not_found' });
    const promoted = await postJson(`/models/${model.version}/promote`, { reason: 'test' }, h.auth);
    expect(await promoted.json()).toMatchObject({ current: model.version, previous: first, actor: 'api-key:test-admin', reason: 'test' });
    const served = (await (await post('/predict', fileForm(screamWav))).json()) as { model_version: string };
    expect(served.model_version).toBe(model.version);
    expect((await h.repo.getModel(first))!.status).toBe('archived');

    const rolled = await postJson('/models/rollback', {}, h.auth);
    expect(await rolled.json()).toMatchObject({ current: first, previous: model.version });
    expect(((await (await post('/predict', fileForm(screamWav))).json()) as { model_version: string }).model_version).toBe(first);
    expect((await h.repo.getModel(model.version))!.status).toBe('rejected');
  });

  it('GET /models/{version}/files/{name} serves the artifact files, cacheable forever', async () => {
    const version = (await h.models.current())!.version;
    const res = await h.app.request(`/models/${version}/files/sentinel.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toContain('immutable');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(files['sentinel.json']);
    const weights = await h.app.request(`/models/${version}/files/weights.bin`);
    expect(new Uint8Array(await weights.arrayBuffer())).toEqual(files['weights.bin']);
    expect(await errorOf(await h.app.request(`/models/${version}/files/nope.bin`))).toMatchObject({ status: 404, code: 'model_file_not_found' });
    expect(await errorOf(await h.app.request('/models/nope/files/model.json'))).toMatchObject({ status: 404 });
    expect((await h.app.request(`/models/${version}/files/..%2Fx`)).status).toBe(400);
  });

  it('rollback with no history is a 409', async () => {
    // Never set: no predecessor. (The promote/rollback test above leaves `h` with history.)
    expect(await errorOf(await bare.app.request('/models/rollback', { method: 'POST', headers: bare.auth }))).toMatchObject({
      status: 409,
      code: 'nothing_to_roll_back',
    });
  });

  it('GET /stats: dataset distribution, predictions per class and day, confidence histogram', async () => {
    const stats = (await (await h.app.request('/stats')).json()) as {
      dataset: { uploads: { safe: number; danger: number }; feedback: { safe: number; danger: number } };
      predictions: { per_class: { safe: number; danger: number }; per_day: { count: number }[]; confidence_histogram: { count: number }[] };
    };
    expect(stats.dataset.uploads.safe).toBeGreaterThanOrEqual(4);
    expect(stats.dataset.feedback).toEqual({ safe: 1, danger: 0 });
    const total = await h.repo.listPredictions({ limit: 1000 });
    expect(stats.predictions.per_class.safe + stats.predictions.per_class.danger).toBe(total.length);
    expect(stats.predictions.per_day.reduce((s, d) => s + d.count, 0)).toBe(total.length);
    expect(stats.predictions.confidence_histogram.reduce((s, b) => s + b.count, 0)).toBe(total.length);
  });
});

describe('configuration: keyed /predict and CORS', () => {
  it('with predictAuth=key, /predict needs a key; CORS answers only configured origins', async () => {
    const strict = await createApiHarness({ model: files, config: { predictAuth: 'key', corsOrigins: ['https://console.example.org'] } });
    try {
      expect(await errorOf(await strict.app.request('/predict', { method: 'POST', body: fileForm(screamWav) }))).toMatchObject({ status: 401 });
      const ok = await strict.app.request('/predict', { method: 'POST', body: fileForm(screamWav), headers: strict.auth });
      expect(ok.status).toBe(200);
      const allowed = await strict.app.request('/health', { headers: { origin: 'https://console.example.org' } });
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://console.example.org');
      const other = await strict.app.request('/health', { headers: { origin: 'https://evil.example.com' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      const preflight = await strict.app.request('/predict', {
        method: 'OPTIONS',
        headers: { origin: 'https://console.example.org', 'access-control-request-method': 'POST' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-headers')).toContain('Authorization');
    } finally {
      await strict.close();
    }
    // Default: no CORS headers for anyone.
    expect((await h.app.request('/health', { headers: { origin: 'https://console.example.org' } })).headers.get('access-control-allow-origin')).toBeNull();
  });
});
