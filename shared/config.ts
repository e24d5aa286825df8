/**
 * Sentinel's defaults, in one place. Every value has a comment saying why it is what it is.
 * Pure data: no Node-only API, so the browser console can import it too.
 * Runtime configuration (env vars) is read by the entrypoints and overrides these, never the reverse.
 */
import type { Aggregation, BackboneName, CeilingSource, InputRepresentation, TrainingMode } from './model/types.ts';
import type { ThresholdRule } from './metrics/types.ts';

/** Audio front end: the original (librosa) system's exact settings, so models and thresholds carry over. */
export interface AudioConfig {
  /** Rate every input is resampled to; librosa.load's default sr. */
  sampleRate: number;
  /** Analysis window in seconds; the seed model was trained on 3 s clips. */
  windowSeconds: number;
  /** Default hop between sliding windows over a long recording, seconds. */
  hopSeconds: number;
  /** Longest input accepted, seconds: bounds memory and CPU per request. */
  maxDurationSeconds: number;
  /** Shortest input worth analysing, seconds (shorter is zero-padded by librosa, but ~nothing is signal). */
  minDurationSeconds: number;
}

export interface MelConfig {
  /** FFT size; librosa default n_fft=2048. */
  nFft: number;
  /** Hop between STFT frames; librosa default n_fft/4 = 512. */
  hopLength: number;
  /** Number of mel bands; the seed used 128. */
  nMels: number;
  /** Lowest filter edge in Hz; librosa default 0. */
  fMin: number;
  /** Highest filter edge in Hz; the seed set fmax=8000 (speech and screams live below it). */
  fMax: number;
  /** Exponent of the magnitude spectrum; 2 = power, librosa default. */
  power: number;
  /** power_to_db floor; librosa default amin=1e-10. */
  amin: number;
  /** power_to_db dynamic range below the max; librosa default top_db=80. */
  topDb: number;
}

export const AUDIO: Readonly<AudioConfig> = Object.freeze({
  sampleRate: 22050,
  windowSeconds: 3.0,
  hopSeconds: 1.0,
  maxDurationSeconds: 600,
  minDurationSeconds: 0.1,
});

export const MEL: Readonly<MelConfig> = Object.freeze({
  nFft: 2048,
  hopLength: 512,
  nMels: 128,
  fMin: 0,
  fMax: 8000,
  power: 2,
  amin: 1e-10,
  topDb: 80,
});

/** Kaldi log-mel front end of EfficientAT's AudioSet models (upstream AugmentMelSTFT in eval mode). */
export interface KaldiMelConfig {
  /** Rate the AudioSet models were trained at; input must already be at this rate. */
  sampleRate: number;
  /** FFT size; upstream n_fft=1024 (32 ms at 32 kHz). */
  nFft: number;
  /** Hann window length, zero-padded to nFft (centred); upstream win_length=800 (25 ms). */
  winLength: number;
  /** Hop between STFT frames; upstream hopsize=320 (10 ms, 100 frames per second). */
  hopLength: number;
  /** Number of Kaldi mel bands; upstream n_mels=128. */
  nMels: number;
  /** Lowest mel edge in Hz; upstream fmin=0 (eval mode: no fmin jitter). */
  fMin: number;
  /** Highest mel edge in Hz; the mn04_as checkpoint was trained with fmax=15000. */
  fMax: number;
  /** Pre-emphasis y[n] = x[n] - c x[n-1]; upstream's conv1d kernel [-0.97, 1]. */
  preemphasis: number;
  /** Added before the natural log so silence stays finite; upstream 1e-5. */
  logOffset: number;
  /** Upstream's "fast normalization" (x + shift) / scale: added to the log-mel. */
  shift: number;
  /** ...then divided by this; the models expect exactly these inputs. */
  scale: number;
}

export const KALDI_MEL: Readonly<KaldiMelConfig> = Object.freeze({
  sampleRate: 32000,
  nFft: 1024,
  winLength: 800,
  hopLength: 320,
  nMels: 128,
  fMin: 0,
  fMax: 15000,
  preemphasis: 0.97,
  logOffset: 1e-5,
  shift: 4.5,
  scale: 5,
});

/**
 * Level gate (Frigate's `min_volume` is the precedent): a window whose level is below floorDb skips the model; the
 * verdict counts it as not dangerous (P(danger) 0, `skipped: 'quiet'` in its window). Level = RMS of the window's real
 * samples at the front end's rate, in dB re full scale (a full-scale sine reads -3 dB).
 */
export const LEVEL_GATE: Readonly<{ floorDb: number | null; silenceDb: number }> = Object.freeze({
  /** On at -50 dB (null = off): on dev (`sentinel eval ../shared/data/dev --level-floor=-50,-45,-40`, v0.6) it skips
   *  0.1% of windows and changes no verdict; -45 skips 1.7%, none changed; -40 skips 7.1% and turns 9 crying clips
   *  safe, so the floor sits 10 dB below the first one that changed dev verdicts. Real rooms have far more quiet windows. */
  floorDb: -50,
  /** What digital silence reads (the log of zero is -Infinity, which JSON cannot carry). */
  silenceDb: -120,
});

/**
 * What one input may decode to (shared/audio/limits.ts), checked from the header before decoding where the container
 * says, and on the decoder's output otherwise: bounds one request's memory and CPU whatever its bytes claim.
 */
export const DECODE = Object.freeze({
  /** Most channels: 7.1 surround. Recorders write 1-2; memory grows with channels, so 65,535 is a bomb, not audio. */
  maxChannels: 8,
  /** Lowest sample rate, Hz: below it not even a voice's fundamental survives, and a 1 Hz header turns bytes into hours. */
  minSampleRate: 1_000,
  /** Highest sample rate, Hz: 384 kHz, the top rate of studio converters (DXD). */
  maxSampleRate: 384_000,
  /**
   * Most samples (all channels) one input may decode to: 64 Mi float32 = 256 MiB, what a 64 MiB body
   * (API.maxAudioBytes) of 8-bit PCM holds; 10 min of 48 kHz stereo (57.6 M) fits. Decoding and analysing an input
   * at this budget took at most 15 s of one core and 0.65 GB peak RSS, input included (10 min of 48 kHz stereo: 4 s;
   * the worst, 8-bit mono at 111,848 Hz, a ratio the resampler interpolates: 15 s).
   */
  maxDecodedSamples: 64 * 1024 ** 2,
  /** Largest |sample| accepted after decoding: float files may overshoot ±1 a little (clipped masters, +24 dB of
   *  headroom here); ±1e38 is a poisoned file, which the Kaldi front end's log would otherwise turn into garbage. */
  maxSampleMagnitude: 16,
});

/** Samples in one analysis window at the model's rate (66150 for 3 s at 22050 Hz). */
export const WINDOW_SAMPLES = Math.round(AUDIO.sampleRate * AUDIO.windowSeconds);
/** STFT frames of one window with center=True: 1 + floor(66150 / 512) = 130. */
export const WINDOW_FRAMES = 1 + Math.floor(WINDOW_SAMPLES / MEL.hopLength);

/** Limits for a training dataset uploaded as a zip: never trust a zip's own claims. */
export const INTAKE = Object.freeze({
  /** Entries beyond this are refused: a dataset of 20k clips is already far past a retrain upload. */
  maxEntries: 20_000,
  /** Sum of declared and actual uncompressed sizes, bytes: bounds memory and disk (2 GiB). */
  maxTotalBytes: 2 * 1024 ** 3,
  /** One entry's uncompressed size, bytes: 100 MiB is ~40 min of 16-bit 22 kHz mono, far above a clip. */
  maxEntryBytes: 100 * 1024 ** 2,
  /** Compression ratio above which an entry is a zip bomb; audio compresses < 10x, deflated silence ~1000x. */
  maxRatio: 200,
  /** Audio file extensions taken from a dataset; anything else is reported as skipped. */
  audioExtensions: ['wav', 'mp3', 'flac', 'ogg', 'oga', 'opus', 'webm', 'm4a', 'aac', 'mp4'] as readonly string[],
});

/**
 * Service storage/messaging defaults (adapters/: blob store, job queue, database). Env vars read in
 * adapters/env.ts override the deploy-specific ones; the rest are tuning knobs.
 */
export const SERVICE = Object.freeze({
  /** Root of all local state for `npm start` (PGlite under pg/, blobs under blobs/): one folder to back up or wipe. */
  dataDir: '.sentinel',
  queue: {
    /** Logical queue name in the db queue's jobs table (SQS: the queue URL names it). */
    name: 'training',
    /** Deliveries before a job is dead-lettered: a crash-looping job is retried twice, then set aside for a person. */
    maxReceives: 3,
    /** Seconds a received job stays invisible; the worker extends it while training, so this only bounds a dead worker's hold. */
    visibilitySeconds: 300,
    /** Long-poll wait, seconds: SQS's maximum, which minimises empty receives (cost) with no added latency. */
    waitSeconds: 20,
    /** Jobs per receive: training is CPU-bound, one at a time per worker. */
    maxMessages: 1,
    /** Dedup window, seconds: SQS FIFO's fixed 5 minutes, mirrored by the db queue so both behave alike. */
    dedupWindowSeconds: 300,
    /** db queue: how often a long poll re-checks the table, ms; sends from the same process wake it at once. */
    pollIntervalMs: 500,
  },
  blob: {
    /** Presigned URL lifetime, seconds: long enough for a slow 100 MB upload, short enough to be useless if leaked. */
    presignExpiresSeconds: 900,
    /** Route the local API serves presigned blob URLs under (adapters/blob/fs.ts signs URLs for it). */
    localRoute: '/blobs',
  },
  db: {
    /** A running session whose heartbeat is older than this, seconds, is presumed dead and may be re-claimed (~4 missed 30 s beats). */
    staleHeartbeatSeconds: 120,
  },
});

/**
 * Resampler filter (shared/audio/resample.ts, Kaiser windowed sinc). Edges are fractions of the lower of the two
 * Nyquist rates. Chosen for the mel front end: flat where the mel bands live, and short (48 taps at 16 kHz -> 22.05
 * kHz) so a 60 s recording resamples in ~60 ms. Max abs error vs librosa's soxr_hq on the golden signals: < 1e-4.
 */
export interface ResampleConfig {
  /** Flat (ripple < 10^(-attenuationDb/20)) up to here: 0.88 keeps 7 kHz of a 16 kHz input untouched. */
  passbandEdge: number;
  /** Attenuated by attenuationDb from here on. Edges symmetric about 1 make 2:1 (44.1 -> 22.05 kHz) a half-band
   *  filter, 4x cheaper; the 1.0-1.12 band it lets alias lands above 9.7 kHz, beyond the mel fMax of 8 kHz. */
  stopbandEdge: number;
  /** Stopband attenuation in dB (also sets passband ripple, 3e-5): aliases stay below the 80 dB mel floor. */
  attenuationDb: number;
}

export const RESAMPLE: Readonly<ResampleConfig> = Object.freeze({
  passbandEdge: 0.88,
  stopbandEdge: 1.12,
  attenuationDb: 90,
});

/** Training-time augmentation (shared/training/augment.ts); the trainer draws per clip with a seeded Rng. */
export interface AugmentConfig {
  /** Chance a training clip is mixed with a background clip. */
  mixProbability: number;
  /** Lowest mixing SNR, dB. */
  snrDbMin: number;
  /** Highest mixing SNR, dB. */
  snrDbMax: number;
  /** Chance a training mel image gets SpecAugment masks. */
  specAugmentProbability: number;
  /** Frequency masks per image. */
  freqMasks: number;
  /** Largest frequency mask, mel bands. */
  freqWidth: number;
  /** Time masks per image. */
  timeMasks: number;
  /** Largest time mask, frames. */
  timeWidth: number;
  /** Chance a training clip is played faster or slower (pitch and tempo together) before cropping. */
  speedProbability: number;
  /** Speed factors to draw from (> 1: faster and higher); a few fixed ones so the resampling filters stay cached. */
  speedFactors: readonly number[];
  /** Chance a training clip is band-limited as if recorded at a lower rate (phone, VoIP, low-rate codec). */
  bandLimitProbability: number;
  /** Recording rates to draw from for band limiting, Hz. */
  bandLimitRates: readonly number[];
  /** Chance a training clip is played in a synthetic room (reverberation). */
  reverbProbability: number;
  /** Range of the room's reverberation time RT60, seconds. */
  rt60Min: number;
  rt60Max: number;
  /** Range of the direct-to-reverberant ratio, dB. */
  drrDbMin: number;
  drrDbMax: number;
  /** Chance a training clip's level is changed (the AudioSet front end is level-sensitive). */
  gainProbability: number;
  /** Range of that level change, dB. */
  gainDbMin: number;
  gainDbMax: number;
}

export const AUGMENT: Readonly<AugmentConfig> = Object.freeze({
  // Half the clips stay clean so the model still sees the recordings as they are.
  mixProbability: 0.5,
  // 0 dB (background as loud as the event: a busy street) to 20 dB (a quiet room); below 0 dB a scream is often
  // inaudible to a person too, and labels would turn into noise.
  snrDbMin: 0,
  snrDbMax: 20,
  // Masking is a regulariser for a small dataset, not a second dataset: every other image.
  specAugmentProbability: 0.5,
  // Two bands of up to 16 of 128 mel bands (<= 25% of the spectrum): screams and shouts are broadband and harmonic,
  // so they survive, while the model cannot rely on one narrow band.
  freqMasks: 2,
  freqWidth: 16,
  // Two runs of up to 10 of 130 frames (~0.23 s each): shorter than a scream or a shout for help, so a mask rarely
  // erases the event that makes the label; a gunshot's impulse can still be hit, hence the small width.
  timeMasks: 2,
  timeWidth: 10,
  // Speed perturbation (pitch and tempo together, as for speech): off. Measured on dev with p 0.5 (README, Model):
  // factors 0.9-1.1 moved group CV and unseen-source figures within the seed-to-seed spread, not beyond it; ±5% and
  // ±15% were worse. Kept as an option for data with more voices.
  speedProbability: 0,
  speedFactors: Object.freeze([0.9, 0.95, 1.05, 1.1]),
  // Channel augmentation (band limit, room, level): measured on dev, see docs/model-card.md.
  bandLimitProbability: 0,
  // 8 kHz: a phone call (4 kHz of band); 16 kHz: VoIP and low-rate codecs; 22.05 kHz: many consumer recordings.
  bandLimitRates: Object.freeze([8000, 16000, 22050]),
  reverbProbability: 0,
  // A small room (0.2 s) to a hall or a stairwell (1 s).
  rt60Min: 0.2,
  rt60Max: 1.0,
  // 0 dB: as much room as voice (far from the microphone); 12 dB: close to it.
  drrDbMin: 0,
  drrDbMax: 12,
  gainProbability: 0,
  // A quiet, distant source (-20 dB) to a loud close one (+10 dB); beyond that clipping, which is not modelled.
  gainDbMin: -20,
  gainDbMax: 10,
});

/** Model defaults (shared/model/): backbone, input representation, classifier head. Types: shared/model/types.ts. */
export const MODEL = Object.freeze({
  /**
   * Backbone of a fresh model (CLI train without --from): the AudioSet-pretrained EfficientAT mn04 generalises to
   * recording sources the model never heard far better than ImageNet's MobileNetV2 (docs/model-card.md), and its
   * weights ship with the project (MIT), so training needs nothing beside the repo.
   */
  backbone: 'efficientat-mn04' as BackboneName,
  /**
   * How a newly trained model scores a recording from its windows (shared/inference/aggregation.ts): by its best pair
   * of adjacent windows. On dev, over three seeds, it ranks unseen sources and held-out recordings better than the
   * best single window (docs/model-card.md). Stored in the artifact: a model keeps the rule its threshold was chosen for.
   */
  aggregation: 'pair' as Aggregation,
  /**
   * A newly trained model's windows score at least the sigmoid of the class prior (AudioSet's highest danger-class
   * logit) less this many logits (model/class-prior.ts priorFloored; models with a class prior only). On dev, over
   * seeds 20261125, 1 and 2, a floor 1 logit under the prior ranked unseen sources better on every seed (source-CV ROC
   * AUC 0.963 -> 0.966; gunshots from their unseen source found 46% of the time instead of 21%) with group CV inside
   * its seed spread (-0.0003); 0 and 0.5 cost group CV beyond it, 1.5 and 2 gained less (docs/model-card.md).
   * Stored in the artifact (`priorFloor`, null = none): the threshold was chosen with it.
   */
  priorFloor: 1 as number | null,
  /** MobileNetV2 width: the seed's backbone and the ImageNet weights we have (410k params, ~59M MACs at 224x224 vs 300M for 1.0). */
  alpha: 0.35,
  /**
   * The mel dB image as grey 128x130 (see shared/model/input.ts). Measured on dev, group 5-fold CV, same protocol
   * (README "Model"): grey128 ROC AUC 0.964 / balanced accuracy 0.913 vs magma224 below it, at ~1/3 of the
   * backbone cost. 'magma224' (the seed's colour-mapped 224x224) stays available for comparison.
   */
  representation: 'grey128' as InputRepresentation,
  /**
   * The head also reads acoustic statistics of the window (shared/model/mel-stats.ts) beside the embedding, for
   * 'grey128' models trained in head or finetune mode. Measured on dev (README, Model): they carry over to recording
   * sources the model never saw far better than the ImageNet embedding does.
   */
  melStats: true,
  /**
   * Backbones with a class head (the AudioSet backbone's 527 logits): the danger head also reads the logits beside
   * the embedding. Measured on dev (docs/model-card.md).
   */
  readClassLogits: true,
  head: Object.freeze({
    /** One small hidden layer (164k weights on 1280-d embeddings): enough for a binary head on a few thousand clips. */
    hiddenUnits: 128,
    /** Dropout before the output: the main regulariser of a head trained on a small dataset. */
    dropout: 0.3,
  }),
  /** Clips per backbone call when embedding. wasm runs batch 1 as fast per clip as batch 8 (tests/bench/cases/model.ts);
   *  native backends gain from batching; 8 bounds the image memory (8 x 600 KB at 224x224). */
  embedBatchSize: 8,
});

/** Training defaults (shared/training/): the CLI's and the worker's. */
export const TRAINING = Object.freeze({
  /** One seed for splits, augmentation draws and tfjs randomness: a rerun gives the same model. */
  seed: 20261125,
  /**
   * Training mode when none is asked for (CLI, API): 'head' (an ensemble of heads on the frozen backbone) measured as
   * well as 'top' (the backbone's last blocks fine-tuned on CPU, ~4x slower) within their seed-to-seed spread
   * (README, Model); 'finetune' is for a GPU.
   */
  defaultMode: 'head' as TrainingMode,
  /** Cross-validation folds for the reported figures and the threshold; 5 as the model issue asks. */
  folds: 5,
  /** Augmented views per clip besides its own windows: 4 keeps a 1000-clip head run under ~90 s on 2 cores. */
  augmentations: 4,
  /**
   * Head mode trains this many heads (different seeds) and merges them into one wider head averaging their logits
   * (training/head.ts mergeHeads): one 128-unit head's CV ROC AUC varied 0.951-0.966 over 5 seeds on dev; 3 members
   * keep the model under 4 MB and the head's training time x3 (seconds).
   */
  headEnsemble: 3,
  /**
   * Share of the merged head's learnt logit given to the acoustic-statistics head (the embedding heads share the
   * rest), per backbone. MobileNetV2, measured on dev (docs/model-card.md): more weight on the statistics ranks unseen
   * sources better; 0.7 with the version-2 statistics and a linear statistics head gave the best group CV (ROC AUC
   * 0.981) of the settings tried. AudioSet backbone (statistics opt-in, `train --mel-stats`): over 3 seeds 0.3 ranked
   * unseen sources better (CLI: source-CV ROC AUC 0.960 -> 0.964) with group CV level, but crying recall at the
   * stored threshold fell 0.88 -> 0.85, so the shipped model has none (docs/model-card.md).
   */
  melStatsWeight: Object.freeze({ mobilenetv2: 0.7, 'efficientat-mn04': 0.3 }) as Readonly<Record<BackboneName, number>>,
  /**
   * The acoustic-statistics head: logistic regression (no hidden layer). On dev a linear model on the statistics
   * ranked both held-out groups and unseen sources better than a 32-unit hidden layer (README, Model).
   */
  melStatsHead: Object.freeze({ hiddenUnits: 0, dropout: 0 }),
  /**
   * L2 penalty on the statistics head's weights (standardised inputs), added to the mean weighted loss. In the
   * scratch harness 3e-2 ranked unseen sources a little better and held-out groups a little worse than 1e-2.
   */
  melStatsL2: 1e-2,
  /**
   * Within a class, a source with n clips weighs n^-sourceBalance per clip (0: every clip alike; 1: every source
   * alike). Dev's danger clips are 78% one source: unweighted, a head learns that source's sound as "danger".
   */
  sourceBalance: 0.75,
  /** Recordings listed by `train` as the ones to check first (out-of-fold misses furthest from their label). */
  labelsToCheck: 8,
  /**
   * Share of a head's logit given to the backbone's own danger score (the AudioSet backbone's highest danger-class
   * logit, model/class-prior.ts); the learnt heads share the rest. Measured on dev (docs/model-card.md): 0, 0.5 and
   * 0.7 ranked unseen sources at ROC AUC 0.86, 0.92 and 0.95 with group CV level (0.976-0.980). Over seeds
   * 20261125, 1 and 2, 0.75 ranked unseen sources better than 0.7 on each (mean 0.956 -> 0.960) with group CV inside
   * its seed spread (0.980 -> 0.979); 0.8 ranked them better still (0.963) but cost group CV beyond it (0.978).
   */
  classPriorWeight: 0.75,
  /** Upper bound on head epochs; early stopping usually ends far sooner. */
  maxEpochs: 80,
  /** Epochs without validation improvement before stopping. */
  patience: 10,
  /** Mini-batch size for the head: small data, so small batches regularise. */
  batchSize: 32,
  /** Adam's learning rate for the head (Keras default). */
  learningRate: 1e-3,
  /**
   * 'top' mode's first trained layer: blocks 14-16 and Conv_1 (~70% of the backbone's weights, ~1/4 of its compute at
   * stride 32) learn from cached block_13 maps. Lower cuts reach stride-2 layers, which need the slow gradients.
   */
  topFrom: 'block_14_expand',
  /** Adam's learning rate for the top in 'top' mode: small, the ImageNet features only need nudging. */
  topLearningRate: 3e-5,
  /** Epochs without validation improvement before 'top' mode stops (it overfits in a few epochs). */
  topPatience: 6,
  /** Head epochs before fine-tuning: enough to point the head the right way, too few to saturate its sigmoid. */
  finetuneWarmupEpochs: 5,
  /** Learning rate for fine-tuning the backbone: 10x lower than the head, the usual transfer-learning choice. */
  finetuneLearningRate: 1e-4,
  /** Share of training groups held out for early stopping. */
  validationFraction: 0.15,
  /** Floor of a feature's standard deviation when standardising embeddings, as a share of the largest one's. */
  minFeatureStdRatio: 1e-2,
  /**
   * How the decision threshold is chosen on out-of-fold (and out-of-source) predictions (metrics/types.ts
   * ThresholdRule): the best balanced accuracy at which no kind of safe sound (a manifest subclass with 5+ clips from
   * 2+ recordings) has over 20% of its clips flagged, the model issue's ceiling; without subclasses, plain max
   * balanced accuracy. One recording cut into slices is one sound, not a kind of sound: dev's "excited cheering
   * crowd" is five slices of one recording of girls screaming, which held the threshold at 0.82 (docs/model-card.md).
   */
  thresholdRule: Object.freeze({ maxSubclassFalseAlarmRate: 0.2, minSubclassCount: 5, minSubclassRecordings: 2 }) as ThresholdRule,
  /**
   * Where the rule's per-kind ceiling is checked when `--source-cv` adds out-of-source predictions (balanced accuracy
   * is maximised over both either way): out of fold, where the model issue sets it. Checked on both, dev's 6 singing
   * clips (12 predictions, the 3rd-highest a flamenco clip its source's model never heard) held the threshold at
   * 0.09-0.14 over 3 seeds; out of fold it is 0.05-0.06: crying recall 0.79 -> 0.88, source-CV balanced accuracy
   * 0.863 -> 0.887, at 1.9% -> 3.7% of unseen sources' safe clips flagged (docs/model-card.md, Threshold).
   */
  thresholdCeilingOn: 'out-of-fold' as CeilingSource,
});

/**
 * HTTP API (functions/): limits and serving knobs. Env vars read in adapters/env.ts (readApiEnv) override the
 * deploy-specific ones (port, auth, CORS, limits).
 */
export const API = Object.freeze({
  /** Local stack port: one above the common 8786 dev ports, and the README's URL. */
  port: 8787,
  /** Local stack listens on loopback only unless told otherwise: admin keys are the only guard of the routes. */
  host: '127.0.0.1',
  /** Largest audio file in a request body, bytes. 64 MiB holds 10 min (AUDIO.maxDurationSeconds) of 16-bit 48 kHz
   *  mono WAV (58 MB); bigger or cloud-bound files go through POST /uploads (Lambda's request limit is ~6 MB). */
  maxAudioBytes: 64 * 1024 ** 2,
  /** Largest training zip in a request body or a presigned upload, bytes: a few thousand clips compressed. */
  maxDatasetBytes: 512 * 1024 ** 2,
  /** /predict open to anyone ('open') or only with an API key ('key'). Open: the console's main use needs no login. */
  predictAuth: 'open' as 'open' | 'key',
  /** Browser origins allowed by CORS besides the API's own; none by default (the console is served same-origin). */
  corsOrigins: [] as readonly string[],
  /** The `current` alias is re-read at most this often, seconds: a promotion reaches every Lambda container within
   *  30 s while an idle container costs one tiny query per 30 s. */
  modelRecheckSeconds: 30,
  /** Micro-batching of /predict windows: a batch of 8 costs 3.2 ms a window against 5.4 for one (`npm run bench`). No
   *  wait: windows that arrive while the model runs already share its next call, and waiting 2 ms only added latency
   *  (`npm run bench:api`, interleaved, load 1.3-2.6: closed loop 195 and 202 req/s with 0 ms, 176 and 183 with 2 ms;
   *  server CPU 8.9 vs 10.1 ms a request; single-client p50 10.5 vs 12.6 ms). */
  batch: Object.freeze({ maxBatch: 8, maxWaitMs: 0 }),
  /** A recording with more windows to score than this (~18 s at hop 1 s) has them scored by every inference thread,
   *  not only by the one that decoded it: a minute answers in about half the time on an idle 2-core machine, while a
   *  3 s clip never pays the extra hop through the main thread. */
  shareWindowsAbove: 16,
  /** Top backbone classes reported per window (AudioSet backbone): three name the sound without flooding a timeline. */
  windowClasses: 3,
  /** Stored prediction keeps the top windows by probability, not all 600 of a 10-minute file. */
  storedTopWindows: 10,
  /** GET /stats looks back this many days for per-day counts and the confidence histogram. */
  statsDays: 30,
  /** API keys are random 32 bytes as hex; the prefix makes a leaked key recognisable in logs and scanners. */
  apiKeyPrefix: 'snt_',
  /** Open writes (/predict, /uploads, feedback) per client a minute (token bucket, bursts up to the same number): a
   *  person analysing clips by hand stays far below 60, one client flooding /predict with 64 MiB files does not. */
  rateLimitPerMinute: 60,
  /** Bytes open routes may hold (kept /predict audio, audio uploads not used yet): 2 GiB is ~18 h of 16 kHz mono
   *  16-bit WAV, plenty of feedback clips, and leaves the disk room for models and datasets (a full disk stops both). */
  openStorageQuotaBytes: 2 * 1024 ** 3,
  /** Host names the local stack answers when it listens on loopback (DNS rebinding); any port. */
  loopbackHosts: ['127.0.0.1', 'localhost', '[::1]'] as readonly string[],
  /** /health probes database and blob writes at most this often, seconds: a write failure shows within 5 s while a
   *  monitor polling every 50 ms (tests/integration/serving-during-training) does not write 20 times a second. */
  healthWriteProbeSeconds: 5,
  /** Abandoned uploads (pending after their URL expired) are swept this often, seconds, by the local stack. */
  sweepIntervalSeconds: 900,
  /** Responses smaller than this go out uncompressed, bytes: a /predict verdict (~1 KB) gains nothing from gzip. */
  compressMinBytes: 4096,
  /** An incoming X-Request-Id longer than this is replaced by a fresh one (hono/request-id's own default). */
  requestIdMaxLength: 255,
  /** Cache-Control of the console's hashed files (web/dist/assets) and the pinned /docs files: a new build or
   *  version gets new URLs, so the old ones never change. */
  immutableCacheControl: 'public, max-age=31536000, immutable',
});

/** Retraining worker (worker/): how a job is run, retried and gated. */
export const WORKER = Object.freeze({
  /** While training, visibility is extended and the session heartbeat refreshed this often, seconds: 10 chances per
   *  SERVICE.queue.visibilitySeconds (300 s) before SQS would redeliver, and well inside the 120 s staleness. */
  heartbeatSeconds: 30,
  /** A failed attempt's job becomes receivable again after this many seconds (transient errors get a moment). */
  retryDelaySeconds: 10,
  /** Promotion gate: candidate and current model are scored on the registry's reference set (every earlier job's
   *  held-out clips) plus this job's held-out clips. */
  gate: Object.freeze({
    /** Balanced accuracy weighs misses and false alarms alike whatever the class balance of the reference clips. */
    metric: 'balancedAccuracy' as const,
    /** Promote only when the candidate beats the current model by at least this: a tie keeps the model that serves,
     *  and at the minimum clips a class one clip is worth 1/60 = 0.017, so a one-clip difference never swaps it. */
    margin: 0.02,
    /** No automatic promotion with fewer reference clips of either class: a recall of 0.9 measured on 30 clips lies
     *  anywhere from about 0.74 to 0.97 (95 % Wilson), already too loose to overrule a model validated on hundreds. */
    minClipsPerClass: 30,
    /** Share of the job's clip groups held out from training for the gate (the candidate never sees them). */
    validationFraction: 0.2,
  }),
});

/** Web console (web/): browser-side defaults. */
export const WEB = Object.freeze({
  /** Live monitor: a new 3 s window every second by default; the user can choose 0.5-3 s (less = quicker alerts, more CPU). */
  liveHopSeconds: 1,
  liveHopChoices: [0.5, 1, 1.5, 2, 3] as readonly number[],
  /** Windows kept on the live chart: 2 minutes at the default hop. */
  liveHistory: 120,
  /** Files above this go to the store by presigned PUT (POST /uploads) instead of the request body: Lambda's
   *  request limit is ~6 MB, with room for multipart overhead. */
  directUploadMaxBytes: 5 * 1024 ** 2,
  /** Training sessions are polled this often while the page shows one, ms: progress moves per epoch, not faster. */
  sessionPollMs: 1500,
  /** Windows listed with their AudioSet classes on the Analyse page: one screen of rows; the timeline shows the rest. */
  classTableMaxWindows: 30,
  /** The Analyse page's whole-recording spectrogram keeps at most this many columns (each the loudest of its STFT
   *  frames): about two per screen pixel of a wide chart; 10 min would otherwise be 25,840 frames. */
  spectrogramMaxColumns: 2048,
});

/** Cloud deployment (sst.config.ts + infra/): sizes and retention the infrastructure is created with. */
export const CLOUD = Object.freeze({
  /** Raw uploads (`uploads/` in the bucket: audio and training zips) expire after this many days: they hold people's
   *  recordings, and a retrain uses them within minutes. Older data survives only as the models trained on it. */
  uploadRetentionDays: 30,
  /** Bucket versioning keeps overwritten/deleted model artifacts (`models/`) this long, so a bad write can be undone. */
  modelVersionRetentionDays: 365,
  /** Non-model objects keep no history beyond this: versioning is bucket-wide in S3, history is wanted for models only. */
  otherVersionRetentionDays: 1,
  /** API Lambda memory, MB: 1769 MB is one full vCPU. wasm inference is single-threaded and CPU-bound, so below that
   *  duration grows as memory shrinks (same GB-s per request, slower answers) and above it nothing is gained.
   *  Measured RSS (tests/infra/lambda-bundle.ts, bench serving) is far below, so memory is sized for the CPU. */
  lambdaMemoryMb: 1769,
  /** API Gateway HTTP APIs stop waiting at 30 s; the Lambda stops just before so the error is its own. */
  lambdaTimeoutSeconds: 29,
  /** Worker GPU instance: one NVIDIA T4 (16 GB), 4 vCPU, 16 GB RAM: ample for a MobileNetV2-0.35 head/fine-tune,
   *  the cheapest current-generation GPU instance. */
  workerInstanceType: 'g4dn.xlarge',
  /** At most this many GPU workers: one training at a time per deployment (worker/ fences promotions). */
  workerMaxInstances: 1,
  /** Scale the worker to zero after the queue has been empty this many minutes (an instance boot is ~3-5 min, so a
   *  follow-up retrain soon after reuses the warm one). */
  workerIdleMinutes: 15,
});
