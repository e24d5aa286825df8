/**
 * Kaldi log-mel front end of EfficientAT's AudioSet models (upstream `AugmentMelSTFT` in eval mode), for 32 kHz mono:
 *   pre-emphasis y[n] = x[n+1] - 0.97 x[n] (N - 1 samples)
 *   -> STFT: n_fft 1024, hop 320, symmetric Hann (periodic=False) of 800 zero-padded to 1024 (centred),
 *      center=True with reflect padding -> power |X|^2
 *   -> Kaldi mel banks (torchaudio.compliance.kaldi.get_mel_banks: 1127 ln(1 + f/700), triangles over the first
 *      n_fft/2 bins, zero weight on the Nyquist bin), 128 bands, 0 .. 15000 Hz
 *   -> ln(mel + 1e-5) -> (x + 4.5) / 5.
 * Frames: 1 + floor((N - 1) / 320), so 1 s (32000 samples) -> 100 and 3 s -> 300.
 *
 * API (not re-entrant: one instance per thread, like MelSpectrogram):
 *   new KaldiMelSpectrogram(sampleRate = 32000, config = KALDI_MEL)
 *   .frameCount(nSamples): number
 *   .features(samples, out?): Float32Array            row-major [nMels][frames], normalised log-mel
 *   .featureWindows(signal, starts, windowLength): Float32Array[]
 *       result i === features(signal[starts[i] .. starts[i] + windowLength), zero-padded past the end)
 *   kaldiMelBanks(sampleRate, config): MelFilterbank   (sparse; mel.ts's denseFilterbank gives the matrix)
 *   kaldiHzToMel, kaldiMelToHz, symmetricHannWindow
 *
 * Precision: window, pre-emphasis, FFT, power, mel sums and log in float64 (upstream runs float32), output float32;
 * the FFT is PFFFT's float32 one where WebAssembly SIMD is (fft.js float64 elsewhere).
 * Clips shorter than the reflect padding (under 513 samples after pre-emphasis, which torch.stft refuses) keep
 * reflecting back and forth (numpy's 'reflect'), so every clip of at least 2 samples has a defined spectrogram.
 */
import { KALDI_MEL, type KaldiMelConfig } from '../../config.js';
import { invalidArgument } from '../../errors.js';
import type { MelFilterbank } from '../mel.js';
import { RealFftPower, type FftName } from '../real-fft.js';
import type { LogMelFrames } from '../wasm/pffft.js';

/** Kaldi's (HTK-style) mel scale. */
export function kaldiHzToMel(hz: number): number {
  return 1127 * Math.log(1 + hz / 700);
}

export function kaldiMelToHz(mel: number): number {
  return 700 * (Math.exp(mel / 1127) - 1);
}

/** torch.hann_window(n, periodic=False): 0.5 - 0.5 cos(2 pi i / (n - 1)), zero at both ends; float64. */
export function symmetricHannWindow(n: number): Float64Array {
  const w = new Float64Array(n);
  if (n === 1) w[0] = 1;
  for (let i = 0; i < n && n > 1; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
  return w;
}

/**
 * torchaudio.compliance.kaldi.get_mel_banks(nMels, nFft, sampleRate, fMin, fMax, vtln_warp=1) plus the zero Nyquist
 * column upstream appends, kept sparse (nBins = nFft / 2 + 1). edgesHz are the nMels + 2 triangle corners in Hz.
 */
export function kaldiMelBanks(sampleRate: number, cfg: KaldiMelConfig = KALDI_MEL): MelFilterbank {
  const { nFft, nMels, fMin, fMax } = cfg;
  const nBins = nFft / 2 + 1;
  const binHz = sampleRate / nFft;
  const melLow = kaldiHzToMel(fMin);
  // nMels + 1 steps: the outer triangles' feet sit on fMin and fMax.
  const delta = (kaldiHzToMel(fMax) - melLow) / (nMels + 1);
  const binMel = new Float64Array(nBins - 1);
  for (let k = 0; k < nBins - 1; k++) binMel[k] = kaldiHzToMel(binHz * k);
  const edgesHz = new Float64Array(nMels + 2);
  for (let i = 0; i < nMels + 2; i++) edgesHz[i] = kaldiMelToHz(melLow + i * delta);
  const start = new Int32Array(nMels);
  const length = new Int32Array(nMels);
  const offset = new Int32Array(nMels);
  const parts: number[] = [];
  for (let m = 0; m < nMels; m++) {
    const left = melLow + m * delta;
    const center = melLow + (m + 1) * delta;
    const right = melLow + (m + 2) * delta;
    let first = -1;
    let last = -1;
    for (let k = 0; k < nBins - 1; k++) {
      const up = (binMel[k] - left) / (center - left);
      const down = (right - binMel[k]) / (right - center);
      if (Math.min(up, down) > 0) {
        if (first < 0) first = k;
        last = k;
      }
    }
    start[m] = Math.max(first, 0);
    length[m] = first < 0 ? 0 : last - first + 1;
    offset[m] = parts.length;
    for (let k = start[m]; k < start[m] + length[m]; k++) {
      parts.push(Math.max(0, Math.min((binMel[k] - left) / (center - left), (right - binMel[k]) / (right - center))));
    }
  }
  return { nMels, nBins, start, length, offset, weights: Float64Array.from(parts), edgesHz };
}

/** Index j of a sequence of n samples extended by reflection without repeating the edge (numpy/torch 'reflect'). */
function reflectIndex(j: number, n: number): number {
  if (j >= 0 && j < n) return j;
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const r = ((j % period) + period) % period;
  return r < n ? r : period - r;
}

/**
 * Kaldi log-mel engine: FFT plan, window, filterbank and scratch buffers are built once. Power spectrum through
 * RealFftPower, shared with MelSpectrogram. With PFFFT, a frame's pre-emphasis and window, its power spectrum, its
 * band sums and their logarithm run as WebAssembly SIMD beside the FFT's buffers (wasm/frame.wat), the frames that read
 * the signal directly in runs of up to 256 per call (the JS loops below stay for fft.js). Same values as the JS loops
 * to the bit but for the logarithm, whose float64 result is within 1 ulp of Math.log's (no float32 output differed in
 * 10^6 checks).
 */
export class KaldiMelSpectrogram {
  readonly sampleRate: number;
  readonly config: Readonly<KaldiMelConfig>;
  readonly nFft: number;
  readonly winLength: number;
  readonly hopLength: number;
  readonly nMels: number;
  /** FFT bins per frame (nFft / 2 + 1). */
  readonly nBins: number;
  /** Symmetric Hann window of winLength samples, float64. */
  readonly window: Float64Array;
  readonly filterbank: MelFilterbank;

  /** Its frame() is zero outside the window's span [winOffset, winOffset + winLength), which is all that is rewritten. */
  private readonly fft: RealFftPower;
  private readonly powerBuf: Float64Array;
  /** torch.stft centres a short window in the FFT frame: left zero padding (nFft - winLength) / 2, floored. */
  private readonly winOffset: number;
  /** Pre-emphasised sample under the window's first tap, relative to the frame centre (-400). */
  private readonly reach: number;
  /** Bins above the last band's top never reach the output: the power loop stops here. */
  private readonly melBins: number;
  /** Lowest bin in any band. */
  private readonly firstBin: number;
  /** Bin-major filterbank: bin k adds binWeightLo[k] to band binBand[k] and binWeightHi[k] to the next band. */
  private readonly binBand: Int32Array;
  private readonly binWeightLo: Float64Array;
  private readonly binWeightHi: Float64Array;
  /** Band sums of one frame, plus slots past the last band for bins in no band. */
  private readonly melAcc: Float64Array;

  constructor(sampleRate: number = KALDI_MEL.sampleRate, config: KaldiMelConfig = KALDI_MEL, fft: FftName = 'pffft') {
    const { nFft, winLength, hopLength, nMels, fMin, fMax, preemphasis, logOffset, scale } = config;
    if (!(sampleRate > 0) || !Number.isFinite(sampleRate)) {
      throw invalidArgument(`sampleRate must be a positive number, got ${sampleRate}.`, { sampleRate });
    }
    if (sampleRate !== config.sampleRate) {
      throw invalidArgument(`Audio at ${sampleRate} Hz given to a front end configured for ${config.sampleRate} Hz; resample first.`, {
        sampleRate,
        expected: config.sampleRate,
      });
    }
    if (!Number.isInteger(nFft) || nFft < 4 || (nFft & (nFft - 1)) !== 0) {
      throw invalidArgument(`nFft must be a power of two >= 4, got ${nFft}.`, { nFft });
    }
    if (!Number.isInteger(winLength) || winLength < 2 || winLength > nFft) {
      throw invalidArgument(`winLength must be an integer in 2..${nFft}, got ${winLength}.`, { winLength, nFft });
    }
    if (!Number.isInteger(hopLength) || hopLength < 1) {
      throw invalidArgument(`hopLength must be a positive integer, got ${hopLength}.`, { hopLength });
    }
    if (!Number.isInteger(nMels) || nMels < 4) {
      throw invalidArgument(`nMels must be an integer >= 4 (Kaldi needs at least 4 bands), got ${nMels}.`, { nMels });
    }
    if (!(fMin >= 0 && fMin < fMax)) throw invalidArgument(`Need 0 <= fMin < fMax, got ${fMin} and ${fMax}.`, { fMin, fMax });
    if (fMax > sampleRate / 2) {
      throw invalidArgument(`fMax ${fMax} Hz is above the Nyquist frequency of ${sampleRate} Hz audio.`, { fMax, sampleRate });
    }
    if (!(preemphasis >= 0 && preemphasis <= 1)) {
      throw invalidArgument(`preemphasis must be in [0, 1], got ${preemphasis}.`, { preemphasis });
    }
    if (!(logOffset > 0) || !(scale > 0) || !Number.isFinite(config.shift)) {
      throw invalidArgument('logOffset and scale must be positive and shift finite.', { logOffset, scale, shift: config.shift });
    }
    this.sampleRate = sampleRate;
    this.config = Object.freeze({ ...config });
    this.nFft = nFft;
    this.winLength = winLength;
    this.hopLength = hopLength;
    this.nMels = nMels;
    this.nBins = nFft / 2 + 1;
    this.window = symmetricHannWindow(winLength);
    this.filterbank = kaldiMelBanks(sampleRate, config);
    this.winOffset = (nFft - winLength) >> 1;
    this.reach = this.winOffset - nFft / 2;
    this.fft = new RealFftPower(nFft, fft);
    this.powerBuf = new Float64Array(this.nBins);
    let top = 0;
    for (let m = 0; m < nMels; m++) top = Math.max(top, this.filterbank.start[m] + this.filterbank.length[m]);
    this.melBins = top;
    const fb = this.filterbank;
    this.binBand = new Int32Array(this.nBins).fill(-1);
    this.binWeightLo = new Float64Array(this.nBins);
    this.binWeightHi = new Float64Array(this.nBins);
    this.melAcc = new Float64Array(nMels + 2);
    let firstBin = top;
    for (let m = 0; m < nMels; m++) {
      for (let k = fb.start[m]; k < fb.start[m] + fb.length[m]; k++) {
        const w = fb.weights[fb.offset[m] + k - fb.start[m]];
        firstBin = Math.min(firstBin, k);
        if (this.binBand[k] < 0) {
          this.binBand[k] = m;
          this.binWeightLo[k] = w;
        } else {
          // Kaldi triangles span two mel steps each, so a bin lies in band m and m + 1 at most.
          this.binWeightHi[k] = w;
        }
      }
    }
    for (let k = 0; k < this.nBins; k++) if (this.binBand[k] < 0) this.binBand[k] = nMels;
    this.firstBin = firstBin;
  }

  /** Frames of a clip of nSamples (>= 2) samples: 1 + floor((nSamples - 1) / hop), pre-emphasis drops one sample. */
  frameCount(nSamples: number): number {
    return 1 + Math.floor(Math.max(nSamples - 1, 0) / this.hopLength);
  }

  /** Normalised log-mel of a clip, float32 row-major [mel][frame]. */
  features(samples: Float32Array, out?: Float32Array): Float32Array {
    if (samples.length < 2) throw invalidArgument(`Need at least 2 samples, got ${samples.length}.`, { length: samples.length });
    const size = this.nMels * this.frameCount(samples.length);
    if (out && out.length !== size) {
      throw invalidArgument(`Output buffer has ${out.length} values, expected ${size}.`, { expected: size });
    }
    const S = out ?? new Float32Array(size);
    this.clip(samples, 0, samples.length, S, null);
    return S;
  }

  /**
   * features() of several windows of one signal: result i equals features() of signal[starts[i] ..
   * starts[i] + windowLength), zero-padded past the signal's end, to the bit (pre-emphasis and reflect padding at the
   * window's own edges). Frames centred on the same hop-grid sample of the signal and clear of every edge are
   * computed once, so windows every 1 s over 3 s do about a third of the work of computing them one by one.
   */
  featureWindows(signal: Float32Array, starts: ArrayLike<number>, windowLength: number): Float32Array[] {
    if (!Number.isInteger(windowLength) || windowLength < 2) {
      throw invalidArgument(`windowLength must be an integer >= 2, got ${windowLength}.`, { windowLength });
    }
    const len = signal.length;
    const cache: FrameCache = { values: null, done: null };
    const results: Float32Array[] = [];
    for (let i = 0; i < starts.length; i++) {
      const s = starts[i];
      if (!Number.isInteger(s) || s < 0 || s >= Math.max(len, 1)) {
        throw invalidArgument(`Window start ${s} is outside the signal (0..${len - 1}).`, { start: s, length: len });
      }
      const S = new Float32Array(this.nMels * this.frameCount(windowLength));
      this.clip(signal, s, windowLength, S, cache);
      results.push(S);
    }
    return results;
  }

  /**
   * Spectrogram of the clip x[s .. s + L) (zero past x's end) into S. A frame whose window lies on pre-emphasised
   * samples made of real signal inside the clip reads x directly (and, with a cache, is shared by hop-grid position);
   * the rest, near the clip's edges, gather through the reflect padding.
   */
  private clip(x: Float32Array, s: number, L: number, S: Float32Array, cache: FrameCache | null): void {
    const hop = this.hopLength;
    const nMels = this.nMels;
    const nFrames = this.frameCount(L);
    const M = L - 1;
    // Last pre-emphasised index (clip coordinates) that is inside the clip and made of two real samples.
    const lastDirect = Math.min(M - 1, x.length - 2 - s);
    // Frames [tA, tB) read x directly (the loop's test below); with PFFFT they run in batches inside WebAssembly.
    const tA = Math.max(0, Math.ceil(-this.reach / hop));
    const tB = Math.min(nFrames, Math.floor((lastDirect - this.winLength + 1 - this.reach) / hop) + 1);
    let batched = false;
    if (tB > tA) {
      if (cache && s % hop === 0) this.fillCache(x, cache, s / hop + tA, s / hop + tB);
      else batched = this.fft.logMelFrames(this.frames(x, s + tA * hop + this.reach, tB - tA, S, tA, 1, nFrames));
    }
    for (let t = 0; t < nFrames; t++) {
      if (batched && t >= tA && t < tB) continue;
      const first = t * hop + this.reach;
      if (first < 0 || first + this.winLength - 1 > lastDirect) {
        this.gatherFrame(x, s, M, first);
        this.melFrame(S, t, nFrames);
        continue;
      }
      const centre = s + t * hop;
      if (!cache || centre % hop !== 0) {
        this.directFrame(x, s + first);
        this.melFrame(S, t, nFrames);
        continue;
      }
      const g = centre / hop;
      this.allocateCache(x, cache);
      if (!cache.done![g]) {
        this.directFrame(x, s + first);
        this.melFrame(cache.values!, g * nMels, 1);
        cache.done![g] = 1;
      }
      for (let m = 0, o = g * nMels; m < nMels; m++) S[m * nFrames + t] = cache.values![o + m];
    }
  }

  private allocateCache(x: Float32Array, cache: FrameCache): void {
    if (cache.values && cache.done) return;
    const nGlobal = Math.floor(x.length / this.hopLength) + 1;
    cache.values = new Float32Array(nGlobal * this.nMels);
    cache.done = new Uint8Array(nGlobal);
  }

  /** Hop-grid frames [g0, g1) of x (all direct) into the cache, runs not yet done batched; without PFFFT clip() does them. */
  private fillCache(x: Float32Array, cache: FrameCache, g0: number, g1: number): void {
    this.allocateCache(x, cache);
    const done = cache.done!;
    for (let g = g0; g < g1; g++) {
      if (done[g]) continue;
      let end = g + 1;
      while (end < g1 && !done[end]) end++;
      if (!this.fft.logMelFrames(this.frames(x, g * this.hopLength + this.reach, end - g, cache.values!, g * this.nMels, this.nMels, 1))) return;
      done.fill(1, g, end);
      g = end;
    }
  }

  /** The logMelFrames job of `count` direct frames whose pre-emphasis reads x from `first`. */
  private frames(x: Float32Array, first: number, count: number, out: Float32Array, outAt: number, frameStride: number, melStride: number): LogMelFrames {
    const { preemphasis, logOffset, shift, scale } = this.config;
    return { signal: x, first, count, hop: this.hopLength, window: this.window, offset: this.winOffset, preemphasis, bins: this.melBins, filterbank: this.filterbank, bias: logOffset, shift, scale, out, outAt, frameStride, melStride };
  }

  /** Window the pre-emphasised samples starting at x index k (all real) into the FFT frame. */
  private directFrame(x: Float32Array, k: number): void {
    const a = this.config.preemphasis;
    if (this.fft.preemphasisFrame(x, k, this.winOffset, a, this.window)) {
      this.power();
      return;
    }
    const w = this.window;
    const f = this.fft.frame();
    const o = this.winOffset;
    const n = this.winLength;
    let prev = x[k];
    let i = 0;
    // Unrolled by 4: ~25% faster in V8 than the plain loop.
    for (; i + 4 <= n; i += 4) {
      const c0 = x[k + i + 1];
      const c1 = x[k + i + 2];
      const c2 = x[k + i + 3];
      const c3 = x[k + i + 4];
      f[o + i] = (c0 - a * prev) * w[i];
      f[o + i + 1] = (c1 - a * c0) * w[i + 1];
      f[o + i + 2] = (c2 - a * c1) * w[i + 2];
      f[o + i + 3] = (c3 - a * c2) * w[i + 3];
      prev = c3;
    }
    for (; i < n; i++) {
      const cur = x[k + i + 1];
      f[o + i] = (cur - a * prev) * w[i];
      prev = cur;
    }
    this.power();
  }

  /** Same as directFrame for a frame touching the clip's edges: pre-emphasised index j of M, reflected into range. */
  private gatherFrame(x: Float32Array, s: number, M: number, first: number): void {
    const a = this.config.preemphasis;
    const w = this.window;
    const f = this.fft.frame();
    const o = this.winOffset;
    const len = x.length;
    for (let i = 0; i < this.winLength; i++) {
      const k = s + reflectIndex(first + i, M);
      const cur = k + 1 < len ? x[k + 1] : 0;
      const prev = k < len ? x[k] : 0;
      f[o + i] = (cur - a * prev) * w[i];
    }
    this.power();
  }

  /** |FFT|^2 of the frame, bins 0 .. melBins - 1: beside PFFFT's buffers for melFrame, else into powerBuf. */
  private power(): void {
    if (!this.fft.powerForBands(this.melBins)) this.fft.power(this.powerBuf, this.melBins);
  }

  /** Mel bands of the last power(), log and normalised: band m goes to S[first + m * stride]. */
  private melFrame(S: Float32Array, first: number, stride: number): void {
    const { logOffset, shift, scale } = this.config;
    const logMel = this.fft.logBandSums(this.filterbank, logOffset, shift, scale);
    if (logMel) {
      for (let m = 0; m < this.nMels; m++) S[first + m * stride] = logMel[m];
      return;
    }
    const P = this.powerBuf;
    const acc = this.melAcc;
    const band = this.binBand;
    const wLo = this.binWeightLo;
    const wHi = this.binWeightHi;
    acc.fill(0);
    // Bin-major: bin k feeds band[k] and the next band; band[k] never decreases, so the two open sums stay in
    // registers and each band still adds its bins in increasing order.
    let b = band[this.firstBin];
    let lo = 0;
    let hi = 0;
    for (let k = this.firstBin; k < this.melBins; k++) {
      const bk = band[k];
      if (bk !== b) {
        acc[b] = lo;
        if (bk === b + 1) {
          lo = hi;
        } else {
          acc[b + 1] = hi;
          lo = 0;
        }
        hi = 0;
        b = bk;
      }
      const p = P[k];
      lo += wLo[k] * p;
      hi += wHi[k] * p;
    }
    acc[b] = lo;
    acc[b + 1] = hi;
    for (let m = 0; m < this.nMels; m++) S[first + m * stride] = (Math.log(acc[m] + logOffset) + shift) / scale;
  }
}

/** Normalised frames of one signal by hop-grid position [frame][mel], filled on first use (featureWindows). */
interface FrameCache {
  values: Float32Array | null;
  done: Uint8Array | null;
}
