/**
 * `npm run build:wasm`: assembles the hand-written WebAssembly kernels (shared/{audio,model}/wasm/*.wat, text format) with
 * wabt and writes each as a TypeScript module holding its bytes in base64 (<name>-wasm.ts beside it), so Node, Lambda
 * bundles and the browser load it without a fetch or a file read. The generated files are committed; rerun after
 * editing a .wat file (a test checks that the committed bytes are what the .wat assembles to).
 * Also carries PFFFT's SIMD build from the installed @echogarden/pffft-wasm the same way (pffft-wasm.ts; rerun after
 * upgrading the package, a test checks the committed bytes against it).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { wasmModuleTs, assembleWat, pffftModuleTs } from './wasm-assemble.ts';

const dir = new URL('../../shared/audio/wasm/', import.meta.url).pathname;
for (const watDir of [dir, new URL('../../shared/model/wasm/', import.meta.url).pathname]) {
  for (const file of readdirSync(watDir).filter((f) => f.endsWith('.wat'))) {
    const name = file.replace(/\.wat$/, '');
    const bytes = await assembleWat(file, readFileSync(join(watDir, file), 'utf8'));
    writeFileSync(join(watDir, `${name}-wasm.ts`), wasmModuleTs(file, bytes));
    console.log(`${file} -> ${name}-wasm.ts (${bytes.length} bytes)`);
  }
}

const pffft = new URL('../../node_modules/@echogarden/pffft-wasm/', import.meta.url).pathname;
const { version } = JSON.parse(readFileSync(join(pffft, 'package.json'), 'utf8')) as { version: string };
const simd = join(pffft, 'dist', 'simd');
const pffftBytes = readFileSync(join(simd, 'pffft.wasm'));
writeFileSync(join(dir, 'pffft-wasm.ts'), pffftModuleTs(`@echogarden/pffft-wasm ${version} dist/simd`, readFileSync(join(simd, 'pffft.js'), 'utf8'), pffftBytes));
console.log(`@echogarden/pffft-wasm ${version} -> pffft-wasm.ts (${pffftBytes.length} bytes)`);
