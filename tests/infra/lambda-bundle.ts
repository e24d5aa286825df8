/**
 * Lambda bundle check (part of `npm run check:infra`): bundles functions/api.ts exactly as `npm run build:lambda`
 * does for infra/api.ts (infra/lambda-bundle.ts: esbuild ESM + the wasm binaries beside it), prints and asserts its zipped size, then loads it in
 * a fresh Node process that answers GET /health and POST /predict from hand-built API Gateway v2 events and prints
 * the cold start. Exit code 1 on any failure.
 *
 * The cloud Lambda uses Neon + S3 + SQS. Here the database is a throwaway Postgres database reached through the
 * Neon driver when TEST_DATABASE_URL is set (CI), else PGlite; blobs are files and the queue is the database queue,
 * in a temp SENTINEL_DATA_DIR. The shipped model is registered as `current` beforehand (in the cloud,
 * infra/scripts/bootstrap-model.ts does that once). PGlite is external to the bundle: in that mode the child resolves it
 * from this repository's node_modules through a symlink; everything else must come from the bundle itself.
 *
 *   node --import tsx tests/infra/lambda-bundle.ts [--keep]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { readServiceEnv } from '../../adapters/env.ts';
import { openServices } from '../../adapters/service.ts';
import { initTfBackend } from '../../adapters/tf-backend.ts';
import { registerDefaultModel } from '../../functions/bootstrap.ts';
import { createTestPostgres, TEST_DATABASE_URL, type TestPostgres } from '../integration/helpers/postgres.ts';
import { LAMBDA_COLD_START_TARGET_MS, LAMBDA_MAX_UNZIPPED_BYTES, LAMBDA_MAX_ZIPPED_BYTES } from '../../infra/lambda-bundle.ts';
import { buildLambdaBundle } from '../../infra/scripts/build-lambda.ts';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const keep = process.argv.includes('--keep');
const mb = (bytes: number) => (bytes / 1024 ** 2).toFixed(2);
const failures: string[] = [];
const check = (ok: boolean, message: string) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${message}`);
  if (!ok) failures.push(message);
};

const work = mkdtempSync(join(tmpdir(), 'sentinel-lambda-'));
const outDir = join(work, 'bundle');
const dataDir = join(work, 'data');
mkdirSync(outDir);
let postgres: TestPostgres | undefined;

try {
  // 1. Bundle exactly as deployed.
  await buildLambdaBundle(root, outDir);
  const files = readdirSync(outDir);
  const unzipped = files.reduce((sum, f) => sum + statSync(join(outDir, f)).size, 0);
  const zipped = zipSync(Object.fromEntries(files.map((f) => [f, readFileSync(join(outDir, f))])), { level: 9 }).length;
  console.log(`bundle: ${files.join(', ')}`);
  console.log(`bundle size: ${mb(unzipped)} MB unzipped, ${mb(zipped)} MB zipped`);
  check(zipped <= LAMBDA_MAX_ZIPPED_BYTES, `zipped ${mb(zipped)} MB <= ${mb(LAMBDA_MAX_ZIPPED_BYTES)} MB`);
  check(unzipped <= LAMBDA_MAX_UNZIPPED_BYTES, `unzipped ${mb(unzipped)} MB <= ${mb(LAMBDA_MAX_UNZIPPED_BYTES)} MB`);

  // 2. A deployment with a current model: the shipped one, registered through the same bootstrap as the local stack.
  //    With TEST_DATABASE_URL (CI): a throwaway Postgres database through the Neon driver, the cloud's code path, and
  //    the cold start is that of the cloud path. Without: PGlite (resolved from this repository, it is not in the
  //    bundle), whose own start-up the cloud never pays. Either way the cold start is printed, never asserted.
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    SENTINEL_DATA_DIR: dataDir,
    SENTINEL_TF_BACKEND: 'wasm',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
  if (TEST_DATABASE_URL) {
    postgres = await createTestPostgres();
    env.DATABASE_URL = postgres.url;
    env.SENTINEL_NEON_WS_PROXY = postgres.proxy.url;
  } else {
    symlinkSync(join(root, 'node_modules'), join(outDir, 'node_modules'), 'dir');
  }
  await initTfBackend({ SENTINEL_TF_BACKEND: 'wasm' });
  const services = await openServices(readServiceEnv(env));
  const version = await registerDefaultModel(services.repo, services.blobs, join(root, 'models/default'));
  await services.close();
  check(version !== null, `shipped model registered as current (${version}) in ${services.describe().database}`);

  // 3. A fresh Node process loads the bundle and answers two API Gateway v2 events.
  const output = await runNode(join(root, 'tests/infra/lambda-invoke.mjs'), [join(outDir, 'index.mjs')], env, 60_000);
  const line = output.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) {
    check(false, `bundle process answered (output: ${output.slice(-2000)})`);
  } else {
    const r = JSON.parse(line.slice('RESULT '.length)) as InvokeResult;
    check(r.health.statusCode === 200, `GET /health -> ${r.health.statusCode} ${r.health.body.slice(0, 200)}`);
    const predict = safeJson(r.predict.body) as { class?: string; probability?: number; model_version?: string } | undefined;
    check(
      r.predict.statusCode === 200 && typeof predict?.probability === 'number' && predict.model_version === version,
      `POST /predict -> ${r.predict.statusCode} class=${predict?.class} probability=${predict?.probability?.toFixed(3)} model=${predict?.model_version}`,
    );
    check(typeof r.requestId === 'string' && r.requestId.length > 0, `GET /health answers with X-Request-Id ${r.requestId}`);
    check(r.docs.statusCode === 200 && r.docs.script !== null, `GET /docs -> ${r.docs.statusCode}, names ${r.docs.script}`);
    check(
      r.docsAsset?.statusCode === 200 && r.docsAsset.encoding === 'gzip' && (r.docsAsset.cacheControl ?? '').includes('immutable'),
      `GET ${r.docs.script} (gzip) -> ${r.docsAsset?.statusCode} ${r.docsAsset?.encoding} ${r.docsAsset?.cacheControl}`,
    );
    console.log(
      `cold start: ${r.importMs.toFixed(0)} ms init (import + services + model), first /health answered at ${r.coldStartMs.toFixed(0)} ms ` +
        `after process start; first /predict ${r.predictMs.toFixed(0)} ms (answered at ${r.firstPredictAtMs.toFixed(0)} ms), warm /predict ${r.warmPredictMs.toFixed(0)} ms (CPU ${r.warmPredictCpuMs.toFixed(0)} ms); RSS ${r.rssMb.toFixed(0)} MB`,
    );
    // A timing is a figure, not a pass/fail: printed against its target (the issue asks for it printed), so a busy
    // machine cannot turn a correct bundle red. Size and behaviour above are asserted.
    const met = r.firstPredictAtMs <= LAMBDA_COLD_START_TARGET_MS;
    console.log(
      `cold start to the first /predict answer ${r.firstPredictAtMs.toFixed(0)} ms, target <= ${LAMBDA_COLD_START_TARGET_MS} ms: ${met ? 'met' : 'MISSED'}` +
        (postgres ? ' (Neon path)' : ' (PGlite path: its own start-up, which the cloud never pays, is included)'),
    );
  }
} catch (error) {
  check(false, `bundle check threw: ${error instanceof Error ? error.stack : String(error)}`);
} finally {
  await postgres?.cleanup().catch((error: unknown) => console.log(`note: dropping the throwaway database failed: ${String(error)}`));
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

if (failures.length > 0) {
  console.log(`lambda bundle check: ${failures.length} failed`);
  process.exit(1);
}
console.log('lambda bundle check: all passed');

interface InvokeResult {
  importMs: number;
  coldStartMs: number;
  predictMs: number;
  firstPredictAtMs: number;
  warmPredictMs: number;
  warmPredictCpuMs: number;
  rssMb: number;
  health: { statusCode: number; body: string };
  predict: { statusCode: number; body: string };
  requestId: string | null;
  docs: { statusCode: number; script: string | null };
  docsAsset: { statusCode: number; encoding: string | null; cacheControl: string | null } | null;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function runNode(script: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolvePromise(out);
    });
  });
}
