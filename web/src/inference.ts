/**
 * In-browser inference for the live monitor: tfjs (wasm backend, the pure-JS cpu one if wasm cannot start) and the
 * current model fetched from the API (GET /models/{version}/files/{name}) and kept in the Cache API: a version never
 * changes, so it is downloaded once. Everything here is loaded lazily, only when the monitor starts.
 */
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { selectBackend } from '../../shared/model/backend.ts';
import * as tf from '../../shared/model/tf.ts';
import { Detector } from '../../shared/inference/detector.ts';
import type { ModelFiles } from '../../shared/model/files.ts';
import { MANIFEST_FILE } from '../../shared/model/types.ts';
import { apiUrl, request, type ModelStatus } from './api.ts';

export interface BrowserModel {
  detector: Detector;
  version: string;
  threshold: number;
  backend: string;
  /** wasm features in use (simd, threads): they decide the speed. */
  features: string;
  /** Bytes fetched over the network (0 when every file came from the cache). */
  downloaded: number;
}

const CACHE = 'sentinel-models-v1';
let backend: Promise<string> | null = null;
const detectors = new Map<string, Promise<BrowserModel>>();

function initBackend(): Promise<string> {
  backend ??= (async () => {
    // The bundler gives each .wasm its own hashed URL, so name each file instead of a folder prefix.
    setWasmPaths({ 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded });
    const log = (m: string) => console.info(m);
    try {
      return (await selectBackend({ requested: 'wasm', log })).choice;
    } catch (error) {
      console.warn('wasm backend failed, falling back to the slow pure-JS cpu backend', error);
      return (await selectBackend({ requested: 'cpu', log })).choice;
    }
  })();
  return backend;
}

async function fetchFile(url: string): Promise<{ bytes: Uint8Array; fromCache: boolean }> {
  const cache = typeof caches !== 'undefined' ? await caches.open(CACHE).catch(() => null) : null;
  const hit = await cache?.match(url);
  if (hit) return { bytes: new Uint8Array(await hit.arrayBuffer()), fromCache: true };
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  await cache?.put(url, res.clone()).catch(() => undefined);
  return { bytes: new Uint8Array(await res.arrayBuffer()), fromCache: false };
}

async function load(version: string): Promise<BrowserModel> {
  const base = apiUrl(`/models/${encodeURIComponent(version)}/files/`);
  const chosen = await initBackend();
  const manifestFile = await fetchFile(base + MANIFEST_FILE);
  const manifest = JSON.parse(new TextDecoder().decode(manifestFile.bytes)) as { files?: Record<string, unknown> };
  const files: ModelFiles = { [MANIFEST_FILE]: manifestFile.bytes };
  let downloaded = manifestFile.fromCache ? 0 : manifestFile.bytes.byteLength;
  for (const name of Object.keys(manifest.files ?? {})) {
    if (name === MANIFEST_FILE) continue;
    const f = await fetchFile(base + encodeURIComponent(name));
    files[name] = f.bytes;
    if (!f.fromCache) downloaded += f.bytes.byteLength;
  }
  const detector = await Detector.fromFiles(files); // checks sizes, sha256 and the audio/mel settings
  // One call on silence first: the first run compiles kernels and allocates, which would skew the first window.
  const fe = detector.frontEnd;
  await detector.probabilities([new Float32Array(fe.nMels * fe.windowFrames).fill(fe.floor)], 1);
  const features = chosen === 'wasm'
    ? [(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) ? 'simd' : 'no simd', (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) ? 'threads' : 'single thread'].join(', ')
    : '';
  return { detector, version: detector.version, threshold: detector.threshold, backend: chosen, features, downloaded };
}

/** The model the API currently serves, loaded (once per version) in this page. */
export async function loadCurrentModel(): Promise<BrowserModel> {
  const status = await request<ModelStatus>('/model/status');
  if (!status.model_version) throw new Error('The API serves no model yet.');
  const version = status.model_version;
  if (!detectors.has(version)) {
    const p = load(version);
    detectors.set(version, p);
    p.catch(() => detectors.delete(version));
  }
  return detectors.get(version)!;
}
