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

/**
 * Core codes that clients see under another name: INVALID_ARGUMENT is the core's word for a bad call and USAGE the
 * CLI's for a bad command line; what reaches a client of either is a request that could not be carried out as sent.
 */
const PUBLIC_CODE: Readonly<Record<string, string>> = Object.freeze({ INVALID_ARGUMENT: 'invalid_request', USAGE: 'invalid_request' });

/** The code an API body or the CLI's output carries: one vocabulary, lower snake case (`model_not_found`). */
export function publicErrorCode(code: string): string {
  return (PUBLIC_CODE[code] ?? code).toLowerCase();
}
