#!/usr/bin/env node
// Launcher of the CLI: runs the compiled JavaScript in dist/ (`npm run build`; made on install and before `npm start`)
// when it is newer than every source file, else the TypeScript through tsx (a checkout being edited). Nothing heavy
// is imported here: `sentinel --help` answers in well under a second.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = join(root, 'dist', '.built');
// The folders infra/scripts/build-dist.mjs compiles.
const SOURCES = ['functions', 'adapters', 'shared', 'cli', 'worker'];

function newerThan(dir, time) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() ? newerThan(path, time) : statSync(path).mtimeMs > time) return true;
  }
  return false;
}

function compiledIsCurrent() {
  if (!existsSync(stamp)) return false;
  const built = statSync(stamp).mtimeMs;
  return !SOURCES.some((d) => existsSync(join(root, d)) && newerThan(join(root, d), built));
}

// `sentinel ... | head` closes stdout early: stop quietly instead of crashing on EPIPE.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});
let main;
if (compiledIsCurrent() || !existsSync(join(root, 'node_modules', 'tsx'))) {
  ({ main } = await import('../dist/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
