/**
 * Serving and training figures of the model issue: inference per clip on the serving model (wasm), batched, front end
 * + model for one 3 s window (clipMs) and for a 60 s recording (longMs), cold start of a new process, peak RSS of a
 * predicting process, and head training on 1000 clips with augmentation.
 * Uses models/default when present, else a random-init serving model of the same architecture (timing only).
 */
import { execFileSync } from 'node:child_process';
import { buildSync } from 'esbuild';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeModelFiles, readModelFiles } from '../../../adapters/model-files.ts';
import { openTrainingCompute } from '../../../adapters/training-threads.ts';
import { encodeWav } from '../../../shared/audio/index.ts';
import { MODEL, TRAINING } from '../../../shared/config.ts';
import { Detector } from '../../../shared/inference/detector.ts';
import { selectBackend } from '../../../shared/model/backend.ts';
import { MemoryEmbeddingCache } from '../../../shared/training/embedding-cache.ts';
import { trainModel } from '../../../shared/training/trainer.ts';
import type { LabeledClip } from '../../../shared/types.ts';
import { backgroundLike, RATE, recordingWithScreams, screamLike } from '../../helpers/synth.ts';
// Activations O(1) like the ImageNet backbone's: a plain random MobileNetV2's shrink to ~1e-10 (denormal-slow, unrealistic).
import { randomBackbone } from '../../helpers/tiny-model.ts';
import type { BenchCase } from '../types.ts';
import { loadBackbone } from '../../../cli/model.ts';
import type { CommandIO } from '../../../cli/command.ts';
import { assembleWat } from '../../../infra/scripts/wasm-assemble.ts';
import { REPRESENTATION_SHAPES } from '../../../shared/model/input.ts';

const DEFAULT_MODEL = new URL('../../../models/default/', import.meta.url).pathname;
const ROOT = new URL('../../../', import.meta.url).pathname;
let detector: Detector | undefined;
let mels: Float32Array[] = [];


function clips(n: number): LabeledClip[] {
  return Array.from({ length: n }, (_, i) => {
    const danger = i % 4 === 0; // dev's 1:4
    const samples = danger ? screamLike(3.5, i) : backgroundLike(3.5, i);
    return { path: `${danger ? 'danger' : 'safe'}/${i}.wav`, label: danger ? 'danger' : 'safe', bytes: encodeWav(samples, RATE, { bitDepth: 16 }) } as LabeledClip;
  });
}

/** The model to serve: the shipped one, or a stand-in trained in a temp dir on a few synthetic clips. */
async function servingModelDir(): Promise<string> {
  if (existsSync(join(DEFAULT_MODEL, 'sentinel.json'))) return DEFAULT_MODEL;
  const dir = join(mkdtempSync(join(tmpdir(), 'sentinel-bench-')), 'model');
  const result = await trainModel({ clips: clips(16), backbone: await randomBackbone(), folds: 0, augmentations: 0, cache: new MemoryEmbeddingCache(), command: 'bench' });
  await writeModelFiles(dir, result.files);
  return dir;
}

/** A 60 s 16 kHz recording (background with a scream-like event every 20 s) as a 16-bit WAV, and a 3 s clip at the
 *  serving model's front-end rate. */
let wav60s: Uint8Array | undefined;
let clip3s: Float32Array | undefined;

async function setupDetector(): Promise<void> {
  await selectBackend({ requested: 'wasm', log: () => {} });
  detector ??= await Detector.fromFiles(await readModelFiles(await servingModelDir()));
  // The model's own front end (Kaldi at 32 kHz for the AudioSet backbone, librosa at 22.05 kHz for MobileNetV2).
  mels = Array.from({ length: 8 }, (_, i) => detector!.analyseSamples(i % 2 ? screamLike(3, i) : backgroundLike(3, i), RATE).windows[0].db);
  wav60s ??= encodeWav(recordingWithScreams(60, [5, 25, 45], 7, 16000), 16000, { bitDepth: 16 });
  clip3s ??= screamLike(3, 3, detector.frontEnd.sampleRate);
}

function childFigures(): { coldStartMs: number; maxRssMb: number } {
  const dir = mkdtempSync(join(tmpdir(), 'sentinel-bench-'));
  const wav = join(dir, 'clip.wav');
  writeFileSync(wav, encodeWav(screamLike(3, 1), 16000, { bitDepth: 16 }));
  // Compiled ahead like a deployed function (esbuild; dependencies stay in node_modules): a cold start should not
  // count tsx transpiling our TypeScript on the fly.
  const child = join(ROOT, '.cache', 'bench', 'serving-child.mjs'); // inside the project: node_modules resolves
  buildSync({ entryPoints: [new URL('./serving-child.ts', import.meta.url).pathname], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: child, logLevel: 'error' });
  return JSON.parse(execFileSync(process.execPath, [child, MODEL_DIR_FOR_CHILD, wav], { encoding: 'utf8', cwd: ROOT }).trim().split('\n').pop()!);
}
let MODEL_DIR_FOR_CHILD = DEFAULT_MODEL;

/**
 * Multiply-adds of one window through the serving model's convolutions (dense layers are < 1%): from each layer's
 * kernel and output shape; the time axis is unknown to the graph, so it is the input's scaled by the layer's stride.
 */
function windowMacs(d: Detector): number {
  const [H, W] = REPRESENTATION_SHAPES[d.manifest.representation];
  let macs = 0;
  for (const layer of d.model.layers) {
    const out = layer.outputShape as (number | null)[];
    const kind = layer.getClassName();
    if (out.length !== 4 || (kind !== 'Conv2D' && kind !== 'DepthwiseConv2D')) continue;
    const h = out[1]!;
    const w = out[2] ?? Math.ceil(W / (H / h));
    const [kh, kw, inChannels] = layer.getWeights()[0].shape as number[];
    macs += h * w * out[3]! * kh * kw * (kind === 'Conv2D' ? inChannels : 1);
  }
  return macs;
}

/** One core's WebAssembly SIMD arithmetic peak: f32x4 multiply then add on 8 independent chains, no memory traffic. */
async function wasmSimdPeakGMacs(): Promise<number> {
  const chains = Array.from({ length: 8 }, (_, i) => i);
  const wat = `(module (func (export "run") (param $n i32) (result f32) (local $i i32) (local $x v128) (local $y v128)
    ${chains.map((i) => `(local $a${i} v128)`).join(' ')}
    (local.set $x (f32x4.splat (f32.const 1.0000001))) (local.set $y (f32x4.splat (f32.const 0.9999999)))
    (loop $l ${chains.map((i) => `(local.set $a${i} (f32x4.add (local.get $a${i}) (f32x4.mul (local.get $x) (local.get $y))))`).join(' ')}
      (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    ${chains.slice(1).map((i) => `(local.set $a0 (f32x4.add (local.get $a0) (local.get $a${i})))`).join(' ')}
    (f32x4.extract_lane 0 (local.get $a0))))`;
  const bytes = await assembleWat('peak.wat', wat);
  const { run } = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(bytes)), {}).exports as { run(n: number): number };
  const n = 2e7;
  let best = 0;
  // The first calls run before V8's optimising tier has compiled the loop: the best of a few.
  for (let i = 0; i < 4; i++) {
    const t = performance.now();
    run(n);
    best = Math.max(best, (n * chains.length * 4) / ((performance.now() - t) * 1e6));
  }
  return best;
}
let macs: number | undefined;
let peak: number | undefined;
let child: { coldStartMs: number; maxRssMb: number } | undefined;

export const servingBenchCases: BenchCase[] = [
  {
    name: 'inferMs',
    description: 'one 3 s window through the serving model (its front end\'s features in; BN folded, convolution chains fused, wasm), features -> probability (+ AudioSet classes)',
    targetMs: 8,
    setup: setupDetector,
    run: async () => void (await detector!.probabilities([mels[0]])),
  },
  {
    name: 'inferBatch8MsPerClip',
    description: 'eight windows in one model call, per window',
    targetMs: 5,
    perIteration: 8,
    setup: setupDetector,
    run: async () => void (await detector!.probabilities(mels, 8)),
  },
  {
    name: 'clipMs',
    description: "front end + model for one 3 s window, float samples at the front end's rate in, verdict out (one thread, wasm); upstream PyTorch of the same backbone: 8.7-17 ms on this machine",
    targetMs: 6,
    setup: setupDetector,
    run: async () => void (await detector!.predict(detector!.analyseSamples(clip3s!, detector!.frontEnd.sampleRate))),
  },
  {
    name: 'longMs',
    description: 'a 60 s 16 kHz 16-bit WAV, hop 1 s (58 windows): decode, resample, front end once over the recording, model in batches of 8, verdict',
    targetMs: 60,
    setup: setupDetector,
    run: async () => void (await detector!.predict(await detector!.analyse(wav60s!))),
  },
  {
    name: 'windowMMacs',
    unit: 'M multiply-adds',
    description: "multiply-adds of one window through the serving model's convolutions",
    once: 1,
    setup: setupDetector,
    run: () => (macs = windowMacs(detector!)) / 1e6,
  },
  {
    name: 'wasmSimdPeakGMacs',
    unit: 'G multiply-adds/s',
    description: "one core's WebAssembly SIMD arithmetic peak: f32x4 multiply + add on 8 independent chains, no memory traffic",
    once: 5,
    run: async () => {
      const figure = await wasmSimdPeakGMacs();
      peak = Math.max(peak ?? 0, figure);
      return figure;
    },
  },
  {
    name: 'longFloorMs',
    description: "longMs's model part if every multiply-add ran at that peak: 58 windows x windowMMacs / the best wasmSimdPeakGMacs, one core",
    once: 1,
    setup: setupDetector,
    run: async () => (58 * (macs ??= windowMacs(detector!))) / ((peak ??= await wasmSimdPeakGMacs()) * 1e6),
  },
  {
    name: 'coldStartMs',
    description: 'new Node process -> model loaded -> first prediction of a 3 s WAV (child process, median of runs)',
    targetMs: 1000,
    once: 5,
    setup: async () => {
      MODEL_DIR_FOR_CHILD = await servingModelDir();
    },
    run: () => {
      const figures = childFigures();
      child = { coldStartMs: figures.coldStartMs, maxRssMb: Math.max(child?.maxRssMb ?? 0, figures.maxRssMb) };
      return figures.coldStartMs;
    },
  },
  {
    name: 'predictPeakRssMb',
    unit: 'MB',
    description: 'peak resident memory of that predicting process',
    targetMs: 300,
    once: 1,
    run: () => child?.maxRssMb ?? childFigures().maxRssMb,
  },
  {
    name: 'trainHead1000Ms',
    description: `decode + ${TRAINING.augmentations} augmentations + embed + ${TRAINING.headEnsemble} heads (no CV) on 1000 synthetic 3.5 s clips with the default backbone (${MODEL.backbone}), empty cache, a training thread per core`,
    targetMs: 90_000,
    once: 1,
    // Its own backend choice: run alone (--filter) it would otherwise get tfjs' default, the slow cpu backend.
    setup: async () => void (await selectBackend({ requested: 'wasm', log: () => {} })),
    run: async () => {
      const data = clips(1000);
      // The backbone a fresh `sentinel train` uses (MODEL.backbone: the committed AudioSet weights).
      const { backbone } = await loadBackbone({ backbone: MODEL.backbone }, 'head', { stdout: () => {}, stderr: () => {} } satisfies CommandIO);
      const t = performance.now();
      // As `sentinel train` runs it: a training thread per core (wasm is single-threaded), started inside the timing.
      const training = openTrainingCompute();
      try {
        await trainModel({ clips: data, backbone, mode: 'head', folds: 0, cache: new MemoryEmbeddingCache(), compute: training.compute, command: 'bench' });
      } finally {
        await training.close();
      }
      return performance.now() - t;
    },
  },
];
