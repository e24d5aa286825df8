/**
 * Audio front-end benchmarks. Targets: melMs <= 2, kaldiMelMs <= 2, pipelineMs <= 8 (ms, median). The FFT floors are
 * the FFT and power spectrum alone for one 3 s clip (the frames a front end transforms, nothing else), with the FFT the
 * front end uses and the other one: a front end within 1.5x of its floor spends little beside the FFT.
 * longMs (60 s, front end + model) and clipMs are in the serving suite. The remaining cases break the pipeline down
 * and compare the resampler with libsamplerate-js (SRC_SINC_BEST_QUALITY), which it replaced (see
 * shared/audio/resample.ts).
 */
import libsamplerate from '@alexanderolsen/libsamplerate-js';
import { analyse, decodeAudio, encodeWav, KaldiMelSpectrogram, MelSpectrogram, melEngine, resample, toMono } from '../../../shared/audio/index.ts';
import { RealFftPower, type FftName } from '../../../shared/audio/real-fft.ts';
import { KALDI_MEL, MEL, WINDOW_FRAMES, WINDOW_SAMPLES } from '../../../shared/config.ts';
import type { BenchCase } from '../types.ts';

/** Deterministic test signal: two tones, a chirp and a little noise (xorshift), so no stage sees trivial input. */
function signal(rate: number, seconds: number): Float32Array {
  let s = 0x9e3779b9;
  return Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const t = i / rate;
    return 0.3 * Math.sin(2 * Math.PI * 440 * t) + 0.2 * Math.sin(2 * Math.PI * (200 * t + 300 * t * t)) + 0.02 * ((s >>> 0) / 2 ** 32 - 0.5);
  });
}

const lazy = <T>(make: () => T) => {
  let v: T | undefined;
  return () => (v ??= make());
};
const clip = lazy(() => signal(22050, WINDOW_SAMPLES / 22050));
const wav44k3s = lazy(() => encodeWav(signal(44100, 3), 44100, { bitDepth: 16 }));
const wav16k60s = lazy(() => encodeWav(signal(16000, 60), 16000, { bitDepth: 16 }));
const x44k3s = lazy(() => signal(44100, 3));
const x16k3s = lazy(() => signal(16000, 3));
const x16k60s = lazy(() => signal(16000, 60));
const x32k3s = lazy(() => signal(32000, 3));
const x32k60s = lazy(() => signal(32000, 60));
const kaldi = lazy(() => new KaldiMelSpectrogram());
const kaldiFftJs = lazy(() => new KaldiMelSpectrogram(KALDI_MEL.sampleRate, KALDI_MEL, 'fft.js'));
const melPffft = lazy(() => new MelSpectrogram(22050, MEL, 'pffft'));
/** Window starts every 1 s over 60 s, as the analysis lays 3 s windows out. */
const starts1s = Array.from({ length: 58 }, (_, i) => i * 32000);

/** The FFT floor of one 3 s clip: `frames` power spectra of n points (all bins), nothing else. */
function fftFloorCase(name: string, n: number, frames: number, fft: FftName, description: string): BenchCase {
  let plan: RealFftPower | undefined;
  const P = new Float64Array(n / 2 + 1);
  return {
    name,
    description,
    setup() {
      plan = new RealFftPower(n, fft);
      if (plan.fft !== fft) throw new Error(`${fft} is not available here`);
      const frame = plan.frame();
      for (let i = 0; i < n; i++) frame[i] = Math.sin(i * 0.1) + 0.01 * ((i * 7919) % 13);
    },
    run() {
      for (let t = 0; t < frames; t++) plan!.power(P, n / 2 + 1);
    },
  };
}

type Src = { simple(x: Float32Array): Float32Array; destroy(): void };
const { create, ConverterType } = libsamplerate as unknown as {
  create(ch: number, from: number, to: number, opts: { converterType: number }): Promise<Src>;
  ConverterType: { SRC_SINC_BEST_QUALITY: number };
};

function libsamplerateCase(name: string, x: () => Float32Array, from: number): BenchCase {
  let src: Src | undefined;
  return {
    name,
    description: 'libsamplerate-js SRC_SINC_BEST_QUALITY (wasm), for comparison',
    async setup() {
      src = await create(1, from, 22050, { converterType: ConverterType.SRC_SINC_BEST_QUALITY });
    },
    run() {
      src!.simple(x());
    },
    teardown() {
      src?.destroy();
    },
  };
}

export const audioBenchCases: BenchCase[] = [
  {
    name: 'melMs',
    targetMs: 2,
    description: 'mel dB (128 x 130) of a 3 s clip from float samples',
    setup: () => void melEngine(),
    run: () => void melEngine().db(clip()),
  },
  {
    name: 'kaldiMelMs',
    targetMs: 2,
    description: 'Kaldi log-mel (128 x 300, EfficientAT front end) of a 3 s 32 kHz clip from float samples',
    setup: () => void kaldi(),
    run: () => void kaldi().features(x32k3s()),
  },
  {
    name: 'kaldiMelMs fft.js',
    description: 'the same with fft.js (float64) for the FFT instead of PFFFT (WebAssembly SIMD, float32)',
    setup: () => void kaldiFftJs(),
    run: () => void kaldiFftJs().features(x32k3s()),
  },
  fftFloorCase('kaldiFftFloorMs', KALDI_MEL.nFft, 300, 'pffft', 'FFT floor of kaldiMelMs: 300 power spectra of 1024 points, PFFFT (what the Kaldi front end uses)'),
  fftFloorCase('kaldiFftFloorMs fft.js', KALDI_MEL.nFft, 300, 'fft.js', 'the same with fft.js'),
  fftFloorCase('melFftFloorMs', MEL.nFft, WINDOW_FRAMES, 'fft.js', 'FFT floor of melMs: 130 power spectra of 2048 points, fft.js (what the librosa front end uses)'),
  fftFloorCase('melFftFloorMs pffft', MEL.nFft, WINDOW_FRAMES, 'pffft', 'the same with PFFFT'),
  {
    name: 'melMs pffft',
    description: 'melMs with PFFFT: not the default, its float32 frames miss the librosa golden STFT tolerance',
    setup: () => void melPffft(),
    run: () => void melPffft().db(clip()),
  },
  {
    name: 'kaldi windows 60s',
    description: 'Kaldi log-mel of 58 windows (3 s, hop 1 s) of a 60 s 32 kHz signal, frames shared (featureWindows)',
    run: () => void kaldi().featureWindows(x32k60s(), starts1s, 96000),
  },
  {
    name: 'pipelineMs',
    targetMs: 8,
    description: 'analyse(): decode + resample + mel dB of a 3 s 44.1 kHz 16-bit WAV',
    run: async () => void (await analyse(wav44k3s())),
  },
  {
    name: 'analyse 60s librosa',
    description: 'analyse(): every window (3 s, hop 1 s: 58 windows) of a 60 s 16 kHz 16-bit WAV, librosa front end',
    run: async () => void (await analyse(wav16k60s())),
  },
  {
    name: 'analyse 60s kaldi',
    description: 'the same with the Kaldi front end (32 kHz): the front-end part of longMs',
    run: async () => void (await analyse(wav16k60s(), { frontEnd: 'kaldi' })),
  },
  {
    name: 'decode 3s 44.1k wav',
    description: 'decodeAudio + toMono',
    run: async () => void toMono((await decodeAudio(wav44k3s())).channels),
  },
  { name: 'resample 3s 44.1k', run: () => void resample(x44k3s(), 44100, 22050) },
  { name: 'resample 3s 16k', run: () => void resample(x16k3s(), 16000, 22050) },
  { name: 'resample 60s 16k', run: () => void resample(x16k60s(), 16000, 22050) },
  libsamplerateCase('libsamplerate best 3s 44.1k', x44k3s, 44100),
  libsamplerateCase('libsamplerate best 3s 16k', x16k3s, 16000),
];
