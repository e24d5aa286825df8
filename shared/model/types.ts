/**
 * Types of the model core in one place: the input representation, the classifier head, and the model artifact's
 * manifest (`sentinel.json`). Defaults live in shared/config.ts (MODEL); each field below says which applies.
 */
import type { AudioConfig, MelConfig } from '../config.ts';
import type { Metrics } from '../metrics/types.ts';
import type { Label } from '../types.ts';

/**
 * How a mel spectrogram becomes an image (shared/model/input.ts): 'magma224' = specshow-like magma colours at
 * 224x224 (the seed's input; default MODEL.representation), 'grey128' = native 128x130 dB as grey.
 */
export type InputRepresentation = 'magma224' | 'grey128';

/** Classifier head on the pooled embedding. Defaults: MODEL.head (128 hidden units, dropout 0.3). */
export interface HeadConfig {
  /** Units of the ReLU hidden layer; 0 = no hidden layer (logistic regression on the embedding). */
  hiddenUnits: number;
  /** Dropout rate before the sigmoid output, in [0, 1); 0 = none. */
  dropout: number;
}

/**
 * How the weights were trained: 'head' = frozen backbone, head on cached embeddings; 'top' = the backbone's last
 * blocks and the head on cached feature maps (CPU); 'finetune' = images end to end (GPU).
 */
export type TrainingMode = 'head' | 'top' | 'finetune';
/** Every training mode, for validation (CLI, API schema, artifact schema). */
export const TRAINING_MODES = ['head', 'top', 'finetune'] as const satisfies readonly TrainingMode[];

/** What a model was trained on, enough to tell two datasets apart and to reproduce the split. */
export interface DataSummary {
  /** Clips per label (training + validation). */
  counts: Record<Label, number>;
  /** Clips per manifest subclass (scream, cough…); empty without a manifest. */
  subclassCounts: Record<string, number>;
  /** sha256 hex digests identifying the data, keyed by what they cover (e.g. `dataset`, `train`, `validation`). */
  hashes: Record<string, string>;
}

export interface TrainingSummary {
  data: DataSummary;
  /** The command line (or API job) that trained it, for reproduction. */
  command: string;
  mode: TrainingMode;
  epochs: number;
}

/** Version tag of the manifest format; a loader refuses formats it does not know. */
export const MANIFEST_SCHEMA = 'sentinel-model/1';
/** Manifest file name inside a model artifact. */
export const MANIFEST_FILE = 'sentinel.json';

/**
 * `sentinel.json`: everything needed to use a model correctly besides its weights. A model is only valid with the
 * audio front end it was trained with, so audio + mel are recorded and checked on load.
 */
export interface ModelManifest {
  schema: typeof MANIFEST_SCHEMA;
  /** This model's version (unique id chosen by the trainer, e.g. `2025-01-31T12-00-00Z-ab12cd`). */
  version: string;
  /** The model it was retrained from; null for the first one. */
  parentVersion: string | null;
  /** ISO 8601. */
  createdAt: string;
  backbone: {
    name: 'mobilenet_v2';
    alpha: number;
    /** Where the starting weights came from (e.g. `keras-imagenet`, `random`, a parent version). */
    weightsSource: string;
    /** BatchNorm folded into the convolutions (a serving model; fine-tune from an unfolded one). */
    folded: boolean;
  };
  /** The audio settings the model was trained with (must equal the running pipeline's AUDIO for these keys). */
  audio: Pick<AudioConfig, 'sampleRate' | 'windowSeconds'>;
  /** A copy of MEL at training time (must equal the running pipeline's). */
  mel: MelConfig;
  representation: InputRepresentation;
  /** Probability at or above which a window is danger. */
  threshold: number;
  /** Evaluation results keyed by the set they were measured on (e.g. `validation`, `test`). */
  metrics: Record<string, Metrics>;
  /** null for a model not trained by Sentinel (e.g. an imported seed). */
  training: TrainingSummary | null;
  /** Size and sha256 of each model file, checked on load (a truncated upload fails clearly, not as NaNs). */
  files: Record<string, { bytes: number; sha256: string }>;
}

/** A manifest before serialisation: the schema tag and file digests are filled in by serializeArtifact. */
export type ManifestInput = Omit<ModelManifest, 'schema' | 'files'>;
