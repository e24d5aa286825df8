/**
 * The retraining job handler (worker/handler.ts) on PGlite + fs blobs + the db queue: training from the current
 * model's backbone, the gate on the registry's reference set (promote / keep / too few clips, the decision stored),
 * reference clips never trained on, idempotency on duplicate and concurrent deliveries, visibility extension while
 * training, retries then dead-letter with the session failed, and bad data failing at once.
 * Real (tiny) training where the outcome depends on it; the `train` seam where only the handler's logic is tested.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../adapters/blob/fs.ts';
import { createDatabase, IN_MEMORY, type SentinelDatabase } from '../../adapters/db/index.ts';
import { KyselyRepository } from '../../adapters/db/repo.ts';
import { storeDataset } from '../../adapters/dataset-store.ts';
import { CURRENT_ALIAS, loadModelFiles, storeModel } from '../../adapters/model-store.ts';
import { DbJobQueue } from '../../adapters/queue/db.ts';
import type { ModelFiles } from '../../shared/model/files.ts';
import { readManifest } from '../../shared/model/artifact.ts';
import type { ReceivedJob } from '../../shared/ports/job-queue.ts';
import { MemoryEmbeddingCache } from '../../shared/training/embedding-cache.ts';
import { trainModel, type TrainRequest } from '../../shared/training/trainer.ts';
import type { LabeledClip } from '../../shared/types.ts';
import { sha256Hex } from '../../shared/hash.ts';
import { WORKER } from '../../shared/config.ts';
import { gatherClips, handleJob, referenceKey, type WorkerDeps } from '../../worker/handler.ts';
import type { TrainingJob, TrainingKind } from '../../worker/job.ts';
import { inProcessRunner } from '../../worker/runner.ts';
import { syntheticClips, tinyModelFiles } from '../helpers/tiny-model.ts';

let dir: string;
let database: SentinelDatabase;
let repo: KyselyRepository;
let blobs: FsBlobStore;
let queue: DbJobQueue<TrainingJob>;
let bad: ModelFiles;
let good: ModelFiles;
let badVersion: string;

/** Handler deps training on this thread; `train` replaces trainModel. */
function deps(overrides: Partial<WorkerDeps> & { train?: typeof trainModel } = {}): WorkerDeps {
  const { train, ...rest } = overrides;
  const runner = inProcessRunner({ cache: new MemoryEmbeddingCache(), training: { folds: 0, augmentations: 0 }, ...(train ? { train } : {}) });
  return { repo, blobs, queue, runner, retryDelaySeconds: 0, ...rest };
}

/** A reference set of `n` synthetic clips (half each class), as earlier jobs' held-out clips would have left it. */
async function seedReference(n: number, seed: number): Promise<void> {
  const clips = syntheticClips(n, seed);
  const rows = [];
  for (const c of clips) {
    const sha256 = await sha256Hex(c.bytes);
    await blobs.put(referenceKey(sha256), c.bytes);
    rows.push({ sha256, object_key: referenceKey(sha256), label: c.label, path: `seed/${c.path}` });
  }
  await repo.addReferenceClips(rows, null);
}

async function upload(clips: LabeledClip[]): Promise<string> {
  const id = globalThis.crypto.randomUUID();
  await repo.createUpload({ id, object_key: `uploads/${id}/d.zip`, filename: 'd.zip', bytes: 1 });
  const index = await storeDataset(blobs, id, { clips, skipped: [] });
  await repo.updateUpload(id, { status: 'ready', label_counts: index.counts });
  return id;
}

async function enqueue(uploadId: string | null, kind: TrainingKind = 'retrain'): Promise<string> {
  const session = await repo.createSession({ mode: 'head', epochs: 10, upload_id: uploadId });
  await queue.send({ session_id: session.id, kind });
  return session.id;
}

async function receive(visibilitySeconds = 30): Promise<ReceivedJob<TrainingJob>> {
  const [job] = await queue.receive({ waitSeconds: 2, visibilitySeconds });
  expect(job).toBeDefined();
  return job;
}

/** Points `current` at `files` (storing them if new). */
async function makeCurrent(files: ModelFiles): Promise<string> {
  const { model } = await storeModel(repo, blobs, files, { status: 'promoted' });
  await repo.setAlias(CURRENT_ALIAS, model.version, 'test', 'fixture');
  return model.version;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sentinel-worker-'));
  database = await createDatabase({ pgliteDir: IN_MEMORY });
  repo = new KyselyRepository(database.db);
  blobs = new FsBlobStore({ root: join(dir, 'blobs') });
  queue = new DbJobQueue<TrainingJob>({ db: database.db, pollIntervalMs: 50 });
  // A current model that learned the labels backwards: any sensible candidate beats it at the gate.
  bad = await tinyModelFiles({ invert: true, seed: 700 });
  good = await tinyModelFiles({ seed: 710 });
  badVersion = readManifest(bad).version;
});
afterAll(async () => {
  await queue?.close();
  await database?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('handleJob', () => {
  beforeEach(async () => {
    await makeCurrent(bad);
    // Each test starts from an empty reference set (the registry's is append-only; tests reset it here only).
    await database.db.deleteFrom('reference_clips').execute();
  });

  it('trains from the current backbone, stores the artifact, promotes a clearly better candidate on enough reference clips, acks; a duplicate does not train again', async () => {
    await seedReference(2 * WORKER.gate.minClipsPerClass, 4000);
    let trainings = 0;
    const counting = (request: TrainRequest) => {
      trainings++;
      return trainModel(request);
    };
    const sessionId = await enqueue(await upload(syntheticClips(16, 40)));
    const outcome = await handleJob(await receive(), deps({ train: counting }));
    expect(outcome).toMatchObject({ outcome: 'succeeded', sessionId, promoted: true });
    if (outcome.outcome !== 'succeeded') throw new Error('unreachable');
    const gate = outcome.gate;
    expect(gate).toMatchObject({ outcome: 'promoted', metric: 'balancedAccuracy', margin: WORKER.gate.margin, reference_version: 2, candidate_version: outcome.version, current_version: badVersion });
    expect(gate.candidate).toBeGreaterThanOrEqual(gate.current + WORKER.gate.margin);
    // Scored on the seeded set plus this job's held-out clips, which joined the set as version 2.
    expect(gate.held_out).toBeGreaterThan(0);
    expect(gate.clips.safe + gate.clips.danger).toBe(2 * WORKER.gate.minClipsPerClass + gate.held_out);
    const session = (await repo.getSession(sessionId))!;
    const reference = await repo.referenceSet();
    expect(reference.version).toBe(2);
    const joined = reference.clips.filter((c) => c.version === 2);
    expect(joined).toHaveLength(gate.held_out);
    expect(joined.every((c) => c.session_id === sessionId && c.path.startsWith(`${session.upload_id}/`))).toBe(true);

    expect(session).toMatchObject({ status: 'succeeded', model_version: outcome.version, attempts: 1, parent_version: null, gate_decision: gate });
    expect(session.final_metrics).toMatchObject({ balancedAccuracy: gate.candidate, skipped_clips: 0 });
    // Per-epoch metrics of the head (no CV here: the final head, early-stopped on an inner validation split).
    expect(session.epoch_metrics.length).toBeGreaterThan(0);
    expect(session.epoch_metrics[0]).toMatchObject({ epoch: 1, loss: expect.any(Number), val_loss: expect.any(Number) });
    expect(session.epoch_metrics.map((m) => m.epoch)).toEqual(session.epoch_metrics.map((_, i) => i + 1));
    expect((await repo.getAlias(CURRENT_ALIAS))!.version).toBe(outcome.version);
    expect((await repo.getModel(outcome.version))).toMatchObject({ status: 'promoted', parent_version: badVersion, artifact_prefix: `models/${outcome.version}/` });
    expect((await repo.getModel(badVersion))!.status).toBe('archived');
    const stored = await loadModelFiles(blobs, `models/${outcome.version}/`);
    expect(readManifest(stored)).toMatchObject({ version: outcome.version, parentVersion: badVersion, representation: 'grey128' });
    expect(await queue.receive({ waitSeconds: 0 })).toEqual([]);

    // The same job delivered again (e.g. an SQS duplicate): acked, not trained, not promoted twice.
    const promotions = (await repo.aliasHistory(CURRENT_ALIAS, { limit: 100 })).length;
    await queue.send({ session_id: sessionId, kind: 'retrain' });
    expect(await handleJob(await receive(), deps({ train: counting }))).toEqual({ outcome: 'duplicate', sessionId });
    expect(trainings).toBe(1);
    expect((await repo.aliasHistory(CURRENT_ALIAS, { limit: 100 })).length).toBe(promotions);
    expect(await queue.receive({ waitSeconds: 0 })).toEqual([]);
  });

  it('a toy upload does not replace the current model: too few reference clips, the candidate stays a candidate, the decision is stored', async () => {
    // 17 clips, as in the issue: 4 or so held out. The current model is the backwards one, so the candidate scores
    // better on them, and still must not replace it on so little evidence.
    const sessionId = await enqueue(await upload(syntheticClips(17, 45)));
    const currentStatus = (await repo.getModel(badVersion))!.status;
    const outcome = await handleJob(await receive(), deps());
    expect(outcome).toMatchObject({ outcome: 'succeeded', sessionId, promoted: false });
    if (outcome.outcome !== 'succeeded') throw new Error('unreachable');
    expect(outcome.gate).toMatchObject({ outcome: 'too_few_clips', min_clips_per_class: WORKER.gate.minClipsPerClass, reference_version: 1, current_version: badVersion });
    expect(outcome.gate.clips.safe + outcome.gate.clips.danger).toBe(outcome.gate.held_out);
    expect(Math.min(outcome.gate.clips.safe, outcome.gate.clips.danger)).toBeLessThan(WORKER.gate.minClipsPerClass);
    expect(outcome.gate.candidate).toBeGreaterThan(outcome.gate.current + WORKER.gate.margin);
    expect((await repo.getAlias(CURRENT_ALIAS))!.version).toBe(badVersion);
    expect((await repo.getModel(outcome.version))!.status).toBe('candidate');
    expect((await repo.getModel(badVersion))!.status).toBe(currentStatus);
    expect((await repo.getSession(sessionId))!.gate_decision).toEqual(outcome.gate);
    // Its held-out clips are the reference set's first version: the next upload is judged on them too.
    expect(await repo.referenceSet()).toMatchObject({ version: 1, clips: expect.arrayContaining([expect.objectContaining({ session_id: sessionId })]) });
    expect((await repo.referenceSet()).clips).toHaveLength(outcome.gate.held_out);
  });

  it('keeps the current model when the candidate is worse, and records the rejection', async () => {
    const goodVersion = await makeCurrent(good);
    await seedReference(2 * WORKER.gate.minClipsPerClass, 4100);
    const sessionId = await enqueue(await upload(syntheticClips(16, 50)));
    // The candidate is the backwards model: whatever was trained, the gate must refuse it.
    const outcome = await handleJob(await receive(), deps({ train: async () => ({ files: bad, manifest: readManifest(bad), skipped: [], embeddings: { computed: 0, cached: 0 } }) }));
    expect(outcome).toMatchObject({ outcome: 'succeeded', promoted: false, gate: { outcome: 'kept' } });
    if (outcome.outcome !== 'succeeded') throw new Error('unreachable');
    expect(outcome.gate.candidate).toBeLessThan(outcome.gate.current);
    expect((await repo.getAlias(CURRENT_ALIAS))!.version).toBe(goodVersion);
    expect((await repo.getSession(sessionId))!.gate_decision).toMatchObject({ outcome: 'kept', candidate_version: badVersion, current_version: goodVersion });
    expect((await repo.getModel(badVersion))!.status).toBe('rejected');
    expect((await repo.listEvents({ limit: 1000 })).some((e) => e.type === 'model.kept' && (e.payload as { session_id: string }).session_id === sessionId)).toBe(true);
  });

  it('extends visibility and heartbeats while training; a concurrent delivery of the same session is not trained', async () => {
    const sessionId = await enqueue(await upload(syntheticClips(8, 60)));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const slow = async (request: TrainRequest) => {
      request.onProgress?.({ phase: 'embed', done: 1, total: 4 });
      started();
      await gate;
      return trainModel(request);
    };
    const first = handleJob(await receive(2), deps({ train: slow, visibilitySeconds: 2 }));
    await running;
    // Past the 2 s visibility: without extensions the job would be receivable again now.
    await new Promise((r) => setTimeout(r, 3000));
    expect(await queue.receive({ waitSeconds: 0 })).toEqual([]);
    const session = (await repo.getSession(sessionId))!;
    expect(session.status).toBe('running');
    expect(session.progress).toEqual({ phase: 'embed', done: 1, total: 4 });
    expect(Date.now() - session.heartbeat_at!.getTime()).toBeLessThan(1500);

    // A duplicate message for the same session while the run is alive: acked, not trained.
    await queue.send({ session_id: sessionId, kind: 'retrain' });
    expect(await handleJob(await receive(), deps())).toEqual({ outcome: 'held-elsewhere', sessionId });
    release();
    expect(await first).toMatchObject({ outcome: 'succeeded', sessionId });
  });

  it('retries a failing job, then fails the session with the error and leaves the job dead-lettered', async () => {
    const sessionId = await enqueue(await upload(syntheticClips(8, 70)));
    const failing = async () => {
      throw new Error('GPU on fire');
    };
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push((await handleJob(await receive(), deps({ train: failing }))).outcome);
    expect(outcomes).toEqual(['retry', 'retry', 'failed']);
    const session = (await repo.getSession(sessionId))!;
    expect(session).toMatchObject({ status: 'failed', attempts: 3 });
    expect(session.error).toContain('GPU on fire');
    expect(await queue.receive({ waitSeconds: 0 })).toEqual([]);
    const dead = await queue.deadLetters({ max: 10 });
    expect(dead.map((d) => d.body)).toContainEqual({ session_id: sessionId, kind: 'retrain' });
  });

  it('fails bad data at once (no retry, no dead letter) and drops jobs for unknown sessions', async () => {
    const oneClass = syntheticClips(8, 80).filter((c) => c.label === 'safe');
    const sessionId = await enqueue(await upload(oneClass));
    expect(await handleJob(await receive(), deps())).toMatchObject({ outcome: 'failed', sessionId });
    expect((await repo.getSession(sessionId))!.error).toContain('TRAINING_DATA_INVALID');
    expect(await queue.receive({ waitSeconds: 0 })).toEqual([]);
    expect((await queue.deadLetters({ max: 100 })).map((d) => d.body.session_id)).not.toContain(sessionId);

    await queue.send({ session_id: 'no-such-session', kind: 'retrain' });
    expect(await handleJob(await receive(), deps())).toMatchObject({ outcome: 'missing-session' });
    await queue.send({ nonsense: true } as never);
    expect(await handleJob(await receive(), deps())).toMatchObject({ outcome: 'malformed' });
    expect(await queue.receive({ waitSeconds: 0 })).toEqual([]);
  });

  it('retrain-existing trains on every stored upload plus feedback clips', async () => {
    const a = await upload(syntheticClips(8, 90));
    const prediction = await repo.recordPrediction({ model_version: badVersion, duration_seconds: 3, windows: [], probability: 0.9, class: 'danger', object_key: 'predictions/p1/audio' });
    await blobs.put('predictions/p1/audio', syntheticClips(1, 91)[0].bytes);
    await repo.setFeedback(prediction.id, 'safe');
    const sessionId = await enqueue(null, 'existing');
    const clips = await gatherClips({ repo, blobs }, 'existing', (await repo.getSession(sessionId))!);
    const uploads = (await repo.listUploads({ status: 'ready', limit: 1000 })).map((u) => u.id);
    expect(uploads.length).toBeGreaterThan(1);
    for (const id of uploads) expect(clips.some((c) => c.path.startsWith(`${id}/`)), id).toBe(true);
    expect(clips.filter((c) => c.path.startsWith(`${a}/`))).toHaveLength(8);
    expect(clips.find((c) => c.path === `feedback/${prediction.id}`)).toMatchObject({ label: 'safe', subclass: 'feedback' });
    // A retrain uses its own upload only.
    const own = await gatherClips({ repo, blobs }, 'retrain', { ...(await repo.getSession(sessionId))!, upload_id: a });
    expect(own).toHaveLength(8);
    // Clips of the reference set are never trained on, whichever upload holds them.
    const inReference = own.slice(0, 2);
    await repo.addReferenceClips(await Promise.all(inReference.map(async (c) => ({ sha256: await sha256Hex(c.bytes), object_key: `elsewhere/${c.path}`, label: c.label, path: c.path }))), null);
    let trainedOn: string[] = [];
    const recording = (request: TrainRequest) => {
      trainedOn = request.clips.map((c) => c.path);
      return trainModel(request);
    };
    const outcome = await handleJob(await receive(), deps({ train: recording }));
    expect(outcome).toMatchObject({ outcome: 'succeeded', sessionId });
    if (outcome.outcome !== 'succeeded') throw new Error('unreachable');
    for (const c of inReference) expect(trainedOn).not.toContain(c.path);
    expect(trainedOn.some((p) => p.startsWith(`${a}/`))).toBe(true);
    // Trained on plus held out = every distinct clip gathered but the two in the reference set.
    const distinct = new Set(await Promise.all(clips.map((c) => sha256Hex(c.bytes))));
    expect(trainedOn.length + outcome.gate.held_out).toBe(distinct.size - inReference.length);
  });
});
