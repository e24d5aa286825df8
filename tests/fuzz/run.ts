/**
 * Fuzz and fault suite: `npm run test:fuzz [-- --count N] [-- --seed S] [-- --json] [-- --only I]`.
 * Starts the local stack as `npm start` does (functions/server.ts in a child process on 127.0.0.1, a free port, a temp
 * data dir, an admin key of its own; the training worker off: an accepted zip is queued, not trained, so the run
 * measures intake, not training), then sends N generated inputs (tests/fuzz/inputs.ts: mutated audio, WAV headers
 * field by field, the decode bombs, random bytes, malformed multipart and JSON, hostile and mutated dataset zips,
 * the presigned-upload flow, bodies over the limit) with bounded concurrency, and a valid clip every CONTROL_EVERY
 * inputs that must still be answered 200. Samples the server's RSS from /proc/<pid>/status.
 * Fails on any 5xx, any timeout, a failed control, a crash, or peak RSS over RSS_BOUND_MB. Bounded: N inputs and
 * --max-minutes of wall clock (default 10), after which everything is stopped and the run fails.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encodeWav } from '../../shared/audio/index.ts';
import { API } from '../../shared/config.ts';
import { createRng } from '../../shared/training/random.ts';
import { screamLike } from '../helpers/synth.ts';
import { spawnStack, type StackProcess } from '../integration/helpers/stack.ts';
import { fileUpload, send, type Answer, type FuzzRequest } from './http.ts';
import { createGenerator, type FuzzInput } from './inputs.ts';

/**
 * Peak RSS allowed, MB (VmRSS sampled every 100 ms, and VmHWM; start-up included). Measured on the 2-core dev
 * machine with the shipped model: 1.16-1.58 GB over six runs of 1,000-10,000 inputs (the full 10,000: 1.22 GB,
 * start-up's own peak). Two inference threads hold ~0.45-0.6 GB each, an intake thread per zip in flight ~50 MB
 * (eight at once: 0.4 GB), a body in flight up to 64 MiB. 2 GiB leaves ~0.45 GB over the worst run seen and still
 * catches an input the server holds instead of refusing: the overlapping zip bomb this suite found held 1.8 GB alone.
 */
const RSS_BOUND_MB = 2048;
/** A valid clip every this many inputs: a bad input must never break the requests around it. */
const CONTROL_EVERY = 250;

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '14' },
    concurrency: { type: 'string', default: '8' },
    'timeout-seconds': { type: 'string', default: '60' },
    'max-minutes': { type: 'string', default: '10' },
    only: { type: 'string' },
    save: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const count = Number(values.count);
const seed = Number(values.seed);
const concurrency = Number(values.concurrency);
const timeoutMs = Number(values['timeout-seconds']) * 1000;
const capMs = Number(values['max-minutes']) * 60_000;
for (const [name, v] of Object.entries({ count, seed, concurrency, timeoutMs, capMs })) {
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`--${name} must be a non-negative integer`);
}
const log = (line: string) => process.stderr.write(`${line}\n`);
const started = Date.now();
// The hard cap: whatever hangs, the suite ends (and fails) by then.
const hardStop = setTimeout(() => {
  log(`fuzz: wall-clock cap of ${values['max-minutes']} min reached; stopping`);
  void (stack?.kill() ?? Promise.resolve()).finally(() => {
    rmSync(dir, { recursive: true, force: true });
    process.stdout.write(`FAILED: the wall-clock cap of ${values['max-minutes']} min was reached\n${outcomes.length} sent, 1 failed\n`);
    process.exit(1);
  });
}, capMs);
hardStop.unref();

const generator = await createGenerator(seed, API.maxAudioBytes);
const indices = values.only !== undefined ? [Number(values.only)] : Array.from({ length: count }, (_, i) => i);
if (values.only !== undefined && values.save) {
  const input = generator.input(indices[0]);
  const body = 'request' in input.plan ? input.plan.request.body : input.plan.presigned.bytes;
  if (body instanceof Uint8Array) await writeFile(values.save, body);
  log(`input ${indices[0]} (${input.family} ${input.name}) written to ${values.save}`);
}

const dir = await mkdtemp(join(tmpdir(), 'sentinel-fuzz-'));
const adminKey = `fuzz-${randomBytes(16).toString('hex')}`;
let stack: StackProcess | null = null;
let crashed: string | null = null;
let peakSampledKb = 0;
let baselineKb = 0;
let startupPeakKb = 0;
const serverCpu = { start: 0, end: 0 };

/** CPU seconds the process has used (user + system), from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100 on Linux)
  } catch {
    return 0;
  }
}

function rssKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

interface Outcome {
  input: FuzzInput;
  answers: Answer[];
}
const outcomes: Outcome[] = [];
const controls: Answer[] = [];
const control = encodeWav(screamLike(1, 99, 16_000), 16_000, { bitDepth: 16 });

async function runInput(port: number, input: FuzzInput): Promise<Answer[]> {
  if ('request' in input.plan) return [await send(port, input.plan.request, adminKey, timeoutMs)];
  const { purpose, bytes, filename } = input.plan.presigned;
  const admin = purpose === 'dataset';
  const ticketReq: FuzzRequest = {
    method: 'POST',
    path: '/uploads',
    headers: { 'content-type': 'application/json' },
    body: new TextEncoder().encode(JSON.stringify({ filename, content_type: admin ? 'application/zip' : 'audio/wav', purpose, bytes: bytes.length })),
    admin,
  };
  const ticket = await send(port, ticketReq, adminKey, timeoutMs);
  if (ticket.status !== 201) return [ticket];
  const t = JSON.parse(ticket.text) as { url: string; object_key: string; headers: Record<string, string> };
  const url = new URL(t.url);
  // Traffic to 127.0.0.1 only, whatever the ticket says.
  if (url.hostname !== '127.0.0.1' || Number(url.port) !== port) return [ticket, { status: null, text: `ticket URL not local: ${t.url}`, ms: 0, timedOut: false, error: 'nonlocal_url' }];
  const put = await send(port, { method: 'PUT', path: url.pathname + url.search, headers: t.headers ?? {}, body: bytes }, adminKey, timeoutMs);
  const use = await send(
    port,
    { method: 'POST', path: admin ? '/retrain' : '/predict', headers: { 'content-type': 'application/json' }, body: new TextEncoder().encode(JSON.stringify({ object_key: t.object_key })), admin },
    adminKey,
    timeoutMs,
  );
  return [ticket, put, use];
}

try {
  log(`fuzz: seed ${seed}, ${indices.length} input(s), concurrency ${concurrency}, timeout ${timeoutMs / 1000} s; starting the stack…`);
  stack = await spawnStack(
    { SENTINEL_DATA_DIR: join(dir, 'data'), SENTINEL_ADMIN_KEY: adminKey, SENTINEL_WORKER: 'false', LOG_LEVEL: 'error', SENTINEL_RATE_LIMIT_PER_MINUTE: '0', SENTINEL_OPEN_STORAGE_QUOTA_BYTES: '0' },
    180_000,
  );
  const pid = stack.child.pid!;
  const port = Number(new URL(stack.url).port);
  stack.child.once('exit', (code, signal) => (crashed = `exited with ${signal ?? code}`));
  baselineKb = rssKb(pid, 'VmRSS');
  startupPeakKb = rssKb(pid, 'VmHWM');
  serverCpu.start = cpuSeconds(pid);
  const sampler = setInterval(() => (peakSampledKb = Math.max(peakSampledKb, rssKb(pid, 'VmRSS'))), 100);
  log(`fuzz: stack at ${stack.url} (pid ${pid}, RSS ${(baselineKb / 1024).toFixed(0)} MB); ${generator.fixed} fixed inputs (every bomb and hostile zip) first`);

  // Stop taking new inputs early enough that in-flight ones (seconds, normally) and the shutdown fit in the cap.
  const lastStart = started + capMs - 45_000;
  let next = 0;
  let sinceControl = 0;
  const worker = async () => {
    while (next < indices.length && !crashed && Date.now() < lastStart) {
      const input = generator.input(indices[next++]);
      if (++sinceControl >= CONTROL_EVERY) {
        sinceControl = 0;
        controls.push(await send(port, fileUpload(createRng(0), '/predict', control), adminKey, timeoutMs));
      }
      outcomes.push({ input, answers: await runInput(port, input) });
      if (outcomes.length % 500 === 0) {
        const bad = outcomes.filter((o) => o.answers.some((a) => (a.status ?? 0) >= 500 || a.timedOut)).length;
        log(`  ${outcomes.length}/${indices.length}  failing ${bad}  RSS ${(rssKb(pid, 'VmRSS') / 1024).toFixed(0)} MB  ${((Date.now() - started) / 1000).toFixed(0)} s`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  // After everything: the service is healthy and still classifies a valid clip.
  if (!crashed) {
    controls.push(await send(port, fileUpload(createRng(0), '/predict', control), adminKey, timeoutMs));
    controls.push(await send(port, { method: 'GET', path: '/health', headers: {}, body: new Uint8Array() }, adminKey, timeoutMs));
  }
  clearInterval(sampler);
  const hwm = rssKb(pid, 'VmHWM');
  serverCpu.end = Math.max(serverCpu.start, cpuSeconds(pid));
  peakSampledKb = Math.max(peakSampledKb, hwm);
  const exitedBefore = crashed;
  await stack.stop();
  if (exitedBefore) crashed = exitedBefore;
  else crashed = stack.child.exitCode === 0 ? null : `stopped with ${stack.child.signalCode ?? stack.child.exitCode} on SIGTERM`;
} catch (error) {
  crashed ??= `the run failed: ${error instanceof Error ? error.message : String(error)}`;
  await stack?.kill();
} finally {
  await rm(dir, { recursive: true, force: true });
}

// ---- report ----
const wallSeconds = (Date.now() - started) / 1000;
const statusOf = (o: Outcome) => {
  const a = o.answers.at(-1)!;
  return a.timedOut ? 'timeout' : a.status !== null ? String(a.status) : `net:${a.error}`;
};
const byFamily: Record<string, Record<string, number>> = {};
const byName: Record<string, Record<string, number>> = {};
const allStatuses: Record<string, number> = {};
const timeByFamily: Record<string, { n: number; sum: number; max: number }> = {};
for (const o of outcomes) {
  const ms = o.answers.reduce((n, a) => n + a.ms, 0);
  const t = (timeByFamily[o.input.family] ??= { n: 0, sum: 0, max: 0 });
  t.n++;
  t.sum += ms;
  t.max = Math.max(t.max, ms);
  const s = statusOf(o);
  (byFamily[o.input.family] ??= {})[s] = (byFamily[o.input.family][s] ?? 0) + 1;
  if (o.input.family === 'bomb' || o.input.family === 'zip-hostile' || o.input.family === 'multipart' || o.input.family === 'oversize') {
    const key = `${o.input.family}/${o.input.name}`;
    const code = Number(s) >= 400 ? /"code":"(\w+)"/.exec(o.answers.at(-1)!.text)?.[1] : undefined;
    const sc = code ? `${s} ${code}` : s;
    (byName[key] ??= {})[sc] = (byName[key][sc] ?? 0) + 1;
  }
  for (const a of o.answers) {
    const k = a.timedOut ? 'timeout' : a.status !== null ? String(a.status) : `net:${a.error}`;
    allStatuses[k] = (allStatuses[k] ?? 0) + 1;
  }
}
const failures = outcomes
  .filter((o) => o.answers.some((a) => (a.status ?? 0) >= 500 || a.timedOut))
  .map((o) => ({
    index: o.input.index,
    family: o.input.family,
    name: o.input.name,
    statuses: o.answers.map((a) => (a.timedOut ? 'timeout' : a.status ?? a.error)),
    body: o.answers.at(-1)!.text.slice(0, 300),
    reproduce: `npm run test:fuzz -- --seed ${seed} --only ${o.input.index} --save input.bin`,
  }));
const failedControls = controls.filter((a) => a.status !== 200);
// What the server logged for its 5xx (pino JSON lines at level error), each distinct error once.
const serverErrors = [
  ...new Set(
    (stack?.output() ?? '')
      .split('\n')
      .filter((l) => l.includes('"level":50'))
      .map((l) => {
        try {
          const e = JSON.parse(l) as { msg?: string; path?: string; error?: string };
          return `${e.msg ?? ''} ${e.path ?? ''}: ${(e.error ?? '').split('\n').slice(0, 4).join(' | ')}`;
        } catch {
          return l.slice(0, 300);
        }
      }),
  ),
].slice(0, 20);
const peakMb = Math.round(peakSampledKb / 1024);
const reasons = [
  ...(failures.length ? [`${failures.length} input(s) answered 5xx or timed out`] : []),
  ...(failedControls.length ? [`${failedControls.length} of ${controls.length} control request(s) not answered 200`] : []),
  ...(crashed ? [`server ${crashed}`] : []),
  ...(peakMb > RSS_BOUND_MB ? [`peak RSS ${peakMb} MB over the bound of ${RSS_BOUND_MB} MB`] : []),
  ...(outcomes.length < indices.length && !crashed ? [`only ${outcomes.length} of ${indices.length} inputs sent before the time cap`] : []),
];
const report = {
  seed,
  inputs: outcomes.length,
  requests: Object.values(allStatuses).reduce((n, c) => n + c, 0),
  concurrency,
  byFamily,
  msByFamily: Object.fromEntries(Object.entries(timeByFamily).map(([f, t]) => [f, { mean: +(t.sum / t.n).toFixed(1), max: +t.max.toFixed(1) }])),
  byName,
  statuses: allStatuses,
  failures,
  serverErrors,
  controls: { sent: controls.length, failed: failedControls.map((a) => a.status ?? a.error) },
  server: { crashed, rssAfterStartMb: Math.round(baselineKb / 1024), startupPeakRssMb: Math.round(startupPeakKb / 1024), peakRssMb: peakMb, rssBoundMb: RSS_BOUND_MB },
  wallSeconds: +wallSeconds.toFixed(1),
  serverCpuSeconds: +(serverCpu.end - serverCpu.start).toFixed(1),
  fuzzerCpuSeconds: +((process.cpuUsage().user + process.cpuUsage().system) / 1e6).toFixed(1),
  machine: { cpus: cpus().length, loadavg: loadavg().map((l) => +l.toFixed(2)) },
  ok: reasons.length === 0,
  reasons,
};
const fmt = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${s}:${n}`)
    .join(' ');
if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
else {
  const out: string[] = [];
  out.push(`inputs by family (status:count):`);
  for (const [family, counts] of Object.entries(byFamily)) {
    const t = timeByFamily[family];
    out.push(`  ${family.padEnd(13)} ${String(Object.values(counts).reduce((n, c) => n + c, 0)).padStart(6)}  ${fmt(counts).padEnd(40)} ms mean ${(t.sum / t.n).toFixed(0)}, max ${t.max.toFixed(0)}`);
  }
  out.push(`bombs, hostile zips, malformed bodies by name:`);
  for (const [name, counts] of Object.entries(byName).sort(([a], [b]) => a.localeCompare(b))) out.push(`  ${name.padEnd(38)} ${Object.entries(counts).map(([sc, n]) => `${sc} ×${n}`).join(', ')}`);
  out.push(`requests by status: ${fmt(allStatuses)} (${report.requests} requests)`);
  out.push(`5xx and timeouts: ${failures.length === 0 ? 'none' : ''}`);
  for (const f of failures.slice(0, 50)) out.push(`  #${f.index} ${f.family} ${f.name}: ${f.statuses.join(' ')} ${f.body}\n    reproduce: ${f.reproduce}`);
  if (serverErrors.length) out.push(`server errors logged:\n${serverErrors.map((e) => `  ${e}`).join('\n')}`);
  out.push(`controls (a valid clip every ${CONTROL_EVERY} inputs, /health at the end): ${controls.length} sent, ${failedControls.length} failed`);
  out.push(`server: ${crashed ? crashed.toUpperCase() : 'no crash, stopped cleanly on SIGTERM'}; RSS after start ${report.server.rssAfterStartMb} MB (startup peak ${report.server.startupPeakRssMb} MB), peak ${peakMb} MB (bound ${RSS_BOUND_MB} MB)`);
  out.push(`wall ${wallSeconds.toFixed(0)} s, CPU: server ${report.serverCpuSeconds} s, fuzzer ${report.fuzzerCpuSeconds} s; machine ${report.machine.cpus} cpus, load ${report.machine.loadavg.join(' ')}`);
  if (reasons.length) out.push(`FAILED: ${reasons.join('; ')}`);
  out.push(`${outcomes.length - failures.length} passed, ${failures.length + failedControls.length + (crashed ? 1 : 0) + (peakMb > RSS_BOUND_MB ? 1 : 0)} failed`);
  process.stdout.write(`${out.join('\n')}\n`);
}
process.exit(reasons.length === 0 ? 0 : 1);
