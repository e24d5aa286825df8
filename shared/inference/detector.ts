/**
 * The serving side of a model: audio or feature windows in, a verdict out. Wraps a loaded artifact (a folded
 * classifier and its manifest), analyses audio with the model's own front end, converts windows to the model's input
 * with one reused buffer, and runs them in batches. A recording is danger when a window (or, for a model scored by
 * pairs, a pair of adjacent windows) reaches the threshold; events merge consecutive hits. Models with a class head
 * (the AudioSet backbone) also name what each window sounds like: their top classes. The level gate (LEVEL_GATE)
 * keeps windows below its floor from the model: they count as not dangerous and are marked `skipped: 'quiet'`.
 */
import * as tf from '../model/tf.ts';
import { API, LEVEL_GATE, MODEL } from '../config.ts';
import { analyse, analyseSamples, frontEnd, type AnalyseOptions, type Analysis, type FrontEnd, type SpectrogramWindow } from '../audio/index.ts';
import { invalidArgument } from '../errors.ts';
import { loadArtifact } from '../model/artifact.ts';
import { classMaxOf, priorClassesOf, priorFloored } from '../model/class-prior.ts';
import { fusedOutputs } from '../model/fused.ts';
import type { ModelFiles } from '../model/files.ts';
import { melToModelInput, REPRESENTATION_SHAPES } from '../model/input.ts';
import type { Aggregation, ModelManifest } from '../model/types.ts';
import type { ClassScore, Prediction, WindowPrediction } from '../types.ts';
import { recordingProbability, scoredSpans } from './aggregation.ts';
import { windowsToEvents } from './events.ts';

/** One window's model outputs: P(danger) and, for models with a class head, its top classes. */
export interface WindowScore {
  probability: number;
  classes?: ClassScore[];
}

export class Detector {
  private scratch: Float32Array | undefined;
  /** The model's forward pass with its convolution chains fused (model/fused.ts): ~1/3 less time on wasm. */
  private readonly forward: (x: tf.Tensor) => tf.Tensor[];
  /** The front end the model was trained on (its manifest's). */
  readonly frontEnd: FrontEnd;
  /** The class prior's classes when the manifest floors P(danger) by it (priorFloor), else undefined. */
  private readonly floorClasses: readonly number[] | undefined;

  constructor(
    readonly model: tf.LayersModel,
    readonly manifest: ModelManifest,
  ) {
    this.forward = fusedOutputs(model);
    this.frontEnd = frontEnd(manifest.frontEnd);
    this.floorClasses = manifest.priorFloor != null ? priorClassesOf(model) : undefined;
    if (manifest.priorFloor != null && (!this.floorClasses || manifest.classLabels.length === 0)) {
      throw invalidArgument('The manifest sets priorFloor, but the model has no class prior or no class labels.', { priorFloor: manifest.priorFloor });
    }
  }

  /** Decodes and analyses a recording with this model's front end. */
  analyse(bytes: Uint8Array | ArrayBuffer, options: Omit<AnalyseOptions, 'frontEnd'> = {}): Promise<Analysis> {
    return analyse(bytes, { ...options, frontEnd: this.frontEnd.name });
  }

  /** analyse() for decoded samples (a microphone buffer). */
  analyseSamples(mono: Float32Array, sampleRate: number, options: Omit<AnalyseOptions, 'frontEnd'> = {}): Analysis {
    return analyseSamples(mono, sampleRate, { ...options, frontEnd: this.frontEnd.name });
  }

  /** Loads and checks an artifact (file map from a folder, a blob store or fetch). */
  static async fromFiles(files: ModelFiles): Promise<Detector> {
    const { model, manifest } = await loadArtifact(files);
    return new Detector(model, manifest);
  }

  get version(): string {
    return this.manifest.version;
  }

  /** How this model scores a recording from its windows (the threshold was chosen for it). */
  get aggregation(): Aggregation {
    return this.manifest.aggregation;
  }

  get threshold(): number {
    return this.manifest.threshold;
  }

  /** This model's verdict rule: its version and aggregation, at its threshold or the caller's. */
  rule(threshold: number = this.threshold): VerdictRule {
    return { threshold, modelVersion: this.version, aggregation: this.aggregation };
  }

  /** P(danger) of each feature window, `batchSize` windows per model call. */
  async probabilities(mels: readonly Float32Array[], batchSize: number = MODEL.embedBatchSize): Promise<number[]> {
    return (await this.scores(mels, batchSize)).map((s) => s.probability);
  }

  /** P(danger) and the top classes (class-head models) of each feature window, `batchSize` windows per model call. */
  async scores(mels: readonly Float32Array[], batchSize: number = MODEL.embedBatchSize): Promise<WindowScore[]> {
    const out: WindowScore[] = [];
    const labels = this.manifest.classLabels;
    for (let i = 0; i < mels.length; i += batchSize) {
      const chunk = mels.slice(i, i + batchSize);
      // One reused buffer, grown to the largest batch: a fresh 4.8 MB array per call costs more in page faults
      // than the conversion itself.
      const [h, w, c] = REPRESENTATION_SHAPES[this.manifest.representation];
      const size = chunk.length * h * w * c;
      if (!this.scratch || this.scratch.length < size) this.scratch = new Float32Array(size);
      const input = melToModelInput(chunk, this.manifest.representation, this.scratch);
      const [p, logits] = tf.tidy(() => this.forward(tf.tensor4d(input.data, input.shape)));
      const probabilities = await p.data();
      const classLogits = logits && labels.length > 0 ? await logits.data() : undefined;
      p.dispose();
      logits?.dispose();
      const floor = this.manifest.priorFloor;
      for (let j = 0; j < chunk.length; j++) {
        const logitsOfWindow = classLogits?.subarray(j * labels.length, (j + 1) * labels.length);
        const probability = logitsOfWindow && this.floorClasses && floor != null
          ? priorFloored(probabilities[j], classMaxOf(logitsOfWindow, this.floorClasses), floor)
          : probabilities[j];
        const score: WindowScore = { probability };
        if (logitsOfWindow) score.classes = topClasses(logitsOfWindow, labels, API.windowClasses);
        out.push(score);
      }
    }
    return out;
  }

  /**
   * Verdict on an analysed recording, from window scores computed here (quiet windows skipped) or given
   * (micro-batched callers). levelFloorDb overrides LEVEL_GATE.floorDb (null: gate off).
   */
  async predict(analysis: Analysis, options: { threshold?: number; scores?: WindowScore[]; levelFloorDb?: number | null } = {}): Promise<Prediction> {
    if (analysis.frontEnd !== this.frontEnd.name) {
      throw invalidArgument(`This model reads ${this.frontEnd.name} features; the analysis has ${analysis.frontEnd}.`, { model: this.frontEnd.name, analysis: analysis.frontEnd });
    }
    const threshold = options.threshold ?? this.threshold;
    const floor = options.levelFloorDb === undefined ? LEVEL_GATE.floorDb : options.levelFloorDb;
    const scores = options.scores ?? (await gatedScores(analysis.windows, (mels) => this.scores(mels), floor));
    return verdict(analysis, scores, this.rule(threshold), floor);
  }

  dispose(): void {
    this.model.dispose();
  }
}

/**
 * The `k` classes with the highest sigmoid scores (multi-label heads: each class scored on its own), highest first,
 * the lower class index first on a tie. One pass keeping the best k: sorting all 527 classes cost ~0.1 ms a window.
 */
export function topClasses(logits: ArrayLike<number>, labels: readonly string[], k: number): ClassScore[] {
  const top: number[] = [];
  for (let i = 0; i < labels.length && k > 0; i++) {
    const v = logits[i];
    if (top.length === k && !(v > logits[top[k - 1]])) continue;
    let at = top.length;
    while (at > 0 && v > logits[top[at - 1]]) at--;
    top.splice(at, 0, i);
    if (top.length > k) top.pop();
  }
  return top.map((i) => ({ label: labels[i], score: 1 / (1 + Math.exp(-logits[i])) }));
}

/** Whether the level gate keeps this window from the model: its level is below the floor (null: gate off). */
export function isQuiet(window: Pick<SpectrogramWindow, 'level'>, floorDb: number | null = LEVEL_GATE.floorDb): boolean {
  return floorDb !== null && window.level < floorDb;
}

/**
 * Window scores with the level gate: only windows at or above the floor go to `score` (the model, or a micro-batcher
 * in front of it); a quiet one gets P(danger) 0, which verdict() marks skipped. Aligned with `windows`.
 */
export async function gatedScores(
  windows: readonly Pick<SpectrogramWindow, 'db' | 'level'>[],
  score: (mels: Float32Array[]) => Promise<WindowScore[]>,
  floorDb: number | null = LEVEL_GATE.floorDb,
): Promise<WindowScore[]> {
  const heard = windows.flatMap((w, i) => (isQuiet(w, floorDb) ? [] : [i]));
  const scores = heard.length > 0 ? await score(heard.map((i) => windows[i].db)) : [];
  const out: WindowScore[] = windows.map(() => ({ probability: 0 }));
  heard.forEach((i, j) => (out[i] = scores[j]));
  return out;
}

/** What a verdict needs of the model: its threshold (or the caller's), its version and how it scores a recording. */
export interface VerdictRule {
  threshold: number;
  modelVersion: string;
  aggregation: Aggregation;
}

/**
 * Assembles a Prediction from window scores or probabilities (pure; shared with the browser's live monitor). A window
 * below the level floor is `skipped: 'quiet'` with P(danger) 0 whatever score it was given: it never reaches the
 * threshold or an event, and a recording that is quiet throughout is safe with probability 0. The recording's
 * probability and its events come from the spans the model's aggregation scores (inference/aggregation.ts).
 */
export function verdict(
  analysis: Pick<Analysis, 'windows' | 'duration'>,
  scores: readonly (WindowScore | number)[],
  rule: VerdictRule,
  levelFloorDb: number | null = LEVEL_GATE.floorDb,
): Prediction {
  const windows = analysis.windows.map((w, i): WindowPrediction => {
    const s = scores[i];
    const at = { start: w.start, end: w.end, level: w.level };
    if (isQuiet(w, levelFloorDb)) return { ...at, probability: 0, skipped: 'quiet' };
    return typeof s === 'number' ? { ...at, probability: s } : { ...at, probability: s.probability, ...(s.classes ? { classes: s.classes } : {}) };
  });
  const spans = scoredSpans(windows, rule.aggregation, (i) => windows[i].skipped === undefined);
  const probability = recordingProbability(spans);
  const danger = probability >= rule.threshold;
  return {
    class: danger ? 'danger' : 'safe',
    probability,
    confidence: danger ? probability : 1 - probability,
    aggregation: rule.aggregation,
    threshold: rule.threshold,
    duration: analysis.duration,
    windows,
    events: windowsToEvents(spans, rule.threshold),
    modelVersion: rule.modelVersion,
  };
}
