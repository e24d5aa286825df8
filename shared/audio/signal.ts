/** Small signal utilities with librosa's semantics: mono downmix, fix_length, sliding analysis windows. */
import { AUDIO, LEVEL_GATE } from '../config.js';
import { invalidArgument } from '../errors.js';

/**
 * Mean of the channels (librosa.to_mono). With a single channel the input array itself is returned (no copy).
 */
export function toMono(channels: readonly Float32Array[]): Float32Array {
  if (channels.length === 0) throw invalidArgument('toMono needs at least one channel.');
  const n = channels[0].length;
  for (const c of channels) {
    if (c.length !== n) throw invalidArgument('All channels must have the same length.', { lengths: channels.map((ch) => ch.length) });
  }
  if (channels.length === 1) return channels[0];
  const out = new Float32Array(n);
  const k = channels.length;
  if (k === 2) {
    const [a, b] = channels;
    for (let i = 0; i < n; i++) out[i] = (a[i] + b[i]) / 2;
    return out;
  }
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < k; c++) sum += channels[c][i];
    out[i] = sum / k;
  }
  return out;
}

/**
 * librosa.util.fix_length: truncate to n samples or zero-pad at the end. A truncated (or equal-length) result is a
 * view sharing memory with x; a padded one is a new array.
 */
export function fixLength(x: Float32Array, n: number): Float32Array {
  if (!Number.isInteger(n) || n < 0) throw invalidArgument(`Length must be a non-negative integer, got ${n}.`, { n });
  if (x.length >= n) return x.subarray(0, n);
  const out = new Float32Array(n);
  out.set(x);
  return out;
}

export interface WindowOptions {
  /** Window length in seconds. Default AUDIO.windowSeconds. */
  windowSeconds?: number;
  /** Hop between window starts in seconds. Default AUDIO.hopSeconds. */
  hopSeconds?: number;
  /**
   * Round the hop (in samples) to a multiple of this. analyse() passes the STFT hop so windows share STFT frames.
   * Default 1 (exact).
   */
  alignSamples?: number;
}

export interface SignalWindow {
  /** Start time in seconds. */
  start: number;
  /** End of the real audio in the window, seconds: start + windowSeconds, or the recording's end if sooner. */
  end: number;
  /** Exactly windowSamples samples: a view into the signal, or a zero-padded copy for a window that runs off the end. */
  samples: Float32Array;
}

/** Window and hop lengths in samples for the given options at a sample rate. */
export function windowGeometry(sampleRate: number, options: WindowOptions = {}): { windowLength: number; hopLength: number } {
  const windowSeconds = options.windowSeconds ?? AUDIO.windowSeconds;
  const hopSeconds = options.hopSeconds ?? AUDIO.hopSeconds;
  const align = options.alignSamples ?? 1;
  if (!(sampleRate > 0)) throw invalidArgument(`sampleRate must be positive, got ${sampleRate}.`, { sampleRate });
  if (!(windowSeconds > 0)) throw invalidArgument(`windowSeconds must be positive, got ${windowSeconds}.`, { windowSeconds });
  if (!(hopSeconds > 0)) throw invalidArgument(`hopSeconds must be positive, got ${hopSeconds}.`, { hopSeconds });
  if (!Number.isInteger(align) || align < 1) throw invalidArgument(`alignSamples must be a positive integer, got ${align}.`, { align });
  const windowLength = Math.round(windowSeconds * sampleRate);
  const hopLength = Math.max(1, Math.round((hopSeconds * sampleRate) / align)) * align;
  if (windowLength < 1) throw invalidArgument('Window is shorter than one sample.', { windowSeconds, sampleRate });
  return { windowLength, hopLength };
}

/**
 * Window start offsets (samples) covering a signal of `length` samples: one window (zero-padded) if the signal is no
 * longer than a window, else starts every hop, and a last window aligned to the signal's end so the tail is analysed
 * without artificial silence (a window that is mostly padding looks like "sound, then nothing" to a model trained on
 * whole clips, and power_to_db(ref=max) stretches what is left: measured to raise false alarms on 3-4 s clips).
 */
export function windowStarts(length: number, windowLength: number, hopLength: number): number[] {
  if (length <= windowLength) return [0];
  const starts: number[] = [];
  for (let s = 0; s + windowLength < length; s += hopLength) starts.push(s);
  const last = length - windowLength;
  // A last hop-window within half a hop of the end-aligned one would be a near-duplicate: move it instead.
  if (last - starts[starts.length - 1] < hopLength / 2) starts[starts.length - 1] = last;
  else starts.push(last);
  return starts;
}

/** Sliding analysis windows over a whole recording, so a 60 s recording is analysed whole. */
export function slidingWindows(x: Float32Array, sampleRate: number, options: WindowOptions = {}): SignalWindow[] {
  const { windowLength, hopLength } = windowGeometry(sampleRate, options);
  const duration = x.length / sampleRate;
  return windowStarts(x.length, windowLength, hopLength).map((s) => ({
    start: s / sampleRate,
    end: Math.min((s + windowLength) / sampleRate, duration),
    samples: fixLength(x.subarray(s), windowLength),
  }));
}

/**
 * Level of each window x[s, s + length) (its real samples, none of the zero padding past x's end): RMS in dB re full
 * scale (1.0), LEVEL_GATE.silenceDb at the least. One pass over x: sums of squares over the segments between window
 * edges, each window adding up its segments (overlapping windows share them, and no difference of running sums loses
 * a quiet window next to a loud one).
 */
export function windowLevels(x: Float32Array, starts: readonly number[], length: number): number[] {
  const edges = [...new Set(starts.flatMap((s) => [Math.min(s, x.length), Math.min(s + length, x.length)]))].sort((a, b) => a - b);
  const segment = new Float64Array(edges.length); // segment[i]: sum of squares over [edges[i], edges[i + 1])
  for (let i = 0; i + 1 < edges.length; i++) {
    let sum = 0;
    for (let j = edges[i]; j < edges[i + 1]; j++) sum += x[j] * x[j];
    segment[i] = sum;
  }
  const at = new Map(edges.map((e, i) => [e, i]));
  return starts.map((s) => {
    const from = Math.min(s, x.length);
    const to = Math.min(s + length, x.length);
    let sum = 0;
    for (let i = at.get(from)!; i < at.get(to)!; i++) sum += segment[i];
    const n = to - from;
    const meanSquare = n > 0 ? sum / n : 0;
    return meanSquare > 0 ? Math.max(LEVEL_GATE.silenceDb, 10 * Math.log10(meanSquare)) : LEVEL_GATE.silenceDb;
  });
}
