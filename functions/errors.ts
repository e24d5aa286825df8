/**
 * Every API error is `{error: {code, message, request_id}}` (plus `details` when the core gave any); `request_id` is
 * the answer's X-Request-Id (functions/observability.ts), so a report quoting a body finds its log lines. Codes are the core's codes
 * in lower snake case (AudioError's are already), so a client branches on one vocabulary; the HTTP status says
 * which side is at fault: 400 bad input, 401/403 key, 404, 409 state, 413 too large, 415 not a media type we take,
 * 421 a host we do not answer, 429 rate limit or quota (with Retry-After), 503 a failing dependency (with its code).
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { publicErrorCode, SentinelError } from '../shared/errors.ts';

/** HTTP status per core error code; codes not listed are 400 when they come from a SentinelError (bad input). */
export const ERROR_STATUS: Readonly<Record<string, number>> = Object.freeze({
  // shared/audio (AudioError)
  unsupported_format: 415,
  empty: 400,
  corrupt: 400,
  too_long: 413,
  too_short: 400,
  too_many_channels: 400,
  unsupported_sample_rate: 400,
  too_large: 413,
  invalid_samples: 400,
  // adapters/intake (IntakeError)
  invalid_zip: 400,
  zip_unsafe_path: 400,
  zip_symlink: 400,
  zip_encrypted: 400,
  zip_bomb: 413,
  zip_too_large: 413,
  zip_too_many_entries: 413,
  too_many_files: 413,
  no_labeled_clips: 400,
  no_valid_clips: 400,
  // core / repository
  INVALID_ARGUMENT: 400,
  INVALID_KEY: 400,
  TRAINING_DATA_INVALID: 400,
  NOT_FOUND: 404,
  MODEL_NOT_FOUND: 404,
  UPLOAD_NOT_FOUND: 404,
  CONFLICT: 409,
  TOO_LARGE: 413,
  MODEL_NOT_READY: 503,
  MODEL_ARTIFACT_INVALID: 500,
  MODEL_ARTIFACT_CORRUPT: 500,
  MODEL_CONFIG_MISMATCH: 500,
  CONFIG: 500,
  INTERNAL: 500,
});

/** An error raised by a route with its HTTP status chosen there. */
export class ApiError extends SentinelError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    details?: Record<string, unknown>,
  ) {
    super(code, message, details);
    this.name = 'ApiError';
  }
}

/** An error as the core or a route states it; what is sent adds the request id (`errorJson`). */
export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** The JSON error answer of request `c`: `error` with the request id its X-Request-Id header carries. */
export function errorJson(c: Context, status: number, error: ErrorBody['error']): Response {
  return c.json({ error: { ...error, request_id: c.get('requestId') } }, status as ContentfulStatusCode);
}

const HTTP_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  421: 'misdirected_request',
  429: 'too_many_requests',
  500: 'internal',
  503: 'unavailable',
};

/** Status and body for any thrown value; `internal` hides the message of errors we did not raise on purpose. */
export function errorResponse(error: unknown): { status: number; body: ErrorBody; unexpected: boolean } {
  if (error instanceof ApiError) {
    return { status: error.status, body: body(error.code, error.message, error.details), unexpected: false };
  }
  if (error instanceof SentinelError) {
    const status = ERROR_STATUS[error.code] ?? 400;
    return { status, body: body(error.code, error.message, error.details), unexpected: status >= 500 };
  }
  if (error instanceof HTTPException) {
    const status = error.status;
    return { status, body: body(HTTP_CODES[status] ?? `http_${status}`, error.message || 'Request failed.'), unexpected: false };
  }
  return { status: 500, body: body('internal', 'Internal error; it has been logged.'), unexpected: true };
}

function body(code: string, message: string, details?: Record<string, unknown>): ErrorBody {
  return { error: { code: publicErrorCode(code), message, ...(details && Object.keys(details).length ? { details } : {}) } };
}
