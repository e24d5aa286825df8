/**
 * BlobStore: the object-storage port (uploads, model artifacts, kept recordings).
 * Implementations: adapters/blob/fs.ts (local stack, `npm start`) and adapters/blob/s3.ts (cloud).
 * Pure types + key validation: no Node imports, so the browser console can share the key rules.
 *
 * Contract (the suite tests/integration/blob-store.contract.test.ts runs it against every implementation):
 * - Keys follow {@link validateBlobKey}; every method throws SentinelError `INVALID_KEY` for any other key.
 * - `get`/`head` of a missing key return `null` (absence is a normal answer, not an error); `delete` of a
 *   missing key is a no-op. Storage failures (disk, network) propagate as the underlying error.
 * - `put` replaces the whole object atomically: a reader sees the old bytes or the new ones, never a mix.
 * - `list(prefix)` returns every key starting with `prefix` (plain string prefix, not a folder), sorted
 *   ascending; implementations page internally.
 * - Presigned URLs let a client upload/download directly (browser -> S3, or -> the local API's /blobs route).
 *   A presigned PUT writes once: when the object exists it is refused (409 locally, 412 from S3), so the URL
 *   cannot replace what was uploaded through it.
 */
import { SentinelError } from '../errors.ts';

export interface BlobHead {
  /** Size in bytes. */
  size: number;
  /** MIME type given at `put` (or the presigned upload); `application/octet-stream` when none was given. */
  contentType: string;
  /** Opaque version tag (S3 ETag / MD5 hex locally), without quotes; changes whenever the bytes do. */
  etag?: string;
  lastModified: Date;
}

export interface BlobListEntry {
  key: string;
  size: number;
}

export interface PutOptions {
  contentType?: string;
}

export interface PresignPutOptions {
  expiresSeconds: number;
  /** The upload must send exactly this Content-Type header (it is part of the signature). */
  contentType: string;
  /**
   * Upper bound on the upload's size. The local endpoint enforces it while receiving; S3 cannot bound a
   * presigned PUT, so callers must `head()` the object when the client reports completion and reject
   * oversized ones. See {@link BlobStore.presignPutEnforcesMaxBytes}.
   */
  maxBytes?: number;
}

export interface PresignGetOptions {
  expiresSeconds: number;
}

/** What a client needs to upload: send `method` to `url` with exactly `headers` and the bytes as body. */
export interface PresignedRequest {
  url: string;
  method: 'PUT';
  headers: Record<string, string>;
}

export interface BlobStore {
  /** Which implementation this is (`fs`, `s3`): for logs and health checks, never for branching. */
  readonly kind: string;
  /** True when `presignPut`'s `maxBytes` is enforced during the upload itself (fs); false for S3. */
  readonly presignPutEnforcesMaxBytes: boolean;

  put(key: string, bytes: Uint8Array, options?: PutOptions): Promise<void>;
  /** The object's bytes, or `null` when there is no object under `key`. */
  get(key: string): Promise<Uint8Array | null>;
  /** The object's metadata, or `null` when there is no object under `key`. */
  head(key: string): Promise<BlobHead | null>;
  /** Every key starting with `prefix` (with its size), ascending. `''` lists everything. */
  list(prefix: string): Promise<BlobListEntry[]>;
  /** Removes the object; no error when it does not exist. */
  delete(key: string): Promise<void>;
  presignPut(key: string, options: PresignPutOptions): Promise<PresignedRequest>;
  /** A URL that GETs the object's bytes until it expires. Signing does not check that the object exists. */
  presignGet(key: string, options: PresignGetOptions): Promise<string>;
  /** Release clients; the stored objects are untouched. */
  close(): Promise<void>;
}

/** Longest key accepted: S3's limit is 1024 bytes; keys are ASCII here so chars = bytes. */
export const MAX_BLOB_KEY_LENGTH = 1024;
/** Longest presigned URL lifetime: SigV4's limit (7 days), applied to every implementation. */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

const SEGMENT = /^[A-Za-z0-9._-]+$/;

/**
 * Keys are `/`-separated segments of `[A-Za-z0-9._-]`, no empty, `.` or `..` segment, no leading or trailing
 * slash, at most {@link MAX_BLOB_KEY_LENGTH} chars. Strict on purpose: keys are made by the service (never
 * raw user file names), they map safely onto a filesystem and need no URL-encoding subtleties on S3.
 */
export function validateBlobKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new SentinelError('INVALID_KEY', 'Blob key must be a non-empty string.', { key });
  }
  if (key.length > MAX_BLOB_KEY_LENGTH) {
    throw new SentinelError('INVALID_KEY', `Blob key is longer than ${MAX_BLOB_KEY_LENGTH} characters.`, {
      length: key.length,
    });
  }
  for (const segment of key.split('/')) {
    if (!SEGMENT.test(segment) || segment === '.' || segment === '..') {
      throw new SentinelError(
        'INVALID_KEY',
        `Blob key "${key}" is invalid: use "/"-separated segments of letters, digits, ".", "_" or "-" (no empty, "." or ".." segments).`,
        { key },
      );
    }
  }
  return key;
}

/** Prefixes follow the key rules, except that `''` (everything) and a trailing `/` are allowed. */
export function validateBlobPrefix(prefix: unknown): string {
  if (prefix === '') return '';
  if (typeof prefix !== 'string') {
    throw new SentinelError('INVALID_KEY', 'Blob prefix must be a string.', { prefix });
  }
  validateBlobKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}

export function validateExpiresSeconds(expiresSeconds: unknown): number {
  if (
    typeof expiresSeconds !== 'number' ||
    !Number.isInteger(expiresSeconds) ||
    expiresSeconds < 1 ||
    expiresSeconds > MAX_PRESIGN_SECONDS
  ) {
    throw new SentinelError(
      'INVALID_ARGUMENT',
      `expiresSeconds must be an integer from 1 to ${MAX_PRESIGN_SECONDS}.`,
      { expiresSeconds },
    );
  }
  return expiresSeconds;
}

/** Content types are stored and echoed in headers: allow only a plain `type/subtype[; params]` token. */
export function validateContentType(contentType: unknown): string {
  if (typeof contentType !== 'string' || !/^[\w.+-]+\/[\w.+-]+(\s*;\s*[\w.+-]+=[\w.+"-]+)*$/.test(contentType)) {
    throw new SentinelError('INVALID_ARGUMENT', `Invalid content type ${JSON.stringify(contentType)}.`, {
      contentType,
    });
  }
  return contentType;
}

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
