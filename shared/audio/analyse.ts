/**
 * The front end every consumer uses: bytes -> decode -> mono -> 22050 Hz -> 3 s windows -> log-mel dB per window.
 *
 * The first window is exactly the seed's input, librosa.load(path, sr=22050, duration=3.0) zero-padded/truncated to
 * 66150 samples: the first int(3 * sr) native samples resampled on their own (so its last samples see the same edge
 * as librosa's). Later windows come from the whole recording resampled once.
 */
import { AUDIO, MEL, WINDOW_SAMPLES } from '../config.js';
import { invalidArgument } from '../errors.js';
import { decodeAudio, type DecodeOptions } from './decode.js';
import { checkFiniteWindows } from './limits.js';
import { MelSpectrogram } from './mel.js';
import { resample } from './resample.js';
import { fixLength, toMono, windowGeometry, windowStarts } from './signal.js';

export interface AnalyseOptions extends DecodeOptions {
  /**
   * Hop between windows in seconds (default AUDIO.hopSeconds), rounded to whole STFT hops (512 samples, 23 ms) so
   * overlapping windows share STFT frames: 1 s becomes 0.9985 s.
   */
  hopSeconds?: number;
  /** Analyse at most this many windows from the start (e.g. 1 for a single clip). Default: all. */
  maxWindows?: number;
}

export interface SpectrogramWindow {
  /** Window start, seconds from the beginning of the recording. */
  start: number;
  /** End of the real audio in the window, seconds (the recording's end for a zero-padded last window). */
  end: number;
  /** Log-mel dB, float32 row-major [mel][frame]: nMels x frames. */
  db: Float32Array;
}

export interface Analysis {
  /** Rate the spectrograms were computed at (AUDIO.sampleRate). */
  sampleRate: number;
  nMels: number;
  /** STFT frames per window. */
  frames: number;
  /** The input's own sample rate and duration (seconds). */
  sourceSampleRate: number;
  duration: number;
  windows: SpectrogramWindow[];
}

let engine: MelSpectrogram | null = null;

/** The shared mel engine at the model's rate, built on first use. */
export function melEngine(): MelSpectrogram {
  return (engine ??= new MelSpectrogram(AUDIO.sampleRate, MEL));
}

/** The seed's 3 s clip: librosa.load(sr=22050, duration=3.0) then fix_length to WINDOW_SAMPLES (66150). */
export function fixedClip(mono: Float32Array, sampleRate: number): Float32Array {
  const native = mono.subarray(0, Math.floor(AUDIO.windowSeconds * sampleRate));
  const y = sampleRate === AUDIO.sampleRate ? native : resample(native, sampleRate, AUDIO.sampleRate);
  return fixLength(y, WINDOW_SAMPLES);
}

/** analyse() for samples already decoded (e.g. a browser microphone buffer). Synchronous. */
export function analyseSamples(mono: Float32Array, sampleRate: number, options: Omit<AnalyseOptions, keyof DecodeOptions> = {}): Analysis {
  const mel = melEngine();
  const rate = AUDIO.sampleRate;
  const duration = mono.length / sampleRate;
  const { windowLength, hopLength } = windowGeometry(rate, { hopSeconds: options.hopSeconds, alignSamples: mel.hopLength });
  const targetLength = Math.ceil((mono.length * rate) / sampleRate);
  let starts = windowStarts(targetLength, windowLength, hopLength);
  if (options.maxWindows !== undefined) {
    if (!Number.isInteger(options.maxWindows) || options.maxWindows < 1) {
      throw invalidArgument(`maxWindows must be a positive integer, got ${options.maxWindows}.`, { maxWindows: options.maxWindows });
    }
    starts = starts.slice(0, options.maxWindows);
  }
  const window = (start: number, db: Float32Array): SpectrogramWindow => ({
    start: start / rate,
    end: Math.min((start + windowLength) / rate, duration),
    db,
  });

  const windows = [window(0, mel.db(fixedClip(mono, sampleRate)))];
  if (starts.length > 1) {
    const y = sampleRate === rate ? mono : resample(mono, sampleRate, rate);
    const rest = mel.dbWindows(y, starts.slice(1), windowLength);
    rest.forEach((db, i) => windows.push(window(starts[i + 1], db)));
  }
  return { sampleRate: rate, nMels: mel.nMels, frames: mel.frameCount(windowLength), sourceSampleRate: sampleRate, duration, windows };
}

/** Decode an audio file and compute the log-mel spectrogram of every analysis window. Throws AudioError. */
export async function analyse(bytes: Uint8Array | ArrayBuffer, options: AnalyseOptions = {}): Promise<Analysis> {
  const audio = await decodeAudio(bytes, options);
  const analysis = analyseSamples(toMono(audio.channels), audio.sampleRate, options);
  checkFiniteWindows(analysis.windows); // refused here, alone, rather than failing the model batch it would join
  return analysis;
}
