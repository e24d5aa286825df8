/**
 * How the API Lambda is bundled: `npm run build:lambda` (infra/scripts/build-lambda.ts) writes LAMBDA_BUNDLE_DIR,
 * which infra/api.ts deploys as a prebuilt bundle (sst.aws.Function `bundle`); the offline check
 * (tests/infra/lambda-bundle.ts) builds the same thing into a temp dir and runs it: what is checked is what is
 * deployed. Plain data, imported by the SST config too (so no esbuild import here).
 */

/** Repository-relative folder of the deployable bundle (git-ignored). */
export const LAMBDA_BUNDLE_DIR = '.build/lambda';

/** ESM bundle, but some dependencies (pino, the AWS SDK's older paths, emscripten glue in tfjs-backend-wasm) still
 *  call require() or read __dirname; an ESM module has neither, so the banner defines them. __dirname is how the
 *  wasm backend finds its .wasm files, which therefore sit next to the bundle. */
export const LAMBDA_BANNER = [
  "import { createRequire as __sentinelCreateRequire } from 'node:module';",
  "import { fileURLToPath as __sentinelFileURLToPath } from 'node:url';",
  "import { dirname as __sentinelDirname } from 'node:path';",
  'const require = __sentinelCreateRequire(import.meta.url);',
  'const __filename = __sentinelFileURLToPath(import.meta.url);',
  'const __dirname = __sentinelDirname(__filename);',
].join('\n');

/** Never bundled: PGlite is the local stack's database (the Lambda always has DATABASE_URL, so adapters/db loads
 *  it only on demand and never in the cloud); tfjs-node(-gpu) is native and only in the worker image;
 *  @audio/decode-ape is an optional codec audio-decode imports lazily and the project does not install (an .ape
 *  upload then fails as undecodable, as it does locally). */
export const LAMBDA_EXTERNAL: readonly string[] = [
  '@electric-sql/pglite',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  '@audio/decode-ape',
];

/** The tfjs wasm backend's binaries, copied beside the bundle (relative to the repository root). The threaded build
 *  is left out: Node runs the backend single-threaded, so Lambda would never load it. */
export const LAMBDA_WASM_FILES: readonly string[] = [
  'node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm',
  'node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm',
];

/** /docs's Swagger UI files (functions/docs.ts), copied beside the bundle: the Lambda has no node_modules. */
export const LAMBDA_DOCS_FILES: readonly string[] = ['node_modules/swagger-ui-dist/swagger-ui-bundle.js', 'node_modules/swagger-ui-dist/swagger-ui.css'];

/** Lambda limits for a zip deployment package: 50 MB zipped (direct upload), 250 MB unzipped. */
export const LAMBDA_MAX_ZIPPED_BYTES = 50 * 1024 ** 2;
export const LAMBDA_MAX_UNZIPPED_BYTES = 250 * 1024 ** 2;

/** Target for a cold start (process start -> the first /predict answered), ms (issue 16). */
export const LAMBDA_COLD_START_TARGET_MS = 1000;
