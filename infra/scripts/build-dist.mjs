// Compiles the Node runtime (functions/, adapters/, shared/, cli/, worker/) to dist/ with esbuild, one .js per .ts
// at the same relative path, so `npm start` and `npx sentinel` run plain JavaScript (tsx is for `npm run dev` and
// the tests). Files are transpiled, not bundled: each relative import is kept with `.ts` rewritten to `.js`, and
// packages stay imports of node_modules. Runs as `npm run build`, on `npm install` (prepare) and before `npm start`.
// Written as .mjs so that it needs neither tsx nor a previous build; ~1 s.
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** The folders whose code runs at runtime (tests/, infra/ and web/ are not compiled here). */
export const SOURCE_DIRS = ['functions', 'adapters', 'shared', 'cli', 'worker'];
const dist = join(root, 'dist');
// Built beside dist/ and swapped in, so a process running from dist/ (or a second build) never sees half a build.
const out = join(root, `.dist-${process.pid}`);

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Keeps every import an import: relative ones point at the compiled sibling, packages at node_modules. */
const keepImports = {
  name: 'keep-imports',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      return { path: args.path.startsWith('.') ? args.path.replace(/\.ts$/, '.js') : args.path, external: true };
    });
  },
};

let build;
try {
  ({ build } = await import('esbuild'));
} catch {
  // An install without devDependencies (npm ci --omit=dev) has no esbuild: it runs a dist/ built beforehand.
  console.log('dist/: esbuild is not installed (production install); keeping the existing build.');
  process.exit(0);
}
const files = SOURCE_DIRS.flatMap((d) => walk(join(root, d)));
const entryPoints = files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
await build({
  entryPoints,
  outdir: out,
  outbase: root,
  bundle: true,
  plugins: [keepImports],
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
});
// Plain JavaScript modules (the worker-thread bootstrap) are copied as they are.
for (const f of files.filter((f) => f.endsWith('.mjs'))) {
  mkdirSync(dirname(join(out, relative(root, f))), { recursive: true });
  copyFileSync(f, join(out, relative(root, f)));
}
// bin/sentinel.mjs runs dist/ only when this stamp is newer than every source file.
writeFileSync(join(out, '.built'), `${new Date().toISOString()}\n`);
const old = `${dist}.old-${process.pid}`;
if (existsSync(dist)) renameSync(dist, old);
renameSync(out, dist);
rmSync(old, { recursive: true, force: true });
if (!process.argv.includes('--quiet')) console.log(`dist/: ${entryPoints.length} modules compiled`);
