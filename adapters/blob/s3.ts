/**
 * BlobStore on Amazon S3 — or any S3-compatible endpoint (fauxqs in tests, MinIO…) via `endpoint` +
 * `forcePathStyle`. The bucket is made by infra; credentials come from the SDK's default chain
 * (Lambda role, AWS_ACCESS_KEY_ID/…, profiles).
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
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

export interface S3BlobStoreOptions {
  bucket: string;
  /** A configured client; otherwise one is made from the options below. */
  client?: S3Client;
  /** Custom endpoint (emulators, MinIO), e.g. http://127.0.0.1:4566. */
  endpoint?: string;
  region?: string;
  /** Static credentials (emulators); unset = the SDK's default chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Path-style URLs (http://host/bucket/key): needed by most emulators. */
  forcePathStyle?: boolean;
  /** Keys per ListObjectsV2 page (S3's maximum, 1000, by default; tests use a small one to exercise paging). */
  listPageSize?: number;
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

export class S3BlobStore implements BlobStore {
  readonly kind = 's3';
  /** A presigned PUT cannot bound its size on S3: callers head() the object on completion. */
  readonly presignPutEnforcesMaxBytes = false;

  readonly #bucket: string;
  readonly #client: S3Client;
  readonly #ownsClient: boolean;
  readonly #pageSize: number;

  constructor(options: S3BlobStoreOptions) {
    if (!options.bucket) throw new SentinelError('CONFIG', 'S3BlobStore needs a bucket.');
    this.#bucket = options.bucket;
    this.#pageSize = options.listPageSize ?? 1000;
    this.#ownsClient = !options.client;
    this.#client =
      options.client ??
      new S3Client({
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        ...(options.region ? { region: options.region } : {}),
        ...(options.credentials ? { credentials: { ...options.credentials } } : {}),
        forcePathStyle: options.forcePathStyle ?? false,
        // SDK >= 3.729 adds a CRC32 of the (empty) presign-time body to presigned PUT URLs, which S3 then
        // rejects for the real upload; compute checksums only where an operation requires them.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
  }

  async put(key: string, bytes: Uint8Array, options: PutOptions = {}): Promise<void> {
    validateBlobKey(key);
    if (!(bytes instanceof Uint8Array)) throw new SentinelError('INVALID_ARGUMENT', 'put() needs the bytes as a Uint8Array.');
    await this.#client.send(
      new PutObjectCommand({
        Bucket: this.#bucket,
        Key: key,
        Body: bytes,
        ContentLength: bytes.byteLength,
        ContentType: options.contentType === undefined ? DEFAULT_CONTENT_TYPE : validateContentType(options.contentType),
      }),
    );
  }

  async get(key: string): Promise<Uint8Array | null> {
    validateBlobKey(key);
    try {
      const out = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key }));
      if (!out.Body) return new Uint8Array(0);
      return await out.Body.transformToByteArray();
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async head(key: string): Promise<BlobHead | null> {
    validateBlobKey(key);
    try {
      const out = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: key }));
      return {
        size: out.ContentLength ?? 0,
        contentType: out.ContentType ?? DEFAULT_CONTENT_TYPE,
        ...(out.ETag ? { etag: out.ETag.replace(/^"|"$/g, '') } : {}),
        lastModified: out.LastModified ?? new Date(0),
      };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async list(prefix: string): Promise<BlobListEntry[]> {
    validateBlobPrefix(prefix);
    const out: BlobListEntry[] = [];
    const pages = paginateListObjectsV2(
      { client: this.#client, pageSize: this.#pageSize },
      { Bucket: this.#bucket, ...(prefix ? { Prefix: prefix } : {}) },
    );
    for await (const page of pages) {
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) out.push({ key: object.Key, size: object.Size ?? 0 });
      }
    }
    // S3 already lists in byte order; sorting keeps the contract even for emulators that don't.
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    validateBlobKey(key);
    await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key }));
  }

  async presignPut(key: string, options: PresignPutOptions): Promise<PresignedRequest> {
    validateBlobKey(key);
    const contentType = validateContentType(options.contentType);
    const url = await getSignedUrl(
      this.#client,
      new PutObjectCommand({ Bucket: this.#bucket, Key: key, ContentType: contentType, IfNoneMatch: '*' }),
      // Content-Type and If-None-Match are signed: another type is refused, and so is a PUT once the object exists.
      { expiresIn: validateExpiresSeconds(options.expiresSeconds), signableHeaders: new Set(['content-type', 'if-none-match']) },
    );
    return { url, method: 'PUT', headers: { 'Content-Type': contentType, 'If-None-Match': '*' } };
  }

  async presignGet(key: string, options: PresignGetOptions): Promise<string> {
    validateBlobKey(key);
    return getSignedUrl(this.#client, new GetObjectCommand({ Bucket: this.#bucket, Key: key }), {
      expiresIn: validateExpiresSeconds(options.expiresSeconds),
    });
  }

  /** Release the client's sockets (only a client this store made itself). */
  async close(): Promise<void> {
    if (this.#ownsClient) this.#client.destroy();
  }
}
