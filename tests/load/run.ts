/**
 * `npm run load`: the artillery scenarios of tests/load/ (mix, predict, long), bounded, against a local stack this
 * script starts on 127.0.0.1 with a temp SENTINEL_DATA_DIR — once with one inference thread and once with one per
 * core — then prints a table and writes tests/load/reports/latest.json (+ artillery's own JSON per run).
 * The worker loop is off (SENTINEL_WORKER=false): /retrain's 202 path is exercised, training itself is not.
 *
 *   npm run load                       # LOAD_DURATION=10 s per scenario
 *   LOAD_DURATION=30 npm run load
 * Installs artillery into tests/load on first use (npm ci there, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { encodeWav } from '../../shared/audio/wav.ts';

const here = resolve(fileURLToPath(new URL('.', import.meta.url)));
const root = resolve(here, '../..');
const artilleryBin = join(here, 'node_modules/artillery/bin/run');
if (!existsSync(artilleryBin)) {
  // Artillery lives in its own package (600 MB): installed on first use, never its browsers.
  console.error('installing artillery into tests/load (first run only) …');
  const install = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--prefix', here], {
    stdio: 'inherit',
    env: { ...process.env, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' },
  });
  if (install.status !== 0 || !existsSync(artilleryBin)) {
    console.error('artillery could not be installed: PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix tests/load');
    process.exit(2);
  }
}
const duration = Number(process.env.LOAD_DURATION ?? 10);
const scenarios = ['mix', 'predict', 'long'] as const;
const cores = availableParallelism();
const configs = [...new Set([1, cores])];

// Fixtures: synthetic audio only (a tone in noise), written where the scenarios' fromFile paths point.
function tone(seconds: number, rate = 16_000): Uint8Array {
  const samples = new Float32Array(seconds * rate);
  let seed = 7;
  for (let i = 0; i < samples.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    samples[i] = 0.3 * Math.sin((2 * Math.PI * 440 * i) / rate) + 0.05 * (seed / 0x7fffffff - 0.5);
  }
  return encodeWav(samples, rate, { bitDepth: 16 });
}
const fixtures = join(here, '.fixtures');
mkdirSync(fixtures, { recursive: true });
writeFileSync(join(fixtures, 'clip-3s.wav'), tone(3));
writeFileSync(join(fixtures, 'clip-60s.wav'), tone(60));
const clip = tone(2);
const entries: Record<string, Uint8Array> = {};
for (let i = 0; i < 4; i++) entries[`safe/s${i}.wav`] = entries[`danger/d${i}.wav`] = clip;
writeFileSync(join(fixtures, 'dataset.zip'), zipSync(entries));

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

async function waitHealthy(url: string, child: ChildProcess, timeoutMs = 90_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`local stack exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('local stack did not become healthy');
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number; out: string }> {
  return new Promise((res) => {
    const child = spawn(cmd, args, { cwd: here, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code: code ?? 1, out });
    });
  });
}

interface Row {
  threads: number;
  scenario: string;
  requests: number;
  rps: number;
  p50: number;
  p95: number;
  errors: number;
  codes: Record<string, number>;
  ensure: 'pass' | 'fail';
}

const reports = join(here, 'reports');
mkdirSync(reports, { recursive: true });
const rows: Row[] = [];
const adminKey = `snt_${randomBytes(32).toString('hex')}`;

for (const threads of configs) {
  const dataDir = mkdtempSync(join(tmpdir(), 'sentinel-load-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const stack = spawn(process.execPath, ['--import', 'tsx', 'functions/server.ts'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      SENTINEL_HOST: '127.0.0.1',
      SENTINEL_DATA_DIR: dataDir,
      SENTINEL_WORKER: 'false',
      SENTINEL_INFERENCE_THREADS: String(threads),
      SENTINEL_ADMIN_KEY: adminKey,
      // One client sending 15 predictions a second is the load being measured, not abuse to refuse.
      SENTINEL_RATE_LIMIT_PER_MINUTE: '0',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitHealthy(url, stack);
    for (const scenario of scenarios) {
      const output = join(reports, `${scenario}-${threads}t.json`);
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_OPTIONS: `-r ${join(here, 'block-telemetry.cjs')}`,
        ARTILLERY_DISABLE_TELEMETRY: 'true',
        DO_NOT_TRACK: '1',
        NO_UPDATE_NOTIFIER: '1',
        LOAD_DURATION: String(duration),
        LOAD_MIX_RATE: process.env.LOAD_MIX_RATE ?? '20',
        LOAD_PREDICT_RATE: process.env.LOAD_PREDICT_RATE ?? '15',
        LOAD_ADMIN_KEY: adminKey,
      };
      const result = await run(process.execPath, [artilleryBin, 'run', '--target', url, '--output', output, `${scenario}.yml`], env, (duration + 120) * 1000);
      const agg = (JSON.parse(readFileSync(output, 'utf8')) as { aggregate: Aggregate }).aggregate;
      const c = agg.counters;
      const codes = Object.fromEntries(Object.entries(c).filter(([k]) => k.startsWith('http.codes.')).map(([k, v]) => [k.slice(11), v]));
      const rt = agg.summaries['http.response_time'] ?? { median: NaN, p95: NaN };
      const requests = c['http.requests'] ?? 0;
      const spanS = Math.max(1e-3, (agg.lastCounterAt - agg.firstCounterAt) / 1000);
      rows.push({
        threads,
        scenario,
        requests,
        rps: requests / spanS,
        p50: rt.median,
        p95: rt.p95,
        errors: (c['vusers.failed'] ?? 0) + Object.entries(codes).filter(([k]) => Number(k) >= 500).reduce((s, [, v]) => s + v, 0),
        codes,
        ensure: result.code === 0 ? 'pass' : 'fail',
      });
      if (result.code !== 0) console.error(result.out.split('\n').filter((l) => /ensure|fail|error/i.test(l)).slice(-8).join('\n'));
    }
  } finally {
    stack.kill('SIGTERM');
    await new Promise((r) => stack.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

interface Aggregate {
  counters: Record<string, number>;
  summaries: Record<string, { median: number; p95: number }>;
  firstCounterAt: number;
  lastCounterAt: number;
}

const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(n >= 100 ? 0 : 1) : '—');
console.log(`\nLoad (${duration} s per scenario, ${cores} cores, local stack on 127.0.0.1):\n`);
console.log('| Threads | Scenario | Requests | req/s | p50 ms | p95 ms | Errors | Codes | ensure |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  const codes = Object.entries(r.codes).map(([k, v]) => `${k}:${v}`).join(' ');
  console.log(`| ${r.threads} | ${r.scenario} | ${r.requests} | ${fmt(r.rps)} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${r.errors} | ${codes} | ${r.ensure} |`);
}
writeFileSync(join(reports, 'latest.json'), JSON.stringify({ at: new Date().toISOString(), durationSeconds: duration, cores, rows }, null, 2));
console.log(`\nreport: ${join(reports, 'latest.json')}`);
if (rows.some((r) => r.ensure === 'fail')) process.exit(1);
