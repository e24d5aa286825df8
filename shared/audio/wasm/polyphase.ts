/**
 * The exact polyphase and half-band (2:1 and 1:2) loops of resample.ts as WebAssembly SIMD kernels (polyphase.wat):
 * the same sums to the bit, several times faster than V8's scalar loops (README, Audio pipeline). Synchronous and tiny
 * (803 bytes), so it instantiates inline in Node, Lambda and browsers alike; where WebAssembly SIMD is missing, resample.ts keeps
 * its JS loops. One instance per thread (JS runs one call at a time on it); its memory holds
 * [coefficients | scratch | output].
 */
import { WASM_BASE64 } from './polyphase-wasm.ts';

interface Exports {
  memory: WebAssembly.Memory;
  polyphase(scratch: number, out: number, table: number, n: number, taps: number, up: number, stepInt: number, stepFrac: number, base: number, phase: number): void;
  halfband(scratch: number, out: number, odd: number, count: number, centre: number, n: number, half: number): void;
  upsample2(scratch: number, out: number, row: number, n: number, half: number): void;
}

export interface PolyphaseBuffers {
  /** Float64 input block the caller fills (zeros outside the signal), as resample.ts's scratch. */
  scratch: Float64Array;
  /** Float32 outputs of the last run, from index 0. */
  out: Float32Array;
  /** Exact polyphase (coefficients = the table): outputs j0 + [0, n) of a block, phase = (j0 * down) mod up. */
  polyphase(n: number, taps: number, up: number, down: number, phase: number): void;
  /** Half-band 2:1 (coefficients = the odd taps): n outputs of a block, as resample.ts's halfBandBlock. */
  halfBand(n: number, centre: number, half: number): void;
  /** Half-band 1:2 (coefficients = the first half of phase 1): 2n outputs from n inputs, as resample.ts's upsample2Block. */
  upsample2(n: number, half: number): void;
}

export interface PolyphaseKernel {
  /** Buffers for a filter's coefficients and block sizes; valid until the next call. Copies them only when changed. */
  prepare(coefficients: Float64Array, scratchLength: number, outLength: number): PolyphaseBuffers;
}

const align = (bytes: number) => Math.ceil(bytes / 16) * 16;

function instantiate(): PolyphaseKernel | null {
  if (typeof WebAssembly === 'undefined' || typeof atob !== 'function') return null;
  const bytes = Uint8Array.from(atob(WASM_BASE64), (c) => c.charCodeAt(0));
  if (!WebAssembly.validate(bytes)) return null; // no SIMD in this engine
  const wasm = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as Exports;
  let loaded: Float64Array | null = null;
  return {
    prepare(coefficients, scratchLength, outLength) {
      const scratchAt = align(coefficients.byteLength);
      const outAt = scratchAt + align(scratchLength * 8);
      const needed = outAt + outLength * 4;
      const have = wasm.memory.buffer.byteLength;
      if (needed > have) wasm.memory.grow(Math.ceil((needed - have) / 65536));
      const buffer = wasm.memory.buffer;
      if (loaded !== coefficients) {
        new Float64Array(buffer, 0, coefficients.length).set(coefficients);
        loaded = coefficients;
      }
      const scratch = new Float64Array(buffer, scratchAt, scratchLength);
      const out = new Float32Array(buffer, outAt, outLength);
      return {
        scratch,
        out,
        polyphase: (n, taps, up, down, phase) => wasm.polyphase(scratchAt, outAt, 0, n, taps, up, Math.floor(down / up), down % up, 0, phase),
        halfBand: (n, centre, half) => wasm.halfband(scratchAt, outAt, 0, coefficients.length, centre, n, half),
        upsample2: (n, half) => wasm.upsample2(scratchAt, outAt, 0, n, half),
      };
    },
  };
}

let kernel: PolyphaseKernel | null | undefined;

/** The kernel, or null where WebAssembly SIMD is unavailable (made on first use). */
export function polyphaseKernel(): PolyphaseKernel | null {
  if (kernel === undefined) {
    try {
      kernel = instantiate();
    } catch {
      kernel = null;
    }
  }
  return kernel;
}
