/**
 * Child process for the cold-start and memory figures: a fresh Node process loads the model and predicts one clip,
 * then prints {coldStartMs, maxRssMb} (time from process start, so module loading and wasm init count).
 * argv: <model dir> <wav file>
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { readModelFiles } from '../../../adapters/model-files.ts';
import { initTfBackend } from '../../../adapters/tf-backend.ts';
import { Detector } from '../../../shared/inference/detector.ts';

const [modelDir, wav] = process.argv.slice(2);
await initTfBackend(process.env, () => {});
const detector = await Detector.fromFiles(await readModelFiles(modelDir));
await detector.predict(await detector.analyse(await readFile(wav)));
const coldStartMs = performance.now(); // performance.now() counts from process start (timeOrigin)
// Then a short burst of predictions so the peak RSS covers steady-state serving too.
for (let i = 0; i < 20; i++) await detector.predict(await detector.analyse(await readFile(wav)));
console.log(JSON.stringify({ coldStartMs, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
