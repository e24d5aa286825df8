/** Sentinel's audio front end (pure TypeScript: Node and browser). See analyse.ts for the whole pipeline. */
export { AudioError, type AudioErrorCode } from './errors.js';
export { decodeAudio, type DecodeOptions, type DecodedAudio } from './decode.js';
export { encodeWav, readWavHeader, type EncodeWavOptions, type WavBitDepth, type WavHeader } from './wav.js';
export { toMono, fixLength, slidingWindows, windowGeometry, windowStarts, type WindowOptions, type SignalWindow } from './signal.js';
export { resample } from './resample.js';
export {
  MelSpectrogram,
  melFilterbank,
  denseFilterbank,
  hannWindow,
  powerToDb,
  hzToMel,
  melToHz,
  type MelFilterbank,
} from './mel.js';
export {
  KaldiMelSpectrogram,
  kaldiMelBanks,
  kaldiHzToMel,
  kaldiMelToHz,
  symmetricHannWindow,
} from './frontends/kaldi.js';
export {
  analyse,
  analyseSamples,
  fixedClip,
  melEngine,
  type AnalyseOptions,
  type Analysis,
  type SpectrogramWindow,
} from './analyse.js';
export { frontEnd, FRONT_END_NAMES, type FrontEnd, type FrontEndName } from './frontends/index.js';
