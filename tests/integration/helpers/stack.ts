/**
 * Helpers for end-to-end tests of the local stack: a child process running `functions/server.ts` exactly as
 * `npm start` does (on 127.0.0.1, a random port, its own data dir), and HTTP helpers for the retrain flow.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GateDecision } from '../../../shared/ports/db-schema.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface StackProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** SIGKILL: a crash, nothing is given back. */
  kill(): Promise<void>;
  /** SIGTERM: a graceful stop. */
  stop(): Promise<void>;
}

export async function spawnStack(env: Record<string, string>, timeoutMs = 90_000): Promise<StackProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'functions/server.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', SENTINEL_HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stack did not start in ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const check = () => {
      const m = /Sentinel is running at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`stack exited with ${code} before starting:\n${out}`));
    });
  });
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return { url, child, output: () => out, kill: () => end('SIGKILL'), stop: () => end('SIGTERM') };
}

export async function adminKeyOf(dataDir: string): Promise<string> {
  return (await readFile(join(dataDir, 'admin-key'), 'utf8')).trim();
}

export interface SessionView {
  id: string;
  status: string;
  attempts: number;
  model_version: string | null;
  progress: { phase: string; done: number; total: number } | null;
  error: string | null;
  epoch_metrics: ({ epoch: number } & Record<string, number>)[];
  final_metrics: Record<string, number> | null;
  gate_decision: GateDecision | null;
}

export async function getSession(url: string, id: string): Promise<SessionView> {
  const res = await fetch(`${url}/sessions/${id}`);
  if (!res.ok) throw new Error(`GET /sessions/${id}: ${res.status} ${await res.text()}`);
  return (await res.json()) as SessionView;
}

/** Polls the session until `done(session)` or the deadline; returns the last view. */
export async function waitForSession(url: string, id: string, done: (s: SessionView) => boolean, timeoutMs: number, everyMs = 100): Promise<SessionView> {
  const deadline = Date.now() + timeoutMs;
  let last = await getSession(url, id);
  while (!done(last) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, everyMs));
    last = await getSession(url, id);
  }
  return last;
}

export async function postRetrain(url: string, key: string, zip: Uint8Array): Promise<{ status: number; body: { session_id: string; upload_id: string } }> {
  const form = new FormData();
  form.set('file', new Blob([zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' }), 'dataset.zip');
  const res = await fetch(`${url}/retrain`, { method: 'POST', body: form, headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: (await res.json()) as { session_id: string; upload_id: string } };
}

export async function postPredict(url: string, wav: Uint8Array): Promise<{ status: number; body: { class: string; model_version: string } }> {
  const form = new FormData();
  form.set('file', new Blob([wav as Uint8Array<ArrayBuffer>], { type: 'audio/wav' }), 'clip.wav');
  const res = await fetch(`${url}/predict`, { method: 'POST', body: form });
  return { status: res.status, body: (await res.json()) as { class: string; model_version: string } };
}
