/**
 * The whole recording's mel spectrogram, for display: the shared front end (decode -> mono -> 22 050 Hz -> librosa
 * log-mel dB) run in the browser on the same bytes as one pass over every STFT frame, so no second of the recording
 * is left out (the model's windows overlap; drawing windows end to end skipped what fell between them). Magma
 * colours (the LUT of shared/model/input.ts). Loaded lazily: the audio decoders are not part of the first page load.
 */
import { MEL, WEB } from '../../shared/config.ts';

export interface Spectrogram {
  /** One column per group of STFT frames, one row per mel band (low frequencies at the bottom). */
  image: HTMLCanvasElement;
  /** The recording's duration, seconds. */
  duration: number;
  /** STFT frames over the whole recording; `columns` of them after merging (each column the loudest of its group). */
  frames: number;
  columns: number;
  nMels: number;
  /** Time span of the image, seconds: frame t is centred on t * hop (center=True), so the image starts half a hop
   *  before 0 and ends half a hop after the last frame's centre, or at the recording's end if that is later. */
  start: number;
  end: number;
  /** Centre frequency of mel band m (Slaney mel, as the filterbank spaces them), Hz. */
  bandHz(m: number): number;
}

export async function computeSpectrogram(bytes: ArrayBuffer): Promise<Spectrogram> {
  const [audio, { MAGMA_RGB }] = await Promise.all([import('../../shared/audio/index.ts'), import('../../shared/model/input.ts')]);
  const decoded = await audio.decodeAudio(new Uint8Array(bytes));
  const mono = audio.toMono(decoded.channels);
  const engine = audio.melEngine();
  const rate = engine.sampleRate;
  const y = decoded.sampleRate === rate ? mono : audio.resample(mono, decoded.sampleRate, rate);
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
  const image = document.createElement('canvas');
  image.width = columns;
  image.height = nMels;
  const ctx = image.getContext('2d')!;
  const pixels = ctx.createImageData(columns, nMels);
  for (let m = 0; m < nMels; m++) {
    const row = nMels - 1 - m; // low frequencies at the bottom
    for (let c = 0; c < columns; c++) {
      let v = -Infinity;
      for (let t = c * group; t < Math.min(frames, (c + 1) * group); t++) v = Math.max(v, db[m * frames + t]);
      const level = Math.max(0, Math.min(255, Math.round((255 * (v - lo)) / span)));
      const o = 4 * (row * columns + c);
      pixels.data[o] = MAGMA_RGB[3 * level];
      pixels.data[o + 1] = MAGMA_RGB[3 * level + 1];
      pixels.data[o + 2] = MAGMA_RGB[3 * level + 2];
      pixels.data[o + 3] = 255;
    }
  }
  ctx.putImageData(pixels, 0, 0);

  const hop = engine.hopLength / rate;
  const melLo = audio.hzToMel(MEL.fMin);
  const melStep = (audio.hzToMel(MEL.fMax) - melLo) / (nMels + 1);
  return {
    image,
    duration: decoded.duration,
    frames,
    columns,
    nMels,
    start: -hop / 2,
    // The last frame's FFT window reaches past its half hop: its column is stretched to the recording's end.
    end: Math.max((columns * group - 0.5) * hop, decoded.duration),
    bandHz: (m) => audio.melToHz(melLo + (m + 1) * melStep),
  };
}
