/**
 * Service safety (issue 14, items 5-7), in-process: API keys (routes, CLI, bootstrap rotation), single-use uploads,
 * what refused or abandoned uploads leave (nothing), rate limits and the open quota, storage faults as 503s with
 * /health naming the failing part, and the smaller guards (Host, cross-site writes, POST /, /blobs errors).
 */
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commands, main } from '../../cli/main.ts';
import { keysCommandWith } from '../../cli/commands/keys.ts';
import { rotateBootstrapKey, hashApiKey, generateApiKey } from '../../functions/auth.ts';
import { ensureAdminKey } from '../../functions/bootstrap.ts';
import { encodeWav } from '../../shared/audio/index.ts';
import type { ModelFiles } from '../../shared/model/files.ts';
import type { BlobStore } from '../../shared/ports/blob-store.ts';
import type { Repository } from '../../shared/ports/repository.ts';
import { backgroundLike, screamLike } from '../helpers/synth.ts';
import { datasetZip, syntheticClips, tinyModelFiles } from '../helpers/tiny-model.ts';
import { createApiHarness, errorOf, fileForm, type ApiHarness, type ApiHarnessOptions } from './helpers/api-harness.ts';

const wav = (samples: Float32Array) => encodeWav(samples, 16000, { bitDepth: 16 });
const screamWav = wav(screamLike(3, 4242, 16000));
const quietWav = wav(backgroundLike(3, 4243, 16000));

let files: ModelFiles;
const harnesses: ApiHarness[] = [];
async function harness(options: ApiHarnessOptions = {}): Promise<ApiHarness> {
  const h = await createApiHarness({ model: files, ...options });
  harnesses.push(h);
  return h;
}

beforeAll(async () => {
  files = await tinyModelFiles();
});
afterAll(async () => {
  for (const h of harnesses) await h.close();
});

const postJson = (h: ApiHarness, path: string, value: unknown, headers: Record<string, string> = {}) =>
  h.app.request(path, { method: 'POST', body: JSON.stringify(value), headers: { 'content-type': 'application/json', ...headers } });

type Ticket = { upload_id: string; object_key: string; url: string; headers: Record<string, string> };
async function presignedUpload(h: ApiHarness, bytes: Uint8Array, purpose: 'audio' | 'dataset' = 'audio'): Promise<Ticket> {
  const res = await postJson(
    h,
    '/uploads',
    { filename: purpose === 'audio' ? 'clip.wav' : 'data.zip', content_type: purpose === 'audio' ? 'audio/wav' : 'application/zip', purpose, bytes: bytes.byteLength },
    h.auth,
  );
  expect(res.status).toBe(201);
  const ticket = (await res.json()) as Ticket;
  const put = await h.app.request(ticket.url, { method: 'PUT', body: bytes as Uint8Array<ArrayBuffer>, headers: ticket.headers });
  expect(put.status).toBe(200);
  return ticket;
}

describe('API keys', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await harness();
  });

  it('are listed, created and revoked by admin routes; a revoked key stops working at once', async () => {
    expect(await errorOf(await h.app.request('/keys'))).toMatchObject({ status: 401, code: 'missing_api_key' });
    const created = await postJson(h, '/keys', { name: 'ci runner' }, h.auth);
    expect(created.status).toBe(201);
    const key = (await created.json()) as { id: string; name: string; key: string; revoked_at: null };
    expect(key).toMatchObject({ name: 'ci runner', revoked_at: null, key: expect.stringMatching(/^snt_[0-9a-f]{64}$/) });

    const listed = (await (await h.app.request('/keys', { headers: { authorization: `Bearer ${key.key}` } })).json()) as { keys: Record<string, unknown>[] };
    expect(listed.keys.map((k) => k.name)).toEqual(expect.arrayContaining(['ci runner', 'test-admin']));
    expect(JSON.stringify(listed)).not.toContain(key.key); // never the key itself
    expect(JSON.stringify(listed)).not.toContain(await hashApiKey(key.key));

    const revoked = await h.app.request(`/keys/${key.id}/revoke`, { method: 'POST', headers: h.auth });
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as { revoked_at: string | null }).revoked_at).toEqual(expect.any(String));
    expect(await errorOf(await h.app.request('/keys', { headers: { authorization: `Bearer ${key.key}` } }))).toMatchObject({ status: 403, code: 'invalid_api_key' });
    expect(await errorOf(await h.app.request(`/keys/${key.id}/revoke`, { method: 'POST', headers: h.auth }))).toMatchObject({ status: 409, code: 'already_revoked' });
    expect(await errorOf(await h.app.request('/keys/nope/revoke', { method: 'POST', headers: h.auth }))).toMatchObject({ status: 404, code: 'api_key_not_found' });
  });

  it('refuse the reserved name, a bad name, and revoking the last live key', async () => {
    expect(await errorOf(await postJson(h, '/keys', { name: 'bootstrap' }, h.auth))).toMatchObject({ status: 400, code: 'reserved_name' });
    expect(await errorOf(await postJson(h, '/keys', { name: '' }, h.auth))).toMatchObject({ status: 400, code: 'invalid_request' });
    const live = (await h.repo.listApiKeys()).filter((k) => k.revoked_at === null);
    expect(live).toHaveLength(1);
    expect(await errorOf(await h.app.request(`/keys/${live[0].id}/revoke`, { method: 'POST', headers: h.auth }))).toMatchObject({ status: 409, code: 'last_api_key' });
  });

  it('sentinel keys create|list|revoke drives the same routes', async () => {
    const out: string[] = [];
    const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void out.push(t) };
    const saved = commands.get('keys')!;
    commands.set('keys', { ...saved, load: async () => keysCommandWith((url, init) => Promise.resolve(h.app.request(url, init)), { SENTINEL_API_KEY: h.adminKey }) });
    try {
      expect(await main(['keys', 'create', 'from-cli', '--json', '--url', 'http://127.0.0.1:8787'], io)).toBe(0);
      const made = JSON.parse(out.pop()!) as { id: string; key: string };
      expect(made.key).toMatch(/^snt_/);
      expect(await main(['keys', 'list'], io)).toBe(0);
      expect(out.pop()).toContain(`${made.id}  from-cli  created`);
      expect(await main(['keys', 'revoke', made.id], io)).toBe(0);
      expect(out.pop()).toContain('revoked');
      expect(await main(['keys', 'revoke', made.id], io)).toBe(1);
      expect(out.pop()).toMatch(/was revoked at .* \(request_id [0-9a-f-]{36}\) \[already_revoked\]\n$/);
      expect(await main(['keys', 'revoke', made.id, '--json'], io)).toBe(1);
      expect(JSON.parse(out.pop()!)).toEqual({ error: { code: 'already_revoked', message: expect.stringMatching(/was revoked/), request_id: expect.stringMatching(/^[0-9a-f-]{36}$/) } });
      expect(await main(['keys', 'rotate'], io)).toBe(2);
    } finally {
      commands.set('keys', saved);
    }
  });

  it('a changed SENTINEL_ADMIN_KEY revokes the bootstrap key it replaces; a revoked one is not revived', async () => {
    const [a, b] = [generateApiKey(), generateApiKey()];
    expect(await ensureAdminKey(h.repo, a)).toMatchObject({ valid: true, revoked: [] });
    const first = (await h.repo.verifyApiKey(await hashApiKey(a)))!;
    expect(await ensureAdminKey(h.repo, b)).toMatchObject({ valid: true, revoked: [first.id] });
    expect(await h.repo.verifyApiKey(await hashApiKey(a))).toBeNull();
    expect(await errorOf(await h.app.request('/keys', { headers: { authorization: `Bearer ${a}` } }))).toMatchObject({ status: 403 });
    expect((await h.app.request('/keys', { headers: { authorization: `Bearer ${b}` } })).status).toBe(200);
    // The same key again (a restart): nothing changes.
    expect(await ensureAdminKey(h.repo, b)).toMatchObject({ valid: true, revoked: [] });
    // Back to the old value: it stays revoked.
    expect(await rotateBootstrapKey(h.repo, a)).toBeNull();
    expect(await ensureAdminKey(h.repo, a)).toMatchObject({ valid: false });
    expect(await h.repo.verifyApiKey(await hashApiKey(a))).toBeNull();
    expect(await h.repo.verifyApiKey(await hashApiKey(b))).not.toBeNull();
  });
});

describe('uploads: single use, nothing left behind', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await harness();
  });

  it('a presigned URL is spent by its prediction: no second PUT, no second use; kept audio is a copy out of its reach', async () => {
    const ticket = await presignedUpload(h, screamWav);
    const res = await postJson(h, '/predict', { object_key: ticket.object_key, keep: true });
    expect(res.status).toBe(200);
    const { prediction_id } = (await res.json()) as { prediction_id: string };
    const kept = (await h.repo.getPrediction(prediction_id))!.object_key!;
    expect(kept).toBe(`predictions/${prediction_id}/audio`);
    expect(await h.blobs.head(ticket.object_key)).toBeNull();

    const again = await h.app.request(ticket.url, { method: 'PUT', body: quietWav as Uint8Array<ArrayBuffer>, headers: ticket.headers });
    expect(await errorOf(again)).toMatchObject({ status: 409, code: 'upload_used' });
    expect(await errorOf(await postJson(h, '/predict', { object_key: ticket.object_key }))).toMatchObject({ status: 409, code: 'upload_used' });

    // Feedback makes the kept clip training data: the export holds the bytes first analysed.
    await postJson(h, `/predictions/${prediction_id}/feedback`, { label: 'danger' });
    const zip = unzipSync(new Uint8Array(await (await h.app.request('/feedback/export', { headers: h.auth })).arrayBuffer()));
    expect(zip[`danger/${prediction_id}.wav`]).toEqual(screamWav);
  });

  it('unkept presigned audio is deleted once analysed, also when it is not audio', async () => {
    const ticket = await presignedUpload(h, quietWav);
    expect((await postJson(h, '/predict', { object_key: ticket.object_key })).status).toBe(200);
    expect(await h.blobs.list(`uploads/${ticket.upload_id}/`)).toEqual([]);
    expect((await h.repo.getUpload(ticket.upload_id))!.status).toBe('used');

    const junk = await presignedUpload(h, new TextEncoder().encode('not audio at all'));
    expect((await postJson(h, '/predict', { object_key: junk.object_key })).status).toBeGreaterThanOrEqual(400);
    expect(await h.blobs.list(`uploads/${junk.upload_id}/`)).toEqual([]);
  });

  it('a zip refused for one label only is not training data: nothing stored, /retrain-existing has no data', async () => {
    const fresh = await harness();
    const oneLabel = datasetZip(syntheticClips(6, 90).filter((c) => c.label === 'safe'));
    const direct = await fresh.app.request('/retrain', { method: 'POST', body: fileForm(oneLabel, 'safe.zip', 'application/zip'), headers: fresh.auth });
    expect(await errorOf(direct)).toMatchObject({ status: 400, code: 'needs_both_labels' });
    expect(await fresh.repo.listUploads({ limit: 10 })).toEqual([]);

    const ticket = await presignedUpload(fresh, oneLabel, 'dataset');
    expect(await errorOf(await postJson(fresh, '/retrain', { object_key: ticket.object_key }, fresh.auth))).toMatchObject({ status: 400, code: 'needs_both_labels' });
    expect((await fresh.repo.getUpload(ticket.upload_id))!.status).toBe('failed');
    expect(await fresh.blobs.list('uploads/')).toEqual([]);
    expect(await errorOf(await postJson(fresh, '/retrain-existing', {}, fresh.auth))).toMatchObject({ status: 409, code: 'no_training_data' });
  });

  it('an intake interrupted by a storage failure is cleaned up at once; abandoned uploads by the sweep', async () => {
    let failClips = true;
    const flaky = await harness({
      deps: ({ blobs }) => ({
        blobs: new Proxy(blobs, {
          get(target, prop) {
            if (prop === 'put') {
              return (key: string, bytes: Uint8Array, options?: object) =>
                failClips && /^uploads\/[^/]+\/clips\//.test(key) ? Promise.reject(new Error('ENOSPC: no space left on device')) : target.put(key, bytes, options);
            }
            const value = Reflect.get(target, prop, target);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        }) as BlobStore,
      }),
    });
    const zip = datasetZip(syntheticClips(6, 91));
    const res = await flaky.app.request('/retrain', { method: 'POST', body: fileForm(zip, 'd.zip', 'application/zip'), headers: flaky.auth });
    expect(await errorOf(res)).toMatchObject({ status: 503, code: 'storage_unavailable' });
    const [upload] = await flaky.repo.listUploads({ limit: 10 });
    expect(upload.status).toBe('failed');
    expect(await flaky.blobs.list('uploads/')).toEqual([]);
    failClips = false;

    // An upload asked for and never used, and one whose intake died with the process (pending, blobs half there).
    const unused = (await (await postJson(flaky, '/uploads', { filename: 'a.wav', content_type: 'audio/wav', purpose: 'audio' })).json()) as Ticket;
    await flaky.app.request(unused.url, { method: 'PUT', body: quietWav as Uint8Array<ArrayBuffer>, headers: unused.headers });
    const crashed = await flaky.repo.createUpload({ id: '00000000-0000-4000-8000-000000000001', object_key: 'uploads/00000000-0000-4000-8000-000000000001/d.zip', filename: 'd.zip', bytes: 3 });
    await flaky.blobs.put('uploads/00000000-0000-4000-8000-000000000001/clips/0.wav', new Uint8Array(3));

    expect(await flaky.app.sweepUploads()).toEqual([]); // their URLs have not expired yet
    const later = new Date(Date.now() + 3 * 3600_000);
    expect((await flaky.app.sweepUploads({ now: later })).sort()).toEqual([crashed.id, unused.upload_id].sort());
    expect(await flaky.blobs.list('uploads/')).toEqual([]);
    expect((await flaky.repo.getUpload(unused.upload_id))!.status).toBe('failed');
    expect(await errorOf(await postJson(flaky, '/predict', { object_key: unused.object_key }))).toMatchObject({ status: 409, code: 'upload_used' });
  });
});

describe('limits on open routes', () => {
  it('rate limit per client: 429 with Retry-After, other clients unaffected', async () => {
    const h = await harness({ config: { rateLimitPerMinute: 2 }, deps: () => ({ clientAddress: (c) => c.req.header('x-client') }) });
    const predict = (client: string) => h.app.request('/predict', { method: 'POST', body: fileForm(quietWav), headers: { 'x-client': client } });
    expect((await predict('a')).status).toBe(200);
    expect((await predict('a')).status).toBe(200);
    const limited = await predict('a');
    expect(limited.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(await errorOf(limited)).toMatchObject({ status: 429, code: 'rate_limited' });
    expect((await predict('b')).status).toBe(200);
    // Admin routes are keyed, not rate limited.
    expect((await h.app.request('/keys', { headers: { ...h.auth, 'x-client': 'a' } })).status).toBe(200);
  });

  it('storage quota: keep=true and audio uploads answer 429 once open storage is full; plain /predict still works', async () => {
    const h = await harness({ config: { openStorageQuotaBytes: screamWav.byteLength + 1000 } });
    expect((await h.app.request('/predict', { method: 'POST', body: fileForm(screamWav, 'a.wav', 'audio/wav', { keep: 'true' }) })).status).toBe(200);
    const full = await h.app.request('/predict', { method: 'POST', body: fileForm(screamWav, 'a.wav', 'audio/wav', { keep: 'true' }) });
    expect(full.headers.get('retry-after')).toBeTruthy();
    expect(await errorOf(full)).toMatchObject({ status: 429, code: 'storage_quota_exceeded' });
    expect((await h.app.request('/predict', { method: 'POST', body: fileForm(screamWav) })).status).toBe(200);
    expect(await errorOf(await postJson(h, '/uploads', { filename: 'b.wav', content_type: 'audio/wav', purpose: 'audio', bytes: 5000 }))).toMatchObject({
      status: 429,
      code: 'storage_quota_exceeded',
    });
    expect(await h.blobs.list('predictions/')).toHaveLength(1);
  });
});

describe('storage faults are visible and lose nothing', () => {
  const WRITES = new Set(['recordPredictions', 'recordPrediction', 'recordEvent', 'createUpload', 'updateUpload', 'transitionUpload', 'setFeedback', 'createApiKey']);
  const readOnly = (repo: Repository) =>
    new Proxy(repo, {
      get(target, prop) {
        if (typeof prop === 'string' && WRITES.has(prop)) return () => Promise.reject(new Error('cannot execute INSERT in a read-only transaction'));
        if (prop === 'transaction') return (fn: (r: Repository) => Promise<unknown>) => target.transaction((tx) => fn(readOnly(tx)));
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as Repository;

  it('a read-only database: /predict still answers its verdict (logged: false), writes are 503, /health names the database', async () => {
    const h = await harness({ deps: ({ repo }) => ({ repo: readOnly(repo) }) });
    const res = await h.app.request('/predict', { method: 'POST', body: fileForm(screamWav) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ class: 'danger', logged: false, prediction_id: expect.any(String) });
    expect(await errorOf(await postJson(h, '/uploads', { filename: 'a.wav', content_type: 'audio/wav', purpose: 'audio' }))).toMatchObject({
      status: 503,
      code: 'database_unavailable',
    });
    const health = await h.app.request('/health');
    expect(health.status).toBe(503);
    const body = (await health.json()) as { status: string; checks: Record<string, { ok: boolean; detail?: string }> };
    expect(body.status).toBe('degraded');
    expect(body.checks.database).toMatchObject({ ok: false, detail: expect.stringContaining('read-only') });
    expect(body.checks.blobs.ok && body.checks.model.ok).toBe(true);
  });

  it('a failing blob store: keep=true is 503 storage_unavailable, /health names the blobs', async () => {
    const h = await harness({
      deps: ({ blobs }) => ({
        blobs: new Proxy(blobs, {
          get(target, prop) {
            if (prop === 'put') return () => Promise.reject(Object.assign(new Error('EROFS: read-only file system'), { code: 'EROFS' }));
            const value = Reflect.get(target, prop, target);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        }) as BlobStore,
      }),
    });
    const res = await h.app.request('/predict', { method: 'POST', body: fileForm(screamWav, 'a.wav', 'audio/wav', { keep: 'true' }) });
    expect(await errorOf(res)).toMatchObject({ status: 503, code: 'storage_unavailable' });
    const health = (await (await h.app.request('/health')).json()) as { status: string; checks: Record<string, { ok: boolean; detail?: string }> };
    expect(health.status).toBe('degraded');
    expect(health.checks.blobs).toMatchObject({ ok: false, detail: expect.stringContaining('EROFS') });
    expect(health.checks.database.ok).toBe(true);
  });
});

describe('smaller guards', () => {
  let h: ApiHarness;
  beforeAll(async () => {
    h = await harness({ config: { allowedHosts: ['127.0.0.1', 'localhost'] } });
  });

  it('POST / is 405, not the console page', async () => {
    const res = await h.app.request('http://127.0.0.1:8787/', { method: 'POST', body: fileForm(quietWav), headers: { accept: 'text/html' } });
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect(await errorOf(res)).toMatchObject({ status: 405, code: 'method_not_allowed' });
  });

  it('answers only its own host names (DNS rebinding)', async () => {
    expect((await h.app.request('http://localhost:8787/health')).status).toBe(200);
    expect((await h.app.request('http://127.0.0.1:8787/stats')).status).toBe(200);
    const rebound = await h.app.request('http://127.0.0.1:8787/stats', { headers: { host: 'attacker.example:8787' } });
    expect(await errorOf(rebound)).toMatchObject({ status: 421, code: 'host_not_allowed' });
  });

  it('refuses cross-site writes; same-origin and non-browser clients pass', async () => {
    const predict = (headers: Record<string, string>) => h.app.request('http://127.0.0.1:8787/predict', { method: 'POST', body: fileForm(quietWav), headers });
    expect(await errorOf(await predict({ origin: 'https://attacker.example' }))).toMatchObject({ status: 403, code: 'cross_site_request' });
    expect(await errorOf(await predict({ 'sec-fetch-site': 'cross-site' }))).toMatchObject({ status: 403, code: 'cross_site_request' });
    expect((await predict({ origin: 'http://127.0.0.1:8787', 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect((await predict({})).status).toBe(200);
  });

  it('/blobs errors use the error envelope; the model file route is registered once', async () => {
    const res = await h.app.request('http://127.0.0.1:8787/blobs/a/b?op=get&expires=1&sig=00');
    expect(await errorOf(res)).toMatchObject({ status: 403, code: 'bad_signature', message: expect.any(String) });
    const defs = h.app.openAPIRegistry.definitions.filter((d) => d.type === 'route' && d.route.method === 'get' && d.route.path === '/models/{version}/files/{name}');
    expect(defs).toHaveLength(1);
  });
});
