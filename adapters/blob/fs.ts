/**
 * BlobStore on the local filesystem (the local stack; default root <SENTINEL_DATA_DIR>/blobs).
 *
 * Layout under `root`:
 *   objects/<seg>/…/<last>~data        the bytes of key <seg>/…/<last>
 *   objects/<seg>/…/<last>~meta.json   {contentType, etag} sidecar
 *   tmp/                               in-progress writes (same filesystem, so rename is atomic)
 *   .signing-key                       HMAC secret for presigned URLs when none is configured
 * The `~` suffix cannot occur in a key (validateBlobKey), so key "a" (file a~data) and key "a/b"
 * (folder a/) never collide, and no key can name a sidecar, a temp file or the signing key.
 *
 * Presigned URLs point at the local API: `<publicBaseUrl><route>/<key>?op=&expires=&ct=&max=&sig=`, signed
 * with HMAC-SHA256. The API mounts {@link FsBlobStore.handlePresignedRequest} (a web-standard
 * Request -> Response handler) on `<route>/*`; {@link FsBlobStore.verifyPresignedUrl} is the check alone.
 */
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SERVICE } from '../../shared/config.ts';
import { SentinelError } from '../../shared/errors.ts';
import {
  DEFAULT_CONTENT_TYPE,
  validateBlobKey,
  validateBlobPrefix,
  validateContentType,
  validateExpiresSeconds,
  type BlobHead,
  type BlobListEntry,
  type BlobStore,
  type PresignedRequest,
  type PresignGetOptions,
  type PresignPutOptions,
  type PutOptions,
} from '../../shared/ports/blob-store.ts';

export interface FsBlobStoreOptions {
  /** Folder holding the store (created if missing). */
  root: string;
  /** Origin the local API is reachable at, e.g. http://127.0.0.1:8787 (needed only to presign). */
  publicBaseUrl?: string;
  /** Path the API mounts the presigned handler under. Default SERVICE.blob.localRoute. */
  route?: string;
  /** HMAC secret (>= 32 bytes of entropy). Default: <root>/.signing-key, made once and kept, so URLs survive restarts. */
  signingSecret?: string;
  /** Injectable clock (ms) for expiry tests. */
  now?: () => number;
}

/** What a valid presigned URL allows. */
export interface PresignedGrant {
  op: 'get' | 'put';
  key: string;
  /** Unix seconds. */
  expires: number;
  contentType?: string;
  maxBytes?: number;
}

const DATA = '~data';
const META = '~meta.json';

interface Meta {
  contentType: string;
  etag: string;
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: string })?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

export class FsBlobStore implements BlobStore {
  readonly kind = 'fs';
  readonly presignPutEnforcesMaxBytes = true;

  readonly #root: string;
  readonly #objects: string;
  readonly #tmp: string;
  readonly #route: string;
  readonly #publicBaseUrl: string | undefined;
  readonly #now: () => number;
  #secret: Promise<Buffer> | undefined;
  readonly #configuredSecret: string | undefined;

  constructor(options: FsBlobStoreOptions) {
    if (!options.root) throw new SentinelError('CONFIG', 'FsBlobStore needs a root folder.');
    this.#root = options.root;
    this.#objects = join(options.root, 'objects');
    this.#tmp = join(options.root, 'tmp');
    this.#route = (options.route ?? SERVICE.blob.localRoute).replace(/\/+$/, '');
    this.#publicBaseUrl = options.publicBaseUrl?.replace(/\/+$/, '');
    this.#now = options.now ?? Date.now;
    if (options.signingSecret !== undefined && options.signingSecret.length < 32) {
      throw new SentinelError('CONFIG', 'Blob signing secret must be at least 32 characters.');
    }
    this.#configuredSecret = options.signingSecret;
  }

  #paths(key: string): { data: string; meta: string } {
    const base = join(this.#objects, ...validateBlobKey(key).split('/'));
    return { data: base + DATA, meta: base + META };
  }

  async put(key: string, bytes: Uint8Array, options: PutOptions = {}): Promise<void> {
    const paths = this.#paths(key);
    if (!(bytes instanceof Uint8Array)) throw new SentinelError('INVALID_ARGUMENT', 'put() needs the bytes as a Uint8Array.');
    const contentType = options.contentType === undefined ? DEFAULT_CONTENT_TYPE : validateContentType(options.contentType);
    const meta: Meta = { contentType, etag: createHash('md5').update(bytes).digest('hex') };
    await mkdir(this.#tmp, { recursive: true });
    await mkdir(dirname(paths.data), { recursive: true });
    const tmpData = join(this.#tmp, randomUUID());
    const tmpMeta = join(this.#tmp, randomUUID());
    try {
      await writeDurably(tmpData, bytes);
      await writeDurably(tmpMeta, new TextEncoder().encode(JSON.stringify(meta)));
      // Data first: a reader that sees the new meta always finds the new bytes beside it (size comes from stat).
      await rename(tmpData, paths.data);
      await rename(tmpMeta, paths.meta);
    } finally {
      await rm(tmpData, { force: true });
      await rm(tmpMeta, { force: true });
    }
  }

  async get(key: string): Promise<Uint8Array | null> {
    const { data } = this.#paths(key);
    try {
      const buffer = await readFile(data);
      return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async head(key: string): Promise<BlobHead | null> {
    const paths = this.#paths(key);
    let info;
    try {
      info = await stat(paths.data);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
    const meta = await this.#readMeta(paths.meta);
    return {
      size: info.size,
      contentType: meta?.contentType ?? DEFAULT_CONTENT_TYPE,
      ...(meta?.etag ? { etag: meta.etag } : {}),
      lastModified: info.mtime,
    };
  }

  async #readMeta(path: string): Promise<Meta | null> {
    try {
      return JSON.parse(await readFile(path, 'utf8')) as Meta;
    } catch (error) {
      if (isNotFound(error) || error instanceof SyntaxError) return null;
      throw error;
    }
  }

  async list(prefix: string): Promise<BlobListEntry[]> {
    validateBlobPrefix(prefix);
    // Start the walk at the deepest folder the prefix fully names.
    const segments = prefix.split('/');
    const folders = segments.slice(0, -1);
    const out: BlobListEntry[] = [];
    const walk = async (dir: string, keyPrefix: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if (isNotFound(error)) return;
        throw error;
      }
      for (const entry of entries) {
        if (entry.isDirectory()) {
          const sub = keyPrefix + entry.name + '/';
          // Skip folders that cannot contain a match.
          if (sub.startsWith(prefix) || prefix.startsWith(sub)) await walk(join(dir, entry.name), sub);
        } else if (entry.isFile() && entry.name.endsWith(DATA)) {
          const key = keyPrefix + entry.name.slice(0, -DATA.length);
          if (!key.startsWith(prefix)) continue;
          try {
            out.push({ key, size: (await stat(join(dir, entry.name))).size });
          } catch (error) {
            if (!isNotFound(error)) throw error; // deleted while listing: not there
          }
        }
      }
    };
    await walk(join(this.#objects, ...folders), folders.length ? folders.join('/') + '/' : '');
    // Byte order, as S3 lists (keys are ASCII, so code-unit order is byte order).
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    const paths = this.#paths(key);
    for (const path of [paths.data, paths.meta]) {
      try {
        await unlink(path);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
  }

  /** Nothing to release: every call opens and closes its own files. */
  async close(): Promise<void> {}

  // ---- Presigned URLs ----

  async presignPut(key: string, options: PresignPutOptions): Promise<PresignedRequest> {
    validateBlobKey(key);
    const contentType = validateContentType(options.contentType);
    const grant: PresignedGrant = {
      op: 'put',
      key,
      expires: this.#expiry(options.expiresSeconds),
      contentType,
      ...(options.maxBytes !== undefined ? { maxBytes: checkMaxBytes(options.maxBytes) } : {}),
    };
    return { url: await this.#signedUrl(grant), method: 'PUT', headers: { 'Content-Type': contentType } };
  }

  async presignGet(key: string, options: PresignGetOptions): Promise<string> {
    validateBlobKey(key);
    return this.#signedUrl({ op: 'get', key, expires: this.#expiry(options.expiresSeconds) });
  }

  #expiry(expiresSeconds: number): number {
    return Math.floor(this.#now() / 1000) + validateExpiresSeconds(expiresSeconds);
  }

  async #signedUrl(grant: PresignedGrant): Promise<string> {
    if (!this.#publicBaseUrl) {
      throw new SentinelError('CONFIG', 'FsBlobStore cannot presign without publicBaseUrl (the local API origin).');
    }
    const params = new URLSearchParams({ op: grant.op, expires: String(grant.expires) });
    if (grant.contentType !== undefined) params.set('ct', grant.contentType);
    if (grant.maxBytes !== undefined) params.set('max', String(grant.maxBytes));
    params.set('sig', await this.#sign(grant));
    return `${this.#publicBaseUrl}${this.#route}/${grant.key}?${params}`;
  }

  async #sign(grant: PresignedGrant): Promise<string> {
    const canonical = [grant.op, grant.key, grant.expires, grant.contentType ?? '', grant.maxBytes ?? ''].join('\n');
    return createHmac('sha256', await this.#signingSecret()).update(canonical).digest('hex');
  }

  #signingSecret(): Promise<Buffer> {
    this.#secret ??= (async () => {
      if (this.#configuredSecret !== undefined) return Buffer.from(this.#configuredSecret, 'utf8');
      const path = join(this.#root, '.signing-key');
      await mkdir(this.#root, { recursive: true });
      try {
        // 'wx': only the first process creates it; the others read what it wrote.
        await writeFile(path, randomBytes(32).toString('hex'), { flag: 'wx', mode: 0o600 });
      } catch (error) {
        if ((error as { code?: string }).code !== 'EEXIST') throw error;
      }
      const text = (await readFile(path, 'utf8')).trim();
      if (text.length < 32) throw new SentinelError('CONFIG', `Blob signing key file ${path} is truncated; delete it to regenerate.`);
      return Buffer.from(text, 'utf8');
    })();
    return this.#secret;
  }

  /**
   * Check a presigned URL for `method` (GET/HEAD/PUT): path under the route, a valid key, an intact
   * signature, not expired. Returns the grant; throws SentinelError `BAD_SIGNATURE` / `EXPIRED` /
   * `INVALID_KEY` / `METHOD_NOT_ALLOWED`.
   */
  async verifyPresignedUrl(url: string | URL, method: string): Promise<PresignedGrant> {
    const parsed = typeof url === 'string' ? new URL(url, 'http://local') : url;
    const routePrefix = this.#route + '/';
    if (!parsed.pathname.startsWith(routePrefix)) {
      throw new SentinelError('BAD_SIGNATURE', `Presigned blob URLs live under ${routePrefix}.`);
    }
    let key: string;
    try {
      key = decodeURIComponent(parsed.pathname.slice(routePrefix.length));
    } catch {
      throw new SentinelError('INVALID_KEY', 'Blob key in the URL is not valid percent-encoding.');
    }
    validateBlobKey(key);
    const q = parsed.searchParams;
    const op = q.get('op');
    const expires = Number(q.get('expires'));
    const sig = q.get('sig') ?? '';
    if ((op !== 'get' && op !== 'put') || !Number.isInteger(expires) || !/^[0-9a-f]{64}$/.test(sig)) {
      throw new SentinelError('BAD_SIGNATURE', 'Presigned URL is missing or has malformed op/expires/sig.');
    }
    const grant: PresignedGrant = { op, key, expires };
    if (q.has('ct')) grant.contentType = q.get('ct')!;
    if (q.has('max')) grant.maxBytes = Number(q.get('max'));
    const expected = Buffer.from(await this.#sign(grant), 'hex');
    if (!timingSafeEqual(expected, Buffer.from(sig, 'hex'))) {
      throw new SentinelError('BAD_SIGNATURE', 'Presigned URL signature does not match.');
    }
    if (Math.floor(this.#now() / 1000) > expires) {
      throw new SentinelError('EXPIRED', 'Presigned URL has expired.', { expires });
    }
    const m = method.toUpperCase();
    const allowed = op === 'put' ? m === 'PUT' : m === 'GET' || m === 'HEAD';
    if (!allowed) throw new SentinelError('METHOD_NOT_ALLOWED', `This URL allows ${op === 'put' ? 'PUT' : 'GET/HEAD'}, not ${m}.`);
    return grant;
  }

  /**
   * Serve a presigned blob request (mount on `<route>/*` of the local API, e.g. with Hono:
   * `app.all('/blobs/*', (c) => blobs.handlePresignedRequest(c.req.raw))`).
   * 200 with bytes (GET/HEAD) or an empty 200 with ETag (PUT); errors in the API's envelope
   * {error: {code, message}} with 400/403/404/405/409 (PUT over an existing object)/413/415.
   */
  async handlePresignedRequest(request: Request): Promise<Response> {
    let grant: PresignedGrant;
    try {
      grant = await this.verifyPresignedUrl(new URL(request.url), request.method);
    } catch (error) {
      return errorResponse(error);
    }
    if (grant.op === 'get') {
      const [bytes, head] = [await this.get(grant.key), await this.head(grant.key)];
      if (!bytes || !head) return jsonError(404, 'NOT_FOUND', `No blob "${grant.key}".`);
      const headers: Record<string, string> = {
        'Content-Type': head.contentType,
        'Content-Length': String(bytes.byteLength),
        'Last-Modified': head.lastModified.toUTCString(),
      };
      if (head.etag) headers.ETag = `"${head.etag}"`;
      return new Response(request.method.toUpperCase() === 'HEAD' ? null : (bytes as Uint8Array<ArrayBuffer>), { status: 200, headers });
    }
    // PUT
    const contentType = request.headers.get('content-type');
    if (contentType !== grant.contentType) {
      return jsonError(415, 'CONTENT_TYPE_MISMATCH', `Content-Type must be "${grant.contentType}" as signed.`);
    }
    const declared = request.headers.get('content-length');
    if (grant.maxBytes !== undefined && declared !== null && Number(declared) > grant.maxBytes) {
      return jsonError(413, 'TOO_LARGE', `Upload exceeds ${grant.maxBytes} bytes.`, { maxBytes: grant.maxBytes });
    }
    // Write-once, as S3's If-None-Match: a presigned URL cannot replace what was uploaded through it.
    if (await this.head(grant.key)) return jsonError(409, 'ALREADY_UPLOADED', `"${grant.key}" was already uploaded; ask for a new upload URL.`);
    let bytes: Uint8Array;
    try {
      bytes = await readBody(request, grant.maxBytes);
    } catch (error) {
      return errorResponse(error);
    }
    if (await this.head(grant.key)) return jsonError(409, 'ALREADY_UPLOADED', `"${grant.key}" was already uploaded; ask for a new upload URL.`);
    await this.put(grant.key, bytes, { contentType: grant.contentType! });
    const head = await this.head(grant.key);
    return new Response(null, { status: 200, headers: head?.etag ? { ETag: `"${head.etag}"` } : {} });
  }
}

function checkMaxBytes(maxBytes: unknown): number {
  if (typeof maxBytes !== 'number' || !Number.isInteger(maxBytes) || maxBytes < 0) {
    throw new SentinelError('INVALID_ARGUMENT', 'maxBytes must be a non-negative integer.', { maxBytes });
  }
  return maxBytes;
}

/** Write and fsync, so the rename that follows publishes complete bytes even after a crash. */
async function writeDurably(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, 'wx');
  try {
    await handle.writeFile(bytes);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/** Read a request body, stopping as soon as it passes `maxBytes` (a lying Content-Length can't get past it). */
async function readBody(request: Request, maxBytes: number | undefined): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (maxBytes !== undefined && total > maxBytes) {
      await reader.cancel();
      throw new SentinelError('TOO_LARGE', `Upload exceeds ${maxBytes} bytes.`, { maxBytes });
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

const STATUS: Record<string, number> = {
  BAD_SIGNATURE: 403,
  EXPIRED: 403,
  INVALID_KEY: 400,
  METHOD_NOT_ALLOWED: 405,
  TOO_LARGE: 413,
};

function errorResponse(error: unknown): Response {
  if (error instanceof SentinelError && STATUS[error.code]) {
    return jsonError(STATUS[error.code]!, error.code, error.message, error.details);
  }
  throw error;
}

/** The API's error envelope (functions/errors.ts), codes in lower snake case like every other answer. */
function jsonError(status: number, code: string, message: string, details?: Record<string, unknown>): Response {
  return new Response(JSON.stringify({ error: { code: code.toLowerCase(), message, ...(details ? { details } : {}) } }), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}
