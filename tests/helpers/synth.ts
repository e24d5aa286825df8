/**
 * Synthetic audio for tests: nothing here comes from real recordings. "Danger-like" = a loud harmonic tone with a
 * fast vibrato in the 1–3 kHz range (the shape of a scream); "safe-like" = low-passed noise (a room, traffic).
 */
import { AUDIO } from '../../shared/config.ts';
import { createRng } from '../../shared/training/random.ts';

export const RATE = AUDIO.sampleRate;

/** A scream-like harmonic tone: f0 in [800, 1600] Hz with 6 Hz vibrato and 4 harmonics. */
export function screamLike(seconds: number, seed: number, rate = RATE): Float32Array {
  const rng = createRng(seed);
  const f0 = rng.uniform(800, 1600);
  const depth = rng.uniform(30, 80);
  const out = new Float32Array(Math.round(seconds * rate));
  let phase = 0;
  for (let i = 0; i < out.length; i++) {
    const t = i / rate;
    phase += (2 * Math.PI * (f0 + depth * Math.sin(2 * Math.PI * 6 * t))) / rate;
    let v = 0;
    for (let h = 1; h <= 4; h++) v += Math.sin(h * phase) / h;
    out[i] = 0.35 * v + 0.01 * rng.normal();
  }
  return out;
}

/** Low-passed (one-pole) noise with a slow loudness drift: a safe background. */
export function backgroundLike(seconds: number, seed: number, rate = RATE): Float32Array {
  const rng = createRng(seed);
  const a = rng.uniform(0.95, 0.99);
  const out = new Float32Array(Math.round(seconds * rate));
  let y = 0;
  for (let i = 0; i < out.length; i++) {
    y = a * y + (1 - a) * rng.normal();
    out[i] = 2 * y * (0.6 + 0.4 * Math.sin((2 * Math.PI * i) / rate / 2.3));
  }
  return out;
}

/** A long recording: background (seed `seed`) with a 2 s scream-like event starting at each of `screamsAt` seconds. */
export function recordingWithScreams(seconds: number, screamsAt: readonly number[], seed: number, rate = RATE): Float32Array {
  return screamsAt.reduce((x, at) => withEvent(x, screamLike(2, at, rate), at, rate), backgroundLike(seconds, seed, rate));
}

/** `background` with `event` added at `atSeconds`. */
export function withEvent(background: Float32Array, event: Float32Array, atSeconds: number, rate = RATE): Float32Array {
  const out = background.slice();
  const start = Math.round(atSeconds * rate);
  for (let i = 0; i < event.length && start + i < out.length; i++) out[start + i] += event[i];
  return out;
}
