import { expect } from 'vitest';
import { SentinelError } from '../../../shared/errors.ts';

/** Awaits `promise` and asserts it rejected with a SentinelError of `code` (contract suites share this). */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected SentinelError ${code}`).toBeInstanceOf(SentinelError);
  expect((error as SentinelError).code).toBe(code);
}
