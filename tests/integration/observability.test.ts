/**
 * What users and operators see besides the JSON (issue 15 items 1 and 7): request ids, access and audit log lines,
 * security headers, compression, cache headers, and the documented examples (each a valid body of its schema, each
 * error example a code the API gives with the status it gives it).
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeModel } from '../../adapters/model-store.ts';
import { consoleAssets, consolePage } from '../../functions/console.ts';
import { ERROR_STATUS } from '../../functions/errors.ts';
import { ERROR_CODES, EXAMPLES } from '../../functions/openapi-examples.ts';
import * as S from '../../functions/schemas.ts';
import { tinyModelFiles } from '../helpers/tiny-model.ts';
import { createApiHarness, type ApiHarness } from './helpers/api-harness.ts';

type Line = { level: string; message: string; details: Record<string, unknown> };
const lines: Line[] = [];
let h: ApiHarness;
let candidate: string;

beforeAll(async () => {
  h = await createApiHarness({ model: await tinyModelFiles(), deps: () => ({ log: (level, message, details = {}) => lines.push({ level, message, details }) }) });
  ({ model: { version: candidate } } = await storeModel(h.repo, h.blobs, await tinyModelFiles({ seed: 900, clips: 8 }), { status: 'candidate' }));
});
afterAll(async () => {
  await h?.close();
});

const postJson = (path: string, value: unknown, headers: Record<string, string> = {}) =>
  h.app.request(path, { method: 'POST', body: JSON.stringify(value), headers: { 'content-type': 'application/json', ...headers } });
const linesOf = (message: string, requestId: string | null) => lines.filter((l) => l.message === message && l.details.request_id === requestId);

describe('request ids and the access log', () => {
  it('echoes a sane X-Request-Id and logs one access line with it', async () => {
    const res = await h.app.request('/health', { headers: { 'X-Request-Id': 'client-42_a=' } });
    expect(res.headers.get('x-request-id')).toBe('client-42_a=');
    const [line, ...more] = linesOf('request', 'client-42_a=');
    expect(more).toEqual([]);
    expect(line).toMatchObject({ level: 'info', details: { method: 'GET', path: '/health', status: 200, ms: expect.any(Number) } });
  });

  it('replaces an unusable X-Request-Id with a fresh UUID, and errors carry one too', async () => {
    for (const sent of ['has spaces', 'x'.repeat(300), '<script>']) {
      const id = (await h.app.request('/health', { headers: { 'X-Request-Id': sent } })).headers.get('x-request-id');
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
    }
    const missing = await h.app.request('/sessions/nope');
    expect(missing.status).toBe(404);
    const id = missing.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(linesOf('request', id)[0]).toMatchObject({ details: { path: '/sessions/nope', status: 404 } });
  });

  it("an error body's request_id is the answer's X-Request-Id: a bad upload, no route, a wrong method, a refused blob URL", async () => {
    const notAudio = new FormData();
    notAudio.set('file', new Blob([new TextEncoder().encode('hello, this is not audio')], { type: 'audio/wav' }), 'notes.wav');
    const answers = [
      await h.app.request('/predict', { method: 'POST', body: notAudio, headers: { 'X-Request-Id': 'support-ticket-17' } }),
      await h.app.request('/predict', { method: 'POST', body: new FormData() }),
      await h.app.request('/nope'),
      await h.app.request('/', { method: 'DELETE' }),
      await h.app.request('/docs/assets/0000/none.js'),
      await h.app.request('/blobs/uploads/x/y.wav?expires=1&signature=bad', { method: 'PUT', body: 'x' }),
    ];
    const seen = [];
    for (const res of answers) {
      const { error } = (await res.json()) as { error: { code: string; request_id: string } };
      expect(S.ErrorSchema.strict().safeParse({ error }).success, error.code).toBe(true);
      expect(error.request_id, error.code).toBe(res.headers.get('x-request-id'));
      seen.push([res.status, error.code]);
    }
    expect(seen).toEqual([[415, 'unsupported_format'], [400, 'no_file'], [404, 'not_found'], [405, 'method_not_allowed'], [404, 'not_found'], [403, 'bad_signature']]);
    expect(answers[0]!.headers.get('x-request-id')).toBe('support-ticket-17');
  });

  it('sets the security headers on answers and refusals', async () => {
    for (const res of [await h.app.request('/health'), await h.app.request('/nope'), await postJson('/models/rollback', {})]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(res.headers.get('strict-transport-security')).toContain('max-age=');
    }
  });
});

describe('audit lines', () => {
  const audits = (action: string) => lines.filter((l) => l.message === 'audit' && l.details.audit === action);

  it('one line per promote and rollback: who, what, result, refusals included', async () => {
    const keyId = (await h.repo.listApiKeys()).find((k) => k.name === 'test-admin')!.id;
    const before = (await h.models.current())!.version;
    expect((await postJson(`/models/${candidate}/promote`, {})).status).toBe(401);
    expect((await postJson('/models/nope/promote', {}, h.auth)).status).toBe(404);
    const ok = await postJson(`/models/${candidate}/promote`, { reason: 'audit test' }, h.auth);
    expect(ok.status).toBe(200);
    expect(audits('model.promote').map((l) => l.details)).toEqual([
      expect.objectContaining({ key_id: null, version: candidate, result: 'missing_api_key', status: 401 }),
      expect.objectContaining({ key_id: keyId, key_name: 'test-admin', version: 'nope', result: 'model_not_found', status: 404 }),
      expect.objectContaining({ key_id: keyId, version: candidate, current: candidate, previous: before, reason: 'audit test', result: 'ok', status: 200, request_id: ok.headers.get('x-request-id') }),
    ]);
    const back = await postJson('/models/rollback', {}, h.auth);
    expect(back.status).toBe(200);
    expect(audits('model.rollback').at(-1)).toEqual({ level: 'info', message: 'audit', details: expect.objectContaining({ key_id: keyId, current: before, previous: candidate, result: 'ok' }) });
  });

  it('one line per API key created and revoked', async () => {
    const created = (await (await postJson('/keys', { name: 'audit-ci' }, h.auth)).json()) as { id: string };
    expect(audits('api_key.create').at(-1)!.details).toMatchObject({ created_id: created.id, created_name: 'audit-ci', result: 'ok' });
    expect((await postJson(`/keys/${created.id}/revoke`, {}, h.auth)).status).toBe(200);
    expect((await postJson(`/keys/${created.id}/revoke`, {}, h.auth)).status).toBe(409);
    expect(audits('api_key.revoke').map((l) => l.details)).toEqual([
      expect.objectContaining({ id: created.id, revoked_name: 'audit-ci', result: 'ok' }),
      expect.objectContaining({ id: created.id, result: 'already_revoked', status: 409 }),
    ]);
  });
});

describe('compression and cache headers', () => {
  it('gzips large JSON and the /docs script, not small JSON or binary model files', async () => {
    const gzip = { 'accept-encoding': 'gzip, deflate' };
    const spec = await h.app.request('/openapi.json', { headers: gzip });
    expect(spec.headers.get('content-encoding')).toBe('gzip');
    const raw = Buffer.from(await spec.arrayBuffer());
    expect(JSON.parse(gunzipSync(raw).toString()).openapi).toBe('3.0.3');

    const small = await h.app.request('/health', { headers: gzip });
    expect(small.headers.get('content-encoding')).toBeNull();
    expect(Number(small.headers.get('content-length'))).toBe((await small.text()).length);

    const weights = await h.app.request(`/models/${candidate}/files/weights.bin`, { headers: gzip });
    expect(weights.status).toBe(200);
    expect(weights.headers.get('content-encoding')).toBeNull();

    const page = await (await h.app.request('/docs')).text();
    expect(page).toContain('data-spec="/openapi.json"');
    const script = /src="(\/docs\/assets\/[0-9a-f]{12}\/swagger-ui-bundle\.js)"/.exec(page)![1];
    const js = await h.app.request(script, { headers: gzip });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-encoding')).toBe('gzip');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const docs = await h.app.request('/docs');
    expect(docs.headers.get('cache-control')).toBe('no-cache');
    expect(docs.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect((await h.app.request(script.replace(/[0-9a-f]{12}/, '000000000000'))).status).toBe(404);
  });

  it('the console: hashed assets immutable, index.html and the page at / revalidated', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sentinel-assets-'));
    try {
      await mkdir(join(dir, 'assets'));
      await writeFile(join(dir, 'assets', 'index-AbCd12_-.js'), 'console.log(1)');
      await writeFile(join(dir, 'index.html'), '<!doctype html><title>console</title>');
      await writeFile(join(dir, 'capture-worklet.js'), '//');
      const app = new Hono();
      app.get('/', consolePage(dir));
      app.use('*', consoleAssets(dir));
      const cache = async (path: string) => (await app.request(path)).headers.get('cache-control');
      expect(await cache('/assets/index-AbCd12_-.js')).toBe('public, max-age=31536000, immutable');
      expect(await cache('/index.html')).toBe('no-cache');
      expect(await cache('/capture-worklet.js')).toBe('no-cache');
      expect(await cache('/')).toBe('no-cache');
      expect((await app.request('/assets/missing-AbCd12_-.js')).status).toBe(404);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('documented examples', () => {
  it('every 2xx example is a valid body of its schema', async () => {
    const pairs: [string, { safeParse(v: unknown): { success: boolean; error?: unknown } }, unknown][] = [
      ['serviceInfo', S.ServiceInfoSchema, EXAMPLES.serviceInfo],
      ['health', S.HealthSchema, EXAMPLES.health],
      ['healthDegraded', S.HealthSchema, EXAMPLES.healthDegraded],
      ['modelStatus', S.ModelStatusSchema, EXAMPLES.modelStatus],
      ['predictionDanger', S.PredictionSchema, EXAMPLES.predictionDanger],
      ['predictionSafe', S.PredictionSchema, EXAMPLES.predictionSafe],
      ['feedbackResult', S.FeedbackResultSchema, EXAMPLES.feedbackResult],
      ['uploadTicket', S.UploadTicketSchema, EXAMPLES.uploadTicket],
      ['trainAccepted', S.TrainAcceptedSchema, EXAMPLES.trainAccepted],
      ['trainExistingAccepted', S.TrainAcceptedSchema, EXAMPLES.trainExistingAccepted],
      ['session', S.SessionSchema, EXAMPLES.session],
      ['sessionList', S.SessionListSchema, EXAMPLES.sessionList],
      ['modelList', S.ModelListSchema, EXAMPLES.modelList],
      ['promoted', S.AliasChangeSchema, EXAMPLES.promoted],
      ['rolledBack', S.AliasChangeSchema, EXAMPLES.rolledBack],
      ['stats', S.StatsSchema, EXAMPLES.stats],
    ];
    for (const [name, schema, value] of pairs) expect(schema.safeParse(value).success, name).toBe(true);
    // /keys' schemas live in its router: its examples have the fields of a real answer.
    const [key] = ((await (await h.app.request('/keys', { headers: h.auth })).json()) as { keys: Record<string, unknown>[] }).keys;
    for (const example of [EXAMPLES.apiKey, EXAMPLES.revokedApiKey, ...EXAMPLES.apiKeyList.keys]) expect(Object.keys(example).sort()).toEqual(Object.keys(key).sort());
    expect(Object.keys(EXAMPLES.newApiKey).sort()).toEqual([...Object.keys(key), 'key'].sort());
    // A safe verdict's confidence is 1 - P(danger): the example says what the schema documents.
    expect(EXAMPLES.predictionSafe.confidence).toBeCloseTo(1 - EXAMPLES.predictionSafe.probability, 12);
  });

  it('every operation has an example for each JSON response; error examples are codes with the status the API gives them', async () => {
    type Media = { examples?: Record<string, { value: { error?: { code: string; request_id?: string } } }> };
    const spec = (await (await h.app.request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, Media> }> }>>;
    };
    let checked = 0;
    for (const [path, methods] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        for (const [status, response] of Object.entries(op.responses)) {
          const media = response.content?.['application/json'];
          if (!media) continue;
          const examples = Object.entries(media.examples ?? {});
          expect(examples.length, `${method} ${path} ${status}`).toBeGreaterThan(0);
          if (Number(status) < 400 || path === '/health') continue;
          for (const [name, { value }] of examples) {
            const code = value.error!.code as keyof typeof ERROR_CODES;
            expect(name).toBe(code);
            // The body the API sends, request id included, in the form a generated one has.
            expect(S.ErrorSchema.strict().safeParse(value).success, `${code} example`).toBe(true);
            expect(value.error!.request_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
            expect(ERROR_CODES[code].status, `${code} under ${status}`).toBe(Number(status));
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(60);
    // Codes the core maps to a status (functions/errors.ts) are documented under that status. too_many_files is two
    // things: a zip with too many entries (413, the core's) and a form with two files (400, the routes' own).
    for (const [code, { status }] of Object.entries(ERROR_CODES)) if (ERROR_STATUS[code] !== undefined && code !== 'too_many_files') expect(status, code).toBe(ERROR_STATUS[code]);
  });
});
