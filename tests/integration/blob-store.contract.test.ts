/**
 * BlobStore contract (shared/ports/blob-store.ts), run against every implementation:
 * - fs: FsBlobStore in a temp folder, its presigned URLs served by its own handler on 127.0.0.1;
 * - s3: S3BlobStore against fauxqs (S3 emulator) started in-process on a random 127.0.0.1 port.
 * Implementation-specific behaviour follows in the fs/s3 sections at the end.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../adapters/blob/fs.ts';
import { S3BlobStore } from '../../adapters/blob/s3.ts';
import type { BlobStore } from '../../shared/ports/blob-store.ts';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, startEmulator, uniqueName, type Emulator } from './helpers/fauxqs.ts';
import { expectCode } from './helpers/expect-code.ts';

interface Harness {
  store: BlobStore;
  stop(): Promise<void>;
}

function listen(handler: (request: Request) => Promise<Response>): Promise<{ server: ServerType; origin: string }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: handler, hostname: '127.0.0.1', port: 0 }, (info) =>
      resolve({ server, origin: `http://127.0.0.1:${info.port}` }),
    );
  });
}

function closeServer(server: ServerType): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

async function startFs(): Promise<Harness & { root: string; fs: FsBlobStore; origin: string }> {
  const root = await mkdtemp(join(tmpdir(), 'sentinel-blobs-'));
  let fs: FsBlobStore | undefined;
  const { server, origin } = await listen((request) => fs!.handlePresignedRequest(request));
  fs = new FsBlobStore({ root, publicBaseUrl: origin });
  return {
    store: fs,
    fs,
    root,
    origin,
    async stop() {
      await closeServer(server);
      await rm(root, { recursive: true, force: true });
    },
  };
}

let emulator: Emulator | undefined;
async function startS3(options: { listPageSize?: number } = {}): Promise<Harness> {
  emulator ??= await startEmulator();
  const bucket = uniqueName('blobs').toLowerCase();
  await emulator.createBucket(bucket);
  const store = new S3BlobStore({
    bucket,
    endpoint: emulator.address,
    region: EMULATOR_REGION,
    credentials: EMULATOR_CREDENTIALS,
    forcePathStyle: true,
    ...options,
  });
  return { store, stop: () => store.close() };
}

afterAll(async () => {
  await emulator?.stop();
});

const bytesOf = (text: string) => new TextEncoder().encode(text);


const IMPLEMENTATIONS: Array<[string, () => Promise<Harness>]> = [
  ['fs', startFs],
  // A 2-key page so list() must follow continuation tokens.
  ['s3 (fauxqs)', () => startS3({ listPageSize: 2 })],
];

/**
 * Contract clauses an emulator cannot show: fauxqs ignores If-None-Match on PUT (AWS S3 honours it, answering 412);
 * for S3 the "S3BlobStore specifics" below check that the header is signed into the URL instead.
 */
const EMULATOR_GAPS: Record<string, readonly string[]> = { 's3 (fauxqs)': ['write once'] };

describe.each(IMPLEMENTATIONS)('BlobStore contract: %s', (name, start) => {
  const itUnlessGap = (clause: string) => (EMULATOR_GAPS[name]?.includes(clause) ? it.skip : it);
  let h: Harness;
  beforeAll(async () => {
    h = await start();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('round-trips bytes exactly, with content type, size, etag and lastModified', async () => {
    const bytes = new Uint8Array(70_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 256;
    const before = Date.now();
    await h.store.put('rt/clip.wav', bytes, { contentType: 'audio/wav' });
    const got = await h.store.get('rt/clip.wav');
    expect(got).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(got!).equals(Buffer.from(bytes))).toBe(true);
    const head = await h.store.head('rt/clip.wav');
    expect(head).not.toBeNull();
    expect(head!.size).toBe(bytes.length);
    expect(head!.contentType).toBe('audio/wav');
    expect(head!.etag).toMatch(/^[0-9a-f]{32}$/);
    expect(head!.lastModified).toBeInstanceOf(Date);
    // S3 stores whole seconds: allow 1 s either side.
    expect(head!.lastModified.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(head!.lastModified.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('stores empty objects and defaults the content type', async () => {
    await h.store.put('rt/empty', new Uint8Array(0));
    expect((await h.store.get('rt/empty'))!.byteLength).toBe(0);
    const head = await h.store.head('rt/empty');
    expect(head).toMatchObject({ size: 0, contentType: 'application/octet-stream' });
  });

  it('answers null for a missing key and deletes idempotently', async () => {
    expect(await h.store.get('missing/nothing.bin')).toBeNull();
    expect(await h.store.head('missing/nothing.bin')).toBeNull();
    await expect(h.store.delete('missing/nothing.bin')).resolves.toBeUndefined();
  });

  it('replaces an object whole on put, changing its etag', async () => {
    await h.store.put('rt/over', bytesOf('first version'), { contentType: 'text/plain' });
    const first = await h.store.head('rt/over');
    await h.store.put('rt/over', bytesOf('v2'), { contentType: 'application/json' });
    expect(new TextDecoder().decode((await h.store.get('rt/over'))!)).toBe('v2');
    const second = await h.store.head('rt/over');
    expect(second).toMatchObject({ size: 2, contentType: 'application/json' });
    expect(second!.etag).not.toBe(first!.etag);
  });

  it('keeps each concurrent put whole: the final object is exactly one of them', async () => {
    const versions = Array.from({ length: 6 }, (_, i) => new Uint8Array(50_000).fill(i + 1));
    await Promise.all(versions.map((v) => h.store.put('rt/race', v)));
    const got = (await h.store.get('rt/race'))!;
    expect(got.byteLength).toBe(50_000);
    expect(new Set(got).size).toBe(1);
  });

  it('deletes: the object disappears from get, head and list', async () => {
    await h.store.put('del/a', bytesOf('x'));
    await h.store.delete('del/a');
    expect(await h.store.get('del/a')).toBeNull();
    expect(await h.store.head('del/a')).toBeNull();
    expect(await h.store.list('del/')).toEqual([]);
  });

  it('lists by plain string prefix, sorted, with sizes, across pages', async () => {
    const keys = ['ls/b/2', 'ls/a', 'ls/a/1', 'ls/ab', 'ls/b/1', 'lsx/1', 'ls/a-z'];
    for (const [i, key] of keys.entries()) await h.store.put(key, new Uint8Array(i + 1));
    expect(await h.store.list('ls/')).toEqual([
      { key: 'ls/a', size: 2 },
      { key: 'ls/a-z', size: 7 },
      { key: 'ls/a/1', size: 3 },
      { key: 'ls/ab', size: 4 },
      { key: 'ls/b/1', size: 5 },
      { key: 'ls/b/2', size: 1 },
    ]);
    // Not a folder prefix: "ls/a" matches ls/a, ls/a-z, ls/a/1 and ls/ab.
    expect((await h.store.list('ls/a')).map((e) => e.key)).toEqual(['ls/a', 'ls/a-z', 'ls/a/1', 'ls/ab']);
    expect((await h.store.list('ls/b/')).map((e) => e.key)).toEqual(['ls/b/1', 'ls/b/2']);
    expect(await h.store.list('ls/zzz')).toEqual([]);
    const all = (await h.store.list('')).map((e) => e.key);
    expect(all).toEqual([...all].sort());
    expect(all).toEqual(expect.arrayContaining(['lsx/1', 'ls/a']));
  });

  it('rejects unsafe or malformed keys with INVALID_KEY on every method', async () => {
    const bad = ['../etc/passwd', '/abs', 'a//b', 'a/', '', 'a b', 'x~data', 'a/./b', 'a/../b', 'é', 'a\\b', 'k'.repeat(1025)];
    for (const key of bad) {
      await expectCode(h.store.put(key, new Uint8Array(1)), 'INVALID_KEY');
      await expectCode(h.store.get(key), 'INVALID_KEY');
      await expectCode(h.store.head(key), 'INVALID_KEY');
      await expectCode(h.store.delete(key), 'INVALID_KEY');
      await expectCode(h.store.presignGet(key, { expiresSeconds: 60 }), 'INVALID_KEY');
    }
    await expectCode(h.store.list('../'), 'INVALID_KEY');
  });

  it('rejects a bad content type or expiry with INVALID_ARGUMENT', async () => {
    await expectCode(h.store.put('ok/key', new Uint8Array(1), { contentType: 'not a type\r\nX: y' }), 'INVALID_ARGUMENT');
    await expectCode(h.store.presignPut('ok/key', { expiresSeconds: 0, contentType: 'audio/wav' }), 'INVALID_ARGUMENT');
    await expectCode(h.store.presignGet('ok/key', { expiresSeconds: 8 * 24 * 3600 }), 'INVALID_ARGUMENT');
  });

  it('presigned PUT uploads bytes a presigned GET then serves', async () => {
    const body = new Uint8Array([0, 1, 2, 250, 251, 255]);
    const put = await h.store.presignPut('presigned/upload.zip', {
      expiresSeconds: 60,
      contentType: 'application/zip',
      maxBytes: 1024,
    });
    expect(put.method).toBe('PUT');
    expect(put.headers['Content-Type']).toBe('application/zip');
    const response = await fetch(put.url, { method: put.method, headers: put.headers, body });
    expect(response.status).toBe(200);
    expect(await h.store.head('presigned/upload.zip')).toMatchObject({ size: 6, contentType: 'application/zip' });

    const getUrl = await h.store.presignGet('presigned/upload.zip', { expiresSeconds: 60 });
    const got = await fetch(getUrl);
    expect(got.status).toBe(200);
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(body);
  });

  itUnlessGap('write once')('a presigned PUT writes once: the same URL cannot replace the object', async () => {
    const put = await h.store.presignPut('presigned/once.wav', { expiresSeconds: 60, contentType: 'audio/wav', maxBytes: 1024 });
    const first = await fetch(put.url, { method: put.method, headers: put.headers, body: new Uint8Array([1, 2, 3]) });
    expect(first.status).toBe(200);
    await first.arrayBuffer();
    const again = await fetch(put.url, { method: put.method, headers: put.headers, body: new Uint8Array([9, 9, 9, 9]) });
    expect([409, 412]).toContain(again.status);
    await again.arrayBuffer();
    expect(await h.store.get('presigned/once.wav')).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('presigned GET of a missing object answers 404', async () => {
    const url = await h.store.presignGet('presigned/never-written', { expiresSeconds: 60 });
    const response = await fetch(url);
    expect(response.status).toBe(404);
    await response.arrayBuffer();
  });
});

describe('FsBlobStore specifics', () => {
  let h: Awaited<ReturnType<typeof startFs>>;
  beforeAll(async () => {
    h = await startFs();
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('keeps "a" and "a/b" side by side and leaves no temp files or sidecars in listings', async () => {
    await h.store.put('n/a', bytesOf('parent'));
    await h.store.put('n/a/b', bytesOf('child'));
    expect(new TextDecoder().decode((await h.store.get('n/a'))!)).toBe('parent');
    expect(new TextDecoder().decode((await h.store.get('n/a/b'))!)).toBe('child');
    expect((await h.store.list('n/')).map((e) => e.key)).toEqual(['n/a', 'n/a/b']);
    expect(await readdir(join(h.root, 'tmp'))).toEqual([]);
  });

  it('refuses tampered, expired, wrong-method and traversal URLs', async () => {
    await h.store.put('sec/file', bytesOf('secret'));
    const url = new URL(await h.store.presignGet('sec/file', { expiresSeconds: 60 }));

    const tampered = new URL(url);
    tampered.pathname = '/blobs/sec/other';
    let r = await fetch(tampered);
    expect(r.status).toBe(403);
    expect(await r.json()).toMatchObject({ error: { code: 'bad_signature', message: expect.any(String) } });

    const longer = new URL(url);
    longer.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 3600));
    r = await fetch(longer);
    expect(r.status).toBe(403);
    await r.arrayBuffer();

    r = await fetch(url, { method: 'PUT', body: 'x', headers: { 'Content-Type': 'text/plain' } });
    expect(r.status).toBe(405);
    await r.arrayBuffer();

    // Encoded slashes survive URL normalisation and decode to "../../etc/passwd": refused as a key.
    r = await fetch(`${h.origin}/blobs/..%2F..%2Fetc%2Fpasswd?op=get&expires=9999999999&sig=${'0'.repeat(64)}`);
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ error: { code: 'invalid_key' } });
    // Plain dot segments are resolved by the URL parser before the request leaves: outside the route, refused.
    r = await fetch(`${h.origin}/blobs/%2e%2e/%2e%2e/etc/passwd?op=get&expires=9999999999&sig=${'0'.repeat(64)}`);
    expect(r.status).toBe(403);
    await r.arrayBuffer();

    // A store whose clock is 2 minutes ahead sees the 60 s URL as expired.
    const later = new FsBlobStore({ root: h.root, publicBaseUrl: h.origin, now: () => Date.now() + 120_000 });
    await expectCode(later.verifyPresignedUrl(url, 'GET'), 'EXPIRED');
    // Same root: the persisted signing key verifies URLs made by another instance (survives restarts).
    const sameKey = new FsBlobStore({ root: h.root, publicBaseUrl: h.origin });
    await expect(sameKey.verifyPresignedUrl(url, 'GET')).resolves.toMatchObject({ op: 'get', key: 'sec/file' });
    const otherKey = new FsBlobStore({ root: h.root, publicBaseUrl: h.origin, signingSecret: 'x'.repeat(32) });
    await expectCode(otherKey.verifyPresignedUrl(url, 'GET'), 'BAD_SIGNATURE');
  });

  it('enforces the signed content type and maxBytes during a presigned upload', async () => {
    const put = await h.store.presignPut('up/limited', { expiresSeconds: 60, contentType: 'application/zip', maxBytes: 10 });
    let r = await fetch(put.url, { method: 'PUT', headers: { 'Content-Type': 'text/plain' }, body: 'small' });
    expect(r.status).toBe(415);
    await r.arrayBuffer();
    r = await fetch(put.url, { method: 'PUT', headers: put.headers, body: new Uint8Array(11) });
    expect(r.status).toBe(413);
    await r.arrayBuffer();
    expect(await h.store.head('up/limited')).toBeNull();
    // A chunked body (no Content-Length) over the limit is cut off while streaming.
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(new Uint8Array(5));
        controller.close();
      },
    });
    r = await fetch(put.url, { method: 'PUT', headers: put.headers, body: chunks, duplex: 'half' } as RequestInit);
    expect(r.status).toBe(413);
    await r.arrayBuffer();
    expect(await h.store.head('up/limited')).toBeNull();
    r = await fetch(put.url, { method: 'PUT', headers: put.headers, body: new Uint8Array(10) });
    expect(r.status).toBe(200);
    expect((await h.store.head('up/limited'))!.size).toBe(10);
  });

  it('cannot presign without the API origin', async () => {
    const noOrigin = new FsBlobStore({ root: h.root });
    await expectCode(noOrigin.presignGet('a', { expiresSeconds: 10 }), 'CONFIG');
  });
});

describe('S3BlobStore specifics', () => {
  it('presigned PUT signs Content-Type and carries no precomputed checksum', async () => {
    const h = await startS3();
    try {
      const put = await h.store.presignPut('x/y.zip', { expiresSeconds: 60, contentType: 'application/zip' });
      const url = new URL(put.url);
      expect(url.searchParams.get('X-Amz-SignedHeaders')).toContain('content-type');
      expect(url.searchParams.get('X-Amz-SignedHeaders')).toContain('if-none-match');
      expect([...url.searchParams.keys()].filter((k) => k.toLowerCase().includes('checksum'))).toEqual([]);
      expect(h.store.presignPutEnforcesMaxBytes).toBe(false);
    } finally {
      await h.stop();
    }
  });
});
