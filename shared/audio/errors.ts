import { SentinelError } from '../errors.js';

/**
 * Why an audio input was rejected; stable strings that API responses and tests match on. The decode budget's
 * (config DECODE): too_many_channels, unsupported_sample_rate, too_large (decodes to more samples than allowed);
 * invalid_samples: decoded audio the analysis cannot represent (samples so large its spectrogram overflows).
 */
export type AudioErrorCode =
  | 'unsupported_format'
  | 'empty'
  | 'corrupt'
  | 'too_long'
  | 'too_short'
  | 'too_many_channels'
  | 'unsupported_sample_rate'
  | 'too_large'
  | 'invalid_samples';

/** Bad audio input. A SentinelError, so entry points map it like any other core error; `code` is narrowed. */
export class AudioError extends SentinelError {
  declare readonly code: AudioErrorCode;

  constructor(code: AudioErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(code, message, details, options);
    this.name = 'AudioError';
  }
}
