/**
 * Guards of the open routes: per-client rate limits, a quota on what open routes may store, the Host check (DNS
 * rebinding), the cross-site check (a page elsewhere posting a form to /predict), and storage faults as 503s.
 * All in-process state: with several API processes (Lambda containers) each enforces its own share.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { SentinelError } from '../shared/errors.ts';
import { ApiError } from './errors.ts';

/** Token bucket per client (its 429 carries details.retry_after_seconds, sent as Retry-After by app.onError): `perMinute` requests a minute, bursts up to `perMinute`. 0 = no limit. */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until the client may try again, or 0 when this request is allowed (and counted). */
  take(client: string): number {
    if (this.perMinute <= 0) return 0;
    const now = this.now();
    const rate = this.perMinute / 60_000;
    const bucket = this.#buckets.get(client) ?? { tokens: this.perMinute, at: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * rate);
    bucket.at = now;
    if (this.#buckets.size > 10_000) this.#prune(now);
    this.#buckets.set(client, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / rate / 1000));
  }

  /** Full buckets carry no state worth keeping: dropping them bounds memory under many clients. */
  #prune(now: number): void {
    for (const [client, b] of this.#buckets) if (b.tokens + (now - b.at) * (this.perMinute / 60_000) >= this.perMinute) this.#buckets.delete(client);
  }

  middleware(clientOf: (c: Context) => string): MiddlewareHandler {
    return async (c, next) => {
      const wait = this.take(clientOf(c));
      if (wait > 0) {
        throw new ApiError(429, 'rate_limited', `Too many requests from this client: at most ${this.perMinute} a minute. Retry in ${wait} s.`, {
          retry_after_seconds: wait,
        });
      }
      await next();
    };
  }
}

/**
 * Bytes open routes may keep (kept /predict audio, presigned audio uploads until used). `used` starts from what the
 * store holds (`measure`, read once) and then follows reservations and releases.
 */
export class StorageQuota {
  #used: Promise<number> | null = null;
  constructor(
    readonly maxBytes: number,
    private readonly measure: () => Promise<number>,
  ) {}

  #current(): Promise<number> {
    this.#used ??= this.measure().catch((error) => {
      this.#used = null; // measure again next time rather than remember a failure
      throw error;
    });
    return this.#used;
  }

  /** Counts `bytes` against the quota, or throws 429 `storage_quota_exceeded` when they do not fit. */
  async reserve(bytes: number): Promise<void> {
    if (this.maxBytes <= 0) return;
    const used = await this.#current();
    if (used + bytes > this.maxBytes) {
      throw new ApiError(
        429,
        'storage_quota_exceeded',
        `Open uploads may keep ${this.maxBytes} bytes and ${used} are in use; send without keep, or ask an admin to free space.`,
        { max_bytes: this.maxBytes, used_bytes: used, retry_after_seconds: 3600 },
      );
    }
    this.#used = Promise.resolve(used + bytes);
  }

  /** Forget the count: the next reservation measures the store again (after a sweep deleted things). */
  reset(): void {
    this.#used = null;
  }

  release(bytes: number): void {
    if (this.maxBytes <= 0 || !this.#used) return;
    this.#used = this.#used.then((u) => Math.max(0, u - bytes));
  }
}

/**
 * Host header check: a page on attacker.example whose name is rebound to 127.0.0.1 reaches the local stack with
 * `Host: attacker.example`, so only the names the service is known by are answered. Empty list = no check (a
 * deployment behind a gateway that routes by host already).
 */
export function hostGuard(allowed: readonly string[]): MiddlewareHandler {
  const names = new Set(allowed.map((h) => h.toLowerCase()));
  return async (c, next) => {
    if (names.size > 0) {
      const host = hostName(c.req.header('host') ?? new URL(c.req.url).host);
      if (!names.has(host)) throw new ApiError(421, 'host_not_allowed', `This service does not answer to the host "${host}".`);
    }
    await next();
  };
}

/** `example.org:8787` -> `example.org`, `[::1]:8787` -> `[::1]`. */
function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  return h.replace(/:\d+$/, '');
}

/**
 * Cross-site writes: a form on another site can POST multipart to /predict without CORS (a "simple" request), so a
 * browser-sent write whose Origin is neither this service nor a configured CORS origin is refused. Clients that are
 * not browsers send no Origin and pass.
 */
export function crossSiteGuard(corsOrigins: readonly string[]): MiddlewareHandler {
  const allowed = new Set(corsOrigins);
  return async (c, next) => {
    const method = c.req.method;
    if (method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS') {
      const origin = c.req.header('origin');
      const site = c.req.header('sec-fetch-site');
      const own = origin !== undefined && origin !== 'null' && sameHost(origin, c.req.header('host') ?? new URL(c.req.url).host);
      const refused = origin !== undefined ? !own && !allowed.has(origin) : site === 'cross-site';
      if (refused) throw new ApiError(403, 'cross_site_request', `Writes from another site (${origin ?? 'unknown origin'}) are not accepted.`);
    }
    await next();
  };
}

function sameHost(origin: string, host: string): boolean {
  try {
    return new URL(origin).host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}

export type StoragePart = 'database' | 'blobs';

const UNAVAILABLE: Record<StoragePart, { code: string; what: string }> = {
  database: { code: 'database_unavailable', what: 'The database' },
  blobs: { code: 'storage_unavailable', what: 'The file store' },
};

/** The 503 a failure of `part` becomes; SentinelErrors (bad input, conflicts, 4xx) pass through as they are. */
export function storageFault(part: StoragePart, error: unknown): unknown {
  if (error instanceof SentinelError) return error;
  const { code, what } = UNAVAILABLE[part];
  const reason = error instanceof Error ? error.message : String(error);
  return new ApiError(503, code, `${what} is failing, so this request could not be carried out. Try again later.`, { reason: reason.slice(0, 200) });
}

/**
 * The port with every method's failure turned into {@link storageFault}'s 503 (repo.transaction's too, whose
 * callback gets the raw port: its failures surface through the outer call).
 */
export function guardPort<T extends object>(target: T, part: StoragePart, onFault?: (part: StoragePart, error: unknown) => void): T {
  return new Proxy(target, {
    get(obj, prop) {
      const value = Reflect.get(obj, prop, obj) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const fail = (error: unknown) => {
          const mapped = storageFault(part, error);
          if (mapped !== error) onFault?.(part, error);
          throw mapped;
        };
        try {
          const result = (value as (...a: unknown[]) => unknown).apply(obj, args);
          return result instanceof Promise ? result.catch(fail) : result;
        } catch (error) {
          return fail(error);
        }
      };
    },
  });
}
