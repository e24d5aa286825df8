/**
 * Front ends: how a window of audio becomes the 2-D features a backbone reads. Each is a sibling behind one small
 * interface, chosen by the model artifact's `frontEnd` (sentinel.json), never by branches in the callers:
 * - 'librosa': the original system's log-mel in dB (22 050 Hz, Slaney mel, ref = max, top_db 80) for MobileNetV2;
 * - 'kaldi': EfficientAT's front end (32 000 Hz, pre-emphasis, Kaldi mel, log + fixed normalisation) for the
 *   AudioSet-pretrained backbone.
 * Engines keep scratch buffers, so there is one per front end and thread (JS runs one thread per realm anyway).
 */
import { AUDIO, KALDI_MEL, MEL, type KaldiMelConfig, type MelConfig } from '../../config.ts';
import { invalidArgument } from '../../errors.ts';
import { MelSpectrogram } from '../mel.ts';
import { KaldiMelSpectrogram } from './kaldi.ts';

export type FrontEndName = 'librosa' | 'kaldi';
export const FRONT_END_NAMES: readonly FrontEndName[] = ['librosa', 'kaldi'];

export interface FrontEnd {
  readonly name: FrontEndName;
  /** Rate the audio is resampled to before the features. */
  readonly sampleRate: number;
  /** Feature rows (mel bands). */
  readonly nMels: number;
  /** STFT hop in samples: sliding windows start on multiples of it so they share frames. */
  readonly hopLength: number;
  /** Samples in one analysis window (AUDIO.windowSeconds at sampleRate). */
  readonly windowSamples: number;
  /** Feature columns (frames) of one window. */
  readonly windowFrames: number;
  /** The parameters, recorded in a model's manifest and compared on load. */
  readonly config: Readonly<MelConfig> | Readonly<KaldiMelConfig>;
  /** The value silence (or SpecAugment's mask) has in these features. */
  readonly floor: number;
  /** Features of one clip, float32 row-major [mel][frame]. */
  features(samples: Float32Array): Float32Array;
  /** Features of several windows of one signal, each as features() of that zero-padded slice. */
  featureWindows(signal: Float32Array, starts: ArrayLike<number>, windowLength: number): Float32Array[];
}

const windowSamples = (rate: number) => Math.round(rate * AUDIO.windowSeconds);

let librosaMel: MelSpectrogram | undefined;

/** The librosa front end's engine (its dB spectrogram, filterbank and STFT helpers), shared with that front end. */
export function librosaEngine(): MelSpectrogram {
  return (librosaMel ??= new MelSpectrogram(AUDIO.sampleRate, MEL));
}

/** What both engines have in common; each front end adds its name, parameters, silence value and calls. */
interface Engine {
  sampleRate: number;
  nMels: number;
  hopLength: number;
  frameCount(nSamples: number): number;
}

/** The geometry every front end derives the same way from its engine: rate, bands, hop and one window's size. */
function geometry(engine: Engine): Pick<FrontEnd, 'sampleRate' | 'nMels' | 'hopLength' | 'windowSamples' | 'windowFrames'> {
  const samples = windowSamples(engine.sampleRate);
  return { sampleRate: engine.sampleRate, nMels: engine.nMels, hopLength: engine.hopLength, windowSamples: samples, windowFrames: engine.frameCount(samples) };
}

function librosa(): FrontEnd {
  const engine = librosaEngine();
  return {
    name: 'librosa',
    ...geometry(engine),
    config: MEL,
    floor: -MEL.topDb,
    features: (x) => engine.db(x),
    featureWindows: (x, starts, length) => engine.dbWindows(x, starts, length),
  };
}

function kaldi(): FrontEnd {
  const engine = new KaldiMelSpectrogram(KALDI_MEL.sampleRate, KALDI_MEL);
  return {
    name: 'kaldi',
    ...geometry(engine),
    config: KALDI_MEL,
    floor: (Math.log(KALDI_MEL.logOffset) + KALDI_MEL.shift) / KALDI_MEL.scale,
    features: (x) => engine.features(x),
    featureWindows: (x, starts, length) => engine.featureWindows(x, starts, length),
  };
}

const engines = new Map<FrontEndName, FrontEnd>();

/** The front end of that name, built on first use (filterbanks and FFT plans are made once). */
export function frontEnd(name: FrontEndName = 'librosa'): FrontEnd {
  let engine = engines.get(name);
  if (!engine) {
    if (name === 'librosa') engine = librosa();
    else if (name === 'kaldi') engine = kaldi();
    else throw invalidArgument(`Unknown front end "${String(name)}"; use one of ${FRONT_END_NAMES.join(', ')}.`, { frontEnd: name });
    engines.set(name, engine);
  }
  return engine;
}
