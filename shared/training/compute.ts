/**
 * Where training's heavy, independent work runs: the backbone pass of every view and the fits of an ensemble's
 * heads. The trainer only calls this port. `inProcessCompute` runs everything on the caller's thread (browser, tests,
 * a GPU backend); adapters/training-threads.ts spreads it over worker threads, one per core, because tfjs-wasm is
 * single-threaded in Node. Both run the same functions below on the same backend, so they give the same numbers.
 */
import * as tf from '../model/tf.ts';
import { MEL, MODEL } from '../config.ts';
import { embed } from '../model/classifier.ts';
import { logMelToDb, melStatsDim, melStatsOf, type MelStatsVersion } from '../model/mel-stats.ts';
import { melToModelInput, type InputRepresentation } from '../model/input.ts';
import { trainHead, type HeadTrainingOptions, type HeadTrainingResult } from './head.ts';

/** What a view's cached features are computed with. */
export interface FeatureSpec {
  /** The backbone (head mode) or the backbone up to a cut ('top' mode); inference only. */
  model: tf.LayersModel;
  representation: InputRepresentation;
  /** Global average pooling of the feature map (head mode); else the map itself, flattened. */
  pool: boolean;
  /** Pooled embeddings followed by this version's acoustic statistics (mel-stats.ts). */
  melStats?: MelStatsVersion;
}

export interface FeatureExtractor {
  /** Features of these log-mel images, row-major, one row per mel. */
  extract(mels: readonly Float32Array[]): Promise<Float32Array>;
  dispose(): Promise<void>;
}

export interface TrainingCompute {
  /** How many extractions or fits run at once: the trainer keeps twice this many batches in flight. */
  readonly parallelism: number;
  extractor(spec: FeatureSpec): Promise<FeatureExtractor>;
  /** Independent head fits (each seeded by its own options), results in job order. */
  trainHeads(jobs: readonly HeadTrainingOptions[]): Promise<HeadTrainingResult[]>;
}

/** The features of a batch of mels: what both computes run, here or in a thread. */
export async function extractFeatures(spec: FeatureSpec, mels: readonly Float32Array[]): Promise<Float32Array> {
  if (spec.pool) {
    const pooled = await embed(spec.model, { mels: [...mels], representation: spec.representation }, MODEL.embedBatchSize);
    return spec.melStats ? withStats(pooled, mels, spec.melStats, spec.representation) : pooled;
  }
  const input = melToModelInput([...mels], spec.representation);
  const out = tf.tidy(() => spec.model.predict(tf.tensor4d(input.data, input.shape)) as tf.Tensor);
  const flat = (await out.data()) as Float32Array;
  out.dispose();
  return flat;
}

/**
 * Each row of `pooled` followed by its mel's acoustic statistics (melStatsOf: plain loops, equal to the graph's). A
 * grey128 view's mel is already in dB; a logmel view's is the Kaldi log-mel.
 */
function withStats(pooled: Float32Array, mels: readonly Float32Array[], version: MelStatsVersion, representation: InputRepresentation): Float32Array {
  const dim = pooled.length / mels.length;
  const statsDim = melStatsDim(version);
  const out = new Float32Array(mels.length * (dim + statsDim));
  mels.forEach((mel, i) => {
    out.set(pooled.subarray(i * dim, (i + 1) * dim), i * (dim + statsDim));
    out.set(melStatsOf(representation === 'logmel' ? logMelToDb(mel) : mel, mel.length / MEL.nMels, version), i * (dim + statsDim) + dim);
  });
  return out;
}

/**
 * Runs one task at a time, in call order. A head fit replaces Math.random for its duration (head.ts
 * withSeededMathRandom), so two fits interleaved on one thread would draw from each other's generator.
 */
export function serialQueue(): <T>(task: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>) => {
    const run = tail.then(task, task);
    tail = run.catch(() => {});
    return run;
  };
}

/** Everything on the caller's thread. */
export function inProcessCompute(): TrainingCompute {
  const serial = serialQueue();
  return {
    parallelism: 1,
    async extractor(spec) {
      return { extract: (mels) => serial(() => extractFeatures(spec, mels)), dispose: async () => {} };
    },
    trainHeads: (jobs) => Promise.all(jobs.map((job) => serial(() => trainHead(job)))),
  };
}
