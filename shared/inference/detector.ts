/**
 * The serving side of a model: log-mel windows in, a verdict out. Wraps a loaded artifact (a folded classifier and
 * its manifest), converts windows to the model's input with one reused buffer, and runs them in batches.
 * A recording is danger when any window reaches the threshold; events merge consecutive hits.
 */
import * as tf from '@tensorflow/tfjs';
import { MODEL } from '../config.ts';
import type { Analysis } from '../audio/index.ts';
import { loadArtifact } from '../model/artifact.ts';
import { fusedPredictor } from '../model/fused.ts';
import type { ModelFiles } from '../model/files.ts';
import { melToModelInput, REPRESENTATION_SHAPES } from '../model/input.ts';
import type { ModelManifest } from '../model/types.ts';
import type { Prediction } from '../types.ts';
import { windowsToEvents } from './events.ts';

export class Detector {
  private scratch: Float32Array | undefined;
  /** The model's forward pass with its convolution chains fused (model/fused.ts): ~1/3 less time on wasm. */
  private readonly forward: (x: tf.Tensor) => tf.Tensor;

  constructor(
    readonly model: tf.LayersModel,
    readonly manifest: ModelManifest,
  ) {
    this.forward = fusedPredictor(model);
  }

  /** Loads and checks an artifact (file map from a folder, a blob store or fetch). */
  static async fromFiles(files: ModelFiles): Promise<Detector> {
    const { model, manifest } = await loadArtifact(files);
    return new Detector(model, manifest);
  }

  get version(): string {
    return this.manifest.version;
  }

  get threshold(): number {
    return this.manifest.threshold;
  }

  /** P(danger) of each log-mel window, `batchSize` windows per model call. */
  async probabilities(mels: readonly Float32Array[], batchSize: number = MODEL.embedBatchSize): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < mels.length; i += batchSize) {
      const chunk = mels.slice(i, i + batchSize);
      // One reused buffer, grown to the largest batch: a fresh 4.8 MB array per call costs more in page faults
      // than the conversion itself.
      const [h, w] = REPRESENTATION_SHAPES[this.manifest.representation];
      const size = chunk.length * h * w * 3;
      if (!this.scratch || this.scratch.length < size) this.scratch = new Float32Array(size);
      const input = melToModelInput(chunk, this.manifest.representation, this.scratch);
      const p = tf.tidy(() => this.forward(tf.tensor4d(input.data, input.shape)));
      out.push(...(await p.data()));
      p.dispose();
    }
    return out;
  }

  /** Verdict on an analysed recording, from window probabilities computed here or given (micro-batched callers). */
  async predict(analysis: Analysis, options: { threshold?: number; probabilities?: number[] } = {}): Promise<Prediction> {
    const threshold = options.threshold ?? this.threshold;
    const probs = options.probabilities ?? (await this.probabilities(analysis.windows.map((w) => w.db)));
    return verdict(analysis, probs, threshold, this.version);
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** Assembles a Prediction from window probabilities (pure; shared with the browser's live monitor). */
export function verdict(analysis: Pick<Analysis, 'windows' | 'duration'>, probabilities: readonly number[], threshold: number, modelVersion: string): Prediction {
  const windows = analysis.windows.map((w, i) => ({ start: w.start, end: w.end, probability: probabilities[i] }));
  const probability = Math.max(0, ...probabilities);
  const danger = probability >= threshold;
  return {
    class: danger ? 'danger' : 'safe',
    probability,
    confidence: danger ? probability : 1 - probability,
    threshold,
    duration: analysis.duration,
    windows,
    events: windowsToEvents(windows, threshold),
    modelVersion,
  };
}
