/**
 * What every response carries and every request leaves behind: a request id (X-Request-Id, the caller's when sane),
 * one access-log line, security headers, compression of large text bodies; and one audit line per admin change
 * (promote, rollback, API key create/revoke). Web-standard middleware only, so the Lambda runs the same code
 * (CompressionStream is global from Node 18 on).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { compress, COMPRESSIBLE_CONTENT_TYPE_REGEX } from 'hono/compress';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import { API } from '../shared/config.ts';
import type { AuthVariables } from './auth.ts';
import { errorResponse } from './errors.ts';

export type LogFn = (level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>) => void;

declare module 'hono' {
  interface ContextVariableMap {
    /** What an audited handler adds to its audit line (versions switched, the key created…). */
    audit?: Record<string, unknown>;
  }
}

/**
 * The middleware every route runs, outermost first: request id, access log, security headers, compression.
 * `crossOrigin`: other origins may read responses (CORS is configured), so Cross-Origin-Resource-Policy allows them.
 */
export function httpBasics(log: LogFn, options: { crossOrigin: boolean }): MiddlewareHandler[] {
  return [
    // hono/request-id keeps an incoming X-Request-Id of at most 255 word characters, '-' or '=', else makes a UUID.
    requestId({ limitLength: API.requestIdMaxLength }),
    accessLog(log),
    secureHeaders({ crossOriginResourcePolicy: options.crossOrigin ? 'cross-origin' : 'same-origin' }),
    compress({ threshold: API.compressMinBytes }),
    measureText(),
  ];
}

/** One line per request: request id, method, path (never the query), status, handler time. */
function accessLog(log: LogFn): MiddlewareHandler {
  return async (c, next) => {
    const start = performance.now();
    await next();
    const status = c.res.status;
    log(status >= 500 ? 'warn' : 'info', 'request', {
      request_id: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      status,
      ms: Math.round((performance.now() - start) * 10) / 10,
    });
  };
}

const ACCEPTS_COMPRESSION = /\b(?:gzip|deflate)\b/i;

/**
 * hono/compress skips small bodies only when their Content-Length is known, and c.json()/c.html() set none: text
 * bodies are measured here (they are in memory already) so that a small JSON answer goes out as it is. Only when the
 * client takes compression at all; audio, zips and model weights are not text and pass untouched.
 */
function measureText(): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const res = c.res;
    if (!res.body || res.headers.has('Content-Length') || !ACCEPTS_COMPRESSION.test(c.req.header('accept-encoding') ?? '')) return;
    if (!COMPRESSIBLE_CONTENT_TYPE_REGEX.test(res.headers.get('Content-Type') ?? '')) return;
    const bytes = await res.arrayBuffer();
    c.res = new Response(bytes, res);
    c.res.headers.set('Content-Length', String(bytes.byteLength));
  };
}

/**
 * One structured line per admin change, whatever its outcome: who (API key id and name, null when none was
 * accepted), what (`action`, the route's path parameters, and what the handler put in `c.set('audit', …)`), result
 * (`ok` or the error code) and status. Mount it before the key check so that refused attempts are audited too.
 */
export function audit(log: LogFn, action: string): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    await next();
    const status = c.res.status;
    // Unset when the key check refused the request.
    const key = c.get('apiKey') as AuthVariables['apiKey'] | undefined;
    log(status < 400 ? 'info' : 'warn', 'audit', {
      audit: action,
      request_id: c.get('requestId'),
      key_id: key?.id ?? null,
      key_name: key?.name ?? null,
      ...c.req.param(),
      ...c.get('audit'),
      result: status < 400 ? 'ok' : errorCode(c),
      status,
    });
  };
}

function errorCode(c: Context): string {
  return c.error ? errorResponse(c.error).body.error.code : `http_${c.res.status}`;
}
