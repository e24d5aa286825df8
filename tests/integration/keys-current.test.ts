/**
 * GET /keys/current: the cheap check the console makes when a key is entered, before any upload. Answers the
 * presented key's id and name (never the key or its hash), 401 without a key, 403 for an unknown or revoked one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../functions/auth.ts';
import { createApiHarness, errorOf, type ApiHarness } from './helpers/api-harness.ts';

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('GET /keys/current', () => {
  it("answers the presented key's id and name, by either header", async () => {
    const res = await h.app.request('/keys/current', { headers: h.auth });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    const stored = (await h.repo.listApiKeys()).find((k) => k.name === 'test-admin')!;
    expect(body).toEqual({ id: stored.id, name: 'test-admin', created_at: stored.created_at.toISOString(), revoked_at: null });
    expect(JSON.stringify(body)).not.toContain(h.adminKey);
    expect(JSON.stringify(body)).not.toContain(await hashApiKey(h.adminKey));
    const byHeader = await h.app.request('/keys/current', { headers: { 'x-api-key': h.adminKey } });
    expect(((await byHeader.json()) as { id: string }).id).toBe(stored.id);
  });

  it('refuses a missing, unknown or revoked key in the error envelope', async () => {
    expect(await errorOf(await h.app.request('/keys/current'))).toMatchObject({ status: 401, code: 'missing_api_key' });
    expect(await errorOf(await h.app.request('/keys/current', { headers: { authorization: 'Bearer not-a-key' } }))).toMatchObject({ status: 403, code: 'invalid_api_key' });
    const created = await h.app.request('/keys', { method: 'POST', body: JSON.stringify({ name: 'to revoke' }), headers: { ...h.auth, 'content-type': 'application/json' } });
    const key = (await created.json()) as { id: string; key: string };
    const own = { authorization: `Bearer ${key.key}` };
    expect(((await (await h.app.request('/keys/current', { headers: own })).json()) as { name: string }).name).toBe('to revoke');
    expect((await h.app.request(`/keys/${key.id}/revoke`, { method: 'POST', headers: h.auth })).status).toBe(200);
    expect(await errorOf(await h.app.request('/keys/current', { headers: own }))).toMatchObject({ status: 403, code: 'invalid_api_key' });
  });

  it('is documented in the OpenAPI document', async () => {
    const doc = (await (await h.app.request('/openapi.json')).json()) as { paths: Record<string, Record<string, { responses: Record<string, unknown>; security?: unknown[] }>> };
    const op = doc.paths['/keys/current']?.get;
    expect(op, 'GET /keys/current in /openapi.json').toBeDefined();
    expect(Object.keys(op.responses).sort()).toEqual(['200', '401', '403']);
    expect(op.security).toEqual([{ ApiKey: [] }]);
  });
});
