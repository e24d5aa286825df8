/**
 * Picks and initialises the tfjs backend: the fastest one available, or the one asked for.
 *
 * Order when nothing is asked for: node-gpu (@tensorflow/tfjs-node-gpu, only in the GPU worker image) -> node
 * (@tensorflow/tfjs-node, native TF) -> wasm (always installed, SIMD, single-threaded in Node) -> cpu (pure JS, slow:
 * a last resort, logged as a warning). A backend that is not installed is skipped; one that is installed but fails
 * to initialise (tf.setBackend resolves false) is an error, never a silent fallback to something 10x slower.
 *
 * Import-safe in a browser: the Node-only packages are imported dynamically, by a non-literal specifier (bundlers
 * leave it alone) and only when running in Node.
 */
import * as tf from './tf.ts';
import { SentinelError } from '../errors.ts';
import { registerWasmGradientKernels } from './wasm-kernels.ts';

/** Env var the entry points pass as `requested` (see adapters/tf-backend.ts). */
export const BACKEND_ENV_VAR = 'SENTINEL_TF_BACKEND';

/** Our names for the backends (tfjs calls both native ones 'tensorflow'). */
export type BackendChoice = 'node-gpu' | 'node' | 'wasm' | 'cpu';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['node-gpu', 'node', 'wasm', 'cpu'];

export interface BackendSelection {
  choice: BackendChoice;
  /** Name tfjs knows it by (tf.getBackend()). */
  tfBackend: string;
  /** Why this one: "requested", or what was skipped on the way. */
  reason: string;
}

export interface SelectBackendOptions {
  /** Force a backend (e.g. from SENTINEL_TF_BACKEND); empty/undefined = fastest available. */
  requested?: string;
  /**
   * Where the wasm binaries live (setWasmPaths). Not needed in Node: the package finds its own dist/ folder
   * (checked with plain node, tsx and vitest). Needed in a browser bundle: a URL prefix serving the .wasm files.
   */
  wasmPaths?: string;
  /** Receives one line naming the choice; defaults to console.info. */
  log?: (message: string) => void;
}

const TF_NAME: Record<BackendChoice, string> = {
  'node-gpu': 'tensorflow',
  node: 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

/** Imports a package by a runtime string so bundlers don't try to resolve Node-only modules. */
async function importOptional(specifier: string): Promise<unknown> {
  return import(/* @vite-ignore */ specifier);
}

/** Loads the package that registers a backend; throws when it is not installed or not usable here. */
async function register(choice: BackendChoice, wasmPaths: string | undefined): Promise<void> {
  switch (choice) {
    case 'node-gpu':
    case 'node':
      if (!isNode()) throw new Error('only available in Node');
      await importOptional(choice === 'node' ? '@tensorflow/tfjs-node' : '@tensorflow/tfjs-node-gpu');
      break;
    case 'wasm': {
      const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as typeof import('@tensorflow/tfjs-backend-wasm');
      if (wasmPaths !== undefined) wasm.setWasmPaths(wasmPaths);
      registerWasmGradientKernels(); // so conv layers can be fine-tuned on wasm too
      break;
    }
    case 'cpu':
      break; // registered by ./tf.ts
  }
  if (tf.findBackendFactory(TF_NAME[choice]) == null) {
    throw new Error(`no '${TF_NAME[choice]}' backend is registered on this platform`);
  }
}

async function activate(choice: BackendChoice, reason: string, log: (m: string) => void): Promise<BackendSelection> {
  const tfBackend = TF_NAME[choice];
  let ok: boolean;
  try {
    ok = await tf.setBackend(tfBackend);
  } catch (cause) {
    throw new SentinelError('BACKEND_INIT_FAILED', `tfjs backend ${choice} failed to initialise: ${String(cause)}`, { choice }, { cause });
  }
  if (!ok || tf.getBackend() !== tfBackend) {
    throw new SentinelError(
      'BACKEND_INIT_FAILED',
      `tfjs backend ${choice} is installed but failed to initialise (tf.setBackend returned false); not falling back.`,
      { choice },
    );
  }
  const selection = { choice, tfBackend, reason };
  log(`tfjs backend: ${choice} (${reason})`);
  return selection;
}

/**
 * Selects, initialises and returns the backend (see the module comment for the order).
 * Errors: BACKEND_UNKNOWN (requested name not in BACKEND_CHOICES), BACKEND_UNAVAILABLE (requested package not
 * installed / wrong platform), BACKEND_INIT_FAILED (installed but setBackend failed).
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendSelection> {
  const log = options.log ?? ((m: string) => console.info(m));
  const requested = options.requested?.trim();
  if (requested) {
    if (!(BACKEND_CHOICES as readonly string[]).includes(requested)) {
      throw new SentinelError(
        'BACKEND_UNKNOWN',
        `Unknown tfjs backend "${requested}" (${BACKEND_ENV_VAR}); choose one of ${BACKEND_CHOICES.join(', ')}.`,
        { requested },
      );
    }
    const choice = requested as BackendChoice;
    try {
      await register(choice, options.wasmPaths);
    } catch (cause) {
      throw new SentinelError(
        'BACKEND_UNAVAILABLE',
        `tfjs backend ${choice} was requested but is not available here: ${String(cause)}`,
        { requested: choice },
        { cause },
      );
    }
    return activate(choice, 'requested', log);
  }

  const skipped: string[] = [];
  const order: BackendChoice[] = isNode() ? ['node-gpu', 'node', 'wasm', 'cpu'] : ['wasm', 'cpu'];
  for (const choice of order) {
    try {
      await register(choice, options.wasmPaths);
    } catch {
      skipped.push(`${choice} not installed`);
      continue;
    }
    const reason = skipped.length > 0 ? `fastest available; ${skipped.join(', ')}` : 'fastest available';
    if (choice === 'cpu') log('tfjs backend: falling back to the pure-JS cpu backend; inference will be slow');
    return activate(choice, reason, log);
  }
  throw new SentinelError('BACKEND_UNAVAILABLE', 'No tfjs backend could be registered.', { skipped });
}
