/**
 * The mel spectrogram as the model hears it: the shared pipeline (decode -> mono -> 22050 Hz -> 3 s windows ->
 * log-mel dB) run in the browser on the same bytes, windows laid end to end, magma colours (the LUT of
 * shared/model/input.ts). Loaded lazily: the audio decoders are not part of the first page load.
 */
import { MEL, WEB } from '../../shared/config.ts';

export interface Spectrogram {
  canvas: HTMLCanvasElement;
  seconds: number;
  windows: number;
}

export async function drawSpectrogram(bytes: ArrayBuffer, canvas: HTMLCanvasElement): Promise<Spectrogram> {
  const [{ analyse }, { MAGMA_RGB }] = await Promise.all([import('../../shared/audio/index.ts'), import('../../shared/model/input.ts')]);
  const analysis = await analyse(new Uint8Array(bytes), { hopSeconds: 3, maxWindows: WEB.spectrogramMaxWindows });
  const { nMels, frames } = analysis;
  const windows = analysis.windows;
  // Each window drawn at its own start frame (the end-aligned last window overlaps its predecessor).
  const startFrame = (start: number) => Math.round((start * analysis.sampleRate) / MEL.hopLength);
  const width = windows.length === 0 ? 1 : startFrame(windows[windows.length - 1].start) + frames;
  let lo = Infinity;
  let hi = -Infinity;
  for (const w of windows) for (const v of w.db) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi - lo || 1;
  canvas.width = Math.max(1, width);
  canvas.height = nMels;
  const ctx = canvas.getContext('2d')!;
  const image = ctx.createImageData(canvas.width, nMels);
  windows.forEach((w) => {
    const x0 = startFrame(w.start);
    for (let m = 0; m < nMels; m++) {
      const y = nMels - 1 - m; // low frequencies at the bottom
      for (let f = 0; f < frames; f++) {
        const x = x0 + f;
        if (x < 0 || x >= width) continue;
        const level = Math.max(0, Math.min(255, Math.round((255 * (w.db[m * frames + f] - lo)) / span)));
        const o = 4 * (y * width + x);
        image.data[o] = MAGMA_RGB[3 * level];
        image.data[o + 1] = MAGMA_RGB[3 * level + 1];
        image.data[o + 2] = MAGMA_RGB[3 * level + 2];
        image.data[o + 3] = 255;
      }
    }
  });
  ctx.putImageData(image, 0, 0);
  const seconds = windows.length ? windows[windows.length - 1].end : 0;
  return { canvas, seconds, windows: windows.length };
}
