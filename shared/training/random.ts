/**
 * Seeded randomness for training (splits, augmentation, shuffling): the same seed gives the same run, in Node and in
 * the browser. The generator is pure-rand's xoroshiro128+ (well tested, 2^128 period, jumpable); this module only adds
 * seeding and the few distributions training needs.
 */
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import type { JumpableRandomGenerator } from 'pure-rand/types/JumpableRandomGenerator';
import { invalidArgument } from '../errors.ts';

export interface Rng {
  /** Uniform in [lo, hi); default [0, 1). */
  uniform(lo?: number, hi?: number): number;
  /** Gaussian with the given mean and standard deviation (Box-Muller). */
  normal(mean?: number, std?: number): number;
  /** Uniform integer in [min, max], both ends included, without modulo bias. */
  int(min: number, max: number): number;
  /** A shuffled copy (Fisher-Yates); the input is left as is. */
  shuffle<T>(items: readonly T[]): T[];
  /** One element, uniformly. */
  choice<T>(items: readonly T[]): T;
  /**
   * An independent generator for a sub-task (e.g. one per fold or worker): the child takes this generator's current
   * stream and this one jumps 2^64 steps ahead, so streams of successive forks never overlap.
   */
  fork(): Rng;
  /** The generator's state, to resume a run exactly (`rngFromState`). */
  state(): number[];
}

/** murmur3's 32-bit finaliser: spreads every seed bit over the word. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/**
 * A generator from an integer seed (any safe integer; all its bits count).
 * pure-rand's own xoroshiro128plus(seed) puts the seed into the state nearly raw, so the first outputs of nearby seeds
 * are close (all start near 1.0); hashing the seed into all four state words avoids that.
 */
export function createRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed)) throw invalidArgument(`seed is ${String(seed)}, expected a safe integer`);
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 2 ** 32) >>> 0;
  const state = [0, 1, 2, 3].map((k) => fmix32(fmix32(lo + Math.imul(k + 1, 0x9e3779b9)) ^ hi));
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1; // the all-zero state is xoroshiro's only fixed point
  return wrap(xoroshiro128plusFromState(state));
}

/** Resumes a generator from `Rng.state()`. */
export function rngFromState(state: readonly number[]): Rng {
  if (!Array.isArray(state) || state.length !== 4 || !state.every((w) => Number.isInteger(w))) {
    throw invalidArgument('rng state must be the 4 integers returned by Rng.state()');
  }
  return wrap(xoroshiro128plusFromState(state.map((w) => w | 0)));
}

function wrap(gen: JumpableRandomGenerator): Rng {
  const rng: Rng = {
    uniform(lo = 0, hi = 1) {
      if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi < lo) {
        throw invalidArgument(`uniform range [${lo}, ${hi}) is not a finite range`);
      }
      return lo + (hi - lo) * uniformFloat64(gen);
    },
    normal(mean = 0, std = 1) {
      if (!Number.isFinite(mean) || !Number.isFinite(std) || std < 0) {
        throw invalidArgument(`normal(mean=${mean}, std=${std}) needs finite mean and std >= 0`);
      }
      const u1 = 1 - uniformFloat64(gen); // (0, 1]: log(0) must not happen
      const u2 = uniformFloat64(gen);
      return mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    },
    int(min, max) {
      if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max < min) {
        throw invalidArgument(`int range [${min}, ${max}] must be integers with min <= max`);
      }
      return uniformInt(gen, min, max);
    },
    shuffle<T>(items: readonly T[]): T[] {
      const out = Array.from(items);
      for (let i = out.length - 1; i > 0; i--) {
        const j = uniformInt(gen, 0, i);
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    },
    choice<T>(items: readonly T[]): T {
      if (items.length === 0) throw invalidArgument('choice from an empty list');
      return items[uniformInt(gen, 0, items.length - 1)];
    },
    fork() {
      const child = gen.clone();
      gen.jump();
      return wrap(child);
    },
    state() {
      return [...gen.getState()];
    },
  };
  return rng;
}
