/**
 * Model benchmarks (wasm, single thread): embedding time per clip by alpha, input size, batch size, BN folded or not,
 * and the mel -> image conversion. Each case reports milliseconds per clip (`perIteration` clips per run).
 *
 * Standalone: `node --import tsx tests/bench/cases/model.ts [filter]` prints a table. The shared bench runner
 * (tests/bench/bench.ts) can import `modelBenchCases` instead.
 */
import * as tf from '../../../shared/model/tf.ts';
import { pathToFileURL } from 'node:url';
import { selectBackend } from '../../../shared/model/backend.ts';
import { embed } from '../../../shared/model/classifier.ts';
import { foldBatchNorm } from '../../../shared/model/fold.ts';
import { melToModelInput, type InputRepresentation } from '../../../shared/model/input.ts';
import { buildMobileNetV2 } from '../../../shared/model/mobilenetv2.ts';

export interface ModelBenchCase {
  name: string;
  /** Clips processed per `run`; divide a run's time by it for time per clip. */
  perIteration: number;
  setup(): Promise<void>;
  run(): Promise<void>;
  teardown(): void;
}

function wavyMel(seed: number): Float32Array {
  return Float32Array.from({ length: 128 * 130 }, (_, i) => -40 + 40 * Math.sin(i * 0.37 + seed) * Math.cos(i * 0.011));
}

function embedCase(alpha: number, size: [number, number], batch: number, folded: boolean): ModelBenchCase {
  let model: tf.LayersModel | undefined;
  let x: tf.Tensor4D | undefined;
  return {
    name: `embed a${alpha} ${size[0]}x${size[1]} b${batch} ${folded ? 'folded' : 'unfolded'}`,
    perIteration: batch,
    async setup() {
      await selectBackend({ requested: 'wasm', log: () => {} });
      const built = buildMobileNetV2({ alpha, inputShape: [size[0], size[1], 3], seed: 1 }); // random init: timing only
      model = folded ? await foldBatchNorm(built) : built;
      if (folded) built.dispose();
      x = tf.randomUniform([batch, size[0], size[1], 3], -1, 1, 'float32', 2) as tf.Tensor4D;
    },
    async run() {
      await embed(model!, x!, batch);
    },
    teardown() {
      model?.dispose();
      x?.dispose();
    },
  };
}

function inputCase(representation: InputRepresentation, batch: number, reuse: boolean): ModelBenchCase {
  const mels = Array.from({ length: batch }, (_, i) => wavyMel(i));
  const out = reuse ? melToModelInput(mels, representation).data : undefined;
  return {
    name: `melToModelInput ${representation} b${batch} ${reuse ? 'reused buffer' : 'fresh buffer'}`,
    perIteration: batch,
    async setup() {},
    async run() {
      melToModelInput(mels, representation, out);
    },
    teardown() {},
  };
}

export const modelBenchCases: ModelBenchCase[] = [
  ...[false, true].flatMap((reuse) => [inputCase('magma224', 8, reuse), inputCase('grey128', 8, reuse)]),
  ...[1, 8].flatMap((b) => [false, true].map((f) => embedCase(0.35, [224, 224], b, f))),
  ...[1, 8].flatMap((b) => [false, true].map((f) => embedCase(0.35, [128, 130], b, f))),
  ...[0.5, 0.75, 1.0].flatMap((a) => [1, 8].flatMap((b) => [false, true].map((f) => embedCase(a, [224, 224], b, f)))),
];

/** Runs one case: 2 warm-up runs, then runs until ~minMs and at least 3; returns the median ms per clip. */
export async function measure(c: ModelBenchCase, minMs = 3000): Promise<{ msPerClip: number; runs: number }> {
  await c.setup();
  try {
    for (let i = 0; i < 2; i++) await c.run();
    const times: number[] = [];
    const start = performance.now();
    while (times.length < 3 || performance.now() - start < minMs) {
      const t = performance.now();
      await c.run();
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    return { msPerClip: times[Math.floor(times.length / 2)] / c.perIteration, runs: times.length };
  } finally {
    c.teardown();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const filter = process.argv[2] ?? '';
  for (const c of modelBenchCases.filter((k) => k.name.includes(filter))) {
    const { msPerClip, runs } = await measure(c);
    console.log(`${c.name.padEnd(40)} ${msPerClip.toFixed(2).padStart(9)} ms/clip  (${runs} runs)`);
  }
}
