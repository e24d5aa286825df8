/**
 * One training job, start to finish: claim the session, gather its clips (less any in the reference set), train a
 * candidate from the current model's backbone, store it under models/<version>/, score candidate and current model on
 * the registry's reference set plus this job's held-out clips, promote only by the gate's rule
 * (shared/training/promotion.ts), record the decision on the session and the held-out clips in the reference set.
 * The same code runs in the SQS worker container (worker/main.ts) and in the local stack (functions/server.ts);
 * the training and the scoring themselves run wherever the TrainingRunner puts them (runner.ts).
 *
 * Delivery is at-least-once, so the handler is idempotent: a finished session's job is just acked; a session
 * another run holds (fresh heartbeat) is not trained again; success (session row + alias + model status) is one
 * transaction fenced by the run's attempt number, so a run that lost its claim cannot promote.
 * Failures: bad data (no usable clips, one class, no base model) fail the session at once (retrying cannot help);
 * anything else is retried with the job made visible again after WORKER.retryDelaySeconds, and on the last allowed
 * delivery the session is failed with the error and the job left to the queue's dead-letter redrive.
 */
import { SERVICE, TRAINING, WORKER } from '../shared/config.ts';
import { SentinelError } from '../shared/errors.ts';
import { sha256Hex } from '../shared/hash.ts';
import type { ModelFiles } from '../shared/model/files.ts';
import type { BlobStore } from '../shared/ports/blob-store.ts';
import type { EpochMetrics, GateDecision, ReferenceClip, SessionProgress, TrainingSession } from '../shared/ports/db-schema.ts';
import type { JobQueue, ReceivedJob } from '../shared/ports/job-queue.ts';
import type { NewReferenceClip, Repository } from '../shared/ports/repository.ts';
import { DEFAULT_GATE_RULE, decidePromotion, describeGateDecision, type GateRule } from '../shared/training/promotion.ts';
import { groupTrainValSplit } from '../shared/training/split.ts';
import type { TrainProgress, TrainResult } from '../shared/training/trainer.ts';
import type { LabeledClip } from '../shared/types.ts';
import { TRAINING_MODES, type TrainingMode } from '../shared/model/types.ts';
import { loadDatasetClips, loadFeedbackClips } from '../adapters/dataset-store.ts';
import { CURRENT_ALIAS, loadModelFiles, scalarMetrics, storeModel } from '../adapters/model-store.ts';
import type { EpochReport, TrainingRunner } from './runner.ts';
import { trainingJobSchema, type TrainingJob, type TrainingKind } from './job.ts';

export interface WorkerDeps {
  repo: Repository;
  blobs: BlobStore;
  queue: JobQueue<TrainingJob>;
  /** Where the candidate is trained and scored (runner.ts): this thread, or a thread of its own. */
  runner: TrainingRunner;
  /** The promotion rule (default WORKER.gate). */
  gateRule?: GateRule;
  /** Visibility granted per extension, seconds (default SERVICE.queue.visibilitySeconds). */
  visibilitySeconds?: number;
  /** Deliveries before the queue dead-letters a job (default SERVICE.queue.maxReceives). */
  maxReceives?: number;
  /** Seconds before a failed attempt's job is receivable again (default WORKER.retryDelaySeconds). */
  retryDelaySeconds?: number;
  /** Called once a candidate became `current` (the local stack refreshes its serving model at once). */
  onPromoted?: (version: string) => void;
  /** Set when the process is shutting down: the run gives the session back at its next progress report. */
  stopping?: () => boolean;
  log?: (level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>) => void;
}

export type JobOutcome =
  | { outcome: 'succeeded'; sessionId: string; version: string; promoted: boolean; gate: GateDecision }
  | { outcome: 'duplicate' | 'held-elsewhere' | 'malformed' | 'missing-session' | 'lost' | 'shutdown'; sessionId?: string }
  | { outcome: 'failed' | 'retry'; sessionId: string; error: string };

/** Where a reference clip's bytes are kept: by content, outside uploads/ (which the cloud bucket expires). */
export function referenceKey(sha256: string): string {
  return `reference/clips/${sha256}`;
}

/** Errors that another attempt cannot fix: the session fails at once. */
const PERMANENT = new Set([
  'TRAINING_DATA_INVALID',
  'NO_BASE_MODEL',
  'UPLOAD_NOT_FOUND',
  'UPLOAD_INVALID',
  'MODEL_ARTIFACT_INVALID',
  'MODEL_ARTIFACT_CORRUPT',
  'MODEL_CONFIG_MISMATCH',
]);

class RunAborted extends SentinelError {
  constructor(readonly why: 'lost' | 'shutdown') {
    super('RUN_ABORTED', why === 'lost' ? 'The run lost its claim on the session.' : 'The worker is shutting down.');
  }
}

/** The clips a session trains on (before the gate's hold-out): see TrainingKind. */
export async function gatherClips(deps: Pick<WorkerDeps, 'repo' | 'blobs'>, kind: TrainingKind, session: TrainingSession): Promise<LabeledClip[]> {
  if (kind === 'retrain') {
    if (!session.upload_id) throw new SentinelError('TRAINING_DATA_INVALID', 'A retrain session needs an upload.');
    return loadDatasetClips(deps.blobs, session.upload_id);
  }
  const ids = new Set<string>();
  if (session.upload_id) ids.add(session.upload_id);
  for (const u of await deps.repo.listUploads({ status: 'ready', limit: 1000 })) ids.add(u.id);
  const clips: LabeledClip[] = [];
  for (const id of ids) clips.push(...(await loadDatasetClips(deps.blobs, id)));
  clips.push(...(await loadFeedbackClips(deps.repo, deps.blobs)));
  return clips;
}

/** The reference set's clips with their bytes; a clip missing from the store is left out (and logged). */
async function loadReferenceClips(blobs: BlobStore, rows: readonly ReferenceClip[], log: NonNullable<WorkerDeps['log']>): Promise<LabeledClip[]> {
  const out: LabeledClip[] = [];
  for (const row of rows) {
    const bytes = await blobs.get(row.object_key);
    if (!bytes) {
      log('warn', 'reference clip missing from the store; left out of the gate', { key: row.object_key });
      continue;
    }
    out.push({ path: row.path, label: row.label, bytes, group: `reference/${row.sha256}` });
  }
  return out;
}

/** Held-out clips for the gate (whole groups), the rest for training; both sides must hold both labels. */
export function splitForGate(clips: readonly LabeledClip[], fraction = WORKER.gate.validationFraction): { train: LabeledClip[]; validation: LabeledClip[] } {
  const count = (list: readonly LabeledClip[], label: string) => list.filter((c) => c.label === label).length;
  const items = clips.map((c) => ({ group: c.group ?? c.path, label: c.label }));
  if (new Set(items.map((i) => i.group)).size < 4 || count(clips, 'safe') < 2 || count(clips, 'danger') < 2) {
    throw new SentinelError(
      'TRAINING_DATA_INVALID',
      `Training needs at least 2 safe and 2 danger clips from 4 or more recordings (got ${count(clips, 'safe')} safe, ${count(clips, 'danger')} danger).`,
    );
  }
  const split = groupTrainValSplit(items, fraction, TRAINING.seed);
  const train = split.train.map((i) => clips[i]);
  const validation = split.validation.map((i) => clips[i]);
  for (const [name, part] of [['training', train], ['held-out', validation]] as const) {
    if (count(part, 'safe') === 0 || count(part, 'danger') === 0) {
      throw new SentinelError('TRAINING_DATA_INVALID', `The ${name} part of the data lacks a class; add more clips of each label.`);
    }
  }
  return { train, validation };
}

export async function handleJob(job: ReceivedJob<TrainingJob>, deps: WorkerDeps): Promise<JobOutcome> {
  const { repo, queue } = deps;
  const log = deps.log ?? (() => {});
  const visibility = deps.visibilitySeconds ?? SERVICE.queue.visibilitySeconds;
  const maxReceives = deps.maxReceives ?? SERVICE.queue.maxReceives;
  const ack = async () => {
    try {
      await queue.ack(job.receipt);
    } catch (error) {
      log('warn', 'ack failed (redelivered meanwhile?)', { job: job.id, error: String(error) });
    }
  };

  const parsed = trainingJobSchema.safeParse(job.body);
  if (!parsed.success) {
    log('error', 'malformed job dropped', { job: job.id, body: job.body });
    await ack();
    return { outcome: 'malformed' };
  }
  const { session_id: id, kind } = parsed.data;
  const existing = await repo.getSession(id);
  if (!existing) {
    log('warn', 'job for an unknown session dropped', { job: job.id, session: id });
    await ack();
    return { outcome: 'missing-session', sessionId: id };
  }
  if (existing.status !== 'queued' && existing.status !== 'running') {
    await ack(); // a duplicate of a finished job
    return { outcome: 'duplicate', sessionId: id };
  }
  // Stale after 0.4 x visibility (120 s of 300 s): a dead run's claim lapses before its message comes back.
  const claim = await repo.markRunning(id, { staleAfterSeconds: Math.max(1, Math.round(visibility * 0.4)) });
  if (!claim.claimed) {
    await ack(); // another live run holds the session; its own delivery stays with it
    return { outcome: 'held-elsewhere', sessionId: id };
  }
  const attempt = claim.session.attempts;
  log('info', 'training started', { session: id, kind, attempt, delivery: job.receiveCount });
  await repo.recordEvent('training.started', { session_id: id, kind, attempt });

  let lost = false;
  let progress: SessionProgress = { phase: 'start', done: 0, total: 1 };
  let ticking = false;
  const tick = async () => {
    if (ticking) return;
    ticking = true;
    try {
      await queue.extendVisibility(job.receipt, visibility);
      if (!(await repo.heartbeat(id, attempt, progress))) lost = true;
      // One line per beat: the container's liveness is visible in its logs (CloudWatch) without a database query.
      log('info', 'heartbeat', { session: id, attempt, phase: progress.phase, done: progress.done, total: progress.total, lost });
    } catch (error) {
      log('warn', 'heartbeat failed', { session: id, error: String(error) });
      if ((error as { code?: string }).code === 'RECEIPT_INVALID') lost = true;
    } finally {
      ticking = false;
    }
  };
  const timer = setInterval(() => void tick(), Math.max(1, visibility / 10) * 1000);
  // Per-epoch metrics, written in order without holding training up; awaited before the session is finished.
  let epochWrites: Promise<unknown> = Promise.resolve();
  const onEpoch = (e: EpochReport) => {
    const metrics: EpochMetrics = { epoch: e.epoch, loss: e.loss, ...(e.valLoss !== undefined ? { val_loss: e.valLoss } : {}), ...(e.fold !== null ? { fold: e.fold } : {}) };
    epochWrites = epochWrites.then(() => repo.appendEpochMetrics(id, attempt, metrics)).catch((error) => log('warn', 'epoch metrics not written', { error: String(error) }));
  };
  const onProgress = (p: TrainProgress) => {
    progress = { phase: p.phase, done: p.done, total: p.total, ...(p.detail ? { detail: p.detail } : {}) };
    if (lost) throw new RunAborted('lost');
    if (deps.stopping?.()) throw new RunAborted('shutdown');
  };

  try {
    const alias = await repo.getAlias(CURRENT_ALIAS);
    const baseRow = alias ? await repo.getModel(alias.version) : null;
    if (!baseRow) throw new SentinelError('NO_BASE_MODEL', 'There is no current model to retrain from (its backbone is the starting point).');
    const baseFiles: ModelFiles = await loadModelFiles(deps.blobs, baseRow.artifact_prefix);

    progress = { phase: 'data', done: 0, total: 1 };
    // Reference clips are never trained on (a candidate that had seen them would pass the gate on memory), and a clip
    // stored twice is used once (its copies could land on both sides of the hold-out).
    const reference = await repo.referenceSet();
    const seen = new Set(reference.clips.map((c) => c.sha256));
    const hashes = new Map<LabeledClip, string>();
    const clips: LabeledClip[] = [];
    let excluded = 0;
    for (const clip of await gatherClips(deps, kind, claim.session)) {
      const sha256 = await sha256Hex(clip.bytes);
      if (seen.has(sha256)) {
        excluded++;
        continue;
      }
      seen.add(sha256);
      hashes.set(clip, sha256);
      clips.push(clip);
    }
    if (excluded > 0) log('info', 'reference or repeated clips left out of training', { session: id, clips: excluded });
    const { train, validation } = splitForGate(clips);
    const mode = (TRAINING_MODES as readonly string[]).includes(claim.session.mode) ? (claim.session.mode as TrainingMode) : TRAINING.defaultMode;
    const result: TrainResult = await deps.runner.train(
      { clips: train, baseFiles, mode, epochs: claim.session.epochs, warmStart: kind === 'continue', command: `api ${kind} session ${id}` },
      { onProgress, onEpoch },
    );
    await epochWrites;

    progress = { phase: 'gate', done: 0, total: reference.clips.length + validation.length };
    await tick();
    // The held-out clips join the reference set whatever the outcome (no model trained here has seen them). Their
    // bytes are stored first: the runner may take them over. Content-addressed, so a retried job rewrites nothing.
    const heldOut: NewReferenceClip[] = [];
    for (const clip of validation) {
      const sha256 = hashes.get(clip)!;
      const key = referenceKey(sha256);
      if (!(await deps.blobs.head(key))) await deps.blobs.put(key, clip.bytes);
      heldOut.push({ sha256, object_key: key, label: clip.label, path: clip.path });
    }
    const referenceClips = await loadReferenceClips(deps.blobs, reference.clips, log);
    const scores = await deps.runner.gate({ clips: [...referenceClips, ...validation], candidate: result.files, current: baseFiles }, (done, total) => {
      progress = { phase: 'gate', done, total };
      if (lost) throw new RunAborted('lost');
      if (deps.stopping?.()) throw new RunAborted('shutdown');
    });
    if (lost) throw new RunAborted('lost');

    const rule = deps.gateRule ?? DEFAULT_GATE_RULE;
    const [candidateScore, currentScore] = [scores.candidate[rule.metric], scores.current[rule.metric]];
    const outcome = decidePromotion({ candidate: candidateScore, current: currentScore, clips: scores.clips }, rule);
    const promote = outcome === 'promoted';
    const { model } = await storeModel(repo, deps.blobs, result.files, { status: 'candidate', metrics: scalarMetrics(scores.candidate as never) });
    const finalMetrics = { ...scalarMetrics(scores.candidate as never), skipped_clips: result.skipped.length };
    const decision = await repo.transaction(async (tx) => {
      const gate: GateDecision = {
        outcome,
        metric: rule.metric,
        candidate: candidateScore,
        current: currentScore,
        margin: rule.margin,
        min_clips_per_class: rule.minClipsPerClass,
        clips: scores.clips,
        reference_version: await tx.addReferenceClips(heldOut, id),
        held_out: validation.length,
        candidate_version: model.version,
        current_version: baseRow.version,
      };
      const done = await tx.markSucceeded(id, attempt, { final_metrics: finalMetrics, model_version: model.version, gate_decision: gate });
      if (!done) throw new RunAborted('lost');
      if (promote) {
        const before = await tx.getAlias(CURRENT_ALIAS);
        await tx.setAlias(CURRENT_ALIAS, model.version, `worker:session:${id}`, `gate: ${describeGateDecision(gate)}`);
        await tx.setModelStatus(model.version, 'promoted');
        if (before && before.version !== model.version) await tx.setModelStatus(before.version, 'archived');
      } else if (outcome === 'kept' && candidateScore < currentScore) {
        await tx.setModelStatus(model.version, 'rejected');
      } // else it stays `candidate`: not shown worse, promotable by hand
      return gate;
    });
    await repo.recordEvent(promote ? 'model.promoted' : 'model.kept', { session_id: id, version: model.version, gate: decision });
    log('info', 'training finished', { session: id, version: model.version, promoted: promote, gate: describeGateDecision(decision) });
    clearInterval(timer);
    await ack();
    if (promote) deps.onPromoted?.(model.version);
    return { outcome: 'succeeded', sessionId: id, version: model.version, promoted: promote, gate: decision };
  } catch (error) {
    clearInterval(timer);
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof RunAborted && error.why === 'lost') {
      log('warn', 'run lost its session; leaving it to the new owner', { session: id });
      await ack();
      return { outcome: 'lost', sessionId: id };
    }
    if (error instanceof RunAborted) {
      // Shutdown: give the session back and make the job receivable again at once.
      await repo.requeueSession(id, attempt, 'interrupted by a worker shutdown; resumes on the next start');
      await queue.extendVisibility(job.receipt, 0).catch(() => {});
      return { outcome: 'shutdown', sessionId: id };
    }
    const code = (error as { code?: string }).code ?? '';
    const permanent = PERMANENT.has(code) || error instanceof SentinelError && /^(no_|zip_|invalid_zip)/.test(code);
    const lastTry = job.receiveCount >= maxReceives;
    log('error', 'training failed', { session: id, attempt, delivery: job.receiveCount, permanent, error: error instanceof Error ? error.stack ?? message : message });
    if (permanent || lastTry) {
      await repo.markFailed(id, attempt, `${code ? `${code}: ` : ''}${message}`);
      await repo.recordEvent('training.failed', { session_id: id, error: message, attempts: job.receiveCount, dead_lettered: !permanent });
      if (permanent) await ack();
      // Last delivery: not acked, visible at once, so the queue's redrive moves it to the dead-letter queue.
      else await queue.extendVisibility(job.receipt, 0).catch(() => {});
      return { outcome: 'failed', sessionId: id, error: message };
    }
    await repo.requeueSession(id, attempt, `attempt ${job.receiveCount} failed: ${message}`);
    await queue.extendVisibility(job.receipt, deps.retryDelaySeconds ?? WORKER.retryDelaySeconds).catch(() => {});
    return { outcome: 'retry', sessionId: id, error: message };
  }
}
