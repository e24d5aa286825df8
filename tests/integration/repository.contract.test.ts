/**
 * Repository contract (shared/ports/repository.ts) and migrations, run against:
 * - PGlite in memory (always);
 * - Postgres through the Neon serverless driver and the local WebSocket proxy, in a throwaway database on
 *   the server named by TEST_DATABASE_URL (skipped with a clear reason when it is unset).
 * Both variants share one database per suite: tests use unique ids, and the stats tests use a time range of
 * their own (rows dated in 2001) so other tests' rows never count.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, IN_MEMORY, migrateToLatest, type SentinelDatabase } from '../../adapters/db/index.ts';
import { KyselyRepository, toJson } from '../../adapters/db/repo.ts';
import { startWsProxy } from '../../adapters/db/ws-proxy.ts';
import type { GateDecision } from '../../shared/ports/db-schema.ts';
import type { Repository } from '../../shared/ports/repository.ts';
import { createTestPostgres, NEON_SKIP_REASON, TEST_DATABASE_URL, type TestPostgres } from './helpers/postgres.ts';
import { expectCode } from './helpers/expect-code.ts';


let counter = 0;
const uid = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++counter}`;
const sha = (seed: string) => seed.padEnd(64, '0').slice(0, 64).replace(/[^0-9a-f]/g, 'a');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Variant {
  open(): Promise<{ database: SentinelDatabase; cleanup(): Promise<void> }>;
  enabled: boolean;
}

const VARIANTS: Array<[string, Variant]> = [
  [
    'PGlite (in memory)',
    {
      enabled: true,
      async open() {
        const database = await createDatabase({ pgliteDir: IN_MEMORY });
        return { database, cleanup: () => database.close() };
      },
    },
  ],
  [
    TEST_DATABASE_URL ? 'Postgres via Neon driver + WS proxy' : `Postgres via Neon driver + WS proxy (${NEON_SKIP_REASON})`,
    {
      enabled: Boolean(TEST_DATABASE_URL),
      async open() {
        const pg: TestPostgres = await createTestPostgres();
        return { database: pg.database, cleanup: () => pg.cleanup() };
      },
    },
  ],
];

describe.each(VARIANTS)('Repository contract: %s', (_name, variant) => {
  let database: SentinelDatabase;
  let cleanup: () => Promise<void>;
  let repo: Repository;
  beforeAll(async () => {
    if (!variant.enabled) return;
    ({ database, cleanup } = await variant.open());
    repo = new KyselyRepository(database.db);
  });
  afterAll(async () => {
    if (variant.enabled) await cleanup();
  });
  const test = it.skipIf(!variant.enabled);

  test('migrations: all applied once, re-running is a no-op', async () => {
    const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(database.db);
    expect(applied.rows.map((r) => r.name)).toEqual(['001_initial', '002_session_progress', '003_promotion_gate', '004_upload_used']);
    expect(await migrateToLatest(database.db)).toEqual([]);
  });

  describe('uploads', () => {
    test('create, get, update; defaults pending with empty label counts', async () => {
      const id = uid('up');
      const created = await repo.createUpload({ id, object_key: `uploads/${id}.zip`, filename: 'my data.zip', bytes: 1234 });
      expect(created).toMatchObject({ id, status: 'pending', label_counts: {}, sha256: null, error: null, bytes: 1234 });
      expect(created.created_at).toBeInstanceOf(Date);
      const updated = await repo.updateUpload(id, { status: 'ready', sha256: sha('ab'), label_counts: { safe: 3, danger: 2 } });
      expect(updated).toMatchObject({ status: 'ready', sha256: sha('ab'), label_counts: { safe: 3, danger: 2 } });
      expect(await repo.getUpload(id)).toEqual(updated);
      expect(await repo.getUpload('nope')).toBeNull();
      expect(await repo.updateUpload('nope', { status: 'failed' })).toBeNull();
    });

    test('duplicate object key -> CONFLICT; bad fields -> INVALID_ARGUMENT', async () => {
      const key = `uploads/${uid('dup')}`;
      await repo.createUpload({ object_key: key, filename: 'a', bytes: 1 });
      await expectCode(repo.createUpload({ object_key: key, filename: 'b', bytes: 1 }), 'CONFLICT');
      await expectCode(repo.createUpload({ object_key: uid('k'), filename: 'a', bytes: -1 }), 'INVALID_ARGUMENT');
      await expectCode(repo.createUpload({ object_key: uid('k'), filename: 'a', bytes: 1, sha256: 'XYZ' }), 'INVALID_ARGUMENT');
      await expectCode(
        repo.createUpload({ object_key: uid('k'), filename: 'a', bytes: 1, label_counts: { maybe: 1 } as never }),
        'INVALID_ARGUMENT',
      );
      await expectCode(repo.updateUpload('x', { status: 'done' as never }), 'INVALID_ARGUMENT');
    });

    test('transitionUpload applies only from the given status: one of two concurrent claims wins', async () => {
      const { id } = await repo.createUpload({ object_key: `uploads/${uid('tr')}`, filename: 'clip.wav', bytes: 0 });
      const claims = await Promise.all([0, 1].map(() => repo.transitionUpload(id, 'pending', { status: 'used', bytes: 42 })));
      expect(claims.filter((c) => c !== null)).toHaveLength(1);
      expect(await repo.getUpload(id)).toMatchObject({ status: 'used', bytes: 42 });
      expect(await repo.transitionUpload(id, 'pending', { status: 'failed' })).toBeNull();
      expect(await repo.listUploads({ status: 'used', limit: 1000 })).toEqual(expect.arrayContaining([expect.objectContaining({ id })]));
      await expectCode(repo.transitionUpload(id, 'done' as never, { status: 'failed' }), 'INVALID_ARGUMENT');
    });

    test('listUploads: newest first, filtered by status', async () => {
      const a = await repo.createUpload({ object_key: `uploads/${uid('la')}`, filename: 'a', bytes: 1, status: 'ready' });
      const b = await repo.createUpload({ object_key: `uploads/${uid('lb')}`, filename: 'b', bytes: 1, status: 'failed' });
      const ready = await repo.listUploads({ status: 'ready', limit: 1000 });
      expect(ready.map((u) => u.id)).toContain(a.id);
      expect(ready.map((u) => u.id)).not.toContain(b.id);
      expect(ready.every((u) => u.status === 'ready')).toBe(true);
      const all = await repo.listUploads({ limit: 1000 });
      expect(all.map((u) => u.id)).toEqual(expect.arrayContaining([a.id, b.id]));
      await expectCode(repo.listUploads({ status: 'done' as never }), 'INVALID_ARGUMENT');
    });
  });

  describe('training sessions', () => {
    test('a queued session is claimed once; the claim is the fencing token of its run', async () => {
      const s = await repo.createSession({ mode: 'fine_tune', epochs: 3, parent_version: 'seed' });
      expect(s).toMatchObject({ status: 'queued', attempts: 0, epoch_metrics: [], final_metrics: null, started_at: null });

      const claim = await repo.markRunning(s.id);
      expect(claim.claimed).toBe(true);
      expect(claim.session).toMatchObject({ status: 'running', attempts: 1 });
      expect(claim.session!.started_at).toBeInstanceOf(Date);
      expect(claim.session!.heartbeat_at).toBeInstanceOf(Date);

      // A duplicate delivery while the run is alive: not claimed, and told the current state.
      const dup = await repo.markRunning(s.id);
      expect(dup).toMatchObject({ claimed: false, session: { status: 'running', attempts: 1 } });

      expect(await repo.heartbeat(s.id, 1)).toBe(true);
      expect((await repo.getSession(s.id))!.progress).toBeNull();
      expect(await repo.heartbeat(s.id, 1, { phase: 'embed', done: 3, total: 10 })).toBe(true);
      expect((await repo.getSession(s.id))!.progress).toEqual({ phase: 'embed', done: 3, total: 10 });
      await expect(repo.heartbeat(s.id, 1, { phase: '', done: 0, total: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      expect(await repo.appendEpochMetrics(s.id, 1, { epoch: 1, loss: 0.7, accuracy: 0.6 })).toBe(true);
      expect(await repo.appendEpochMetrics(s.id, 1, { epoch: 2, loss: 0.5, accuracy: 0.8 })).toBe(true);

      const gate: GateDecision = {
        outcome: 'too_few_clips',
        metric: 'balancedAccuracy',
        candidate: 1,
        current: 0.5,
        margin: 0.02,
        min_clips_per_class: 30,
        clips: { safe: 2, danger: 2 },
        reference_version: 1,
        held_out: 4,
        candidate_version: 'v-2',
        current_version: 'seed',
      };
      const done = await repo.markSucceeded(s.id, 1, { final_metrics: { accuracy: 0.8, f1: 0.75 }, model_version: 'v-2', gate_decision: gate });
      expect(done).toMatchObject({
        status: 'succeeded',
        model_version: 'v-2',
        final_metrics: { accuracy: 0.8, f1: 0.75 },
        gate_decision: gate,
        epoch_metrics: [
          { epoch: 1, loss: 0.7, accuracy: 0.6 },
          { epoch: 2, loss: 0.5, accuracy: 0.8 },
        ],
      });
      expect(done!.finished_at).toBeInstanceOf(Date);

      // Finished sessions are never re-claimed, and a finished run can no longer write.
      expect(await repo.markRunning(s.id, { staleAfterSeconds: 0 })).toMatchObject({ claimed: false, session: { status: 'succeeded' } });
      expect(await repo.heartbeat(s.id, 1)).toBe(false);
      expect(await repo.markFailed(s.id, 1, 'late')).toBeNull();
      expect(await repo.cancelSession(s.id)).toBeNull();
    });

    test('a stale run is re-claimed without the old run\'s epoch rows; the old run is fenced off', async () => {
      const s = await repo.createSession({ mode: 'from_scratch', epochs: 1 });
      await repo.markRunning(s.id);
      expect(await repo.appendEpochMetrics(s.id, 1, { epoch: 1, loss: 0.9 })).toBe(true);
      expect(await repo.heartbeat(s.id, 1, { phase: 'train', done: 1, total: 4 })).toBe(true);
      await sleep(20);
      const second = await repo.markRunning(s.id, { staleAfterSeconds: 0 });
      expect(second).toMatchObject({ claimed: true, session: { attempts: 2, status: 'running', epoch_metrics: [], progress: null } });
      expect(await repo.appendEpochMetrics(s.id, 2, { epoch: 1, loss: 0.8 })).toBe(true);
      expect((await repo.getSession(s.id))!.epoch_metrics).toEqual([{ epoch: 1, loss: 0.8 }]);
      expect(await repo.heartbeat(s.id, 1)).toBe(false);
      expect(await repo.appendEpochMetrics(s.id, 1, { epoch: 1, loss: 1 })).toBe(false);
      expect(await repo.markSucceeded(s.id, 1, { final_metrics: {}, model_version: 'x' })).toBeNull();
      expect(await repo.markFailed(s.id, 2, 'out of memory')).toMatchObject({ status: 'failed', error: 'out of memory' });
    });

    test('requeue gives a run back; cancel stops queued or running sessions', async () => {
      const s = await repo.createSession({ mode: 'fine_tune', epochs: 2 });
      await repo.markRunning(s.id);
      expect(await repo.requeueSession(s.id, 1, 'worker shutting down')).toMatchObject({ status: 'queued', error: 'worker shutting down' });
      expect(await repo.markRunning(s.id)).toMatchObject({ claimed: true, session: { attempts: 2 } });
      const cancelled = await repo.cancelSession(s.id);
      expect(cancelled).toMatchObject({ status: 'cancelled' });
      expect(await repo.heartbeat(s.id, 2)).toBe(false);
      expect(await repo.markRunning(s.id)).toMatchObject({ claimed: false });
      const queued = await repo.createSession({ mode: 'fine_tune', epochs: 2 });
      expect(await repo.cancelSession(queued.id)).toMatchObject({ status: 'cancelled' });
    });

    test('concurrent claims of one session: exactly one wins', async () => {
      const s = await repo.createSession({ mode: 'fine_tune', epochs: 1 });
      const results = await Promise.all(Array.from({ length: 6 }, () => repo.markRunning(s.id)));
      expect(results.filter((r) => r.claimed)).toHaveLength(1);
      expect((await repo.getSession(s.id))!.attempts).toBe(1);
    });

    test('list by status, newest first; bad input rejected', async () => {
      const a = await repo.createSession({ mode: 'm', epochs: 1 });
      await sleep(5);
      const b = await repo.createSession({ mode: 'm', epochs: 1 });
      const queued = await repo.listSessions({ status: 'queued', limit: 1000 });
      const ids = queued.map((s) => s.id);
      expect(ids.indexOf(b.id)).toBeLessThan(ids.indexOf(a.id));
      expect(queued.every((s) => s.status === 'queued')).toBe(true);
      await expectCode(repo.createSession({ mode: 'm', epochs: 0 }), 'INVALID_ARGUMENT');
      await expectCode(repo.createSession({ mode: '', epochs: 1 }), 'INVALID_ARGUMENT');
      await expectCode(repo.listSessions({ limit: 0 }), 'INVALID_ARGUMENT');
      await expectCode(repo.createSession({ mode: 'm', epochs: 1, upload_id: 'no-such-upload' }), 'NOT_FOUND');
    });
  });

  describe('reference set', () => {
    test('grows by versions: new clips append a version, known ones do not; bad clips are refused', async () => {
      // One reference set per database: read where the suite's earlier tests left it.
      const before = await repo.referenceSet();
      const s = await repo.createSession({ mode: 'head', epochs: 1 });
      const clip = (seed: string, label: 'safe' | 'danger') => ({ sha256: sha(seed), object_key: `reference/clips/${sha(seed)}`, label, path: `u/${seed}.wav` });
      const a = [clip(uid('ra').replace(/-/g, ''), 'safe'), clip(uid('rb').replace(/-/g, ''), 'danger')];
      expect(await repo.addReferenceClips(a, s.id)).toBe(before.version + 1);
      const after = await repo.referenceSet();
      expect(after.version).toBe(before.version + 1);
      expect(after.clips).toHaveLength(before.clips.length + 2);
      const added = after.clips.filter((c) => c.version === after.version);
      expect(added.map((c) => c.sha256).sort()).toEqual(a.map((c) => c.sha256).sort());
      for (const c of a) expect(added.find((r) => r.sha256 === c.sha256)).toMatchObject({ ...c, session_id: s.id });
      // Already in the set (and a repeat within one call): no new version, no new rows.
      expect(await repo.addReferenceClips([a[0], a[0]], null)).toBe(after.version);
      expect(await repo.addReferenceClips([], null)).toBe(after.version);
      expect((await repo.referenceSet()).clips).toHaveLength(after.clips.length);
      const b = clip(uid('rc').replace(/-/g, ''), 'danger');
      expect(await repo.addReferenceClips([a[1], b], null)).toBe(after.version + 1);
      expect((await repo.referenceSet()).clips.filter((c) => c.version === after.version + 1).map((c) => c.sha256)).toEqual([b.sha256]);
      await expectCode(repo.addReferenceClips([{ ...b, sha256: 'nope' }], null), 'INVALID_ARGUMENT');
      await expectCode(repo.addReferenceClips([{ ...clip('f00d', 'safe'), label: 'maybe' as never }], null), 'INVALID_ARGUMENT');
    });
  });

  describe('models and aliases', () => {
    test('record, list newest first, filter by status, change status', async () => {
      const v1 = uid('v');
      const v2 = uid('v');
      await repo.recordModel({ version: v1, artifact_prefix: `models/${v1}/`, metrics: { f1: 0.8 }, threshold: 0.5 });
      await sleep(5);
      const m2 = await repo.recordModel({
        version: v2,
        artifact_prefix: `models/${v2}/`,
        parent_version: v1,
        metrics: { f1: 0.85 },
        threshold: 0.42,
      });
      expect(m2).toMatchObject({ version: v2, parent_version: v1, metrics: { f1: 0.85 }, threshold: 0.42, status: 'candidate' });
      const listed = (await repo.listModels({ limit: 1000 })).map((m) => m.version);
      expect(listed.indexOf(v2)).toBeLessThan(listed.indexOf(v1));
      expect(await repo.setModelStatus(v1, 'rejected')).toMatchObject({ status: 'rejected' });
      expect((await repo.listModels({ status: 'rejected', limit: 1000 })).map((m) => m.version)).toContain(v1);
      expect(await repo.setModelStatus('no-such', 'archived')).toBeNull();
      await expectCode(repo.recordModel({ version: v1, artifact_prefix: 'x', metrics: {}, threshold: 0.5 }), 'CONFLICT');
      await expectCode(repo.recordModel({ version: uid('v'), artifact_prefix: 'x', metrics: {}, threshold: 1.5 }), 'INVALID_ARGUMENT');
    });

    test('setAlias writes the alias and its audit row together; history chains from -> to', async () => {
      const name = uid('alias');
      const [a, b] = [uid('v'), uid('v')];
      for (const v of [a, b]) await repo.recordModel({ version: v, artifact_prefix: `models/${v}/`, metrics: {}, threshold: 0.5 });

      const first = await repo.setAlias(name, a, 'alice', 'initial deploy');
      expect(first.alias).toMatchObject({ name, version: a });
      expect(first.audit).toMatchObject({ name, from_version: null, to_version: a, actor: 'alice', reason: 'initial deploy' });
      const second = await repo.setAlias(name, b, 'bob', 'better recall');
      expect(second.audit).toMatchObject({ from_version: a, to_version: b });
      expect(await repo.getAlias(name)).toMatchObject({ name, version: b });
      expect((await repo.aliasHistory(name)).map((h) => [h.from_version, h.to_version])).toEqual([
        [a, b],
        [null, a],
      ]);
      expect((await repo.listAliases()).map((x) => x.name)).toContain(name);
      expect(await repo.getAlias(uid('none'))).toBeNull();
    });

    test('setAlias to an unknown model is NOT_FOUND and writes nothing', async () => {
      const name = uid('alias');
      await expectCode(repo.setAlias(name, 'no-such-version', 'eve', 'oops'), 'NOT_FOUND');
      expect(await repo.getAlias(name)).toBeNull();
      expect(await repo.aliasHistory(name)).toEqual([]);
    });

    test('a failing transaction rolls back alias and audit together', async () => {
      const name = uid('alias');
      const v = uid('v');
      await repo.recordModel({ version: v, artifact_prefix: 'p/', metrics: {}, threshold: 0.5 });
      await expect(
        repo.transaction(async (tx) => {
          await tx.setAlias(name, v, 'carol', 'will be rolled back');
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await repo.getAlias(name)).toBeNull();
      expect(await repo.aliasHistory(name)).toEqual([]);
    });

    test('concurrent setAlias calls serialise: each audit row starts where the previous one ended', async () => {
      const name = uid('alias');
      const versions = Array.from({ length: 5 }, () => uid('v'));
      for (const v of versions) await repo.recordModel({ version: v, artifact_prefix: 'p/', metrics: {}, threshold: 0.5 });
      await Promise.all(versions.map((v, i) => repo.setAlias(name, v, `actor-${i}`, 'race')));
      const history = (await repo.aliasHistory(name)).reverse();
      expect(history).toHaveLength(5);
      expect(history[0]!.from_version).toBeNull();
      for (let i = 1; i < history.length; i++) expect(history[i]!.from_version).toBe(history[i - 1]!.to_version);
      expect((await repo.getAlias(name))!.version).toBe(history[4]!.to_version);
    });
  });

  describe('predictions and stats', () => {
    test('record (windows array round-trips as JSON), get, list, feedback', async () => {
      const windows = [
        { start: 0, end: 3, probability: 0.1 },
        { start: 1, end: 4, probability: 0.93 },
      ];
      const p = await repo.recordPrediction({
        model_version: 'v1',
        duration_seconds: 4.2,
        windows,
        probability: 0.93,
        class: 'danger',
        object_key: 'recordings/x.wav',
      });
      expect(p).toMatchObject({ windows, probability: 0.93, class: 'danger', feedback_label: null, object_key: 'recordings/x.wav' });
      const fb = await repo.setFeedback(p.id, 'safe');
      expect(fb).toMatchObject({ feedback_label: 'safe' });
      expect(fb!.feedback_at).toBeInstanceOf(Date);
      expect(await repo.getPrediction(p.id)).toEqual(fb);
      expect((await repo.listPredictions({ limit: 5 }))[0]!.id).toBe(p.id);
      const unlabelled = await repo.recordPrediction({ model_version: 'v1', duration_seconds: 1, windows: [], probability: 0.1, class: 'safe' });
      const withFeedback = await repo.listPredictions({ withFeedback: true, limit: 1000 });
      expect(withFeedback.map((r) => r.id)).toContain(p.id);
      expect(withFeedback.map((r) => r.id)).not.toContain(unlabelled.id);
      expect(withFeedback.every((r) => r.feedback_label !== null)).toBe(true);
      expect(await repo.setFeedback('nope', 'safe')).toBeNull();

      // Several rows in one statement, all or none.
      const ids = [uid('batch'), uid('batch')];
      await repo.recordPredictions(ids.map((id, i) => ({ id, model_version: 'v1', duration_seconds: 3, windows: { count: 1 }, probability: i / 2, class: 'safe' as const })));
      expect((await repo.getPrediction(ids[1]))).toMatchObject({ probability: 0.5, windows: { count: 1 } });
      const clash = [{ id: uid('batch'), model_version: 'v1', duration_seconds: 1, windows: [], probability: 0.1, class: 'safe' as const }, { id: ids[0], model_version: 'v1', duration_seconds: 1, windows: [], probability: 0.1, class: 'safe' as const }];
      await expectCode(repo.recordPredictions(clash), 'CONFLICT');
      expect(await repo.getPrediction(clash[0].id)).toBeNull();
      await expectCode(repo.recordPredictions([{ ...clash[0], probability: 2 }]), 'INVALID_ARGUMENT');
      await repo.recordPredictions([]);
      await expectCode(repo.setFeedback(p.id, 'maybe' as never), 'INVALID_ARGUMENT');
      await expectCode(
        repo.recordPrediction({ model_version: 'v1', duration_seconds: 1, windows: [], probability: 1.2, class: 'safe' }),
        'INVALID_ARGUMENT',
      );
    });

    test('per-class-per-day counts and the confidence histogram over a time range', async () => {
      // Rows of their own, dated 2001 (UTC), so no other test's predictions fall in the range.
      const rows: Array<[string, 'safe' | 'danger', number]> = [
        ['2001-03-01T00:00:01Z', 'danger', 0.95], // confidence 0.95 -> bin 9
        ['2001-03-01T12:00:00Z', 'danger', 1.0], // 1.0 -> last bin (closed)
        ['2001-03-01T23:59:59Z', 'safe', 0.3], // 0.7 -> bin 7
        ['2001-03-02T08:00:00Z', 'safe', 0.0], // 1.0 -> bin 9
        ['2001-03-02T09:00:00Z', 'safe', 0.45], // 0.55 -> bin 5
        ['2001-03-03T00:00:00Z', 'danger', 0.61], // outside `until`
      ];
      for (const [at, cls, probability] of rows) {
        await database.db
          .insertInto('predictions')
          .values({
            id: uid('pred'),
            model_version: 'v1',
            duration_seconds: 3,
            windows: toJson([]),
            probability,
            class: cls,
            created_at: at,
          })
          .execute();
      }
      const range = { since: new Date('2001-03-01T00:00:00Z'), until: new Date('2001-03-03T00:00:00Z') };
      expect(await repo.predictionsPerClassPerDay(range)).toEqual([
        { day: '2001-03-01', class: 'danger', count: 2 },
        { day: '2001-03-01', class: 'safe', count: 1 },
        { day: '2001-03-02', class: 'safe', count: 2 },
      ]);
      const histogram = await repo.confidenceHistogram({ ...range, bins: 10 });
      expect(histogram).toHaveLength(10);
      expect(histogram[0]).toEqual({ lower: 0, upper: 0.1, count: 0 });
      expect(histogram.map((b) => b.count)).toEqual([0, 0, 0, 0, 0, 1, 0, 1, 0, 3]);
      expect(histogram[9]!.upper).toBe(1);
      expect((await repo.confidenceHistogram({ ...range, bins: 2 })).map((b) => b.count)).toEqual([0, 5]);
      await expectCode(repo.confidenceHistogram({ bins: 0 }), 'INVALID_ARGUMENT');
    });
  });

  describe('API keys and events', () => {
    test('verify by hash until revoked', async () => {
      const hash = sha(uid('k').replace(/[^0-9a-f]/g, '') + 'f');
      const key = await repo.createApiKey({ name: 'ci', key_hash: hash });
      expect(await repo.verifyApiKey(hash)).toMatchObject({ id: key.id, name: 'ci', revoked_at: null });
      expect(await repo.verifyApiKey(sha('0'))).toBeNull();
      expect(await repo.verifyApiKey('not-a-hash')).toBeNull();
      await expectCode(repo.createApiKey({ name: 'again', key_hash: hash }), 'CONFLICT');
      await expectCode(repo.createApiKey({ name: 'bad', key_hash: 'ABC' }), 'INVALID_ARGUMENT');
      expect(await repo.revokeApiKey(key.id)).toBe(true);
      expect(await repo.revokeApiKey(key.id)).toBe(false);
      expect(await repo.verifyApiKey(hash)).toBeNull();
      expect((await repo.listApiKeys()).find((k) => k.id === key.id)!.revoked_at).toBeInstanceOf(Date);
    });

    test('events are appended and tailed by id', async () => {
      const first = await repo.recordEvent('upload.ready', { uploadId: 'u1', counts: [1, 2] });
      const second = await repo.recordEvent('model.promoted', { version: 'v2' });
      expect(second.id).toBeGreaterThan(first.id);
      const tail = await repo.listEvents({ afterId: first.id - 1 });
      expect(tail.map((e) => [e.type, e.payload])).toEqual([
        ['upload.ready', { uploadId: 'u1', counts: [1, 2] }],
        ['model.promoted', { version: 'v2' }],
      ]);
      expect((await repo.listEvents({ afterId: second.id })).length).toBe(0);
    });
  });
});

describe('PGlite on disk: data and migrations persist across re-open', () => {
  it('reopens the same data dir with rows intact and nothing to migrate', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'sentinel-db-'));
    try {
      let database = await createDatabase({ pgliteDir: join(dir, 'pg') });
      await new KyselyRepository(database.db).recordModel({ version: 'seed', artifact_prefix: 'models/seed/', metrics: {}, threshold: 0.5 });
      await database.close();
      database = await createDatabase({ pgliteDir: join(dir, 'pg'), migrate: false });
      expect(await migrateToLatest(database.db)).toEqual([]);
      expect(await new KyselyRepository(database.db).getModel('seed')).toMatchObject({ version: 'seed', threshold: 0.5 });
      await database.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Database configuration errors', () => {
  it('refuses a non-postgres DATABASE_URL and a bad proxy URL with CONFIG', async () => {
    await expectCode(createDatabase({ databaseUrl: 'mysql://x@127.0.0.1/db' }), 'CONFIG');
    await expectCode(createDatabase({ databaseUrl: 'postgres://x@127.0.0.1/db', neonWsProxy: 'http://127.0.0.1:1' }), 'CONFIG');
    await expectCode(createDatabase({}), 'CONFIG');
  });

  it('the WS proxy refuses non-loopback and non-allowed targets', async () => {
    const { WebSocket } = await import('ws');
    const proxy = await startWsProxy({ allowedPorts: [5432] });
    try {
      for (const address of ['10.0.0.1:5432', 'example.com:5432', '127.0.0.1:22', 'garbage']) {
        const code = await new Promise<number>((resolve, reject) => {
          const ws = new WebSocket(`${proxy.url}?address=${address}`);
          ws.on('close', (c) => resolve(c));
          ws.on('error', reject);
        });
        expect(code, address).toBe(1008);
      }
    } finally {
      await proxy.close();
    }
  });
});
