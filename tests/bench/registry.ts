/**
 * Benchmark suites: name -> lazy loader of its cases, so running one suite never loads another's dependencies
 * (tfjs for `model`). To add a suite, export a BenchCase[] from tests/bench/cases/<name>.ts and add a line here.
 */
import type { BenchCase } from './types.ts';

export const suites: Record<string, () => Promise<BenchCase[]>> = {
  audio: async () => (await import('./cases/audio.ts')).audioBenchCases,
  model: async () => (await import('./cases/model.ts')).modelBenchCases,
  serving: async () => (await import('./cases/serving.ts')).servingBenchCases,
  http: async () => (await import('./cases/http.ts')).httpBenchCases,
};

/** What `npm run bench` runs without --suite: the issue figures. `model` (embedding by alpha, size, batch) is exploratory. */
export const defaultSuites = ['audio', 'serving'];
