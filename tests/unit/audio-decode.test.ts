/**
 * decodeAudio: every supported format decodes to the synthetic signal it was made from, and every bad input raises
 * an AudioError with the right code. WAV variants are made here with encodeWav; the compressed fixtures come from
 * tests/fixtures/formats/make.sh (1 s synthetic tones).
 */
import { readFileSync } from 'node:fs';
import decodeWav from '@audio/decode-wav';
import { describe, expect, it } from 'vitest';
import { AudioError, decodeAudio, encodeWav, type AudioErrorCode, type WavBitDepth } from '../../shared/audio/index.js';
import { SentinelError } from '../../shared/errors.js';
import { tone, toneAmplitude } from '../helpers/tones.ts';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/formats/${name}`, import.meta.url)));

async function decodeError(bytes: Uint8Array | ArrayBuffer, options?: Parameters<typeof decodeAudio>[1]): Promise<AudioError> {
  try {
    await decodeAudio(bytes, options);
  } catch (err) {
    expect(err).toBeInstanceOf(AudioError);
    expect(err).toBeInstanceOf(SentinelError);
    return err as AudioError;
  }
  throw new Error('decodeAudio did not throw');
}

async function expectCode(bytes: Uint8Array | ArrayBuffer, code: AudioErrorCode, message: RegExp, options?: Parameters<typeof decodeAudio>[1]) {
  const err = await decodeError(bytes, options);
  expect(err.code).toBe(code);
  expect(err.message).toMatch(message);
}

describe('WAV variants (encodeWav -> decodeAudio)', () => {
  const x = tone(16000, 0.5, [[0.6, 440], [0.3, 3000]]);
  // Integer PCM: half a step from rounding plus the encode (x 2^(b-1) - 1) / decode (/ 2^(b-1)) scale difference.
  const step = (bits: number) => 1.5 / 2 ** (bits - 1);
  const variants: { bitDepth: WavBitDepth; float?: boolean; tol: number }[] = [
    { bitDepth: 8, tol: step(8) },
    { bitDepth: 16, tol: step(16) },
    { bitDepth: 24, tol: step(24) },
    { bitDepth: 32, tol: 1e-7 }, // float32 resolution of the decoded value
    { bitDepth: 32, float: true, tol: 0 },
  ];
  for (const v of variants) {
    it(`${v.bitDepth}-bit ${v.float ? 'float' : 'integer'} mono round-trips within quantisation error`, async () => {
      const audio = await decodeAudio(encodeWav(x, 16000, v));
      expect(audio.sampleRate).toBe(16000);
      expect(audio.channels).toHaveLength(1);
      expect(audio.duration).toBe(0.5);
      const y = audio.channels[0];
      expect(y).toHaveLength(x.length);
      let err = 0;
      for (let i = 0; i < x.length; i++) err = Math.max(err, Math.abs(y[i] - x[i]));
      expect(err).toBeLessThanOrEqual(v.tol);
    });
  }

  it('keeps channel order in interleaved stereo', async () => {
    const left = tone(8000, 0.5, [[0.5, 440]]);
    const right = tone(8000, 0.5, [[0.25, 1500]]);
    const interleaved = new Float32Array(left.length * 2);
    left.forEach((v, i) => ((interleaved[2 * i] = v), (interleaved[2 * i + 1] = right[i])));
    const audio = await decodeAudio(encodeWav(interleaved, 8000, { bitDepth: 24, channels: 2 }));
    expect(audio.channels).toHaveLength(2);
    expect(toneAmplitude(audio.channels[0], 8000, 440)).toBeCloseTo(0.5, 3);
    expect(toneAmplitude(audio.channels[0], 8000, 1500)).toBeLessThan(1e-3);
    expect(toneAmplitude(audio.channels[1], 8000, 1500)).toBeCloseTo(0.25, 3);
  });

  it('scales integer PCM like libsndfile (code / 2^(bits-1)), as librosa.load does', async () => {
    const codes = [0.5, -0.5, 1, -1, 1 / 32767];
    const audio = await decodeAudio(encodeWav(Float32Array.from(codes), 8000, { bitDepth: 16 }), { minDurationSeconds: 0 });
    expect(Array.from(audio.channels[0])).toEqual([16384 / 32768, -16384 / 32768, 32767 / 32768, -32767 / 32768, 1 / 32768]);
  });

  it('reads 16-bit PCM behind the canonical header directly, to the bit of audio-decode\'s codec + libsndfile scaling, and other layouts through the codec', async () => {
    // Every 16-bit code, in 3 channels; the data size is not a whole number of frames.
    const codes = Int16Array.from({ length: 3 * 65536 }, (_, i) => (((i * 7919) % 65536) - 32768));
    const canonical = encodeWav(new Float32Array(codes.length), 8000, { bitDepth: 16, channels: 3 });
    codes.forEach((c, i) => new DataView(canonical.buffer).setInt16(44 + 2 * i, c, true));
    const cut = canonical.slice(0, canonical.length - 3);
    new DataView(cut.buffer).setUint32(40, cut.length - 44, true);
    // At an odd offset of a larger buffer; and with a LIST chunk before the data (the codec's path, same samples).
    const odd = new Uint8Array(cut.length + 1).fill(7).subarray(1);
    odd.set(cut);
    const list = new Uint8Array(cut.length + 12);
    list.set(cut.subarray(0, 36));
    list.set([0x4c, 0x49, 0x53, 0x54, 4, 0, 0, 0, 0x49, 0x4e, 0x46, 0x4f], 36); // 'LIST', 4 bytes, 'INFO'
    list.set(cut.subarray(36), 48);
    new DataView(list.buffer).setUint32(4, list.length - 8, true);
    const codec = decodeWav(cut).channelData.map((ch) => Float32Array.from(ch, (v) => (v > 0 ? Math.round(v * 32767) / 32768 : v)));
    expect(codec[0]).toHaveLength(65536 - 1); // the cut frame is dropped
    for (const bytes of [cut, odd, list]) {
      const audio = await decodeAudio(bytes, { minDurationSeconds: 0 });
      expect(audio.channels.map((ch) => Array.from(ch))).toEqual(codec.map((ch) => Array.from(ch)));
    }
    expect(Math.min(...codec[0]) * 32768).toBe(-32768);
  });

  it('accepts an ArrayBuffer', async () => {
    const bytes = encodeWav(x, 16000, { bitDepth: 16 });
    const copy = new ArrayBuffer(bytes.byteLength);
    new Uint8Array(copy).set(bytes);
    const audio = await decodeAudio(copy);
    expect(audio.channels[0]).toHaveLength(x.length);
  });

  it('encodeWav rejects impossible requests', () => {
    expect(() => encodeWav(x, 16000, { bitDepth: 16, float: true })).toThrow(/bitDepth 32/);
    expect(() => encodeWav(x, 16000, { bitDepth: 12 as WavBitDepth })).toThrow(/bit depth/);
    expect(() => encodeWav(new Float32Array(3), 16000, { bitDepth: 16, channels: 2 })).toThrow(/whole number/);
    expect(() => encodeWav(x, 0, { bitDepth: 16 })).toThrow(/sampleRate/);
  });
});

describe('compressed formats (tests/fixtures/formats)', () => {
  const cases = [
    { file: 'tone.mp3', rate: 44100, channels: 1 },
    { file: 'tone.flac', rate: 16000, channels: 1 },
    { file: 'tone_stereo.ogg', rate: 22050, channels: 2 },
    { file: 'tone.opus', rate: 48000, channels: 1 },
    { file: 'tone.webm', rate: 48000, channels: 1 },
    { file: 'tone_stereo.m4a', rate: 44100, channels: 2 },
  ];
  for (const c of cases) {
    it(`${c.file}: ${c.channels} channel(s) at ${c.rate} Hz, 1 s, tones where they were put`, async () => {
      const audio = await decodeAudio(fixture(c.file));
      expect(audio.sampleRate).toBe(c.rate);
      expect(audio.channels).toHaveLength(c.channels);
      expect(audio.duration).toBeGreaterThan(0.95);
      expect(audio.duration).toBeLessThan(1.1);
      const [first, second] = audio.channels;
      if (c.channels === 1) {
        // 0.5 sin(440) + 0.25 sin(1500); lossy codecs keep tones this loud within a few percent.
        expect(toneAmplitude(first, c.rate, 440)).toBeCloseTo(0.5, 1);
        expect(toneAmplitude(first, c.rate, 1500)).toBeCloseTo(0.25, 1);
        expect(toneAmplitude(first, c.rate, 5000)).toBeLessThan(0.01);
      } else {
        // left 0.5 sin(440), right 0.25 sin(1500)
        expect(toneAmplitude(first, c.rate, 440)).toBeCloseTo(0.5, 1);
        expect(toneAmplitude(first, c.rate, 1500)).toBeLessThan(0.02);
        expect(toneAmplitude(second, c.rate, 1500)).toBeCloseTo(0.25, 1);
        expect(toneAmplitude(second, c.rate, 440)).toBeLessThan(0.02);
      }
    });
  }

  for (const c of cases) {
    it(`${c.file} cut to 60% -> corrupt`, async () => {
      const bytes = fixture(c.file);
      await expectCode(bytes.subarray(0, Math.floor(bytes.length * 0.6)), 'corrupt', /cut off|damaged/);
    });
  }
});

describe('bad input -> typed AudioError', () => {
  const wav = encodeWav(tone(22050, 1, [[0.5, 440]]), 22050, { bitDepth: 16 });

  it('empty bytes -> empty', async () => {
    await expectCode(new Uint8Array(0), 'empty', /empty/);
    await expectCode(new ArrayBuffer(0), 'empty', /empty/);
  });

  it('random bytes -> unsupported_format', async () => {
    let seed = 12345;
    const random = Uint8Array.from({ length: 4096 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24) & 0xff);
    random[0] = 0x00; // not an MPEG sync by chance
    await expectCode(random, 'unsupported_format', /Unrecognised audio format.*Supported/);
    await expectCode(new TextEncoder().encode('hello, this is a text file, not audio'), 'unsupported_format', /Unrecognised/);
  });

  it('truncated WAV (cut inside the samples) -> corrupt', async () => {
    await expectCode(wav.subarray(0, 20000), 'corrupt', /WAV.*declares 44100 bytes but only 19956 are present/);
  });

  it('WAV cut inside its header -> corrupt', async () => {
    await expectCode(wav.subarray(0, 30), 'corrupt', /WAV.*header is incomplete/);
  });

  it('header-only WAV (no samples) -> empty', async () => {
    await expectCode(encodeWav(new Float32Array(0), 22050, { bitDepth: 16 }), 'empty', /header but no audio/);
  });

  it('WAV whose samples are NaN -> corrupt', async () => {
    const x = tone(8000, 0.5, [[0.5, 440]]);
    x[100] = NaN;
    await expectCode(encodeWav(x, 8000, { bitDepth: 32, float: true }), 'corrupt', /non-finite/);
  });

  it('WAV with an encoding audio-decode does not know -> unsupported_format', async () => {
    const odd = encodeWav(tone(8000, 0.5, [[0.5, 440]]), 8000, { bitDepth: 16 });
    new DataView(odd.buffer).setUint16(20, 0x55, true); // WAVE_FORMAT_MPEGLAYER3 inside RIFF
    await expectCode(odd, 'unsupported_format', /Unsupported WAV/);
  });

  it('truncated MP3 -> corrupt, though audio-decode alone returns the partial audio', async () => {
    const mp3 = fixture('tone.mp3');
    await expectCode(mp3.subarray(0, Math.floor(mp3.length / 2)), 'corrupt', /MP3.*cut off/);
  });

  it('MP3 frame header followed by garbage -> corrupt', async () => {
    const mp3 = fixture('tone.mp3');
    const junk = new Uint8Array(4000);
    junk.set(mp3.subarray(0, 600));
    for (let i = 600; i < junk.length; i++) junk[i] = (i * 7919) % 251;
    await expectCode(junk, 'corrupt', /MP3/);
  });

  it('FLAC header only -> corrupt', async () => {
    const flac = fixture('tone.flac');
    await expectCode(flac.subarray(0, 42), 'corrupt', /FLAC/);
  });

  it('too long -> too_long (checked from the WAV header before decoding, and after decoding otherwise)', async () => {
    await expectCode(wav, 'too_long', /1\.00 s long; the limit is 0\.5 s/, { maxDurationSeconds: 0.5 });
    await expectCode(fixture('tone.mp3'), 'too_long', /limit is 0\.5 s/, { maxDurationSeconds: 0.5 });
  });

  it('too short -> too_short', async () => {
    const blip = encodeWav(tone(22050, 0.05, [[0.5, 440]]), 22050, { bitDepth: 16 });
    await expectCode(blip, 'too_short', /0\.050 s long; at least 0\.1 s/);
    const audio = await decodeAudio(blip, { minDurationSeconds: 0.01 });
    expect(audio.channels[0]).toHaveLength(1103);
  });
});
