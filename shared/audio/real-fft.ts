/**
 * Power spectrum |X[k]|^2 of a real frame of n points (a power of two >= 4), shared by the librosa and Kaldi front
 * ends. Two FFTs behind one class:
 * - 'pffft' (default where WebAssembly SIMD is there and n >= 32): PFFFT's real transform (wasm/pffft.ts), float32
 *   frame and spectrum, power summed in float64. ~4x faster than fft.js at n = 1024; float32 like upstream
 *   EfficientAT's torch.stft, and within the librosa golden tolerances.
 * - 'fft.js': one complex fft.js transform of n/2 points (even samples as real part, odd as imaginary) plus a split
 *   step, measured ~1.5x faster than fft.js's realTransform at n = 2048. Float64 throughout.
 * The caller writes the frame into frame() (the FFT's own input buffer: no copy) and calls power(). Not re-entrant
 * (scratch buffers): one instance per engine.
 */
import FFT from 'fft.js';
import { invalidArgument } from '../errors.js';
import { pffftRealPlan, type LogMelFrames, type PffftRealPlan, type SparseBands } from './wasm/pffft.ts';

/** Which FFT computes the spectrum: PFFFT (WebAssembly SIMD, float32) or fft.js (JS, float64). */
export type FftName = 'pffft' | 'fft.js';

export class RealFftPower {
  readonly size: number;
  /** The FFT in use: 'pffft' unless asked for fft.js, or PFFFT is unavailable for this size or engine. */
  readonly fft: FftName;
  private readonly wasm: PffftRealPlan | null;
  private readonly input: Float64Array;
  private readonly plan: FFT | null;
  private readonly half: number;
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly spectrum: Float64Array;

  constructor(n: number, fft: FftName = 'pffft') {
    if (!Number.isInteger(n) || n < 4 || (n & (n - 1)) !== 0) {
      throw invalidArgument(`FFT size must be a power of two >= 4, got ${n}.`, { n });
    }
    this.size = n;
    this.wasm = fft === 'pffft' ? pffftRealPlan(n) : null;
    this.fft = this.wasm ? 'pffft' : 'fft.js';
    this.input = new Float64Array(this.wasm ? 0 : n);
    this.half = n / 2;
    this.plan = this.wasm ? null : new FFT(this.half);
    this.cos = new Float64Array(this.half + 1);
    this.sin = new Float64Array(this.half + 1);
    for (let k = 0; k <= this.half; k++) {
      this.cos[k] = Math.cos((2 * Math.PI * k) / n);
      this.sin[k] = Math.sin((2 * Math.PI * k) / n);
    }
    this.spectrum = new Float64Array(n);
  }

  /**
   * The buffer power() transforms: write the n frame values here. It keeps what was written between calls (a frame
   * whose ends are always zero writes them once). Fetch it per frame: PFFFT's view is renewed if its memory grows.
   */
  frame(): Float32Array | Float64Array {
    return this.wasm ? this.wasm.input() : this.input;
  }

  /**
   * Writes frame()[offset + i] = (x[k + i + 1] - a * x[k + i]) * window[i] (float64 arithmetic, pre-emphasis and a
   * window) for i < window.length, in WebAssembly SIMD next to PFFFT's buffers; false without PFFFT, when the caller
   * runs its own loop. Same values to the bit either way.
   */
  preemphasisFrame(x: Float32Array, k: number, offset: number, a: number, window: Float64Array): boolean {
    if (!this.wasm) return false;
    this.wasm.preemphasis(x, k, offset, a, window);
    return true;
  }

  /**
   * A run of frames, each pre-emphasised and windowed, transformed, squared, summed into bands and logged, in one
   * WebAssembly call per 256 frames (job: wasm/pffft.ts LogMelFrames); the values of preemphasisFrame, power and
   * logBandSums frame by frame, to the bit. False without PFFFT.
   */
  logMelFrames(job: LogMelFrames): boolean {
    if (!this.wasm) return false;
    this.wasm.logMelFrames(job);
    return true;
  }

  /**
   * power() for a caller that reads the spectrum only through bandSums / logBandSums: with PFFFT it stays beside the
   * FFT's buffers (no copy) and this returns true; false without PFFFT (call power()).
   */
  powerForBands(bins: number): boolean {
    if (!this.wasm) return false;
    this.wasm.power(null, bins);
    return true;
  }

  /**
   * Band sums of the last power() spectrum, out[m] = sum_k weight * P[k] + bias with each band's bins added in
   * increasing order, computed beside PFFFT's buffers (a view valid until the next call); null without PFFFT, when the
   * caller sums P itself. Same values to the bit either way.
   */
  bandSums(filterbank: SparseBands, bias: number): Float64Array | null {
    return this.wasm ? this.wasm.bands(filterbank, bias) : null;
  }

  /** (ln(bandSums[m]) + shift) / scale, the logarithm in WebAssembly SIMD within 1 ulp of Math.log; null without PFFFT. */
  logBandSums(filterbank: SparseBands, bias: number, shift: number, scale: number): Float64Array | null {
    return this.wasm ? this.wasm.bands(filterbank, bias, { shift, scale }) : null;
  }

  /**
   * P[k] = |X[k]|^2 of frame() for k < bins, plus always P[0] and P[n/2]; P needs n/2 + 1 slots and
   * bins <= n/2 + 1. Skipping the bins a filterbank never reads saves most of the split step's mirror half.
   */
  power(P: Float64Array, bins: number): void {
    const h = this.half;
    if (this.wasm) {
      this.wasm.power(P, bins);
      return;
    }
    const Z = this.spectrum;
    // The interleaved [re, im] input of the half-size complex FFT is exactly the frame: z[k] = f[2k] + i f[2k+1].
    this.plan!.transform(Z, this.input);
    const cos = this.cos;
    const sin = this.sin;
    // Split: X[k] = E[k] + W^k O[k], E = (Z[k] + conj Z[h-k]) / 2, O = -i (Z[k] - conj Z[h-k]) / 2, W = e^{-2 pi i/n}.
    // The same E and O give the mirror bin: X[h-k] = conj(E - W^k O), so one pass over k <= h/2 yields both bins;
    // below h - bins only X[k] is needed.
    const z0r = Z[0];
    const z0i = Z[1];
    P[0] = (z0r + z0i) * (z0r + z0i);
    P[h] = (z0r - z0i) * (z0r - z0i);
    const last = Math.min(h - 1, bins - 1); // highest bin needed
    const pairFrom = h - last; // from here on, k and h - k are both needed
    for (let k = 1; k <= h >> 1; k++) {
      const a = Z[2 * k];
      const b = Z[2 * k + 1];
      const c = Z[2 * (h - k)];
      const d = Z[2 * (h - k) + 1];
      const er = 0.5 * (a + c);
      const ei = 0.5 * (b - d);
      const or = 0.5 * (b + d);
      const oi = -0.5 * (a - c);
      const wr = cos[k];
      const wi = -sin[k];
      const tr = wr * or - wi * oi; // W^k O
      const ti = wr * oi + wi * or;
      P[k] = (er + tr) * (er + tr) + (ei + ti) * (ei + ti);
      if (k >= pairFrom) P[h - k] = (er - tr) * (er - tr) + (ei - ti) * (ei - ti);
    }
  }
}
