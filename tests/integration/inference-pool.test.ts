/**
 * functions/inference.ts: the thread pool gives the same verdicts as the in-process engine for concurrent requests,
 * rebuilds typed errors from its threads, and swaps the model in every thread.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessEngine, ThreadPoolEngine } from '../../functions/inference.ts';
import { encodeWav } from '../../shared/audio/index.ts';
import { AudioError } from '../../shared/audio/errors.ts';
import { API } from '../../shared/config.ts';
import type { ModelFiles } from '../../shared/model/files.ts';
import { readManifest } from '../../shared/model/artifact.ts';
import { backgroundLike, recordingWithScreams, screamLike } from '../helpers/synth.ts';
import { tinyModelFiles } from '../helpers/tiny-model.ts';

let a: ModelFiles;
let b: ModelFiles;
let pool: ThreadPoolEngine;
const local = new InProcessEngine(API.batch);
const clips = Array.from({ length: 6 }, (_, i) => encodeWav((i % 2 ? screamLike : backgroundLike)(3, 100 + i, 16000), 16000, { bitDepth: 16 }));

beforeAll(async () => {
  [a, b] = [await tinyModelFiles({ seed: 11 }), await tinyModelFiles({ seed: 12, clips: 8 })];
  pool = new ThreadPoolEngine(2, API.batch);
  await Promise.all([pool.load(a), local.load(a)]);
});
afterAll(async () => {
  await pool?.dispose();
  await local.dispose();
});

describe('ThreadPoolEngine', () => {
  it('answers like the in-process engine, for concurrent requests', async () => {
    const [threaded, inline] = await Promise.all([Promise.all(clips.map((c) => pool.predict(c))), Promise.all(clips.map((c) => local.predict(c)))]);
    for (let i = 0; i < clips.length; i++) {
      expect(threaded[i].class).toBe(inline[i].class);
      expect(threaded[i].probability).toBeCloseTo(inline[i].probability, 5);
      expect(threaded[i].modelVersion).toBe(readManifest(a).version);
    }
  });

  it('scores a long recording on every thread: the verdict, windows and events of one thread alone', async () => {
    // 40 s with two screams: 38 windows to score, above API.shareWindowsAbove, so the analysing thread hands them out.
    const long = encodeWav(recordingWithScreams(40, [8, 27], 5, 16000), 16000, { bitDepth: 16 });
    const shared = await local.predictOrShare(long, API.shareWindowsAbove);
    expect('analysis' in shared).toBe(true); // what a pool thread answers for it
    const [threaded, inline] = await Promise.all([pool.predict(long), local.predict(long)]);
    expect(threaded.windows).toHaveLength(38);
    expect(threaded.class).toBe(inline.class);
    expect(threaded.probability).toBeCloseTo(inline.probability, 6);
    expect(threaded.events).toEqual(inline.events);
    threaded.windows.forEach((w, i) => {
      expect(w.start).toBe(inline.windows[i].start);
      expect(w.probability).toBeCloseTo(inline.windows[i].probability, 6);
    });
    // A 3 s clip is never handed out; scores for a model no longer served are refused.
    expect('analysis' in (await local.predictOrShare(clips[0], API.shareWindowsAbove))).toBe(false);
    await expect(local.score([], 'not-served')).rejects.toMatchObject({ code: 'MODEL_CHANGED' });
  });

  it('rebuilds AudioError with its code from a thread', async () => {
    const error = await pool.predict(new TextEncoder().encode('not audio')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AudioError);
    expect(error).toMatchObject({ code: 'unsupported_format' });
  });

  it('swaps the model in every thread', async () => {
    const info = await pool.load(b);
    expect(info.version).toBe(readManifest(b).version);
    const results = await Promise.all(clips.map((c) => pool.predict(c)));
    expect(new Set(results.map((r) => r.modelVersion))).toEqual(new Set([readManifest(b).version]));
  });
});
