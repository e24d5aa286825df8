/**
 * `npm run build:wasm`: assembles the hand-written WebAssembly kernels (shared/audio/wasm/*.wat, text format) with
 * wabt and writes each as a TypeScript module holding its bytes in base64 (<name>-wasm.ts beside it), so Node, Lambda
 * bundles and the browser load it without a fetch or a file read. The generated files are committed; rerun after
 * editing a .wat file (a test checks that the committed bytes are what the .wat assembles to).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { wasmModuleTs, assembleWat } from './wasm-assemble.ts';

const dir = new URL('../../shared/audio/wasm/', import.meta.url).pathname;
for (const file of readdirSync(dir).filter((f) => f.endsWith('.wat'))) {
  const name = file.replace(/\.wat$/, '');
  const bytes = await assembleWat(file, readFileSync(join(dir, file), 'utf8'));
  writeFileSync(join(dir, `${name}-wasm.ts`), wasmModuleTs(file, bytes));
  console.log(`${file} -> ${name}-wasm.ts (${bytes.length} bytes)`);
}
