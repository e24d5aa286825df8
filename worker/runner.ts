/**
 * Where a job's heavy work runs: training the candidate and scoring it against the current model. The handler keeps
 * the queue, the database and the heartbeat on its own thread and hands these two steps to a TrainingRunner:
 * `inProcessRunner` runs them on the caller's thread (tests; the worker container, which serves nothing),
 * `ThreadRunner` (thread-runner.ts) on a worker thread, so the local stack's API is never held up by training.
 * Both run the same two functions below.
 */
import { TRAINING } from '../shared/config.ts';
import { Detector } from '../shared/inference/detector.ts';
import { loadArtifact } from '../shared/model/artifact.ts';
import { backboneOf, classHeadOf, headOf } from '../shared/model/classifier.ts';
import type { ModelFiles } from '../shared/model/files.ts';
import type { TrainingMode } from '../shared/model/types.ts';
import type { EmbeddingCache } from '../shared/training/embedding-cache.ts';
import { trainModel, type TrainProgress, type TrainResult } from '../shared/training/trainer.ts';
import type { LabeledClip } from '../shared/types.ts';
import { openTrainingCompute } from '../adapters/training-threads.ts';
import { runGate, type GateScores } from './gate.ts';

export interface TrainingSettings {
  folds: number;
  augmentations: number;
  /** Threads for embedding and head fits (adapters/training-threads.ts); undefined = one per CPU on wasm. */
  threads?: number;
}

/** One candidate to train: everything crosses a thread as plain data. */
export interface CandidateJob {
  /** The clips to train on (the gate's held-out part already taken out). */
  clips: LabeledClip[];
  /** The current model: its backbone is the starting point, its head the warm start when `warmStart`. */
  baseFiles: ModelFiles;
  mode: TrainingMode;
  epochs: number;
  warmStart: boolean;
  command: string;
}

export interface GateJob {
  clips: LabeledClip[];
  candidate: ModelFiles;
  current: ModelFiles;
}

export type EpochReport = { epoch: number; loss: number; valLoss?: number; fold: number | null };

export interface RunHooks {
  /** May throw to stop the run: the run then fails with that error. */
  onProgress?: (p: TrainProgress) => void;
  onEpoch?: (e: EpochReport) => void;
}

/** Both steps may take the job's clip bytes over (ThreadRunner moves them to its thread): do not use them after. */
export interface TrainingRunner {
  train(job: CandidateJob, hooks?: RunHooks): Promise<TrainResult>;
  gate(job: GateJob, onProgress?: (done: number, total: number) => void): Promise<GateScores>;
}

export interface InProcessDeps {
  cache: EmbeddingCache;
  training: TrainingSettings;
  /** Test seam: replaces trainModel. */
  train?: typeof trainModel;
}

/** Trains a candidate from the current model's backbone (and head, when warm-starting). */
export async function trainCandidate(job: CandidateJob, deps: InProcessDeps, hooks: RunHooks = {}): Promise<TrainResult> {
  const base = await loadArtifact(job.baseFiles);
  try {
    const weights = base.manifest.files['weights.bin']?.sha256 ?? base.manifest.version;
    // The current model's own backbone (and the AudioSet class head it carries, if any), as cli/model.ts does for --from.
    const classHead = classHeadOf(base.model);
    const training = openTrainingCompute(deps.training.threads);
    return await (deps.train ?? trainModel)({
      clips: job.clips,
      backbone: {
        name: base.manifest.backbone.name,
        model: backboneOf(base.model),
        ...(classHead ? { classHead: { model: classHead.model, labels: base.manifest.classLabels } } : {}),
        id: `${base.manifest.version}:${weights.slice(0, 16)}`,
        alpha: base.manifest.backbone.alpha,
        weightsSource: `sentinel:${base.manifest.version}`,
        folded: true,
      },
      ...(classHead ? { readClassLogits: classHead.readByHead } : {}),
      representation: base.manifest.representation,
      mode: job.mode ?? TRAINING.defaultMode,
      epochs: job.epochs,
      folds: deps.training.folds,
      augmentations: deps.training.augmentations,
      cache: deps.cache,
      parent: { manifest: base.manifest, ...(job.warmStart ? { head: headOf(base.model) } : {}) },
      command: job.command,
      compute: training.compute,
      ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}),
      ...(hooks.onEpoch ? { onEpoch: hooks.onEpoch } : {}),
    }).finally(() => training.close());
  } finally {
    base.model.dispose();
  }
}

/** Both models on the same clips (worker/gate.ts). */
export async function scoreCandidate(job: GateJob, onProgress?: (done: number, total: number) => void): Promise<GateScores> {
  const candidate = await Detector.fromFiles(job.candidate);
  try {
    const current = await Detector.fromFiles(job.current);
    try {
      return await runGate({ clips: job.clips, candidate, current, ...(onProgress ? { onProgress } : {}) });
    } finally {
      current.dispose();
    }
  } finally {
    candidate.dispose();
  }
}

/** Training and gate on the caller's thread. */
export function inProcessRunner(deps: InProcessDeps): TrainingRunner {
  return {
    train: (job, hooks) => trainCandidate(job, deps, hooks),
    gate: (job, onProgress) => scoreCandidate(job, onProgress),
  };
}
