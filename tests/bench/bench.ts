/**
 * Benchmark runner: `npm run bench [-- options]`.
 *   --suite <name[,name]>  suites to run (default: defaultSuites in registry.ts)
 *   --filter <text>        only cases whose name contains text
 *   --min-ms <ms>          time budget per case after warm-up (default 2000); at least --min-runs runs (default 20)
 *   --json                 print one JSON object (machine info + per-case results) instead of a table
 * Each case: warm-up (5 runs and >= 300 ms, lets V8 optimise), then timed runs; reports the median per item, with
 * min and p90. The machine may be shared: compare medians across a couple of runs.
 * The npm script loads tsx with --import tsx/esm (ESM hooks only, like bin/sentinel.mjs): with plain --import tsx,
 * CommonJS dependencies such as fft.js go through tsx's CJS hook and measured ~25% slower.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { defaultSuites, suites } from './registry.ts';
import type { BenchCase } from './types.ts';

const { values } = parseArgs({
  options: {
    suite: { type: 'string' },
    filter: { type: 'string', default: '' },
    'min-ms': { type: 'string', default: '2000' },
    'min-runs': { type: 'string', default: '20' },
    json: { type: 'boolean', default: false },
  },
});

export interface BenchResult {
  medianMs: number;
  minMs: number;
  p90Ms: number;
  runs: number;
  perIteration: number;
  unit?: string;
  targetMs?: number;
  pass?: boolean;
}

async function measure(c: BenchCase, minMs: number, minRuns: number): Promise<BenchResult> {
  await c.setup?.();
  try {
    if (c.once !== undefined) {
      const figures: number[] = [];
      for (let i = 0; i < c.once; i++) {
        const t = performance.now();
        const r = await c.run();
        figures.push(typeof r === 'number' ? r : performance.now() - t);
      }
      figures.sort((a, b) => a - b);
      const medianMs = figures[Math.floor(figures.length / 2)];
      return {
        medianMs,
        minMs: figures[0],
        p90Ms: figures[figures.length - 1],
        runs: figures.length,
        perIteration: 1,
        ...(c.unit ? { unit: c.unit } : {}),
        ...(c.targetMs !== undefined ? { targetMs: c.targetMs, pass: medianMs <= c.targetMs } : {}),
      };
    }
    const warmStart = performance.now();
    for (let i = 0; i < 5 || performance.now() - warmStart < 300; i++) await c.run();
    const times: number[] = [];
    const start = performance.now();
    while (times.length < minRuns || performance.now() - start < minMs) {
      const t = performance.now();
      await c.run();
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const per = c.perIteration ?? 1;
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] / per;
    const medianMs = at(0.5);
    return {
      medianMs,
      minMs: times[0] / per,
      p90Ms: at(0.9),
      runs: times.length,
      perIteration: per,
      ...(c.targetMs !== undefined ? { targetMs: c.targetMs, pass: medianMs <= c.targetMs } : {}),
    };
  } finally {
    c.teardown?.();
  }
}

const names = values.suite ? values.suite.split(',') : defaultSuites;
for (const n of names) if (!suites[n]) throw new Error(`Unknown suite "${n}"; known: ${Object.keys(suites).join(', ')}`);

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  loadAverage1m: Number(loadavg()[0].toFixed(2)),
};
if (!values.json) {
  console.log(`${machine.cpu} | ${machine.cores} cores | node ${machine.node} | ${machine.platform} | load ${machine.loadAverage1m}`);
}

const results: Record<string, BenchResult> = {};
for (const suite of names) {
  const cases = (await suites[suite]()).filter((c) => c.name.includes(values.filter ?? ''));
  for (const c of cases) {
    const r = await measure(c, Number(values['min-ms']), Number(values['min-runs']));
    results[c.name] = r;
    if (!values.json) {
      const unit = r.unit ? ` ${r.unit}` : r.perIteration > 1 ? ' ms/item' : ' ms';
      const target = r.targetMs === undefined ? '' : `  target ${r.targetMs} ${r.unit ?? 'ms'} ${r.pass ? 'ok' : 'MISSED'}`;
      console.log(
        `${c.name.padEnd(44)} ${r.medianMs.toFixed(3).padStart(10)}${unit}  (min ${r.minMs.toFixed(3)}, p90 ${r.p90Ms.toFixed(3)}, ${r.runs} runs)${target}` +
          (c.description ? `\n${' '.repeat(46)}${c.description}` : ''),
      );
    }
  }
}
if (values.json) console.log(JSON.stringify({ machine: { ...machine, loadAverage1mAfter: Number(loadavg()[0].toFixed(2)) }, results }));
