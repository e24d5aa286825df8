/**
 * API keys: random `snt_<64 hex>` strings, stored only as their SHA-256 (api_keys.key_hash). A client sends one as
 * `Authorization: Bearer <key>` or `X-API-Key: <key>`. Missing -> 401, unknown or revoked -> 403.
 * Verified keys are remembered for a few seconds so a keyed /predict under load does not query per request; a
 * revocation therefore takes effect within KEY_CACHE_MS.
 */
import { randomBytes } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { API } from '../shared/config.ts';
import { sha256Hex } from '../shared/hash.ts';
import type { ApiKey } from '../shared/ports/db-schema.ts';
import type { Repository } from '../shared/ports/repository.ts';
import { ApiError } from './errors.ts';

const KEY_CACHE_MS = 10_000;
export const BOOTSTRAP_KEY_NAME = 'bootstrap';

export function generateApiKey(): string {
  return API.apiKeyPrefix + randomBytes(32).toString('hex');
}

export function hashApiKey(key: string): Promise<string> {
  return sha256Hex(key);
}

/**
 * Stores the key's hash unless it is already there (idempotent across restarts and containers). A key revoked
 * once stays revoked: the answer is then null (and the caller says so) rather than the key coming back to life.
 */
export async function ensureApiKey(repo: Repository, key: string, name = BOOTSTRAP_KEY_NAME): Promise<ApiKey | null> {
  const hash = await hashApiKey(key);
  const existing = await repo.verifyApiKey(hash);
  if (existing) return existing;
  if ((await repo.listApiKeys()).some((k) => k.key_hash === hash)) return null;
  try {
    return await repo.createApiKey({ name, key_hash: hash });
  } catch (error) {
    // Another process stored it first.
    const raced = await repo.verifyApiKey(hash);
    if (raced) return raced;
    throw error;
  }
}

/**
 * Makes `key` the bootstrap key: stored if new, and every other live bootstrap key revoked, so a changed
 * SENTINEL_ADMIN_KEY retires the one it replaces. Null when `key` itself was revoked (it is not revived).
 */
export async function rotateBootstrapKey(repo: Repository, key: string): Promise<{ key: ApiKey; revoked: string[] } | null> {
  const stored = await ensureApiKey(repo, key, BOOTSTRAP_KEY_NAME);
  if (!stored) return null;
  const revoked: string[] = [];
  for (const other of await repo.listApiKeys()) {
    if (other.name === BOOTSTRAP_KEY_NAME && other.id !== stored.id && other.revoked_at === null && (await repo.revokeApiKey(other.id))) revoked.push(other.id);
  }
  return { key: stored, revoked };
}

export function presentedKey(headers: { header(name: string): string | undefined }): string | undefined {
  const auth = headers.header('authorization');
  if (auth) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return match?.[1];
  }
  return headers.header('x-api-key')?.trim() || undefined;
}

export type AuthVariables = { apiKey: { id: string; name: string } };

/** Checks presented keys against api_keys (with a short positive cache). */
export class ApiKeyVerifier {
  readonly #cache = new Map<string, { key: { id: string; name: string }; until: number }>();
  constructor(private readonly repo: Repository) {}

  /** The key's id and name; ApiError 401 when none is presented, 403 when it is unknown or revoked. */
  async verify(headers: { header(name: string): string | undefined }): Promise<{ id: string; name: string }> {
    const key = presentedKey(headers);
    if (!key) {
      throw new ApiError(401, 'missing_api_key', 'This route needs an API key: send "Authorization: Bearer <key>" or "X-API-Key: <key>".');
    }
    const hash = await hashApiKey(key);
    const now = Date.now();
    const hit = this.#cache.get(hash);
    if (hit && hit.until >= now) return hit.key;
    const row = await this.repo.verifyApiKey(hash);
    if (!row) {
      this.#cache.delete(hash);
      throw new ApiError(403, 'invalid_api_key', 'The API key is not valid (unknown or revoked).');
    }
    if (this.#cache.size > 1000) this.#cache.clear();
    const key_ = { id: row.id, name: row.name };
    this.#cache.set(hash, { key: key_, until: now + KEY_CACHE_MS });
    return key_;
  }

  /** Drops remembered keys: a revocation through this process takes effect at once. */
  forget(): void {
    this.#cache.clear();
  }

  /** Middleware: the request must carry a valid key; its id and name become `apiKey` (the audit actor). */
  middleware(): MiddlewareHandler<{ Variables: AuthVariables }> {
    return async (c, next) => {
      c.set('apiKey', await this.verify(c.req));
      await next();
    };
  }
}
