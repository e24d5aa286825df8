/**
 * What the head is trained and evaluated on: "views" of a clip, each a 3 s log-mel image.
 * - window views: the clip's own sliding windows, exactly what `predict` sees (the first is the seed's fixed clip);
 * - augmented views: a random 3 s crop (or offset padding for short clips), optionally a safe background mixed in at a
 *   random SNR, optionally SpecAugment masks.
 * Every random draw comes from a generator seeded by (seed, clip hash, view index), and the view's cache id names
 * those inputs, so a view is the same whichever fold or run asks for it and its embedding can be cached.
 */
import { AUGMENT, type AugmentConfig } from '../config.ts';
import { analyseSamples, frontEnd, type FrontEnd } from '../audio/index.ts';
import type { Label } from '../types.ts';
import { applyGain, bandLimit, changeSpeed, mixAtSnr, randomCrop, reverberate, specAugment } from './augment.ts';
import { createRng } from './random.ts';

/** A decoded training clip: mono samples at the front end's rate. */
export interface PreparedClip {
  path: string;
  label: Label;
  subclass?: string;
  group: string;
  /** LabeledClip.source, defaulting to the group. */
  source: string;
  /** sha256 of the clip's bytes: its identity in caches and data summaries. */
  hash: string;
  samples: Float32Array;
  duration: number;
}

export interface View {
  /** Cache id: unique for the inputs that determine this view's image. */
  id: string;
  /** Computes the log-mel dB image (only on a cache miss). */
  mel(): Float32Array;
}

function seedOf(...parts: (string | number)[]): number {
  // FNV-1a over the parts: a stable 32-bit seed from strings (hash prefixes) and numbers.
  let h = 0x811c9dc5;
  for (const ch of parts.join('|')) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

/** The clip's sliding windows at the default hop, as `predict` analyses it (samples at `fe`'s rate). */
export function windowViews(clip: PreparedClip, fe: FrontEnd = frontEnd()): View[] {
  const analysis = analyseSamples(clip.samples, fe.sampleRate, { frontEnd: fe.name });
  // The id names the window's position, so a change of windowing policy never serves a stale cached embedding.
  return analysis.windows.map((w) => ({ id: `w@${Math.round(w.start * fe.sampleRate)}`, mel: () => w.db }));
}

/**
 * `count` augmented views. `backgrounds` are safe clips to mix under this one (the caller keeps them within the
 * clip's own fold, so cross-validation never mixes test audio into training views).
 */
export function augmentedViews(
  clip: PreparedClip,
  count: number,
  seed: number,
  backgrounds: readonly PreparedClip[],
  cfg: AugmentConfig = AUGMENT,
  fe: FrontEnd = frontEnd(),
): View[] {
  const windowSamples = fe.windowSamples;
  const pool = backgrounds.filter((b) => b.hash !== clip.hash);
  const views: View[] = [];
  for (let k = 1; k <= count; k++) {
    // The view's generators, made afresh wherever they are used, so mel() draws the same crop and masks every call.
    const streams = () => {
      const rng = createRng(seedOf(seed, clip.hash, k));
      return { rng, crop: rng.fork(), bg: rng.fork(), mask: rng.fork() };
    };
    const { rng, bg } = streams();
    const mix = pool.length > 0 && rng.uniform() < cfg.mixProbability;
    const background = mix ? bg.choice(pool) : undefined;
    const snrDb = rng.uniform(cfg.snrDbMin, cfg.snrDbMax);
    const masked = rng.uniform() < cfg.specAugmentProbability;
    // Drawn from a later fork, so the draws above (and views made before speed existed) are unchanged.
    const speedRng = rng.fork();
    const speed = cfg.speedFactors.length > 0 && speedRng.uniform() < cfg.speedProbability ? speedRng.choice(cfg.speedFactors) : 1;
    // The channel (band limit, room, level), drawn from a fork after speed's, so views without it keep their ids.
    const channelRng = rng.fork();
    const lowRate = channelRng.uniform() < cfg.bandLimitProbability ? channelRng.choice(cfg.bandLimitRates) : 0;
    const room =
      channelRng.uniform() < cfg.reverbProbability
        ? { rt60: channelRng.uniform(cfg.rt60Min, cfg.rt60Max), drrDb: channelRng.uniform(cfg.drrDbMin, cfg.drrDbMax), seed: channelRng.int(0, 2 ** 31 - 1) }
        : undefined;
    const gainDb = channelRng.uniform() < cfg.gainProbability ? channelRng.uniform(cfg.gainDbMin, cfg.gainDbMax) : 0;
    const channelId = `${lowRate > 0 && lowRate < fe.sampleRate ? `:b${lowRate}` : ''}${room ? `:r${room.rt60.toFixed(2)}/${room.drrDb.toFixed(1)}/${room.seed}` : ''}${gainDb !== 0 ? `:g${gainDb.toFixed(1)}` : ''}`;
    const id = `a${k}:${seed}:${background ? `${background.hash.slice(0, 16)}@${snrDb.toFixed(2)}` : '-'}:${masked ? 'm' : '-'}${speed !== 1 ? `:x${speed}` : ''}${channelId}`;
    views.push({
      id,
      mel: () => {
        const r = streams();
        if (background) r.bg.choice(pool); // the draw that picked it, so the background's crop follows as before
        let y = randomCrop(speed === 1 ? clip.samples : changeSpeed(clip.samples, speed), windowSamples, r.crop);
        // The room and the microphone act on the scene as a whole (event and background together), then the level.
        if (background) y = mixAtSnr(y, randomCrop(background.samples, windowSamples, r.bg), snrDb);
        if (room) y = reverberate(y, fe.sampleRate, room.rt60, room.drrDb, createRng(room.seed));
        if (lowRate > 0 && lowRate < fe.sampleRate) y = bandLimit(y, fe.sampleRate, lowRate);
        if (gainDb !== 0) y = applyGain(y, gainDb);
        const db = fe.features(y);
        if (!masked) return db;
        return specAugment(db, fe.nMels, db.length / fe.nMels, r.mask, cfg);
      },
    });
  }
  return views;
}
