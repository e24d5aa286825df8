/**
 * The whole recording's mel spectrogram, for display: the shared front end (decode -> mono -> 22 050 Hz -> librosa
 * log-mel dB) run in the browser on the same bytes as one pass over every STFT frame, so no second of the recording
 * is left out (the model's windows overlap; drawing windows end to end skipped what fell between them). Magma
 * colours (the LUT of shared/model/input.ts). The work runs in a Web Worker (spectrogram-worker.ts), so a long
 * recording never stalls the page; the audio decoders load there, not with the page.
 */
import { hzToMel, melToHz } from '../../shared/audio/mel-scale.ts';
import { MEL } from '../../shared/config.ts';
import type { SpectrogramReply } from './spectrogram-worker.ts';

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

/** The spectrogram of a file's bytes (which are handed over to the worker: `bytes` is empty afterwards). */
export async function computeSpectrogram(bytes: ArrayBuffer): Promise<Spectrogram> {
  const worker = new Worker(new URL('./spectrogram-worker.ts', import.meta.url), { type: 'module', name: 'spectrogram' });
  let reply: SpectrogramReply;
  try {
    reply = await new Promise<SpectrogramReply>((resolve, reject) => {
      worker.addEventListener('message', (e: MessageEvent<SpectrogramReply>) => resolve(e.data));
      // A worker that cannot start (its script failed to load or threw) reports here, not by a message.
      worker.addEventListener('error', (e) => reject(new Error(`the spectrogram worker failed: ${e.message || 'it could not start'}`)));
      worker.postMessage(bytes, [bytes]);
    });
  } finally {
    worker.terminate();
  }
  if (!reply.ok) throw new Error(reply.message);
  const { pixels, duration, frames, columns, nMels, hop, group } = reply.result;
  const image = document.createElement('canvas');
  image.width = columns;
  image.height = nMels;
  image.getContext('2d')!.putImageData(new ImageData(pixels, columns, nMels), 0, 0);

  const melLo = hzToMel(MEL.fMin);
  const melStep = (hzToMel(MEL.fMax) - melLo) / (nMels + 1);
  return {
    image,
    duration,
    frames,
    columns,
    nMels,
    start: -hop / 2,
    // The last frame's FFT window reaches past its half hop: its column is stretched to the recording's end.
    end: Math.max((columns * group - 0.5) * hop, duration),
    bandHz: (m) => melToHz(melLo + (m + 1) * melStep),
  };
}
