/**
 * The analysis every consumer uses: bytes -> decode -> mono -> the front end's rate -> 3 s windows -> features per
 * window (frontends/: librosa log-mel dB at 22 050 Hz by default, or the Kaldi log-mel at 32 000 Hz).
 *
 * The first window is exactly the seed's input, librosa.load(path, sr=22050, duration=3.0) zero-padded/truncated to
 * 66150 samples: the first int(3 * sr) native samples resampled on their own (so its last samples see the same edge
 * as librosa's). Later windows come from the whole recording resampled once.
 */
import { AUDIO } from '../config.js';
import { invalidArgument } from '../errors.js';
import { decodeAudio, type DecodeOptions } from './decode.js';
import { checkFiniteWindows, checkSampleRange } from './limits.js';
import { frontEnd, librosaEngine, type FrontEnd, type FrontEndName } from './frontends/index.js';
import type { MelSpectrogram } from './mel.js';
import { resample } from './resample.js';
import { fixLength, toMono, windowGeometry, windowLevels, windowStarts } from './signal.js';

export interface AnalyseOptions extends DecodeOptions {
  /**
   * Hop between windows in seconds (default AUDIO.hopSeconds), rounded to whole STFT hops (512 samples, 23 ms, with
   * the librosa front end) so overlapping windows share STFT frames: 1 s becomes 0.9985 s.
   */
  hopSeconds?: number;
  /** Analyse at most this many windows from the start (e.g. 1 for a single clip). Default: all. */
  maxWindows?: number;
  /** The model's front end (its manifest's `frontEnd`); default 'librosa'. */
  frontEnd?: FrontEndName;
}

export interface SpectrogramWindow {
  /** Window start, seconds from the beginning of the recording. */
  start: number;
  /** End of the real audio in the window, seconds (the recording's end for a zero-padded last window). */
  end: number;
  /** The front end's features (log-mel dB for librosa), float32 row-major [mel][frame]: nMels x frames. */
  db: Float32Array;
  /** RMS level of the window's real samples at the front end's rate, dB re full scale (signal.ts windowLevels). */
  level: number;
}

export interface Analysis {
  /** The front end that computed the windows' features. */
  frontEnd: FrontEndName;
  /** Rate the spectrograms were computed at (the front end's). */
  sampleRate: number;
  nMels: number;
  /** STFT frames per window. */
  frames: number;
  /** The input's own sample rate and duration (seconds). */
  sourceSampleRate: number;
  duration: number;
  windows: SpectrogramWindow[];
}

/** The librosa mel engine (the default front end's), for callers that want its dB spectrogram directly. */
export function melEngine(): MelSpectrogram {
  return librosaEngine();
}

/** The seed's 3 s clip: librosa.load(sr=rate, duration=3.0) then fix_length to one window (66150 at 22050 Hz). */
export function fixedClip(mono: Float32Array, sampleRate: number, fe: FrontEnd = frontEnd('librosa')): Float32Array {
  const native = mono.subarray(0, Math.floor(AUDIO.windowSeconds * sampleRate));
  const y = sampleRate === fe.sampleRate ? native : resample(native, sampleRate, fe.sampleRate);
  return fixLength(y, fe.windowSamples);
}

/** analyse() for samples already decoded (e.g. a browser microphone buffer). Synchronous. */
export function analyseSamples(mono: Float32Array, sampleRate: number, options: Omit<AnalyseOptions, keyof DecodeOptions> = {}): Analysis {
  const mel = frontEnd(options.frontEnd);
  const rate = mel.sampleRate;
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
  const window = (start: number, db: Float32Array, level: number): SpectrogramWindow => ({
    start: start / rate,
    end: Math.min((start + windowLength) / rate, duration),
    db,
    level,
  });

  const clip = fixedClip(mono, sampleRate, mel);
  const windows = [window(0, mel.features(clip), windowLevels(clip.subarray(0, Math.min(windowLength, targetLength)), [0], windowLength)[0])];
  if (starts.length > 1) {
    // The rest from the whole recording resampled once; the front end computes each frame of it once.
    const y = sampleRate === rate ? mono : resample(mono, sampleRate, rate);
    const rest = starts.slice(1);
    const levels = windowLevels(y, rest, windowLength);
    mel.featureWindows(y, rest, windowLength).forEach((db, i) => windows.push(window(rest[i], db, levels[i])));
  }
  return { frontEnd: mel.name, sampleRate: rate, nMels: mel.nMels, frames: mel.windowFrames, sourceSampleRate: sampleRate, duration, windows };
}

/** Decode an audio file and compute the log-mel spectrogram of every analysis window. Throws AudioError. */
export async function analyse(bytes: Uint8Array | ArrayBuffer, options: AnalyseOptions = {}): Promise<Analysis> {
  const audio = await decodeAudio(bytes, options);
  const mono = toMono(audio.channels);
  // Before the front end: the Kaldi one's log keeps ±1e38 samples finite, so only the samples themselves tell.
  checkSampleRange(mono);
  const analysis = analyseSamples(mono, audio.sampleRate, options);
  checkFiniteWindows(analysis.windows); // refused here, alone, rather than failing the model batch it would join
  return analysis;
}
