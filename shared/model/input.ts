/**
 * Mel spectrogram (dB) -> model input pixels. One function, `melToModelInput`, for one clip or a batch.
 *
 * Input: the audio front end's log-mel, Float32Array row-major [nMels = 128][frames = 130], dB in [-topDb, 0]
 * (librosa power_to_db with ref=max, top_db=80). Output: NHWC float32 scaled to [-1, 1], as Keras'
 * mobilenet_v2.preprocess_input (x / 127.5 - 1) does to 0..255 pixels.
 *
 * Representations:
 * - 'magma224' — what the seed model saw: the spectrogram drawn like librosa.display.specshow (matplotlib's magma,
 *   specshow's default colormap for all-negative data; low frequencies at the bottom), saved as 8-bit RGB,
 *   resized to 224x224. Details that the seed's (unknown) rendering may have done differently: dB are normalised
 *   over the fixed range [-topDb, 0] (= specshow's min..max autoscale whenever the clip spans >= topDb dB, i.e.
 *   almost always; fixed so a quiet clip isn't contrast-stretched), colours are matplotlib's bytes
 *   (floor(255 * float), index floor(256 * u) clipped to 255), resize is bilinear with half-pixel centres
 *   (= PIL's BILINEAR for upscaling = tf.image.resizeBilinear(halfPixelCenters=true)) after colour mapping.
 * - 'grey128' — no rendering: native 128x130 dB, linearly [-topDb, 0] -> [-1, 1], repeated to 3 channels, same
 *   orientation (low frequencies at the bottom). 3.3x fewer pixels than 224x224, so ~3x faster.
 *
 * Plain loops over precomputed tables: exact, backend-agnostic; magma224 ~0.4 ms per clip into a reused buffer
 * (tests/bench/cases/model.ts), small next to the backbone (~10 ms folded on wasm).
 */
import { AUDIO, KALDI_MEL, MEL, WINDOW_FRAMES } from '../config.ts';
import { SentinelError } from '../errors.ts';
import type { InputRepresentation } from './types.ts';

export type { InputRepresentation };
export const INPUT_REPRESENTATIONS: readonly InputRepresentation[] = ['magma224', 'grey128', 'logmel'];

/** Kaldi frames of one window: pre-emphasis leaves N - 1 samples, then 1 + floor((N - 1) / hop) (300 for 3 s). */
const LOGMEL_FRAMES = 1 + Math.floor((Math.round(KALDI_MEL.sampleRate * AUDIO.windowSeconds) - 1) / KALDI_MEL.hopLength);

/** Model input size per representation: [height, width, channels]. */
export const REPRESENTATION_SHAPES: Readonly<Record<InputRepresentation, readonly [number, number, number]>> = Object.freeze({
  magma224: [224, 224, 3] as const,
  grey128: [MEL.nMels, WINDOW_FRAMES, 3] as const,
  logmel: [KALDI_MEL.nMels, LOGMEL_FRAMES, 1] as const,
});

/** A batch of model inputs: NHWC float32 (images in [-1, 1]); `tf.tensor4d(data, shape)` makes the model's input. */
export interface ModelInput {
  data: Float32Array;
  shape: [number, number, number, number];
}

export function isInputRepresentation(x: unknown): x is InputRepresentation {
  return (INPUT_REPRESENTATIONS as readonly unknown[]).includes(x);
}

/**
 * matplotlib's magma as 8-bit RGB (256 entries): `(matplotlib.cm.magma._lut[:256, :3] * 255).astype(uint8)`, i.e.
 * floor(255 * _magma_data), what matplotlib writes into a PNG. Transcribed from matplotlib's _cm_listed.py
 * (CC0, van der Walt & Smith) and cross-checked: rounding the same floats reproduces d3-scale-chromatic's magma.
 */
const MAGMA_HEX =
  '00000300000400000601000701010901010b02020d02020f03031104031304041505041706051907051b08061d09071f' +
  '0a07220b08240c09260d0a280e0a2a0f0b2c100c2f110c31120d33140d35150e38160e3a170f3c180f3f1a10411b1044' +
  '1c10461e10491f114b20114d2211502311522511552611572811592a115c2b115e2d10602f1062301065321067341068' +
  '350f6a370f6c390f6e3b0f6f3c0f713e0f72400f73420f74430f75450f76470f774810784a10794b10794d117a4f117b' +
  '50127b52127c53137c55137d57147d58157e5a157e5b167e5d177e5e177f60187f61187f63197f651a80661a80681b80' +
  '691c806b1c806c1d806e1e816f1e81711f81731f817420817621817721817922817a22817c23817e24817f2481812581' +
  '8225818426818526818727818928818a28818c29808d29808f2a80912a80922b80942b80952c80972c7f992d7f9a2d7f' +
  '9c2e7f9e2e7e9f2f7ea12f7ea3307ea4307da6317da7317da9327cab337cac337bae347bb0347bb1357ab3357ab53679' +
  'b63679b83778b93778bb3877bd3977be3976c03a75c23a75c33b74c53c74c63c73c83d72ca3e72cb3e71cd3f70ce4070' +
  'd0416fd1426ed3426dd4436dd6446cd7456bd9466ada4769dc4869dd4968de4a67e04b66e14c66e24d65e44e64e55063' +
  'e65162e75262e85461ea5560eb5660ec585fed595fee5b5eee5d5def5e5df0605df1615cf2635cf3655cf3675bf4685b' +
  'f56a5bf56c5bf66e5bf6705bf7715bf7735cf8755cf8775cf9795cf97b5df97d5dfa7f5efa805efa825ffb8460fb8660' +
  'fb8861fb8a62fc8c63fc8e63fc9064fc9265fc9366fd9567fd9768fd9969fd9b6afd9d6bfd9f6cfda16efda26ffda470' +
  'fea671fea873feaa74feac75feae76feaf78feb179feb37bfeb57cfeb77dfeb97ffebb80febc82febe83fec085fec286' +
  'fec488fec689fec78bfec98dfecb8efdcd90fdcf92fdd193fdd295fdd497fdd698fdd89afdda9cfddc9dfddd9ffddfa1' +
  'fde1a3fce3a5fce5a6fce6a8fce8aafceaacfcecaefceeb0fcf0b1fcf1b3fcf3b5fcf5b7fbf7b9fbf9bbfbfabdfbfcbf';

/** The magma bytes, [256][3] flattened (exported for tests and for drawing spectrograms in the console). */
export const MAGMA_RGB: Uint8Array = Uint8Array.from({ length: 768 }, (_, i) => parseInt(MAGMA_HEX.slice(2 * i, 2 * i + 2), 16));

/** Magma already in model units (byte / 127.5 - 1), so the hot loop is a lookup. */
const MAGMA_SCALED = Float32Array.from(MAGMA_RGB, (b) => b / 127.5 - 1);

/** Bilinear taps (half-pixel centres, edge-clamped) for resizing `inSize` -> `outSize`. */
function resizeTable(inSize: number, outSize: number): { i0: Int32Array; i1: Int32Array; w: Float32Array } {
  const i0 = new Int32Array(outSize);
  const i1 = new Int32Array(outSize);
  const w = new Float32Array(outSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = Math.min(Math.max((o + 0.5) * scale - 0.5, 0), inSize - 1);
    const lo = Math.floor(src);
    i0[o] = lo;
    i1[o] = Math.min(lo + 1, inSize - 1);
    w[o] = src - lo;
  }
  return { i0, i1, w };
}

const N_MELS = MEL.nMels;
const N_FRAMES = WINDOW_FRAMES;
const MEL_SIZE = N_MELS * N_FRAMES;
const TOP_DB = MEL.topDb;
const [OUT_H, OUT_W] = REPRESENTATION_SHAPES.magma224;
const ROWS = resizeTable(N_MELS, OUT_H);
const COLS = resizeTable(N_FRAMES, OUT_W);

/** Native-resolution colour image scratch ([128][130][3]) and the column-resized one ([128][224][3]). */
const nativeScratch = new Float32Array(MEL_SIZE * 3);
const widenedScratch = new Float32Array(N_MELS * OUT_W * 3);

function checkMel(mel: Float32Array, index: number): void {
  if (!(mel instanceof Float32Array) || mel.length !== MEL_SIZE) {
    throw new SentinelError(
      'INVALID_ARGUMENT',
      `Mel spectrogram ${index} must be a Float32Array of ${N_MELS}x${N_FRAMES} = ${MEL_SIZE} dB values, got ${
        mel instanceof Float32Array ? mel.length : typeof mel
      }.`,
      { index, expected: MEL_SIZE },
    );
  }
}

function nonFinite(index: number, at: number): SentinelError {
  return new SentinelError('INVALID_ARGUMENT', `Mel spectrogram ${index} has a non-finite value at ${at}.`, { index, at });
}

/** logmel for one clip into out[offset ..]: the Kaldi features as they are ([mel][frame] is already NHWC with c = 1). */
function logmel(mel: Float32Array, index: number, out: Float32Array, offset: number): void {
  const [h, w] = REPRESENTATION_SHAPES.logmel;
  if (!(mel instanceof Float32Array) || mel.length !== h * w) {
    throw new SentinelError('INVALID_ARGUMENT', `Log-mel ${index} must be a Float32Array of ${h}x${w} = ${h * w} values, got ${mel instanceof Float32Array ? mel.length : typeof mel}.`, {
      index,
      expected: h * w,
    });
  }
  for (let i = 0; i < mel.length; i++) if (!Number.isFinite(mel[i])) throw nonFinite(index, i);
  out.set(mel, offset);
}

/** magma224 for one clip into out[offset ..]: colour-map at native size (flipped), then separable bilinear resize. */
function magma224(mel: Float32Array, index: number, out: Float32Array, offset: number): void {
  const native = nativeScratch;
  for (let r = 0; r < N_MELS; r++) {
    const melRow = (N_MELS - 1 - r) * N_FRAMES; // low frequencies at the bottom of the image
    const rowBase = r * N_FRAMES * 3;
    for (let c = 0; c < N_FRAMES; c++) {
      const db = mel[melRow + c];
      if (!Number.isFinite(db)) throw nonFinite(index, melRow + c);
      const u = (db + TOP_DB) / TOP_DB;
      const k = u <= 0 ? 0 : u >= 1 ? 255 : Math.floor(u * 256);
      const p = rowBase + c * 3;
      native[p] = MAGMA_SCALED[k * 3];
      native[p + 1] = MAGMA_SCALED[k * 3 + 1];
      native[p + 2] = MAGMA_SCALED[k * 3 + 2];
    }
  }
  const wide = widenedScratch;
  for (let r = 0; r < N_MELS; r++) {
    const src = r * N_FRAMES * 3;
    const dst = r * OUT_W * 3;
    for (let x = 0; x < OUT_W; x++) {
      const a = src + COLS.i0[x] * 3;
      const b = src + COLS.i1[x] * 3;
      const w = COLS.w[x];
      const d = dst + x * 3;
      wide[d] = native[a] + (native[b] - native[a]) * w;
      wide[d + 1] = native[a + 1] + (native[b + 1] - native[a + 1]) * w;
      wide[d + 2] = native[a + 2] + (native[b + 2] - native[a + 2]) * w;
    }
  }
  const rowLen = OUT_W * 3;
  for (let y = 0; y < OUT_H; y++) {
    const a = ROWS.i0[y] * rowLen;
    const b = ROWS.i1[y] * rowLen;
    const w = ROWS.w[y];
    const d = offset + y * rowLen;
    for (let i = 0; i < rowLen; i++) out[d + i] = wide[a + i] + (wide[b + i] - wide[a + i]) * w;
  }
}

/** grey128 for one clip into out[offset ..]: flipped, [-topDb, 0] -> [-1, 1], 3 equal channels. */
function grey128(mel: Float32Array, index: number, out: Float32Array, offset: number): void {
  for (let r = 0; r < N_MELS; r++) {
    const melRow = (N_MELS - 1 - r) * N_FRAMES;
    const d = offset + r * N_FRAMES * 3;
    for (let c = 0; c < N_FRAMES; c++) {
      const db = mel[melRow + c];
      if (!Number.isFinite(db)) throw nonFinite(index, melRow + c);
      const v = Math.min(1, Math.max(-1, (2 * (db + TOP_DB)) / TOP_DB - 1));
      out[d + c * 3] = v;
      out[d + c * 3 + 1] = v;
      out[d + c * 3 + 2] = v;
    }
  }
}

/**
 * Converts one log-mel (Float32Array [128 mel][130 frames], dB in [-80, 0]) or a batch of them into the model's
 * input for `representation` (see the module comment): NHWC float32 in [-1, 1], shape [n, h, w, 3].
 * Values outside [-80, 0] dB are clipped; a wrong length or a NaN is an INVALID_ARGUMENT error.
 *
 * `out` (optional, length >= n*h*w*3) is written instead of a new array: on the hot path, reuse one buffer —
 * first-touching a fresh 4.8 MB array (8 clips at 224x224) costs more page faults than the conversion itself
 * (measured ~2 ms vs ~0.4 ms per clip). The result then views `out`: make the tensor (wasm, webgl and node copy;
 * the cpu backend keeps a reference) and dispose it before reusing the buffer.
 */
export function melToModelInput(
  melDb: Float32Array | readonly Float32Array[],
  representation: InputRepresentation,
  out?: Float32Array,
): ModelInput {
  const mels = melDb instanceof Float32Array ? [melDb] : melDb;
  if (!isInputRepresentation(representation)) {
    throw new SentinelError(
      'INVALID_ARGUMENT',
      `Unknown input representation "${String(representation)}"; use one of ${INPUT_REPRESENTATIONS.join(', ')}.`,
    );
  }
  const [h, w, c] = REPRESENTATION_SHAPES[representation];
  const perClip = h * w * c;
  const size = mels.length * perClip;
  if (out !== undefined && !(out instanceof Float32Array && out.length >= size)) {
    throw new SentinelError('INVALID_ARGUMENT', `Output buffer must be a Float32Array of at least ${size} values.`, { size });
  }
  const data = out === undefined ? new Float32Array(size) : out.subarray(0, size);
  mels.forEach((mel, i) => {
    if (representation === 'logmel') return logmel(mel, i, data, i * perClip);
    checkMel(mel, i);
    if (representation === 'magma224') magma224(mel, i, data, i * perClip);
    else grey128(mel, i, data, i * perClip);
  });
  return { data, shape: [mels.length, h, w, c] };
}
