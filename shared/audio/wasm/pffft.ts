/**
 * PFFFT (Julien Pommier's SIMD FFT, BSD-3-Clause) as built for WebAssembly SIMD by @echogarden/pffft-wasm: a real
 * forward transform ~4x faster than fft.js at 1024 points on this machine (README, Audio pipeline). The package's
 * glue instantiates asynchronously and fetches or reads its .wasm; pffft-wasm.ts carries the same bytes, so this
 * instantiates synchronously in Node, Lambda and browsers alike. Where WebAssembly SIMD is missing, or for sizes
 * PFFFT does not take (real transforms need a multiple of 32), there is no plan and the caller keeps fft.js.
 * Float32 throughout, as PFFFT. One module instance per thread, plans allocated in its memory and never freed (one
 * per front end engine).
 */
import { WASM_BASE64 as FRAME_WASM_BASE64 } from './frame-wasm.ts';
import { NAMES, WASM_BASE64 } from './pffft-wasm.ts';

export interface PffftRealPlan {
  readonly size: number;
  /** The input frame, n float32 values; fetch it per frame (a grown memory renews the views). Kept between calls. */
  input(): Float32Array;
  /** Forward transform of input(), ordered: [X0.re, X(n/2).re, X1.re, X1.im, ..., X(n/2-1).im] (unscaled). */
  forward(): Float32Array;
  /**
   * input()[offset + i] = (x[k + i + 1] - a * x[k + i]) * window[i] for i < window.length, in float64 as the JS
   * loop would (frame.wat); x[k .. k + window.length] must exist. The rest of input() is left as it is.
   */
  preemphasis(x: Float32Array, k: number, offset: number, a: number, window: Float64Array): void;
  /**
   * forward(), then P[k] = |X[k]|^2 in float64 for k < min(bins, n/2), and P[0], P[n/2]; P null keeps them in the
   * module's memory only, where bands() reads them.
   */
  power(P: Float64Array | null, bins: number): void;
  /**
   * Band sums of the last power() spectrum: out[m] = sum_k weight * P[k] + bias, each band's bins added in increasing
   * order (frame.wat); with `log`, (ln(out[m]) + shift) / scale instead (ln within 1 ulp of Math.log). A view into
   * the module's memory, valid until the next call.
   */
  bands(filterbank: SparseBands, bias: number, log?: { shift: number; scale: number }): Float64Array;
  /** Many frames in one call, each exactly preemphasis() -> power(null) -> bands(log) (frame.wat's "frames"). */
  logMelFrames(job: LogMelFrames): void;
}

/**
 * A run of `count` frames of one signal for logMelFrames: frame t pre-emphasises signal[first + t * hop ..] (window.length
 * + 1 samples, all inside the signal) into the FFT frame at `offset`; its log band energies,
 * (ln(sum_k weight * |X[k]|^2 + bias) + shift) / scale for bins below `bins`, go to
 * out[outAt + t * frameStride + m * melStride]. Layouts: frame-major (frameStride nMels, melStride 1) or mel-major
 * (frameStride 1).
 */
export interface LogMelFrames {
  signal: Float32Array;
  first: number;
  count: number;
  hop: number;
  window: Float64Array;
  offset: number;
  preemphasis: number;
  bins: number;
  filterbank: SparseBands;
  bias: number;
  shift: number;
  scale: number;
  out: Float32Array;
  outAt: number;
  frameStride: number;
  melStride: number;
}

/** Frames per logMelFrames kernel call: bounds the signal and output copies kept in PFFFT's memory (~0.5 MB at hop 320). */
const FRAMES_PER_CALL = 256;

/** The sparse filterbank bands() reads (mel.ts's MelFilterbank has these fields). */
export interface SparseBands {
  nMels: number;
  start: Int32Array;
  length: Int32Array;
  offset: Int32Array;
  weights: Float64Array;
}

interface Kernel {
  memory: WebAssembly.Memory;
  alignedMalloc(bytes: number): number;
  newSetup(n: number, kind: number): number;
  transformOrdered(setup: number, input: number, output: number, work: number, direction: number): void;
  /** frame.wat's loops, on the same memory. */
  preemphasis(src: number, dst: number, win: number, n: number, a: number): void;
  power(X: number, P: number, h: number, last: number): void;
  mel(P: number, out: number, start: number, length: number, offset: number, weights: number, nMels: number, bias: number): void;
  log(v: number, n: number, shift: number, scale: number): void;
  frames(...args: number[]): void;
}

const PFFFT_REAL = 0;
const PFFFT_FORWARD = 0;

function instantiate(): Kernel | null {
  if (typeof WebAssembly === 'undefined' || typeof atob !== 'function') return null;
  const bytes = Uint8Array.from(atob(WASM_BASE64), (c) => c.charCodeAt(0));
  if (!WebAssembly.validate(bytes)) return null; // no SIMD in this engine
  let memory: WebAssembly.Memory | undefined;
  const { imports: i, exports: e } = NAMES;
  const env = {
    [i.assertFail]: () => {
      throw new Error('PFFFT assertion failed');
    },
    // emscripten_resize_heap(bytes): grow to at least that size; 1 on success.
    [i.resizeHeap]: (size: number) => {
      const have = memory!.buffer.byteLength;
      try {
        memory!.grow(Math.ceil((size - have) / 65536));
        return 1;
      } catch {
        return 0;
      }
    },
    [i.memcpy]: (dest: number, src: number, n: number) => void new Uint8Array(memory!.buffer).copyWithin(dest, src, src + n),
  };
  const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { [i.module]: env }).exports as Record<string, unknown>;
  memory = exports[e.memory] as WebAssembly.Memory;
  (exports[e.ctors] as () => void)();
  const frame = new WebAssembly.Instance(new WebAssembly.Module(Uint8Array.from(atob(FRAME_WASM_BASE64), (c) => c.charCodeAt(0))), {
    pffft: { memory, transform: exports[e.transformOrdered] as Kernel['transformOrdered'] },
    js: { log: Math.log },
  }).exports as Pick<Kernel, 'preemphasis' | 'power' | 'mel' | 'log' | 'frames'>;
  return {
    memory,
    preemphasis: frame.preemphasis,
    power: frame.power,
    mel: frame.mel,
    log: frame.log,
    frames: frame.frames,
    alignedMalloc: exports[e.alignedMalloc] as Kernel['alignedMalloc'],
    newSetup: exports[e.newSetup] as Kernel['newSetup'],
    transformOrdered: exports[e.transformOrdered] as Kernel['transformOrdered'],
  };
}

let kernel: Kernel | null | undefined;

function pffft(): Kernel | null {
  if (kernel === undefined) {
    try {
      kernel = instantiate();
    } catch {
      kernel = null;
    }
  }
  return kernel;
}

/** A real forward transform of n points, or null (no WebAssembly SIMD, or n not a positive multiple of 32). */
export function pffftRealPlan(n: number): PffftRealPlan | null {
  if (!Number.isInteger(n) || n < 32 || n % 32 !== 0) return null;
  const k = pffft();
  if (!k) return null;
  const setup = k.newSetup(n, PFFFT_REAL);
  const inAt = k.alignedMalloc(n * 4);
  const outAt = k.alignedMalloc(n * 4);
  const workAt = k.alignedMalloc(n * 4);
  // frame.wat's operands: n + 1 samples, a window of up to n taps (float64), the n/2 + 1 powers (float64).
  const srcAt = k.alignedMalloc((n + 1) * 4);
  const winAt = k.alignedMalloc(n * 8);
  const powerAt = k.alignedMalloc((n / 2 + 1) * 8);
  if (!setup || !inAt || !outAt || !workAt || !srcAt || !winAt || !powerAt) return null;
  let buffer: ArrayBuffer | null = null;
  let input = new Float32Array(0);
  let output = new Float32Array(0);
  let src = new Float32Array(0);
  let power = new Float64Array(0);
  let loadedWindow: Float64Array | null = null;
  // The filterbank bands() was last given, copied into the module's memory (another one is copied anew).
  let bank: { source: SparseBands; start: number; length: number; offset: number; weights: number; out: number; view?: Float64Array } | null = null;
  const bankOf = (fb: SparseBands) => {
    if (bank?.source !== fb) {
      const m = fb.nMels;
      const at = { start: k.alignedMalloc(m * 4), length: k.alignedMalloc(m * 4), offset: k.alignedMalloc(m * 4), weights: k.alignedMalloc(fb.weights.length * 8 + 8), out: k.alignedMalloc((m + 1) * 8) }; // log() takes pairs
      if (!at.start || !at.length || !at.offset || !at.weights || !at.out) throw new RangeError('PFFFT memory exhausted');
      const b = k.memory.buffer;
      new Int32Array(b, at.start, m).set(fb.start);
      new Int32Array(b, at.length, m).set(fb.length);
      new Int32Array(b, at.offset, m).set(fb.offset);
      new Float64Array(b, at.weights, fb.weights.length).set(fb.weights);
      bank = { source: fb, ...at };
    }
    return bank;
  };
  const loadWindow = (window: Float64Array, offset: number) => {
    const taps = window.length;
    if (taps > n - offset || offset < 0) throw new RangeError(`A window of ${taps} at ${offset} does not fit a ${n}-point frame.`);
    views();
    if (loadedWindow !== window) {
      new Float64Array(buffer!, winAt, taps).set(window);
      loadedWindow = window;
    }
  };
  // logMelFrames' signal and output blocks, grown when a call needs more (rare: one front end, one size).
  let run = { signalAt: 0, signalCap: 0, outAt: 0, outCap: 0 };
  const runBuffers = (samples: number, values: number) => {
    if (samples > run.signalCap || values > run.outCap) {
      const signalCap = Math.max(samples, run.signalCap);
      const outCap = Math.max(values, run.outCap);
      run = { signalAt: k.alignedMalloc(signalCap * 4), signalCap, outAt: k.alignedMalloc(outCap * 4), outCap };
      if (!run.signalAt || !run.outAt) throw new RangeError('PFFFT memory exhausted');
    }
    return run;
  };
  const views = () => {
    if (buffer !== k.memory.buffer) {
      buffer = k.memory.buffer;
      input = new Float32Array(buffer, inAt, n);
      output = new Float32Array(buffer, outAt, n);
      src = new Float32Array(buffer, srcAt, n + 1);
      power = new Float64Array(buffer, powerAt, n / 2 + 1);
      loadedWindow = null;
    }
  };
  views();
  input.fill(0);
  return {
    size: n,
    input() {
      views();
      return input;
    },
    forward() {
      k.transformOrdered(setup, inAt, outAt, workAt, PFFFT_FORWARD);
      views();
      return output;
    },
    preemphasis(x, at, offset, a, window) {
      loadWindow(window, offset);
      const taps = window.length;
      src.set(x.subarray(at, at + taps + 1));
      k.preemphasis(srcAt, inAt + offset * 4, winAt, taps, a);
    },
    power(P, bins) {
      k.transformOrdered(setup, inAt, outAt, workAt, PFFFT_FORWARD);
      const h = n / 2;
      const last = Math.min(h, bins);
      k.power(outAt, powerAt, h, last);
      if (!P) return;
      views();
      P.set(power.subarray(0, Math.max(last, 1)));
      P[h] = power[h];
    },
    bands(fb, bias, log) {
      const bank = bankOf(fb);
      k.mel(powerAt, bank.out, bank.start, bank.length, bank.offset, bank.weights, fb.nMels, bias);
      if (log) k.log(bank.out, fb.nMels, log.shift, log.scale);
      if (bank.view?.buffer !== k.memory.buffer) bank.view = new Float64Array(k.memory.buffer, bank.out, fb.nMels);
      return bank.view;
    },
    logMelFrames(job) {
      const { signal, hop, window, filterbank: fb, out, frameStride, melStride } = job;
      const nMels = fb.nMels;
      if (!(frameStride === nMels && melStride === 1) && frameStride !== 1) throw new RangeError('logMelFrames writes frame-major or mel-major rows only.');
      if (job.first < 0 || job.first + (job.count - 1) * hop + window.length + 1 > signal.length) throw new RangeError('logMelFrames: frames outside the signal.');
      loadWindow(window, job.offset);
      const bank = bankOf(fb);
      const h = n / 2;
      for (let t0 = 0; t0 < job.count; t0 += FRAMES_PER_CALL) {
        const count = Math.min(FRAMES_PER_CALL, job.count - t0);
        const from = job.first + t0 * hop;
        const samples = (count - 1) * hop + window.length + 1;
        const { signalAt, outAt: valuesAt } = runBuffers(FRAMES_PER_CALL * hop + window.length + 1, FRAMES_PER_CALL * nMels);
        new Float32Array(k.memory.buffer, signalAt, samples).set(signal.subarray(from, from + samples));
        // Frame-major into the block when the caller is; else mel-major rows of `count`.
        const blockFrameStride = melStride === 1 ? nMels : 1;
        const blockMelStride = melStride === 1 ? 1 : count;
        k.frames(signalAt, count, hop, setup, inAt, outAt, workAt, winAt, window.length, job.offset, job.preemphasis, powerAt, h, Math.min(h, job.bins),
          bank.start, bank.length, bank.offset, bank.weights, nMels, job.bias, bank.out, job.shift, job.scale, valuesAt, blockFrameStride, blockMelStride);
        const values = new Float32Array(k.memory.buffer, valuesAt, count * nMels);
        if (melStride === 1) out.set(values, job.outAt + t0 * nMels);
        else for (let m = 0; m < nMels; m++) out.set(values.subarray(m * count, (m + 1) * count), job.outAt + t0 + m * melStride);
      }
    },
  };
}
