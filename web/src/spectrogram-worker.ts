/**
 * The whole recording's spectrogram pixels, computed off the page's main thread (a 10-minute file is seconds of
 * decoding, resampling and STFT that would stall the tab): spectrogram.ts starts this worker, sends the file's
 * bytes, draws the pixels it answers and stops it.
 */
import { decodeAudio, melEngine, resample, toMono } from '../../shared/audio/index.ts';
import { WEB } from '../../shared/config.ts';
import { MAGMA_RGB } from '../../shared/model/input.ts';

/** What the worker answers: RGBA pixels, `columns` wide and `nMels` high, and where they sit in time. */
export interface SpectrogramPixels {
  pixels: Uint8ClampedArray<ArrayBuffer>;
  duration: number;
  frames: number;
  columns: number;
  nMels: number;
  /** Seconds between STFT frames. */
  hop: number;
  /** STFT frames merged into one column. */
  group: number;
}

export type SpectrogramReply = { ok: true; result: SpectrogramPixels } | { ok: false; message: string };

/** The front end the model's librosa path uses (decode -> mono -> 22 050 Hz -> log-mel dB) over every STFT frame. */
export async function spectrogramPixels(bytes: Uint8Array): Promise<SpectrogramPixels> {
  const decoded = await decodeAudio(bytes);
  const mono = toMono(decoded.channels);
  const engine = melEngine();
  const rate = engine.sampleRate;
  const y = decoded.sampleRate === rate ? mono : resample(mono, decoded.sampleRate, rate);
  const db = engine.db(y); // [mel][frame], ref = the whole recording's loudest bin
  const nMels = engine.nMels;
  const frames = engine.frameCount(y.length);
  const group = Math.max(1, Math.ceil(frames / WEB.spectrogramMaxColumns));
  const columns = Math.ceil(frames / group);

  let lo = Infinity;
  let hi = -Infinity;
  for (const v of db) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi - lo || 1;
  const pixels = new Uint8ClampedArray(4 * columns * nMels);
  for (let m = 0; m < nMels; m++) {
    const row = nMels - 1 - m; // low frequencies at the bottom
    for (let c = 0; c < columns; c++) {
      let v = -Infinity;
      for (let t = c * group; t < Math.min(frames, (c + 1) * group); t++) v = Math.max(v, db[m * frames + t]);
      const level = Math.max(0, Math.min(255, Math.round((255 * (v - lo)) / span)));
      const o = 4 * (row * columns + c);
      pixels[o] = MAGMA_RGB[3 * level];
      pixels[o + 1] = MAGMA_RGB[3 * level + 1];
      pixels[o + 2] = MAGMA_RGB[3 * level + 2];
      pixels[o + 3] = 255;
    }
  }
  return { pixels, duration: decoded.duration, frames, columns, nMels, hop: engine.hopLength / rate, group };
}

// Only when run as a worker (a test may import spectrogramPixels in Node).
if ('WorkerGlobalScope' in globalThis) {
  self.addEventListener('message', (event: MessageEvent<ArrayBuffer>) => {
    spectrogramPixels(new Uint8Array(event.data)).then(
      (result) => self.postMessage({ ok: true, result } satisfies SpectrogramReply, { transfer: [result.pixels.buffer] }),
      (error: unknown) => self.postMessage({ ok: false, message: error instanceof Error ? error.message : String(error) } satisfies SpectrogramReply),
    );
  });
}
