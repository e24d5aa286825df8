/**
 * The CPU budget of one /predict, stage by stage, measured in this process on one thread with nothing queued: each
 * stage is the same code the server runs, its CPU time taken over `reps` repetitions after a warm-up (median per
 * request).
 * Used by `npm run bench:api` (tests/bench/api.ts), which also measures what the whole server process spends per
 * request under load; the difference between the two is what the stages here do not see (scheduling, GC under load,
 * thread hand-offs).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readModelFiles } from '../../adapters/model-files.ts';
import { readServiceEnv } from '../../adapters/env.ts';
import { openServices } from '../../adapters/service.ts';
import { initTfBackend } from '../../adapters/tf-backend.ts';
import { decodeAudio, frontEnd, resample, toMono } from '../../shared/audio/index.ts';
import { fixedClip } from '../../shared/audio/analyse.ts';
import { Detector, verdict } from '../../shared/inference/detector.ts';

export interface StageBudget {
  /** Median CPU ms of one request's share of the stage. */
  [stage: string]: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median CPU ms (this process: the stage's thread and V8's helpers) of `fn`, divided by `per`. CPU rather than wall
 *  time: on a shared machine the wall time also counts waiting for a core. */
async function timed(reps: number, fn: () => unknown | Promise<unknown>, per = 1): Promise<number> {
  for (let i = 0; i < Math.min(5, reps); i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = process.cpuUsage();
    await fn();
    const d = process.cpuUsage(t);
    times.push((d.user + d.system) / 1000 / per);
  }
  return +median(times).toFixed(3);
}

/** Stage costs of a /predict of `wav` (sent as `body`, multipart with `contentType`) with the model in `modelDir`. */
export async function stageBudget(modelDir: string, wav: Uint8Array, body: Buffer, contentType: string, reps = 40): Promise<StageBudget> {
  await initTfBackend({ SENTINEL_TF_BACKEND: 'wasm' }, () => {});
  const detector = await Detector.fromFiles(await readModelFiles(modelDir));
  const fe = frontEnd(detector.manifest.frontEnd);
  const decoded = await decodeAudio(wav);
  const mono = toMono(decoded.channels);
  const clip = fixedClip(mono, decoded.sampleRate, fe);
  const mel = fe.features(clip);
  const analysis = await detector.analyse(wav);
  const scores = await detector.scores([mel], 1);
  const out: StageBudget = {};

  const form = new Uint8Array(body);
  // As Hono's form validator does: the body read whole, parsed by undici's FormData, then the file's bytes.
  out.multipartMs = await timed(reps, async () => {
    const raw = await new Request('http://127.0.0.1/predict', { method: 'POST', headers: { 'content-type': contentType }, body: form }).arrayBuffer();
    const parsed = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
    await (parsed.get('file') as File).arrayBuffer();
  });
  out.decodeMs = await timed(reps, () => decodeAudio(wav));
  out.resampleMs = decoded.sampleRate === fe.sampleRate ? 0 : await timed(reps, () => resample(mono.subarray(0, decoded.sampleRate * 3), decoded.sampleRate, fe.sampleRate));
  out.frontEndMs = await timed(reps, () => fe.features(clip));
  out.analyseMs = await timed(reps, () => detector.analyse(wav));
  out.modelBatch1Ms = await timed(reps, () => detector.scores([mel], 1));
  const eight = Array.from({ length: 8 }, () => mel);
  out.modelBatch8MsPerClip = await timed(Math.ceil(reps / 4), () => detector.scores(eight, 8), 8);
  out.verdictMs = await timed(reps, () => JSON.stringify(verdict(analysis, scores, detector.rule())));
  detector.dispose();

  // A prediction row, written 16 at a time as group commit does under 16 connections (PGlite, as the local stack).
  const dir = await mkdtemp(join(tmpdir(), 'sentinel-budget-'));
  const services = await openServices(readServiceEnv({ SENTINEL_DATA_DIR: dir }));
  try {
    const row = (i: number) => ({
      id: `budget-${i}-${Math.random()}`,
      model_version: detector.version,
      duration_seconds: 3,
      windows: { count: 1, top: analysis.windows.map((w, j) => ({ start: w.start, end: w.end, probability: scores[j].probability })), events: [] },
      probability: scores[0].probability,
      class: 'safe' as const,
      object_key: null,
    });
    out.databaseRowMs = await timed(Math.ceil(reps / 4), () => services.repo.recordPredictions(Array.from({ length: 16 }, (_, i) => row(i))), 16);
    out.databaseRowAloneMs = await timed(reps, () => services.repo.recordPredictions([row(0)]));
  } finally {
    await services.close();
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}
