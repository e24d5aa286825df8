/**
 * Trains a Sentinel model from labelled clips, end to end:
 *   decode -> views (windows + augmentations) -> embeddings (cached) -> group-aware k-fold CV (out-of-fold
 *   predictions give the reported figures and the threshold) -> final head on all clips -> classifier
 *   (backbone + GAP + head) -> optional fine-tuning -> artifact (tfjs files + sentinel.json).
 *
 * 'head' mode keeps the backbone frozen (CPU friendly: one backbone pass per view, then a small dense net).
 * 'top' mode caches the feature maps below the backbone's last blocks instead and trains those blocks with the head
 * (top.ts, top-train.ts): still one backbone pass per view, then a few MFLOP per view and epoch, CPU friendly.
 * 'finetune' mode then trains the top of the backbone on images with a low learning rate (meant for the GPU worker;
 * on CPU only tiny smoke runs). Pure: files, caches and backends come from the caller.
 */
import * as tf from '../model/tf.ts';
import { API, AUDIO, MODEL, TRAINING } from '../config.ts';
import { decodeAudio, frontEnd, resample, toMono, type FrontEnd } from '../audio/index.ts';
import { invalidArgument, SentinelError } from '../errors.ts';
import { sha256Hex } from '../hash.ts';
import { chooseThreshold, evaluate } from '../metrics/index.ts';
import type { Metrics } from '../metrics/types.ts';
import { backboneChannels, buildClassifier, buildHead, headInputDim, setBackboneTrainable, keepFrozenBatchNormInInferenceMode } from '../model/classifier.ts';
import { classMaxOf, priorFloored } from '../model/class-prior.ts';
import { BACKBONES } from '../model/backbones/index.ts';
import { MEL_STATS_VERSION, melStatsDim, melStatsVersionOfDim, type MelStatsVersion } from '../model/mel-stats.ts';
import { foldBatchNorm } from '../model/fold.ts';
import { melToModelInput, REPRESENTATION_SHAPES, type InputRepresentation } from '../model/input.ts';
import { readManifest, serializeArtifact } from '../model/artifact.ts';
import type { ModelFiles } from '../model/files.ts';
import type { Aggregation, BackboneName, CeilingSource, EpochRow, HeadConfig, ModelManifest, ThresholdSource, TrainingMode } from '../model/types.ts';
import type { ClassScore, LabeledClip, SkippedFile } from '../types.ts';
import { topClasses } from '../inference/detector.ts';
import { recordingProbability, scoredSpans } from '../inference/aggregation.ts';
import { inProcessCompute, type FeatureSpec, type TrainingCompute } from './compute.ts';
import type { EmbeddingCache } from './embedding-cache.ts';
import { mergeHeadParts, type EpochLog, type HeadTrainingOptions } from './head.ts';
import { topNet, cutBefore, type TopNet } from './top.ts';
import { pooledFeatures, trainTop, type FeatureMaps } from './top-train.ts';
import { createRng } from './random.ts';
import { groupKFold, groupTrainValSplit } from './split.ts';
import { augmentedViews, windowViews, type PreparedClip, type View } from './views.ts';
import { AudioError } from '../audio/errors.ts';

export interface BackboneSpec {
  /** Which backbone it is (shared/model/backbones): decides the front end and representation. */
  name: BackboneName;
  /** Feature-map model (MobileNetV2 without top, EfficientAT without its classifier); BN may be folded (frozen anyway in head mode). */
  model: tf.LayersModel;
  /** The backbone's own classifier on the pooled embedding (AudioSet's 527 logits) and its class names, if it has one. */
  classHead?: { model: tf.LayersModel; labels: string[] };
  /** Identity of its weights (e.g. sha256 of weights.bin): part of every embedding cache key. */
  id: string;
  alpha: number;
  /** Where the weights came from, recorded in the manifest (`keras-imagenet`, `random`, a parent version…). */
  weightsSource: string;
  folded: boolean;
}

export interface TrainProgress {
  phase: 'decode' | 'embed' | 'cv' | 'source-cv' | 'train' | 'finetune' | 'export';
  done: number;
  total: number;
  detail?: string;
}

export interface TrainRequest {
  clips: readonly LabeledClip[];
  backbone: BackboneSpec;
  representation?: InputRepresentation;
  mode?: TrainingMode;
  /** Head: upper bound on epochs (early stopping). Finetune: fine-tuning epochs. */
  epochs?: number;
  /** Cross-validation folds; < 2 skips CV (threshold then comes from an inner validation split). */
  folds?: number;
  augmentations?: number;
  seed?: number;
  cache: EmbeddingCache;
  /** Where the backbone passes and head fits run (default: this thread; adapters/training-threads.ts: a thread per core). */
  compute?: TrainingCompute;
  /** The model this one is retrained from (--from): its version is recorded and its head starts the training. */
  parent?: { manifest: ModelManifest; head?: tf.LayersModel };
  /** Classifier head shape (default MODEL.head). */
  head?: Partial<HeadConfig>;
  /** How a recording is scored from its windows, in cross-validation and by the model (default MODEL.aggregation). */
  aggregation?: Aggregation;
  /** Models with a class prior: a window's P(danger) is at least the prior's less this many logits (default
   *  MODEL.priorFloor; null = no floor). Applied in cross-validation and recorded in the model. */
  priorFloor?: number | null;
  /** Also test on each source unseen (SourceCvReport): one more fit per source. */
  sourceCv?: boolean;
  /** The head also reads the window's acoustic statistics: grey128 in head and finetune modes (default MODEL.melStats);
   *  the AudioSet backbone's logmel in head mode when true (default off). */
  melStats?: boolean;
  /** Backbones with a class head: the head also reads its class logits (default MODEL.readClassLogits; a warm start passes its parent's choice). */
  readClassLogits?: boolean;
  /** Share of the logit given to the backbone's own danger score (class-prior.ts; default TRAINING.classPriorWeight; 0 = none). */
  classPriorWeight?: number;
  /** Head mode: heads trained per fit from different seeds and merged (default TRAINING.headEnsemble). */
  headEnsemble?: number;
  /** 'top' mode: the first backbone layer trained (layer name; default: the backbone's topFrom, shared/model/backbones). */
  topFrom?: string;
  /** Fine-tuning: train backbone layers from this one on (Keras name) or all. */
  finetuneFrom?: string | 'all';
  command: string;
  onProgress?: (p: TrainProgress) => void;
  /** Every head epoch: `fold` is the CV fold (1-based) or null for the final model's head. For per-epoch charts. */
  onEpoch?: (log: EpochLog & { fold: number | null }) => void;
  now?: () => Date;
}

export interface CvReport {
  folds: number;
  /** Out-of-fold predictions pooled, at the chosen threshold. */
  pooled: Metrics;
  /** Each fold's metrics at the same threshold. */
  perFold: Metrics[];
  /** Every clip's out-of-fold probability: which clips the model misses or false-alarms on, and why. */
  outOfFold: { path: string; label: 'safe' | 'danger'; subclass?: string; group: string; fold: number; probability: number; classes?: ClassScore[] }[];
  /** Mean and sample standard deviation over folds of the headline figures. */
  summary: Record<'rocAuc' | 'prAuc' | 'balancedAccuracy' | 'recall' | 'precision' | 'f1', { mean: number; std: number }>;
}

/**
 * Leave-one-source-out test (`sourceCv`): every clip scored by a model trained without its source (dataset or
 * device), at the stored threshold. A class that only one source has (dev's gunshots) cannot be learnt once that
 * source is out, so read per source, not only pooled.
 */
export interface SourceCvReport {
  sources: number;
  pooled: Metrics;
  perSource: { source: string; danger: number; safe: number; recall: number | null; falseAlarmRate: number | null; rocAuc: number | null }[];
  outOfSource: { path: string; label: 'safe' | 'danger'; source: string; probability: number }[];
}

function sourceReport(clips: readonly PreparedClip[], labels: number[], p: number[], sources: string[], threshold: number): SourceCvReport {
  const idx = clips.map((_, i) => i);
  const pooled = evaluate({ labels, probabilities: p, threshold, subclasses: clips.map((c) => c.subclass ?? c.label), durationsSeconds: clips.map((c) => c.duration) });
  const perSource = sources.map((source) => {
    const mine = idx.filter((i) => clips[i].source === source);
    const danger = mine.filter((i) => labels[i] === 1);
    const safe = mine.filter((i) => labels[i] === 0);
    const m = danger.length && safe.length ? evaluate({ labels: mine.map((i) => labels[i]), probabilities: mine.map((i) => p[i]), threshold }) : undefined;
    return {
      source,
      danger: danger.length,
      safe: safe.length,
      recall: danger.length ? danger.filter((i) => p[i] >= threshold).length / danger.length : null,
      falseAlarmRate: safe.length ? safe.filter((i) => p[i] >= threshold).length / safe.length : null,
      rocAuc: m?.rocAuc ?? null,
    };
  });
  return { sources: sources.length, pooled, perSource, outOfSource: idx.map((i) => ({ path: clips[i].path, label: clips[i].label, source: clips[i].source, probability: p[i] })) };
}

export interface TrainResult {
  files: ModelFiles;
  manifest: ModelManifest;
  cv?: CvReport;
  sourceCv?: SourceCvReport;
  skipped: SkippedFile[];
  /** Views embedded vs served from the cache. */
  embeddings: { computed: number; cached: number };
}

interface ClipViews {
  windows: View[];
  augmented: View[];
}

export async function prepareClips(clips: readonly LabeledClip[], progress: (d: number) => void, rate: number = AUDIO.sampleRate): Promise<{ prepared: PreparedClip[]; skipped: SkippedFile[] }> {
  const prepared: PreparedClip[] = [];
  const skipped: SkippedFile[] = [];
  for (let i = 0; i < clips.length; i++) {
    const clip = clips[i];
    try {
      const audio = await decodeAudio(clip.bytes);
      const mono = toMono(audio.channels);
      const samples = audio.sampleRate === rate ? mono : resample(mono, audio.sampleRate, rate);
      prepared.push({
        path: clip.path,
        label: clip.label,
        subclass: clip.subclass,
        group: clip.group ?? clip.path,
        source: clip.source ?? clip.group ?? clip.path,
        hash: await sha256Hex(clip.bytes),
        samples,
        duration: audio.duration,
      });
    } catch (err) {
      if (!(err instanceof AudioError)) throw err;
      skipped.push({ path: clip.path, code: err.code, reason: err.message });
    }
    progress(i + 1);
  }
  return { prepared, skipped };
}

/**
 * What training computes once per view and caches: the backbone's pooled embedding (head mode) or the feature map
 * at the cut below the trainable top ('top' mode). `tag` keeps the two apart in the cache.
 */
interface Extractor extends Omit<FeatureSpec, 'representation'> {
  tag: string;
}

/**
 * Runs the extractor on every view, from the cache where possible; returns [clip][view] features. This thread makes
 * the views' mels while the compute extracts earlier batches (up to twice its parallelism in flight).
 */
async function extractViews(
  backbone: BackboneSpec,
  extractor: Extractor,
  representation: InputRepresentation,
  clips: readonly PreparedClip[],
  views: readonly View[][],
  cache: EmbeddingCache,
  compute: TrainingCompute,
  progress: (done: number, total: number) => void,
): Promise<{ features: Float32Array[][]; computed: number; cached: number }> {
  const total = views.reduce((s, v) => s + v.length, 0);
  const features = views.map((v) => new Array<Float32Array>(v.length));
  const key = (c: number, v: number) => `${backbone.id}|${representation}|${extractor.tag}${clips[c].hash}|${views[c][v].id}`;
  const misses: [number, number][] = [];
  let done = 0;
  for (let c = 0; c < clips.length; c++) {
    for (let v = 0; v < views[c].length; v++) {
      const hit = await cache.get(key(c, v));
      if (hit) {
        features[c][v] = hit;
        done++;
      } else misses.push([c, v]);
    }
  }
  progress(done, total);
  if (misses.length === 0) return { features, computed: 0, cached: total };
  const batch = MODEL.embedBatchSize * 4;
  const worker = await compute.extractor({ model: extractor.model, representation, pool: extractor.pool, melStats: extractor.melStats });
  const inFlight = new Set<Promise<void>>();
  try {
    for (let i = 0; i < misses.length; i += batch) {
      const chunk = misses.slice(i, i + batch);
      const job = worker.extract(chunk.map(([c, v]) => views[c][v].mel())).then(async (flat) => {
        const dim = flat.length / chunk.length;
        for (let j = 0; j < chunk.length; j++) {
          const [c, v] = chunk[j];
          const e = flat.slice(j * dim, (j + 1) * dim);
          features[c][v] = e;
          await cache.set(key(c, v), e);
        }
        done += chunk.length;
        progress(done, total);
      });
      inFlight.add(job);
      job.then(() => inFlight.delete(job), () => {});
      if (inFlight.size >= 2 * compute.parallelism) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } finally {
    // On a failure, let the other batches settle before the extractor goes.
    await Promise.allSettled(inFlight);
    await worker.dispose();
  }
  return { features, computed: misses.length, cached: total - misses.length };
}

function stack(rows: Float32Array[]): Float32Array {
  const dim = rows[0]?.length ?? 0;
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, i) => out.set(r, i * dim));
  return out;
}

/** Training rows of some clips: all their views (windows and augmentations), each labelled with its clip's label. */
function rows(indices: readonly number[], clips: readonly PreparedClip[], emb: Float32Array[][], which: 'all' | 'windows', nWindows: number[]) {
  const x: Float32Array[] = [];
  const y: number[] = [];
  for (const c of indices) {
    const use = which === 'all' ? emb[c] : emb[c].slice(0, nWindows[c]);
    for (const e of use) {
      x.push(e);
      y.push(clips[c].label === 'danger' ? 1 : 0);
    }
  }
  return { x: stack(x), y };
}

/**
 * Clip probabilities as `predict` decides on a recording (`aggregation`: its best window or pair; `priorFloor`: each
 * window floored by the class prior, the last feature of its row, as the Detector floors it). `x`: window features.
 */
async function clipProbabilities(head: tf.LayersModel, x: Float32Array, dim: number, indices: readonly number[], nWindows: number[], aggregation: Aggregation, priorFloor: number | null): Promise<number[]> {
  const p = tf.tidy(() => head.predict(tf.tensor2d(x, [x.length / dim, dim])) as tf.Tensor);
  const probs = await p.data();
  p.dispose();
  if (priorFloor !== null) for (let r = 0; r < probs.length; r++) probs[r] = priorFloored(probs[r], x[r * dim + dim - 1], priorFloor);
  const out: number[] = [];
  let k = 0;
  for (const c of indices) {
    // Only the order of a clip's windows matters here: index i stands for the window's place in time.
    const windows = Array.from(probs.subarray(k, (k += nWindows[c])), (probability, i) => ({ start: i, end: i + 1, probability }));
    out.push(recordingProbability(scoredSpans(windows, aggregation)));
  }
  return out;
}

/** How one mode trains a head (and, in 'top' mode, the backbone's top) on the cached per-view features. */
interface Learner {
  /** Trains on the views of `fitOn` clips, early-stopping on the windows of `validation` clips when given. */
  fit(fitOn: number[], validation: number[] | undefined, seed: number, epochs: number, onEpoch?: (log: EpochLog) => void): Promise<{ head: tf.LayersModel; bestEpoch: number }>;
  /** Pooled features of these clips' window views, as the last fit left the model: [windows][dim]. */
  windowFeatures(indices: readonly number[]): Promise<{ x: Float32Array; dim: number }>;
}

/** Columns [from, to) of row-major [n][dim] features. */
function columns(x: Float32Array, dim: number, from: number, to: number): Float32Array {
  const n = x.length / dim;
  const out = new Float32Array(n * (to - from));
  for (let i = 0; i < n; i++) out.set(x.subarray(i * dim + from, i * dim + to), i * (to - from));
  return out;
}

/**
 * Per-row weights evening out sources within each class: a clip of a source with n clips of its class weighs
 * n^-balance, rescaled so each class keeps its total (class weighting stays as it was).
 */
export function sourceWeights(sources: readonly string[], y: ArrayLike<number>, balance: number): Float32Array {
  const count = new Map<string, number>();
  sources.forEach((s, i) => count.set(`${y[i]}|${s}`, (count.get(`${y[i]}|${s}`) ?? 0) + 1));
  const w = Float32Array.from(sources, (s, i) => count.get(`${y[i]}|${s}`)! ** -balance);
  for (const label of [0, 1]) {
    let sum = 0;
    let n = 0;
    for (let i = 0; i < w.length; i++) if (y[i] === label) (sum += w[i]), n++;
    for (let i = 0; i < w.length; i++) if (y[i] === label) w[i] *= n / sum;
  }
  return w;
}

/**
 * 'head' (and finetune's warm-up): heads on the frozen backbone's cached embeddings (an ensemble of seeds) and, when
 * the features end with the acoustic statistics, a small head on those, merged into one head on all the features.
 */
function headLearner(emb: Float32Array[][], clips: PreparedClip[], nWindows: number[], request: TrainRequest, statsDim: number, compute: TrainingCompute, priorWeight = 0): Learner {
  const dim = emb[0][0].length;
  // With a class prior, the last column is the backbone's danger score (class-prior.ts): no head learns from it, a
  // fixed part of the logit reads it.
  const learnDim = priorWeight > 0 ? dim - 1 : dim;
  const embeddingDim = learnDim - statsDim;
  return {
    async fit(fitOn, validation, seed, epochs, onEpoch) {
      const data = rows(fitOn, clips, emb, 'all', nWindows);
      const val = validation && rows(validation, clips, emb, 'windows', nWindows);
      const rowSources = fitOn.flatMap((c) => emb[c].map(() => clips[c].source));
      const rowWeights = sourceWeights(rowSources, data.y, TRAINING.sourceBalance);
      // A warm start continues the parent's (merged) head as one model; a fresh run trains an ensemble.
      if (request.parent?.head) {
        const [run] = await compute.trainHeads([{ x: data.x, y: data.y, dim, validation: val, epochs, seed, rowWeights, initialHead: request.parent.head, onEpoch }]);
        return { head: run.head, bestEpoch: run.bestEpoch };
      }
      const part = (from: number, to: number) => ({
        x: columns(data.x, dim, from, to),
        validation: val && { x: columns(val.x, dim, from, to), y: val.y },
      });
      const members = request.headEnsemble ?? TRAINING.headEnsemble;
      const embeddings = embeddingDim < dim ? part(0, embeddingDim) : { x: data.x, validation: val };
      // Member 0 keeps the run's seed (so one member = the plain head); only it reports epochs, for readable charts.
      const jobs: HeadTrainingOptions[] = Array.from({ length: members }, (_, m) => ({ ...embeddings, y: data.y, dim: embeddingDim, epochs, seed: seed + m * 7919, head: request.head, rowWeights, onEpoch: m === 0 ? onEpoch : undefined }));
      if (statsDim > 0) {
        const stats = part(embeddingDim, learnDim);
        jobs.push({ ...stats, y: data.y, dim: statsDim, epochs, seed: seed + 104729, head: TRAINING.melStatsHead, l2: TRAINING.melStatsL2, rowWeights });
      }
      const runs = await compute.trainHeads(jobs);
      const statsWeight = statsDim > 0 ? TRAINING.melStatsWeight[request.backbone.name] : 0;
      const learnt = 1 - priorWeight;
      const parts = runs.map((r, m) => (m < members ? { head: r.head, from: 0, weight: (learnt * (1 - statsWeight)) / members } : { head: r.head, from: embeddingDim, weight: learnt * statsWeight }));
      if (priorWeight > 0) parts.push({ head: identityHead(), from: learnDim, weight: priorWeight });
      const head = parts.length === 1 ? parts[0].head : mergeHeadParts(parts, dim);
      if (parts.length > 1) parts.forEach((p) => p.head.dispose());
      const best = runs.map((r) => r.bestEpoch).sort((a, b) => a - b);
      return { head, bestEpoch: best[Math.floor(best.length / 2)] };
    },
    windowFeatures: async (indices) => ({ x: stack(indices.flatMap((c) => emb[c].slice(0, nWindows[c]))), dim }),
  };
}

/** A head on one column whose logit is that column (kernel 1, bias 0): the class prior's fixed part of a merged head. */
function identityHead(): tf.LayersModel {
  const head = buildHead({ embeddingDim: 1, head: { hiddenUnits: 0, dropout: 0 } });
  head.setWeights([tf.ones([1, 1]), tf.zeros([1])]);
  return head;
}

/** 'top': the backbone's top and the head on cached cut-layer maps; every fit starts from the backbone's own top. */
function topLearner(top: TopNet, maps: Float32Array[][], shape: [number, number, number], clips: PreparedClip[], nWindows: number[], request: TrainRequest): Learner {
  const flat: Float32Array[] = [];
  const offset: number[] = [];
  for (const m of maps) {
    offset.push(flat.length);
    flat.push(...m);
  }
  const featureMaps: FeatureMaps = { shape, row: (i) => flat[i] };
  const viewRows = (indices: readonly number[], which: 'all' | 'windows') => {
    const out = { rows: [] as number[], y: [] as number[] };
    for (const c of indices) {
      const n = which === 'all' ? maps[c].length : nWindows[c];
      for (let v = 0; v < n; v++) {
        out.rows.push(offset[c] + v);
        out.y.push(clips[c].label === 'danger' ? 1 : 0);
      }
    }
    return out;
  };
  return {
    async fit(fitOn, validation, seed, epochs, onEpoch) {
      top.restore();
      const train = viewRows(fitOn, 'all');
      const val = validation && viewRows(validation, 'windows');
      const rowWeights = sourceWeights(fitOn.flatMap((c) => maps[c].map(() => clips[c].source)), train.y, TRAINING.sourceBalance);
      return trainTop({ top, maps: featureMaps, train, validation: val, epochs, seed, head: request.head, initialHead: request.parent?.head, rowWeights, onEpoch });
    },
    windowFeatures: async (indices) => ({ x: await pooledFeatures(top, featureMaps, viewRows(indices, 'windows').rows), dim: top.outputChannels }),
  };
}

function meanStd(values: number[]): { mean: number; std: number } {
  const finite = values.filter(Number.isFinite);
  const mean = finite.reduce((s, v) => s + v, 0) / Math.max(1, finite.length);
  const variance = finite.reduce((s, v) => s + (v - mean) ** 2, 0) / Math.max(1, finite.length - 1);
  return { mean, std: Math.sqrt(variance) };
}

function versionId(now: Date, hash: string): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${hash.slice(0, 6)}`;
}

/**
 * What the backbone's class head hears in a clip: its top classes, each at its highest logit over the clip's windows
 * (`from`: where the logits start in a feature row). Beside an out-of-fold miss, it says whether the label or the
 * model is more likely wrong: the dev set's labels come from folder names.
 */
function clipClasses(views: readonly Float32Array[], windows: number, from: number, labels: readonly string[]): ClassScore[] {
  const best = new Float32Array(labels.length).fill(-Infinity);
  for (let w = 0; w < windows; w++) for (let k = 0; k < labels.length; k++) best[k] = Math.max(best[k], views[w][from + k]);
  return topClasses(best, labels, API.windowClasses);
}

/**
 * Inserts each row's class logits (the class head on the row's pooled embedding, its first `embeddingDim` columns)
 * after that embedding in features [clip][view], and with `priorClasses` appends the class prior (class-prior.ts):
 * [embedding, logits, acoustic statistics if any, prior], the classifier's order (buildClassifier).
 */
export async function withClassLogits(features: Float32Array[][], embeddingDim: number, classHead: tf.LayersModel, priorClasses: readonly number[] = []): Promise<Float32Array[][]> {
  const rowsOf = features.flat();
  const dim = rowsOf[0].length;
  const out: Float32Array[] = [];
  const batch = 512;
  for (let i = 0; i < rowsOf.length; i += batch) {
    const chunk = rowsOf.slice(i, i + batch);
    const embeddings = chunk.map((row) => row.subarray(0, embeddingDim));
    const logits = tf.tidy(() => classHead.predict(tf.tensor2d(stack(embeddings), [chunk.length, embeddingDim])) as tf.Tensor2D);
    const values = await logits.data();
    const k = logits.shape[1];
    logits.dispose();
    const extra = priorClasses.length > 0 ? 1 : 0;
    chunk.forEach((row, j) => {
      const joined = new Float32Array(dim + k + extra);
      const logits = values.subarray(j * k, (j + 1) * k);
      joined.set(row.subarray(0, embeddingDim));
      joined.set(logits, embeddingDim);
      joined.set(row.subarray(embeddingDim), embeddingDim + k);
      if (extra) joined[dim + k] = classMaxOf(logits, priorClasses);
      out.push(joined);
    });
  }
  let next = 0;
  return features.map((views) => views.map(() => out[next++]));
}

/**
 * The threshold stored with a model: TRAINING.thresholdRule's best balanced accuracy over the out-of-fold predictions
 * and, when given (`held`, --source-cv), the out-of-source ones of the same clips; the rule's per-kind false-alarm
 * ceiling is checked on the predictions `ceilingOn` names (TRAINING.thresholdCeilingOn says why out of fold).
 */
export function storedThreshold(
  labels: readonly number[],
  oof: readonly number[],
  held: readonly number[] | undefined,
  subclasses: readonly (string | undefined)[],
  groups: readonly string[],
  ceilingOn: CeilingSource = TRAINING.thresholdCeilingOn,
): number {
  if (!held) return chooseThreshold(labels, oof, TRAINING.thresholdRule, subclasses, groups).threshold;
  // A prediction without a subclass is scored for balanced accuracy but never judged by the ceiling.
  const heldSubclasses = ceilingOn === 'out-of-fold' ? subclasses.map(() => undefined) : subclasses;
  return chooseThreshold([...labels, ...labels], [...oof, ...held], TRAINING.thresholdRule, [...subclasses, ...heldSubclasses], [...groups, ...groups]).threshold;
}

export async function trainModel(request: TrainRequest): Promise<TrainResult> {
  const mode = request.mode ?? TRAINING.defaultMode;
  const seed = request.seed ?? TRAINING.seed;
  const backbone = BACKBONES[request.backbone.name];
  const fe: FrontEnd = frontEnd(backbone.frontEnd);
  const representation = request.representation ?? (backbone.representations.includes(MODEL.representation) ? MODEL.representation : backbone.representations[0]);
  if (!backbone.representations.includes(representation)) {
    throw invalidArgument(`The ${backbone.name} backbone reads ${backbone.representations.join(' or ')}, not ${representation}.`, { backbone: backbone.name, representation });
  }
  const nAug = request.augmentations ?? TRAINING.augmentations;
  const nFolds = request.folds ?? TRAINING.folds;
  const report = request.onProgress ?? (() => {});
  const now = (request.now ?? (() => new Date()))();

  const { prepared: clips, skipped } = await prepareClips(request.clips, (d) => report({ phase: 'decode', done: d, total: request.clips.length }), fe.sampleRate);
  const labels = clips.map((c) => (c.label === 'danger' ? 1 : 0));
  const nDanger = labels.filter((l) => l === 1).length;
  if (nDanger === 0 || nDanger === clips.length) {
    throw new SentinelError('TRAINING_DATA_INVALID', `Training needs both safe and danger clips; got ${clips.length - nDanger} safe and ${nDanger} danger usable clips.`, {
      safe: clips.length - nDanger,
      danger: nDanger,
    });
  }
  const items = clips.map((c) => ({ group: c.group, label: c.label }));
  const groups = new Set(items.map((i) => i.group)).size;
  const folds = nFolds >= 2 && groups >= nFolds ? groupKFold(items, nFolds, seed) : [];
  // Each clip's fold; backgrounds for augmentation come from the clip's own fold only (see views.ts).
  const foldOf = new Array<number>(clips.length).fill(0);
  folds.forEach((f, k) => f.validation.forEach((i) => (foldOf[i] = k)));
  const safeByFold = new Map<number, PreparedClip[]>();
  clips.forEach((c, i) => {
    if (c.label === 'safe') safeByFold.set(foldOf[i], [...(safeByFold.get(foldOf[i]) ?? []), c]);
  });
  const views: ClipViews[] = clips.map((c, i) => ({
    windows: windowViews(c, fe),
    augmented: augmentedViews(c, nAug, seed, safeByFold.get(foldOf[i]) ?? [], undefined, fe),
  }));
  const nWindows = views.map((v) => v.windows.length);
  const all = clips.map((_, i) => i);
  const allViews = views.map((v) => [...v.windows, ...v.augmented]);
  let top: TopNet | undefined;
  // Acoustic statistics beside the embedding: by default for grey128, on request (`melStats`) in head mode for the
  // AudioSet backbone's log-mel; not in 'top' mode (its features are the top's own output); a warm start keeps
  // whatever its parent's head reads.
  // 'top' mode on a backbone whose top the cached-map trainer (top.ts) cannot run: its upper blocks are fine-tuned
  // through tfjs-layers instead (the finetune path from backbone.topFrom), which is what a GPU is for.
  const topByLayers = mode === 'top' && !backbone.cachedTop;
  const classHead = request.backbone.classHead;
  const classDim = classHead ? (classHead.model.outputs[0].shape[1] as number) : 0;
  const channels = backboneChannels(request.backbone.model);
  const parentWidth = request.parent?.head ? headInputDim(request.parent.head) : undefined;
  // A warm start must read what its parent's head read: the caller passes the parent's readClassLogits.
  const readLogits = classHead !== undefined && (request.readClassLogits ?? MODEL.readClassLogits);
  const priorWeight = readLogits && backbone.dangerClasses.length > 0 ? (request.classPriorWeight ?? TRAINING.classPriorWeight) : 0;
  const priorClasses = priorWeight > 0 ? backbone.dangerClasses : [];
  const featureWidth = channels + (readLogits ? classDim + (priorWeight > 0 ? 1 : 0) : 0);
  const wantsStats = representation === 'grey128' ? mode !== 'top' && (request.melStats ?? MODEL.melStats) : mode === 'head' && request.melStats === true;
  const melStats: MelStatsVersion | undefined = parentWidth !== undefined
    ? melStatsVersionOfDim(parentWidth - featureWidth)
    : wantsStats ? MEL_STATS_VERSION : undefined;
  let extractor: Extractor = melStats ? { model: request.backbone.model, tag: `stats${melStats}|`, pool: true, melStats } : { model: request.backbone.model, tag: '', pool: true };
  if (mode === 'top' && !topByLayers) {
    if (!request.backbone.folded) throw invalidArgument("'top' mode trains a BN-folded backbone");
    const cut = cutBefore(request.backbone.model, request.topFrom ?? backbone.topFrom);
    top = topNet(request.backbone.model, cut);
    extractor = { model: tf.model({ inputs: request.backbone.model.inputs, outputs: request.backbone.model.getLayer(cut).output as tf.SymbolicTensor }), tag: `cut:${cut}|`, pool: false };
  }
  const compute = request.compute ?? inProcessCompute();
  const extracted = await extractViews(request.backbone, extractor, representation, clips, allViews, request.cache, compute, (done, total) =>
    report({ phase: 'embed', done, total }),
  );
  const { computed, cached } = extracted;
  // The class logits are a function of the cached embedding (two dense layers): computed here, never cached.
  const features = readLogits && classHead ? await withClassLogits(extracted.features, channels, classHead.model, priorClasses) : extracted.features;
  const finetuning = mode === 'finetune' || topByLayers;
  // Fine-tuning warms the head up briefly only: a head trained to saturation passes back no gradient to the backbone.
  const maxEpochs = finetuning ? TRAINING.finetuneWarmupEpochs : (request.epochs ?? TRAINING.maxEpochs);
  const learner = top
    ? topLearner(top, features, extractor.model.computeOutputShape([1, ...REPRESENTATION_SHAPES[representation]]).slice(1) as [number, number, number], clips, nWindows, request)
    : headLearner(features, clips, nWindows, request, melStats ? melStatsDim(melStats) : 0, compute, request.parent?.head ? 0 : priorWeight);
  const splitFit = (train: number[], foldSeed: number, withValidation: boolean) => {
    if (!withValidation) return { fitOn: train, validation: undefined };
    const inner = groupTrainValSplit(train.map((i) => items[i]), TRAINING.validationFraction, foldSeed);
    return { fitOn: inner.train.map((j) => train[j]), validation: inner.validation.map((j) => train[j]) };
  };
  // Each CV fold's epochs, then the final fit's, for sentinel.json (the console draws the served model's history).
  const epochMetrics: EpochRow[] = [];
  const fitHead = (train: number[], foldSeed: number, epochs = maxEpochs, withValidation = true, fold: number | null = null, recorded = true) => {
    const { fitOn, validation } = splitFit(train, foldSeed, withValidation);
    const onEpoch = (log: EpochLog) => {
      // JSON has no NaN: an epoch whose loss diverged is left out of the record.
      if (recorded && Number.isFinite(log.loss)) {
        const valLoss = log.valLoss !== undefined && Number.isFinite(log.valLoss) ? { val_loss: log.valLoss } : {};
        epochMetrics.push({ epoch: log.epoch, loss: log.loss, ...valLoss, ...(fold !== null ? { fold } : {}) });
      }
      request.onEpoch?.({ ...log, fold });
    };
    return learner.fit(fitOn, validation, foldSeed, epochs, onEpoch);
  };
  const aggregation = request.aggregation ?? MODEL.aggregation;
  // The floor needs the prior as the last feature of every row: head learners on a backbone with a class prior.
  const priorFloor = priorClasses.length > 0 && !top ? (request.priorFloor === undefined ? MODEL.priorFloor : request.priorFloor) : null;
  const clipProbs = async (head: tf.LayersModel, indices: number[]) => {
    const { x, dim } = await learner.windowFeatures(indices);
    return clipProbabilities(head, x, dim, indices, nWindows, aggregation, priorFloor);
  };

  // Cross-validation: out-of-fold clip probabilities for every clip.
  let cv: CvReport | undefined;
  let threshold: number;
  let thresholdFrom: ThresholdSource = 'validation';
  const bestEpochs: number[] = [];
  const metrics: Record<string, Metrics> = {};
  const oof = new Array<number>(clips.length).fill(0);
  for (let k = 0; k < folds.length; k++) {
    report({ phase: 'cv', done: k, total: folds.length, detail: `fold ${k + 1}/${folds.length}` });
    const { head, bestEpoch } = await fitHead(folds[k].train, seed + k + 1, maxEpochs, true, k + 1);
    bestEpochs.push(bestEpoch);
    const p = await clipProbs(head, folds[k].validation);
    folds[k].validation.forEach((c, j) => (oof[c] = p[j]));
    head.dispose();
  }
  if (folds.length > 0) report({ phase: 'cv', done: folds.length, total: folds.length });

  // Unseen-source test (opt-in, one fit per source): how the model does on recordings from a source it never heard.
  const sources = [...new Set(clips.map((c) => c.source))].sort();
  let held: number[] | undefined;
  if (request.sourceCv && folds.length > 0 && sources.length >= 2) {
    held = new Array<number>(clips.length).fill(0);
    for (let k = 0; k < sources.length; k++) {
      report({ phase: 'source-cv', done: k, total: sources.length, detail: sources[k] });
      const test = all.filter((i) => clips[i].source === sources[k]);
      const train = all.filter((i) => clips[i].source !== sources[k]);
      if (!train.some((i) => labels[i] === 1) || !train.some((i) => labels[i] === 0)) continue;
      // An evaluation, not part of how the served head came to be: not in the recorded history.
      const { head } = await fitHead(train, seed + 7 * (k + 1), maxEpochs, true, null, false);
      (await clipProbs(head, test)).forEach((p, j) => (held![test[j]] = p));
      head.dispose();
    }
    report({ phase: 'source-cv', done: sources.length, total: sources.length });
  }

  if (folds.length > 0) {
    // Balanced accuracy on every out-of-fold prediction and, with --source-cv, every out-of-source one too: a
    // threshold that suits held-out groups of known sources and recordings of unknown ones alike.
    threshold = storedThreshold(labels, oof, held, clips.map((c) => c.subclass), clips.map((c) => c.group));
    thresholdFrom = held ? 'out-of-fold+out-of-source' : 'out-of-fold';
    const at = (idx: number[]) =>
      evaluate({
        labels: idx.map((i) => labels[i]),
        probabilities: idx.map((i) => oof[i]),
        threshold,
        subclasses: idx.map((i) => clips[i].subclass ?? clips[i].label),
        durationsSeconds: idx.map((i) => clips[i].duration),
      });
    const pooled = at(clips.map((_, i) => i));
    const perFold = folds.map((f) => at(f.validation));
    const keys = ['rocAuc', 'prAuc', 'balancedAccuracy', 'recall', 'precision', 'f1'] as const;
    cv = {
      folds: folds.length,
      pooled,
      perFold,
      outOfFold: clips.map((c, i) => ({
        path: c.path, label: c.label, subclass: c.subclass, group: c.group, fold: foldOf[i] + 1, probability: oof[i],
        ...(readLogits && classHead ? { classes: clipClasses(features[i], nWindows[i], channels, classHead.labels) } : {}),
      })),
      summary: Object.fromEntries(keys.map((key) => [key, meanStd(perFold.map((m) => (m[key] ?? NaN) as number))])) as CvReport['summary'],
    };
    metrics.cv = pooled;
  }
  let sourceCv: SourceCvReport | undefined;
  if (held) {
    sourceCv = sourceReport(clips, labels, held, sources, threshold!);
    metrics.sourceCv = sourceCv.pooled;
  }

  // Final head on all clips. With CV, for the median best epoch of the folds (no data held back); without, with an
  // inner validation split that also sets the threshold.
  report({ phase: 'train', done: 0, total: 1 });
  let finalHead: tf.LayersModel;
  if (folds.length > 0) {
    const epochs = Math.max(1, bestEpochs.sort((a, b) => a - b)[Math.floor(bestEpochs.length / 2)]);
    finalHead = (await fitHead(all, seed, epochs, false)).head;
    threshold = threshold!;
  } else {
    const inner = groupTrainValSplit(items, TRAINING.validationFraction, seed);
    finalHead = (await fitHead(inner.train, seed)).head;
    const p = await clipProbs(finalHead, inner.validation);
    const valLabels = inner.validation.map((i) => labels[i]);
    threshold = valLabels.includes(1) && valLabels.includes(0)
      ? chooseThreshold(valLabels, p, TRAINING.thresholdRule, inner.validation.map((i) => clips[i].subclass), inner.validation.map((i) => clips[i].group)).threshold
      : 0.5;
    metrics.validation = evaluate({ labels: valLabels, probabilities: p, threshold });
  }
  report({ phase: 'train', done: 1, total: 1 });

  // 'top' mode: the top's variables hold the final run's values; the classifier shares the backbone's layers.
  top?.writeBack();
  let classifier = buildClassifier({
    backbone: request.backbone.model,
    head: finalHead,
    ...(classHead ? { classHead: { model: classHead.model, readByHead: readLogits, priorClasses } } : {}),
  });
  finalHead.dispose();
  let epochsTrained = bestEpochs.length ? bestEpochs[Math.floor(bestEpochs.length / 2)] : 0;
  if (finetuning) {
    epochsTrained = request.epochs ?? 1;
    const from = topByLayers ? (request.topFrom ?? backbone.topFrom) : (request.finetuneFrom ?? 'all');
    await finetune(classifier, clips, views, labels, representation, epochsTrained, from, seed, (d) =>
      report({ phase: 'finetune', done: d, total: epochsTrained }),
    );
  }
  report({ phase: 'export', done: 0, total: 1 });
  const serving = request.backbone.folded ? classifier : await foldBatchNorm(classifier);
  keepFrozenBatchNormInInferenceMode(serving);

  const datasetHash = await sha256Hex(clips.map((c) => `${c.label}:${c.hash}`).sort().join('\n'));
  const subclassCounts: Record<string, number> = {};
  for (const c of clips) if (c.subclass) subclassCounts[c.subclass] = (subclassCounts[c.subclass] ?? 0) + 1;
  const files = await serializeArtifact(serving, {
    version: versionId(now, datasetHash),
    parentVersion: request.parent?.manifest.version ?? null,
    createdAt: now.toISOString(),
    backbone: { name: backbone.name, alpha: request.backbone.alpha, weightsSource: request.backbone.weightsSource, folded: true },
    frontEnd: fe.name,
    audio: { sampleRate: fe.sampleRate, windowSeconds: AUDIO.windowSeconds },
    mel: { ...fe.config },
    representation,
    classLabels: classHead?.labels ?? [],
    threshold,
    aggregation,
    priorFloor,
    metrics,
    training: {
      data: {
        counts: { safe: clips.length - nDanger, danger: nDanger },
        subclassCounts,
        hashes: { dataset: datasetHash },
      },
      command: request.command,
      mode,
      epochs: epochsTrained,
      thresholdFrom,
      epochMetrics,
    },
  });
  const manifest = readManifest(files);
  if (serving !== classifier) serving.dispose();
  // The classifier shares its backbone layers with the caller's backbone model: free only the head's weights.
  const own = new Set(request.backbone.model.layers);
  for (const layer of classifier.layers) if (!own.has(layer)) layer.getWeights().forEach((w) => w.dispose());
  if (top) {
    // Give the caller its backbone back as it came (the worker keeps the current model's copy for the gate).
    top.restore();
    top.writeBack();
    top.dispose();
  }
  report({ phase: 'export', done: 1, total: 1 });
  return { files, manifest, cv, sourceCv, skipped, embeddings: { computed, cached } };
}

/** End-to-end training on images with a low learning rate: window views and augmented views of every clip. */
async function finetune(
  classifier: tf.LayersModel,
  clips: PreparedClip[],
  views: ClipViews[],
  labels: number[],
  representation: InputRepresentation,
  epochs: number,
  from: string,
  seed: number,
  progress: (epoch: number) => void,
): Promise<void> {
  if (!Number.isInteger(epochs) || epochs < 1) throw invalidArgument(`epochs must be a positive integer, got ${epochs}`);
  setBackboneTrainable(classifier, from === 'all' ? true : { from });
  // P(danger) alone is trained: a class head's logits (a second output) keep their pretrained meaning.
  const trained = classifier.outputs.length > 1 ? tf.model({ inputs: classifier.inputs, outputs: classifier.outputs[0] }) : classifier;
  trained.compile({ optimizer: tf.train.adam(TRAINING.finetuneLearningRate), loss: 'binaryCrossentropy' });
  const samples: { mel: () => Float32Array; y: number }[] = [];
  clips.forEach((_, c) => [...views[c].windows, ...views[c].augmented].forEach((v) => samples.push({ mel: () => v.mel(), y: labels[c] })));
  const rng = createRng(seed);
  const batch = TRAINING.batchSize;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const order = rng.shuffle(samples);
    for (let i = 0; i < order.length; i += batch) {
      const chunk = order.slice(i, i + batch);
      const input = melToModelInput(chunk.map((s) => s.mel()), representation);
      const x = tf.tensor4d(input.data, input.shape);
      const y = tf.tensor2d(chunk.map((s) => s.y), [chunk.length, 1]);
      await trained.trainOnBatch(x, y);
      x.dispose();
      y.dispose();
    }
    progress(epoch);
  }
  setBackboneTrainable(classifier, false);
}
