/**
 * Builds the API Lambda bundle (infra/lambda-bundle.ts says what and why): esbuild ESM of functions/api.ts + the
 * wasm binaries beside it.
 *
 *   node --import tsx infra/scripts/build-lambda.ts [outDir]     # npm run build:lambda -> .build/lambda
 */
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { LAMBDA_BANNER, LAMBDA_BUNDLE_DIR, LAMBDA_DOCS_FILES, LAMBDA_EXTERNAL, LAMBDA_WASM_FILES } from '../lambda-bundle.ts';

/** Bundles functions/api.ts into `outDir` (index.mjs, its on-demand chunks, the wasm binaries, /docs's files); returns the files written. */
export async function buildLambdaBundle(root: string, outDir: string): Promise<string[]> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: { index: join(root, 'functions/api.ts') },
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    // What is imported on demand (audio-decode's codecs for formats other than WAV, PGlite's loader…) goes to chunks
    // of its own, read only when first used: index.mjs is what a cold start parses and compiles.
    splitting: true,
    chunkNames: '[name]-[hash]',
    // node-fetch, which tfjs-core falls back on only without a global fetch, as that global (infra/lambda-node-fetch.cjs).
    alias: { 'node-fetch': join(root, 'infra/lambda-node-fetch.cjs') },
    bundle: true,
    platform: 'node',
    format: 'esm',
    // Lambda runs Node 22; node20 keeps the bundle loadable by this repository's Node 20 for the offline check.
    target: 'node20',
    minify: true,
    banner: { js: LAMBDA_BANNER },
    external: [...LAMBDA_EXTERNAL],
    logLevel: 'error',
  });
  const copied = [...LAMBDA_WASM_FILES, ...LAMBDA_DOCS_FILES];
  for (const file of copied) copyFileSync(join(root, file), join(outDir, basename(file)));
  return readdirSync(outDir).sort();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
  const outDir = resolve(root, process.argv[2] ?? LAMBDA_BUNDLE_DIR);
  const files = await buildLambdaBundle(root, outDir);
  console.log(`lambda bundle: ${files.join(', ')} in ${outDir}`);
}
