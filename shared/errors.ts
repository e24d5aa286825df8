/**
 * The one error type of Sentinel's core: a stable machine-readable `code` plus a message a person can act on.
 * Entry points (API, CLI) map codes to HTTP statuses / exit codes; the core never throws bare Errors for bad input.
 */
export class SentinelError extends Error {
  /** Stable, SCREAMING_SNAKE code, e.g. `INVALID_ARGUMENT`; callers branch on it, never on the message. */
  readonly code: string;
  /** Optional structured details (offending field, limits), safe to serialise into an API error body. */
  readonly details?: Record<string, unknown>;

  constructor(code: string, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SentinelError';
    this.code = code;
    if (details !== undefined) this.details = details;
  }
}

/** Bad argument to a pure core function (wrong length, out-of-range value, mismatched arrays). */
export function invalidArgument(message: string, details?: Record<string, unknown>): SentinelError {
  return new SentinelError('INVALID_ARGUMENT', message, details);
}
