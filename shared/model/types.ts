/**
 * Types of the model core in one place: the input representation, the classifier head, and the model artifact's
 * manifest (`sentinel.json`). Defaults live in shared/config.ts (MODEL); each field below says which applies.
 */
import type { AudioConfig, KaldiMelConfig, MelConfig } from '../config.ts';
import type { FrontEndName } from '../audio/frontends/index.ts';
import type { Metrics } from '../metrics/types.ts';
import type { Label } from '../types.ts';

/**
 * How a window's features become the backbone's input (shared/model/input.ts): 'magma224' = specshow-like magma
 * colours at 224x224 (the seed's input), 'grey128' = native 128x130 dB as grey (MobileNetV2's default), 'logmel' =
 * the front end's features as they are, one channel (the AudioSet backbone's input).
 */
export type InputRepresentation = 'magma224' | 'grey128' | 'logmel';

/**
 * The feature extractor under the head (shared/model/backbones/): 'mobilenetv2' = ImageNet MobileNetV2 on the librosa
 * mel image (the seed's design); 'efficientat-mn04' = EfficientAT's AudioSet-pretrained MobileNetV3 x0.4 on the Kaldi mel.
 */
export type BackboneName = 'mobilenetv2' | 'efficientat-mn04';
export const BACKBONE_NAMES = ['mobilenetv2', 'efficientat-mn04'] as const satisfies readonly BackboneName[];

/**
 * How a recording's P(danger) comes from its windows' (shared/inference/aggregation.ts): 'window' = the highest window;
 * 'pair' = the highest pair of adjacent windows, by their mean logit. The threshold is chosen for one of them.
 */
export type Aggregation = 'window' | 'pair';
export const AGGREGATIONS = ['window', 'pair'] as const satisfies readonly Aggregation[];

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

/** Which predictions the threshold was chosen on (TRAINING.thresholdRule's balanced accuracy over them). */
export type ThresholdSource = 'out-of-fold' | 'out-of-fold+out-of-source' | 'validation';

/** Which of those predictions the rule's per-kind false-alarm ceiling is checked on (TRAINING.thresholdCeilingOn). */
export type CeilingSource = Exclude<ThresholdSource, 'validation'>;

export interface TrainingSummary {
  data: DataSummary;
  /** The command line (or API job) that trained it, for reproduction. */
  command: string;
  mode: TrainingMode;
  epochs: number;
  /** Absent in models made before it was recorded (they used out-of-fold predictions). */
  thresholdFrom?: ThresholdSource;
  /** Loss per epoch of each CV fold and then of the final fit, as a training session's epoch_metrics: the console
   *  draws the served model's own history. Absent in models made before it was recorded. */
  epochMetrics?: EpochRow[];
}

/** One head epoch: `fold` the CV fold (1-based), none for the final fit; `val_loss` when the run held clips out. */
export type EpochRow = { epoch: number; loss: number; val_loss?: number; fold?: number };

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
    name: BackboneName;
    /** MobileNetV2's width multiplier (0.35 shipped); the AudioSet backbone's (0.4). */
    alpha: number;
    /** Where the starting weights came from (e.g. `keras-imagenet`, `random`, a parent version). */
    weightsSource: string;
    /** BatchNorm folded into the convolutions (a serving model; fine-tune from an unfolded one). */
    folded: boolean;
  };
  /** The front end its windows go through (absent in models made before there was a choice: 'librosa'). */
  frontEnd: FrontEndName;
  /** The audio settings the model was trained with: the front end's rate and the window (checked on load). */
  audio: Pick<AudioConfig, 'sampleRate' | 'windowSeconds'>;
  /** A copy of the front end's parameters at training time (must equal the running code's). */
  mel: MelConfig | KaldiMelConfig;
  representation: InputRepresentation;
  /**
   * The backbone's own classes the model also outputs (a second output of logits), e.g. AudioSet's 527 labels in
   * index order; empty when it has none. Shown per window so people see what the model hears.
   */
  classLabels: string[];
  /** Probability at or above which a recording is danger. */
  threshold: number;
  /** How the recording's probability comes from its windows' (absent in models made before v0.9: 'window'). */
  aggregation: Aggregation;
  /**
   * A window's P(danger) is at least the sigmoid of the class prior (the backbone's highest danger-class logit) less
   * this many logits (model/class-prior.ts priorFloored); null = no floor (models without a class prior, and models
   * made before v0.10).
   */
  priorFloor: number | null;
  /** Evaluation results keyed by the set they were measured on (e.g. `validation`, `test`). */
  metrics: Record<string, Metrics>;
  /** null for a model not trained by Sentinel (e.g. an imported seed). */
  training: TrainingSummary | null;
  /** Size and sha256 of each model file, checked on load (a truncated upload fails clearly, not as NaNs). */
  files: Record<string, { bytes: number; sha256: string }>;
}

/** A manifest before serialisation: the schema tag and file digests are filled in by serializeArtifact. */
export type ManifestInput = Omit<ModelManifest, 'schema' | 'files'>;
