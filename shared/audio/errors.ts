import { SentinelError } from '../errors.js';

/** Why an audio input was rejected; stable strings that API responses and tests match on. */
export type AudioErrorCode = 'unsupported_format' | 'empty' | 'corrupt' | 'too_long' | 'too_short';

/** Bad audio input. A SentinelError, so entry points map it like any other core error; `code` is narrowed. */
export class AudioError extends SentinelError {
  declare readonly code: AudioErrorCode;

  constructor(code: AudioErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(code, message, details, options);
    this.name = 'AudioError';
  }
}
