/**
 * JobQueue: the work-queue port between the API (producer) and the retraining worker (consumer).
 * Implementations: adapters/queue/db.ts (durable queue in the database, local stack) and adapters/queue/sqs.ts.
 * Pure types + argument checks: no Node imports.
 *
 * Semantics are SQS's, so code written against the local queue behaves the same in the cloud:
 * - At-least-once delivery. A received job is invisible for `visibilitySeconds`; unless it is `ack`ed in that
 *   time it becomes receivable again (a redelivery, `receiveCount` + 1). Consumers must be idempotent
 *   (the repository's guarded `markRunning` is what keeps a duplicate from training twice).
 * - A job received `maxReceives` times without an ack is dead-lettered instead of being delivered again, and
 *   is then listed by `deadLetters()` (db queue: config `maxReceives`; SQS: the queue's RedrivePolicy
 *   maxReceiveCount, set by infra to the same SERVICE.queue.maxReceives).
 * - Bodies are JSON values: `T` must survive JSON.stringify/parse unchanged.
 *
 * Contract suite: tests/integration/job-queue.contract.test.ts.
 */
import { SentinelError } from '../errors.ts';

export interface SendOptions {
  /**
   * Idempotency key. Where `capabilities.dedup` is true, a second send with the same `dedupId` within
   * SERVICE.queue.dedupWindowSeconds (SQS FIFO's fixed 5 minutes) enqueues nothing and returns an id
   * (the db queue returns the first job's id). Where it is false (SQS standard queue) the key is only
   * carried along as a message attribute: duplicates are possible and consumers stay idempotent.
   */
  dedupId?: string;
  /** Keep the job invisible for this long after sending (0..900 s, SQS's range). Needs `capabilities.delay`. */
  delaySeconds?: number;
}

export interface ReceiveOptions {
  /** Long poll: wait up to this long (0..20 s) for a job when none is ready. */
  waitSeconds?: number;
  /** How long received jobs stay invisible before redelivery (0..43200 s). */
  visibilitySeconds?: number;
  /** Most jobs returned by one call (1..10, SQS's limit). */
  max?: number;
}

export interface ReceivedJob<T> {
  /** Stable job id (SQS MessageId): the same across redeliveries. */
  id: string;
  /** Handle of THIS delivery: pass it to `ack`/`extendVisibility`. A redelivery gets a new one. */
  receipt: string;
  body: T;
  /** How many times the job has been delivered, this delivery included (1 on first delivery). */
  receiveCount: number;
}

export interface DeadLetter<T> {
  id: string;
  body: T;
  receiveCount: number;
}

export interface QueueCapabilities {
  /** `dedupId` suppresses repeat sends (db queue; SQS FIFO queue). */
  dedup: boolean;
  /** `delaySeconds` per job is supported (db queue; SQS standard queue — FIFO queues reject it). */
  delay: boolean;
}

export interface JobQueue<T> {
  /** Which implementation this is (`db`, `sqs`): for logs and health checks. */
  readonly kind: string;
  readonly capabilities: QueueCapabilities;

  /** Enqueue one job; returns its id. Throws `UNSUPPORTED` for an option the queue lacks (see capabilities). */
  send(body: T, options?: SendOptions): Promise<string>;
  /** Up to `max` ready jobs, waiting up to `waitSeconds` for the first; `[]` when none arrived in time. */
  receive(options?: ReceiveOptions): Promise<ReceivedJob<T>[]>;
  /**
   * Done: delete the job. Acking twice with the same receipt is harmless. An unknown or superseded receipt
   * throws `RECEIPT_INVALID` (db queue always; SQS when the service rejects the handle — real SQS does for
   * malformed ones, the fauxqs emulator accepts anything).
   */
  ack(receipt: string): Promise<void>;
  /**
   * Keep the job invisible for `seconds` FROM NOW (SQS ChangeMessageVisibility semantics: it sets, it does
   * not add). A worker calls it periodically while a long job runs. `0` makes the job receivable at once
   * (a "nack"). Throws `RECEIPT_INVALID` when the receipt is unknown or the job was acked or dead-lettered.
   */
  extendVisibility(receipt: string, seconds: number): Promise<void>;
  /**
   * Dead-lettered jobs, oldest first, up to `max` (default 10). Listing does not remove them.
   * SQS: a best-effort peek at the DLQ named by the queue's RedrivePolicy.
   */
  deadLetters(options?: { max?: number }): Promise<DeadLetter<T>[]>;
  /** Release clients/timers. The queue's jobs are untouched. */
  close(): Promise<void>;
}

function checkInt(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new SentinelError('INVALID_ARGUMENT', `${name} must be an integer from ${min} to ${max}.`, {
      [name]: value,
    });
  }
  return value;
}

/** Limits shared by every implementation (SQS's), so a local test cannot pass with values SQS rejects. */
export const QUEUE_LIMITS = Object.freeze({
  maxDelaySeconds: 900,
  maxWaitSeconds: 20,
  maxVisibilitySeconds: 43_200,
  maxReceiveBatch: 10,
  maxDedupIdLength: 128,
});

export function checkSendOptions(options: SendOptions | undefined): SendOptions {
  const out: SendOptions = {};
  if (options?.delaySeconds !== undefined) {
    out.delaySeconds = checkInt('delaySeconds', options.delaySeconds, 0, QUEUE_LIMITS.maxDelaySeconds);
  }
  if (options?.dedupId !== undefined) {
    const id = options.dedupId;
    if (typeof id !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(id)) {
      throw new SentinelError('INVALID_ARGUMENT', 'dedupId must be 1-128 printable ASCII characters.', {
        dedupId: id,
      });
    }
    out.dedupId = id;
  }
  return out;
}

export function checkReceiveOptions(
  options: ReceiveOptions | undefined,
  defaults: Required<ReceiveOptions>,
): Required<ReceiveOptions> {
  return {
    waitSeconds: checkInt('waitSeconds', options?.waitSeconds ?? defaults.waitSeconds, 0, QUEUE_LIMITS.maxWaitSeconds),
    visibilitySeconds: checkInt(
      'visibilitySeconds',
      options?.visibilitySeconds ?? defaults.visibilitySeconds,
      0,
      QUEUE_LIMITS.maxVisibilitySeconds,
    ),
    max: checkInt('max', options?.max ?? defaults.max, 1, QUEUE_LIMITS.maxReceiveBatch),
  };
}

export function checkVisibilitySeconds(seconds: unknown): number {
  return checkInt('seconds', seconds, 0, QUEUE_LIMITS.maxVisibilitySeconds);
}

export function checkReceipt(receipt: unknown): string {
  if (typeof receipt !== 'string' || receipt.length === 0) {
    throw new SentinelError('RECEIPT_INVALID', 'Receipt must be the non-empty string a receive returned.');
  }
  return receipt;
}

/**
 * Bodies cross the wire as JSON; refuse what would not come back the same (undefined, functions, cycles).
 * Non-ASCII characters are written as \uXXXX escapes: SQS accepts only some Unicode ranges (emulators even
 * fewer), while escaped JSON is plain ASCII and parses back to the identical value.
 */
export function encodeJobBody(body: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(body);
  } catch (cause) {
    throw new SentinelError('INVALID_ARGUMENT', 'Job body is not JSON-serialisable.', undefined, { cause });
  }
  if (text === undefined) throw new SentinelError('INVALID_ARGUMENT', 'Job body is not JSON-serialisable.');
  return text.replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}
