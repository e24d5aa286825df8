/** The committed `<name>-wasm.ts` beside a hand-written `<name>.wat`, and what the .wat assembles to now (npm run build:wasm). */
import { readFileSync } from 'node:fs';
import { assembleWat, wasmModuleTs } from '../../infra/scripts/wasm-assemble.ts';

export async function committedAndAssembled(path: string): Promise<{ committed: string; assembled: string }> {
  const wat = new URL(`../../${path}`, import.meta.url);
  const name = path.split('/').pop()!;
  const bytes = await assembleWat(name, readFileSync(wat, 'utf8'));
  return { committed: readFileSync(new URL(name.replace(/\.wat$/, '-wasm.ts'), wat), 'utf8'), assembled: wasmModuleTs(name, bytes) };
}
