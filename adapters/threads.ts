/**
 * Worker threads that answer requests: the plumbing shared by /predict's thread pool (functions/inference.ts) and
 * training's (adapters/training-threads.ts). Each thread is a TypeScript module loaded through thread-bootstrap.mjs;
 * it calls `serveRequests` with its handler. Errors cross as { name, code, message, details } and come back as the
 * same SentinelError / AudioError, so callers handle a thread's error like their own.
 */
import { parentPort, Worker } from 'node:worker_threads';
import { AudioError, type AudioErrorCode } from '../shared/audio/errors.ts';
import { SentinelError } from '../shared/errors.ts';

export type SerializedError = { name: string; code?: string; message: string; details?: Record<string, unknown> };

type ToThread = { id: number; body: unknown };
type FromThread =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: SerializedError }
  | { id: number; event: unknown }
  | { ready: true };

export function serializeError(error: unknown): SerializedError {
  if (error instanceof SentinelError) return { name: error.name, code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) };
  return { name: 'Error', message: error instanceof Error ? error.message : String(error) };
}

export function deserializeError(e: SerializedError): Error {
  if (e.name === 'AudioError' && e.code) return new AudioError(e.code as AudioErrorCode, e.message, e.details);
  if (e.code) return new SentinelError(e.code, e.message, e.details);
  return new Error(e.message);
}

/**
 * The buffers of these byte arrays that may move to another thread instead of being copied (copying is ~2 ms a MB
 * on the sender's thread): each array that is the whole of its buffer, each buffer once. A moved array is empty
 * for its sender afterwards.
 */
export function transferables(list: readonly Uint8Array[]): ArrayBuffer[] {
  const whole = list.filter((b) => b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.byteLength > 0);
  return [...new Set(whole.map((b) => b.buffer as ArrayBuffer))];
}

/** What a thread's handler returns: the result, and buffers to transfer rather than copy. */
export interface Reply {
  result: unknown;
  transfer?: ArrayBuffer[];
}

/** Thread side: answers every request with `handle` (requests may overlap; the handler serialises if it must). */
export function serveRequests(handle: (body: unknown, emit: (event: unknown) => void) => Promise<Reply>): void {
  const port = parentPort;
  if (!port) throw new SentinelError('INTERNAL', 'serveRequests runs only inside a worker thread.');
  port.on('message', ({ id, body }: ToThread) => {
    const emit = (event: unknown) => port.postMessage({ id, event } satisfies FromThread);
    handle(body, emit).then(
      ({ result, transfer }) => port.postMessage({ id, ok: true, result } satisfies FromThread, transfer ?? []),
      (error: unknown) => port.postMessage({ id, ok: false, error: serializeError(error) } satisfies FromThread),
    );
  });
  port.postMessage({ ready: true } satisfies FromThread);
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  onEvent?(event: unknown): void;
}

/**
 * A thread module beside `base` (the caller's import.meta.url): `name.ts` when the caller runs as TypeScript (tsx,
 * vitest), `name.js` when it was compiled to dist/ (npm start, bin/sentinel.mjs).
 */
export function threadModule(name: string, base: string): URL {
  return new URL(`./${name}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
}

/** Main side: one thread running `entry` (a module that calls serveRequests). */
export class RequestThread {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  /** Requests sent and not yet answered. */
  inFlight = 0;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  /** Set once the thread has exited: later requests fail at once instead of waiting for an answer that never comes. */
  #exit: SentinelError | null = null;

  constructor(entry: URL, workerData: Record<string, unknown>, hooks: { onError?(error: Error): void; onExit?(code: number): void } = {}) {
    // The .mjs bootstrap registers tsx inside the thread for a .ts entry (--import in execArgv does not reach worker threads).
    this.worker = new Worker(new URL('./thread-bootstrap.mjs', import.meta.url), { workerData: { ...workerData, entry: entry.href } });
    let markReady!: () => void;
    let failReady!: (error: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => ((markReady = resolve), (failReady = reject)));
    this.ready.catch(() => {}); // observed by every request; an idle pool must not crash on an unobserved failure
    this.worker.on('message', (m: FromThread) => {
      if ('ready' in m) return markReady();
      const p = this.#pending.get(m.id);
      if (!p) return;
      if ('event' in m) return p.onEvent?.(m.event);
      this.#pending.delete(m.id);
      this.inFlight--;
      if (m.ok) p.resolve(m.result);
      else p.reject(deserializeError(m.error));
    });
    this.worker.on('error', (error) => {
      failReady(error);
      hooks.onError?.(error);
    });
    this.worker.on('exit', (code) => {
      failReady(new SentinelError('INTERNAL', `A worker thread exited before it was ready (code ${code}).`));
      this.#exit = new SentinelError('INTERNAL', `A worker thread exited (code ${code}).`);
      for (const p of this.#pending.values()) p.reject(this.#exit);
      this.#pending.clear();
      this.inFlight = 0;
      hooks.onExit?.(code);
    });
  }

  /** Sends `body`; `onEvent` receives what the handler emits before it answers. */
  async request<T>(body: unknown, transfer: ArrayBuffer[] = [], onEvent?: (event: unknown) => void): Promise<T> {
    if (this.#exit) throw this.#exit;
    this.inFlight++;
    try {
      await this.ready;
    } catch (error) {
      this.inFlight--;
      throw error;
    }
    if (this.#exit) {
      this.inFlight--;
      throw this.#exit;
    }
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onEvent });
      this.worker.postMessage({ id, body } satisfies ToThread, transfer);
    });
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}
