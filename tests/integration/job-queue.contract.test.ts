/**
 * JobQueue contract (shared/ports/job-queue.ts), run against every implementation:
 * - db queue on PGlite (in memory) — and on Postgres through the Neon driver when TEST_DATABASE_URL is set;
 * - SQS standard queue and SQS FIFO queue on fauxqs (started in-process on a random 127.0.0.1 port), each
 *   with a RedrivePolicy to its own DLQ and maxReceiveCount = SERVICE.queue.maxReceives.
 * Every test gets a fresh queue. Visibility timeouts of 1 s keep the waits short; each wait is bounded.
 * db-queue specifics (durability across a re-open, receipts, concurrency, dedup window) follow at the end.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, IN_MEMORY, type SentinelDatabase } from '../../adapters/db/index.ts';
import { DbJobQueue } from '../../adapters/queue/db.ts';
import { SqsJobQueue } from '../../adapters/queue/sqs.ts';
import { SERVICE } from '../../shared/config.ts';
import type { JobQueue } from '../../shared/ports/job-queue.ts';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION, startEmulator, uniqueName, type Emulator } from './helpers/fauxqs.ts';
import { createTestPostgres, NEON_SKIP_REASON, TEST_DATABASE_URL, type TestPostgres } from './helpers/postgres.ts';
import { expectCode } from './helpers/expect-code.ts';

type Body = { n: number; text?: string; nested?: { list: number[] } };
const MAX_RECEIVES = SERVICE.queue.maxReceives;

interface Backend {
  setup(): Promise<void>;
  /** A new, empty queue. */
  make(): Promise<JobQueue<Body>>;
  teardown(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


function dbBackend(open: () => Promise<{ database: SentinelDatabase; cleanup(): Promise<void> }>): Backend {
  let opened: { database: SentinelDatabase; cleanup(): Promise<void> } | undefined;
  return {
    async setup() {
      opened = await open();
    },
    async make() {
      return new DbJobQueue<Body>({ db: opened!.database.db, queue: uniqueName('q'), maxReceives: MAX_RECEIVES, pollIntervalMs: 100 });
    },
    async teardown() {
      await opened?.cleanup();
    },
  };
}

let emulator: Emulator | undefined;
function sqsBackend(fifo: boolean): Backend {
  return {
    async setup() {
      emulator ??= await startEmulator();
    },
    async make() {
      const suffix = fifo ? '.fifo' : '';
      const fifoAttributes: Record<string, string> = fifo ? { FifoQueue: 'true' } : {};
      const dlq = await emulator!.createQueue(uniqueName('dlq') + suffix, fifoAttributes);
      const queue = await emulator!.createQueue(uniqueName('jobs') + suffix, {
        ...fifoAttributes,
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount: String(MAX_RECEIVES) }),
      });
      return new SqsJobQueue<Body>({
        queueUrl: queue.queueUrl,
        endpoint: emulator!.address,
        region: EMULATOR_REGION,
        credentials: EMULATOR_CREDENTIALS,
      });
    },
    async teardown() {},
  };
}

afterAll(async () => {
  await emulator?.stop();
});

const BACKENDS: Array<[string, Backend, boolean]> = [
  [
    'db queue on PGlite',
    dbBackend(async () => {
      const database = await createDatabase({ pgliteDir: IN_MEMORY });
      return { database, cleanup: () => database.close() };
    }),
    true,
  ],
  [
    TEST_DATABASE_URL ? 'db queue on Postgres via Neon driver' : `db queue on Postgres via Neon driver (${NEON_SKIP_REASON})`,
    dbBackend(async () => {
      const pg: TestPostgres = await createTestPostgres();
      return { database: pg.database, cleanup: () => pg.cleanup() };
    }),
    Boolean(TEST_DATABASE_URL),
  ],
  ['SQS standard queue (fauxqs)', sqsBackend(false), true],
  ['SQS FIFO queue (fauxqs)', sqsBackend(true), true],
];

describe.each(BACKENDS)('JobQueue contract: %s', (_name, backend, enabled) => {
  beforeAll(async () => {
    if (enabled) await backend.setup();
  });
  afterAll(async () => {
    if (enabled) await backend.teardown();
  });
  const test = it.skipIf(!enabled);

  test('delivers a sent job once, with its JSON body, id and receiveCount 1', async () => {
    const q = await backend.make();
    const body: Body = { n: 1, text: 'Grüße — 🔊', nested: { list: [1, 2.5, -3] } };
    const id = await q.send(body);
    expect(typeof id).toBe('string');
    const [job, ...rest] = await q.receive({ waitSeconds: 1, visibilitySeconds: 30, max: 10 });
    expect(rest).toEqual([]);
    expect(job).toMatchObject({ id, body, receiveCount: 1 });
    expect(typeof job!.receipt).toBe('string');
    expect(await q.receive({ waitSeconds: 0, visibilitySeconds: 30 })).toEqual([]);
    await q.close();
  });

  test('returns [] from an empty queue after waiting about waitSeconds', async () => {
    const q = await backend.make();
    const t0 = Date.now();
    expect(await q.receive({ waitSeconds: 1 })).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    await q.close();
  });

  test('a long poll returns as soon as a job arrives', async () => {
    const q = await backend.make();
    const t0 = Date.now();
    const pending = q.receive({ waitSeconds: 10, visibilitySeconds: 30 });
    await sleep(300);
    await q.send({ n: 2 });
    const jobs = await pending;
    expect(jobs.map((j) => j.body)).toEqual([{ n: 2 }]);
    expect(Date.now() - t0).toBeLessThan(5000);
    await q.close();
  });

  test('returns up to max jobs per receive', async () => {
    const q = await backend.make();
    for (let n = 0; n < 4; n++) await q.send({ n });
    const got: number[] = [];
    for (let round = 0; round < 10 && got.length < 4; round++) {
      const jobs = await q.receive({ waitSeconds: 1, visibilitySeconds: 30, max: 3 });
      expect(jobs.length).toBeLessThanOrEqual(3);
      got.push(...jobs.map((j) => j.body.n));
    }
    expect(got.sort()).toEqual([0, 1, 2, 3]);
    await q.close();
  });

  test('concurrent receives never hand out the same job twice', async () => {
    const q = await backend.make();
    for (let n = 0; n < 12; n++) await q.send({ n });
    const got: number[] = [];
    // Rounds of 4 parallel receives (4 pooled connections on Postgres: SKIP LOCKED at work).
    for (let round = 0; round < 6 && got.length < 12; round++) {
      const batches = await Promise.all(
        Array.from({ length: 4 }, () => q.receive({ waitSeconds: 0, visibilitySeconds: 60, max: 3 })),
      );
      got.push(...batches.flat().map((j) => j.body.n));
    }
    expect(got.sort((x, y) => x - y)).toEqual([...Array(12).keys()]);
    await q.close();
  });

  test('redelivers an un-acked job after its visibility timeout, with a new receipt', async () => {
    const q = await backend.make();
    const id = await q.send({ n: 3 });
    const [first] = await q.receive({ waitSeconds: 1, visibilitySeconds: 1 });
    expect(first!.receiveCount).toBe(1);
    expect(await q.receive({ waitSeconds: 0, visibilitySeconds: 1 })).toEqual([]);
    await sleep(1200);
    const [second] = await q.receive({ waitSeconds: 2, visibilitySeconds: 30 });
    expect(second).toMatchObject({ id, body: { n: 3 }, receiveCount: 2 });
    expect(second!.receipt).not.toBe(first!.receipt);
    await q.close();
  });

  test('an acked job is never delivered again', async () => {
    const q = await backend.make();
    await q.send({ n: 4 });
    const [job] = await q.receive({ waitSeconds: 1, visibilitySeconds: 1 });
    await q.ack(job!.receipt);
    await sleep(1200);
    expect(await q.receive({ waitSeconds: 0 })).toEqual([]);
    expect(await q.deadLetters()).toEqual([]);
    await q.close();
  });

  test('extendVisibility keeps a job hidden past its timeout; 0 releases it at once', async () => {
    const q = await backend.make();
    const id = await q.send({ n: 5 });
    const [job] = await q.receive({ waitSeconds: 1, visibilitySeconds: 1 });
    await q.extendVisibility(job!.receipt, 4);
    await sleep(1300);
    expect(await q.receive({ waitSeconds: 0 })).toEqual([]);
    await q.extendVisibility(job!.receipt, 0);
    const [again] = await q.receive({ waitSeconds: 1, visibilitySeconds: 30 });
    expect(again).toMatchObject({ id, receiveCount: 2 });
    await q.close();
  });

  test('extendVisibility after ack fails with RECEIPT_INVALID', async () => {
    const q = await backend.make();
    await q.send({ n: 6 });
    const [job] = await q.receive({ waitSeconds: 1, visibilitySeconds: 30 });
    await q.ack(job!.receipt);
    await expectCode(q.extendVisibility(job!.receipt, 10), 'RECEIPT_INVALID');
    await q.close();
  });

  test(`dead-letters a job after ${MAX_RECEIVES} receives and lists it`, async () => {
    const q = await backend.make();
    const id = await q.send({ n: 7, text: 'poison' });
    for (let i = 1; i <= MAX_RECEIVES; i++) {
      const [job] = await q.receive({ waitSeconds: 1, visibilitySeconds: 0 });
      expect(job).toMatchObject({ id, receiveCount: i });
    }
    expect(await q.receive({ waitSeconds: 0 })).toEqual([]);
    const dead = await q.deadLetters({ max: 10 });
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ id, body: { n: 7, text: 'poison' } });
    expect(dead[0]!.receiveCount).toBeGreaterThanOrEqual(MAX_RECEIVES);
    // Listing does not remove it.
    expect((await q.deadLetters()).map((d) => d.id)).toEqual([id]);
    await q.close();
  });

  test('rejects out-of-range options and non-JSON bodies with INVALID_ARGUMENT', async () => {
    const q = await backend.make();
    await expectCode(q.receive({ max: 11 }), 'INVALID_ARGUMENT');
    await expectCode(q.receive({ max: 0 }), 'INVALID_ARGUMENT');
    await expectCode(q.receive({ waitSeconds: 21 }), 'INVALID_ARGUMENT');
    await expectCode(q.receive({ visibilitySeconds: -1 }), 'INVALID_ARGUMENT');
    await expectCode(q.send({ n: 1 }, { delaySeconds: 901 }), 'INVALID_ARGUMENT');
    await expectCode(q.send({ n: 1 }, { dedupId: 'x'.repeat(129) }), 'INVALID_ARGUMENT');
    await expectCode(q.send(undefined as unknown as Body), 'INVALID_ARGUMENT');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expectCode(q.send(cyclic as unknown as Body), 'INVALID_ARGUMENT');
    if (q.kind === 'db') await expectCode(q.send({ n: 1, text: 'nul \u0000 byte' }), 'INVALID_ARGUMENT');
    await q.close();
  });

  test('dedup (where supported): a repeat dedupId enqueues nothing and returns the same id', async () => {
    const q = await backend.make();
    if (!q.capabilities.dedup) {
      // SQS standard queues cannot dedup; the contract only promises the capability flag says so.
      expect(q.kind).toBe('sqs');
      await q.close();
      return;
    }
    const a = await q.send({ n: 8 }, { dedupId: 'session-42' });
    const b = await q.send({ n: 9 }, { dedupId: 'session-42' });
    const c = await q.send({ n: 10 }, { dedupId: 'session-43' });
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    const bodies: number[] = [];
    for (let round = 0; round < 5; round++) {
      const jobs = await q.receive({ waitSeconds: 1, visibilitySeconds: 30, max: 10 });
      bodies.push(...jobs.map((j) => j.body.n));
      if (jobs.length === 0 && bodies.length >= 2) break;
    }
    expect(bodies.sort((x, y) => x - y)).toEqual([8, 10]);
    await q.close();
  });

  test('delay (where supported): a delayed job stays hidden until its delay passes', async () => {
    const q = await backend.make();
    if (!q.capabilities.delay) {
      await expectCode(q.send({ n: 11 }, { delaySeconds: 1 }), 'UNSUPPORTED');
      await q.close();
      return;
    }
    const id = await q.send({ n: 11 }, { delaySeconds: 1 });
    expect(await q.receive({ waitSeconds: 0 })).toEqual([]);
    await sleep(1100);
    const [job] = await q.receive({ waitSeconds: 2, visibilitySeconds: 30 });
    expect(job).toMatchObject({ id, body: { n: 11 } });
    await q.close();
  });
});

describe('DbJobQueue specifics (PGlite)', () => {
  let database: SentinelDatabase;
  beforeAll(async () => {
    database = await createDatabase({ pgliteDir: IN_MEMORY });
  });
  afterAll(async () => {
    await database?.close();
  });
  const make = (options: Partial<ConstructorParameters<typeof DbJobQueue>[0]> = {}) =>
    new DbJobQueue<Body>({ db: database.db, queue: uniqueName('q'), pollIntervalMs: 100, ...options });

  it('refuses unknown, superseded and malformed receipts; a repeated ack is harmless', async () => {
    const q = make();
    await q.send({ n: 1 });
    const [first] = await q.receive({ waitSeconds: 0, visibilitySeconds: 0 });
    const [second] = await q.receive({ waitSeconds: 0, visibilitySeconds: 30 });
    await expectCode(q.ack(first!.receipt), 'RECEIPT_INVALID'); // superseded by the redelivery
    await expectCode(q.ack('not-a-receipt'), 'RECEIPT_INVALID');
    await expectCode(q.ack(''), 'RECEIPT_INVALID');
    await q.ack(second!.receipt);
    await expect(q.ack(second!.receipt)).resolves.toBeUndefined();
  });

  it('keeps queues of different names apart', async () => {
    const a = make();
    const b = make();
    await a.send({ n: 1 });
    expect(await b.receive({ waitSeconds: 0 })).toEqual([]);
    expect((await a.receive({ waitSeconds: 0 })).map((j) => j.body)).toEqual([{ n: 1 }]);
  });

  it('forgets a dedupId once the dedup window has passed', async () => {
    const q = make({ dedupWindowSeconds: 1 });
    const a = await q.send({ n: 1 }, { dedupId: 'k' });
    expect(await q.send({ n: 2 }, { dedupId: 'k' })).toBe(a);
    await sleep(1100);
    const b = await q.send({ n: 3 }, { dedupId: 'k' });
    expect(b).not.toBe(a);
  });

  it('stops a long poll promptly on close, and refuses use afterwards', async () => {
    const q = make();
    const t0 = Date.now();
    const pending = q.receive({ waitSeconds: 10 });
    await sleep(100);
    await q.close();
    expect(await pending).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(3000);
    await expectCode(q.send({ n: 1 }), 'CLOSED');
  });
});

describe('DbJobQueue durability: jobs survive closing and re-opening the PGlite data dir', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sentinel-queue-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('redelivers in-flight jobs and delivers pending ones after a restart', async () => {
    const pgliteDir = join(dir, 'pg');
    let database = await createDatabase({ pgliteDir });
    let q = new DbJobQueue<Body>({ db: database.db, queue: 'durable' });
    const inflightId = await q.send({ n: 1 });
    const pendingId = await q.send({ n: 2 });
    const [taken] = await q.receive({ waitSeconds: 0, visibilitySeconds: 1 });
    expect(taken!.id).toBe(inflightId);
    await q.close();
    await database.close();

    database = await createDatabase({ pgliteDir });
    q = new DbJobQueue<Body>({ db: database.db, queue: 'durable' });
    await sleep(1100);
    const jobs = await q.receive({ waitSeconds: 1, visibilitySeconds: 30, max: 10 });
    expect(jobs.map((j) => [j.id, j.receiveCount]).sort()).toEqual(
      [
        [inflightId, 2],
        [pendingId, 1],
      ].sort(),
    );
    await q.close();
    await database.close();
  });
});
