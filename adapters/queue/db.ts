/**
 * JobQueue on the database (the `jobs` table of migration 001): the local stack's durable queue. Works on
 * PGlite and on Postgres/Neon alike. Jobs live in the table, so they survive restarts of the process.
 *
 * How it keeps SQS's semantics (see shared/ports/job-queue.ts):
 * - receive = one atomic `UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`: concurrent consumers
 *   (several worker processes on one Postgres) never get the same delivery; each delivery gets a fresh
 *   receipt and pushes visible_at forward by the visibility timeout.
 * - dead-letter: before picking, jobs that are visible again after `maxReceives` deliveries get dead_at set
 *   (the moment SQS's redrive would move them).
 * - dedup: unique (queue, dedup_id) index; a dedup_id older than the window is cleared before inserting.
 * - all times come from the database's now(), so several processes agree on visibility.
 * Acked jobs are kept (acked_at) for the dedup window, then deleted by later sends.
 */
import { sql, type Kysely } from 'kysely';
import { SERVICE } from '../../shared/config.ts';
import { SentinelError } from '../../shared/errors.ts';
import type { DatabaseSchema } from '../../shared/ports/db-schema.ts';
import {
  checkReceipt,
  checkReceiveOptions,
  checkSendOptions,
  checkVisibilitySeconds,
  encodeJobBody,
  type DeadLetter,
  type JobQueue,
  type ReceivedJob,
  type ReceiveOptions,
  type SendOptions,
} from '../../shared/ports/job-queue.ts';

export interface DbJobQueueOptions {
  db: Kysely<DatabaseSchema>;
  /** Logical queue name (several queues share the table). Default SERVICE.queue.name. */
  queue?: string;
  /** Deliveries before dead-lettering. Default SERVICE.queue.maxReceives. */
  maxReceives?: number;
  /** Default SERVICE.queue.dedupWindowSeconds. */
  dedupWindowSeconds?: number;
  /** Long-poll re-check interval, ms. Default SERVICE.queue.pollIntervalMs. */
  pollIntervalMs?: number;
  /** Defaults for receive() options not given by the caller. */
  receiveDefaults?: Partial<Required<ReceiveOptions>>;
}

interface JobRow {
  id: string;
  receipt: string;
  body: unknown;
  receive_count: number;
}

export class DbJobQueue<T> implements JobQueue<T> {
  readonly kind = 'db';
  readonly capabilities = Object.freeze({ dedup: true, delay: true });

  readonly #db: Kysely<DatabaseSchema>;
  readonly #queue: string;
  readonly #maxReceives: number;
  readonly #dedupWindow: number;
  readonly #pollMs: number;
  readonly #defaults: Required<ReceiveOptions>;
  /** Long polls of this process waiting for a job: a local send wakes them at once. */
  readonly #waiters = new Set<() => void>();
  #closed = false;

  constructor(options: DbJobQueueOptions) {
    this.#db = options.db;
    this.#queue = options.queue ?? SERVICE.queue.name;
    this.#maxReceives = options.maxReceives ?? SERVICE.queue.maxReceives;
    this.#dedupWindow = options.dedupWindowSeconds ?? SERVICE.queue.dedupWindowSeconds;
    this.#pollMs = options.pollIntervalMs ?? SERVICE.queue.pollIntervalMs;
    this.#defaults = {
      waitSeconds: options.receiveDefaults?.waitSeconds ?? SERVICE.queue.waitSeconds,
      visibilitySeconds: options.receiveDefaults?.visibilitySeconds ?? SERVICE.queue.visibilitySeconds,
      max: options.receiveDefaults?.max ?? SERVICE.queue.maxMessages,
    };
    if (!Number.isInteger(this.#maxReceives) || this.#maxReceives < 1) {
      throw new SentinelError('CONFIG', 'maxReceives must be a positive integer.', { maxReceives: this.#maxReceives });
    }
  }

  async send(body: T, options?: SendOptions): Promise<string> {
    this.#checkOpen();
    const { dedupId, delaySeconds = 0 } = checkSendOptions(options);
    const text = encodeJobBody(body);
    const queue = this.#queue;
    const window = this.#dedupWindow;
    const id = await this.#db.transaction().execute(async (trx) => {
      // Housekeeping: acked jobs are only kept to remember their dedup_id for the window.
      await trx
        .deleteFrom('jobs')
        .where('queue', '=', queue)
        .where('acked_at', '<', sql<Date>`now() - make_interval(secs => ${window})`)
        .execute();
      if (dedupId !== undefined) {
        await trx
          .updateTable('jobs')
          .set({ dedup_id: null })
          .where('queue', '=', queue)
          .where('dedup_id', '=', dedupId)
          .where('created_at', '<', sql<Date>`now() - make_interval(secs => ${window})`)
          .execute();
      }
      const inserted = await trx
        .insertInto('jobs')
        .values({
          id: globalThis.crypto.randomUUID(),
          queue,
          body: text,
          dedup_id: dedupId ?? null,
          visible_at: sql<Date>`now() + make_interval(secs => ${delaySeconds})`,
        })
        // A concurrent send of the same dedup_id waits on the index entry, then does nothing.
        .onConflict((oc) => oc.columns(['queue', 'dedup_id']).where('dedup_id', 'is not', null).doNothing())
        .returning('id')
        .executeTakeFirst();
      if (inserted) return inserted.id;
      const existing = await trx
        .selectFrom('jobs')
        .select('id')
        .where('queue', '=', queue)
        .where('dedup_id', '=', dedupId!)
        .executeTakeFirstOrThrow();
      return existing.id;
    }).catch((error: unknown) => {
      // jsonb refuses \u0000 and lone surrogates (22P05 untranslatable_character), which JSON allows.
      if ((error as { code?: string })?.code === '22P05') {
        throw new SentinelError('INVALID_ARGUMENT', 'Job body has a character Postgres jsonb cannot store (NUL or a lone surrogate).', undefined, { cause: error });
      }
      throw error;
    });
    if (delaySeconds === 0) this.#wake();
    return id;
  }

  async receive(options?: ReceiveOptions): Promise<ReceivedJob<T>[]> {
    this.#checkOpen();
    const opts = checkReceiveOptions(options, this.#defaults);
    const deadline = Date.now() + opts.waitSeconds * 1000;
    for (;;) {
      const jobs = await this.#receiveOnce(opts.max, opts.visibilitySeconds);
      const remaining = deadline - Date.now();
      if (jobs.length > 0 || remaining <= 0 || this.#closed) return jobs;
      await this.#sleep(Math.min(this.#pollMs, remaining));
    }
  }

  async #receiveOnce(max: number, visibilitySeconds: number): Promise<ReceivedJob<T>[]> {
    const queue = this.#queue;
    const maxReceives = this.#maxReceives;
    await sql`
      update jobs set dead_at = now()
      where queue = ${queue} and acked_at is null and dead_at is null
        and visible_at <= now() and receive_count >= ${maxReceives}`.execute(this.#db);
    const { rows } = await sql<JobRow & { created_at: Date }>`
      update jobs set
        receive_count = jobs.receive_count + 1,
        receipt = gen_random_uuid()::text,
        visible_at = now() + make_interval(secs => ${visibilitySeconds})
      from (
        select id from jobs
        where queue = ${queue} and acked_at is null and dead_at is null
          and visible_at <= now() and receive_count < ${maxReceives}
        order by visible_at, created_at, id
        limit ${max}
        for update skip locked
      ) as picked
      where jobs.id = picked.id
      returning jobs.id, jobs.receipt, jobs.body, jobs.receive_count, jobs.created_at`.execute(this.#db);
    rows.sort((a, b) => a.created_at.getTime() - b.created_at.getTime() || a.id.localeCompare(b.id));
    return rows.map((r) => ({ id: r.id, receipt: r.receipt, body: r.body as T, receiveCount: r.receive_count }));
  }

  async ack(receipt: string): Promise<void> {
    checkReceipt(receipt);
    const done = await this.#db
      .updateTable('jobs')
      .set({ acked_at: sql`now()` })
      .where('queue', '=', this.#queue)
      .where('receipt', '=', receipt)
      .where('acked_at', 'is', null)
      .returning('id')
      .executeTakeFirst();
    if (done) return;
    // Acking twice with the same receipt is fine; a receipt that never was (or was superseded) is not.
    const already = await this.#db
      .selectFrom('jobs')
      .select('id')
      .where('queue', '=', this.#queue)
      .where('receipt', '=', receipt)
      .executeTakeFirst();
    if (!already) throw receiptInvalid();
  }

  async extendVisibility(receipt: string, seconds: number): Promise<void> {
    checkReceipt(receipt);
    checkVisibilitySeconds(seconds);
    const row = await this.#db
      .updateTable('jobs')
      .set({ visible_at: sql`now() + make_interval(secs => ${seconds})` })
      .where('queue', '=', this.#queue)
      .where('receipt', '=', receipt)
      .where('acked_at', 'is', null)
      .where('dead_at', 'is', null)
      .returning('id')
      .executeTakeFirst();
    if (!row) throw receiptInvalid();
    if (seconds === 0) this.#wake();
  }

  async deadLetters(options: { max?: number } = {}): Promise<DeadLetter<T>[]> {
    const max = options.max ?? 10;
    if (!Number.isInteger(max) || max < 1 || max > 1000) {
      throw new SentinelError('INVALID_ARGUMENT', 'max must be an integer from 1 to 1000.', { max });
    }
    const rows = await this.#db
      .selectFrom('jobs')
      .select(['id', 'body', 'receive_count'])
      .where('queue', '=', this.#queue)
      .where('dead_at', 'is not', null)
      .where('acked_at', 'is', null)
      .orderBy('dead_at')
      .orderBy('id')
      .limit(max)
      .execute();
    return rows.map((r) => ({ id: r.id, body: r.body as T, receiveCount: r.receive_count }));
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wake();
  }

  #checkOpen(): void {
    if (this.#closed) throw new SentinelError('CLOSED', 'The job queue is closed.');
  }

  #wake(): void {
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
    });
  }
}

function receiptInvalid(): SentinelError {
  return new SentinelError(
    'RECEIPT_INVALID',
    'Unknown receipt: the job was never received with it, was redelivered since (new receipt), or was dead-lettered.',
  );
}
