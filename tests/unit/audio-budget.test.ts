/**
 * The decode budget (config DECODE): every bound refuses its input with its error code before decoding where the
 * container says enough, after otherwise; the two WAV bombs of issue 14 are made here, byte by byte. Codes are
 * asserted, never timings: a bomb that got decoded would still fail these tests by its missing error.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyse, AudioError, decodeAudio, encodeWav, type AudioErrorCode } from '../../shared/audio/index.js';
import { inspectContainer } from '../../shared/audio/container.js';
import { DECODE } from '../../shared/config.js';
import { pcm8Bomb, rawWav, ulawBomb } from '../helpers/raw-wav.ts';

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/formats/${name}`, import.meta.url)));

async function codeOf(run: Promise<unknown>): Promise<AudioErrorCode> {
  const err = await run.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'expected an AudioError').toBeInstanceOf(AudioError);
  return (err as AudioError).code;
}

describe('the WAV bombs of issue 14', () => {
  it('μ-law, 65,535 channels, 1-byte frames, "read to the end" (32 KB) -> too_many_channels, before decoding', async () => {
    const bomb = ulawBomb();
    expect(bomb.length).toBe(32 * 1024);
    expect(await codeOf(decodeAudio(bomb))).toBe('too_many_channels');
    expect(await codeOf(analyse(bomb))).toBe('too_many_channels');
  });

  it('8-bit PCM, 4,096 channels (1-byte frames, or frames as declared) -> too_many_channels', async () => {
    expect(await codeOf(decodeAudio(pcm8Bomb()))).toBe('too_many_channels');
    expect(await codeOf(decodeAudio(pcm8Bomb(4096)))).toBe('too_many_channels');
  });
});

describe('WAV bounds', () => {
  const pcm16 = (channels: number, sampleRate: number, seconds = 0.2) =>
    encodeWav(new Float32Array(Math.round(sampleRate * seconds) * channels).fill(0.25), sampleRate, { bitDepth: 16, channels });

  it(`channels: ${DECODE.maxChannels} decode, ${DECODE.maxChannels + 1} -> too_many_channels`, async () => {
    expect((await decodeAudio(pcm16(DECODE.maxChannels, 8000))).channels).toHaveLength(DECODE.maxChannels);
    expect(await codeOf(decodeAudio(pcm16(DECODE.maxChannels + 1, 8000)))).toBe('too_many_channels');
  });

  it(`sample rate: ${DECODE.minSampleRate}-${DECODE.maxSampleRate} Hz decode, outside -> unsupported_sample_rate`, async () => {
    expect((await decodeAudio(pcm16(1, DECODE.minSampleRate))).sampleRate).toBe(DECODE.minSampleRate);
    expect((await decodeAudio(pcm16(1, DECODE.maxSampleRate))).sampleRate).toBe(DECODE.maxSampleRate);
    expect(await codeOf(decodeAudio(pcm16(1, DECODE.minSampleRate - 1)))).toBe('unsupported_sample_rate');
    expect(await codeOf(decodeAudio(pcm16(1, DECODE.maxSampleRate + 1)))).toBe('unsupported_sample_rate');
    const zeroRate = pcm16(1, 8000);
    new DataView(zeroRate.buffer).setUint32(24, 0, true);
    expect(await codeOf(decodeAudio(zeroRate))).toBe('unsupported_sample_rate');
  });

  it('bytes per frame: a block align that does not hold every channel -> corrupt', async () => {
    const stereo = pcm16(2, 8000);
    new DataView(stereo.buffer).setUint16(32, 2, true); // 2-byte frames for two 16-bit channels
    const err = await decodeAudio(stereo).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(AudioError);
    expect(err).toMatchObject({ code: 'corrupt', message: expect.stringMatching(/2-byte frames, but 2 channel\(s\) of 16-bit samples take 4/) });
  });

  it('declared vs present: fewer bytes than declared -> corrupt; "read to the end" decodes what is there', async () => {
    const wav = pcm16(1, 8000, 1);
    expect(await codeOf(decodeAudio(wav.subarray(0, 4000)))).toBe('corrupt');
    const open = wav.slice();
    new DataView(open.buffer).setUint32(40, 0xffffffff, true);
    expect((await decodeAudio(open)).channels[0]).toHaveLength(8000);
    // The length limit applies to what is present when nothing is declared.
    expect(await codeOf(decodeAudio(open, { maxDurationSeconds: 0.5 }))).toBe('too_long');
  });

  it(`decoded size over the budget (${DECODE.maxDecodedSamples} samples) -> too_large, from the header alone`, async () => {
    // 16-bit mono at 384 kHz declaring 300 MB: 150 M samples, 390 s (within the length limit); 64 bytes present.
    const header = rawWav({ formatTag: 1, channels: 1, sampleRate: 384_000, blockAlign: 2, bits: 16, dataSize: 300e6, payload: 64 });
    expect(await codeOf(decodeAudio(header))).toBe('too_large');
    expect(await codeOf(decodeAudio(pcm16(2, 8000), { maxDecodedSamples: 3000 }))).toBe('too_large');
    expect((await decodeAudio(pcm16(2, 8000), { maxDecodedSamples: 3200 })).channels).toHaveLength(2);
  });

  it('ADPCM claiming more samples per block than the block holds -> corrupt', async () => {
    // IMA ADPCM, mono, 256-byte blocks (at most 505 samples each), cbSize 2, samples per block 65535.
    const wav = rawWav({ formatTag: 0x11, channels: 1, sampleRate: 8000, blockAlign: 256, bits: 4, dataSize: 2560, payload: 2560, extension: [2, 0, 0xff, 0xff] });
    expect(await codeOf(decodeAudio(wav))).toBe('corrupt');
  });

  it('a float WAV of ±1e38 decodes (finite) but its analysis is refused -> invalid_samples', async () => {
    const x = Float32Array.from({ length: 16000 }, (_, i) => (i % 2 ? 1e38 : -1e38));
    const wav = encodeWav(x, 16000, { bitDepth: 32, float: true });
    expect((await decodeAudio(wav)).channels[0][1]).toBeCloseTo(1e38, -32);
    expect(await codeOf(analyse(wav))).toBe('invalid_samples');
    // The Kaldi front end (the shipped model's) keeps such a spectrogram finite: the samples themselves are refused.
    expect(await codeOf(analyse(wav, { frontEnd: 'kaldi' }))).toBe('invalid_samples');
    // A float file that overshoots ±1 a little (a clipped master) is still audio.
    const loud = Float32Array.from({ length: 16000 }, (_, i) => 1.5 * Math.sin(i / 5));
    expect((await analyse(encodeWav(loud, 16000, { bitDepth: 32, float: true }), { frontEnd: 'kaldi' })).windows.length).toBe(1);
  });
});

describe('compressed formats: the budget from container info, and on the decoded output', () => {
  const formats = ['tone.mp3', 'tone.flac', 'tone_stereo.ogg', 'tone.opus', 'tone_stereo.m4a', 'tone.webm'];

  it('every fixture over a small budget -> too_large (WebM on its decoded output)', async () => {
    for (const f of formats) expect(await codeOf(decodeAudio(fixture(f), { maxDecodedSamples: 10_000 })), f).toBe('too_large');
  });

  it('the container info bounds what the decoder produces', async () => {
    for (const f of formats) {
      const bytes = fixture(f);
      const info = inspectContainer(bytes)!;
      const audio = await decodeAudio(bytes);
      expect(info.channels, f).toBe(audio.channels.length);
      if (f === 'tone.webm') continue; // clusters are not walked: checked on the output
      expect(info.maxFrames!, f).toBeGreaterThanOrEqual(audio.channels[0].length);
      expect(info.maxFrames!, f).toBeLessThan(1.1 * audio.channels[0].length);
    }
  });

  /** Sets bytes at the first occurrence of `marker` + offset (the fixtures' headers, not their samples). */
  function patched(name: string, marker: string, offset: number, bytes: number[]): Uint8Array {
    const b = fixture(name);
    const at = Buffer.from(b).indexOf(marker, 0, 'latin1');
    expect(at, `${marker} in ${name}`).toBeGreaterThanOrEqual(0);
    bytes.forEach((x, i) => (b[at + offset + i] = x));
    return b;
  }

  it('a header declaring more channels than allowed -> too_many_channels (Vorbis, Opus, MP4, WebM)', async () => {
    expect(await codeOf(decodeAudio(patched('tone_stereo.ogg', 'vorbis', 10, [200])))).toBe('too_many_channels');
    expect(await codeOf(decodeAudio(patched('tone.opus', 'OpusHead', 9, [200])))).toBe('too_many_channels');
    expect(await codeOf(decodeAudio(patched('tone_stereo.m4a', 'mp4a', 20, [0, 200])))).toBe('too_many_channels');
    expect(await codeOf(decodeAudio(patched('tone.webm', '\x9f\x81\x01', 2, [200])))).toBe('too_many_channels');
  });

  it('a Vorbis header declaring 500 Hz -> unsupported_sample_rate', async () => {
    expect(await codeOf(decodeAudio(patched('tone_stereo.ogg', 'vorbis', 11, [0xf4, 0x01, 0, 0])))).toBe('unsupported_sample_rate');
  });

  it('a FLAC bomb (13-byte frames of 65,535 constant samples, no total declared) -> too_large before decoding', async () => {
    const streaminfo = [0x80, 0, 0, 34, 0x10, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0x01, 0xf4, 0x00, 0xf0, 0, 0, 0, 0, ...new Array(16).fill(0)];
    const frames: number[] = [];
    for (let n = 0; n < 2000; n++) {
      // Header: sync, 16-bit block size follows (65535), rate and sample size from STREAMINFO, mono, frame number.
      const header = [0xff, 0xf8, 0x70, 0x00, ...(n < 128 ? [n] : [0xc0 | (n >> 6), 0x80 | (n & 0x3f)]), 0xff, 0xfe];
      let crc = 0;
      for (const x of header) {
        crc ^= x;
        for (let k = 0; k < 8; k++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
      }
      frames.push(...header, crc, 0x00, 0x00, 0x00, 0x00, 0x00); // constant subframe of 0, CRC-16 (never read)
    }
    const bomb = Uint8Array.from([0x66, 0x4c, 0x61, 0x43, ...streaminfo, ...frames]);
    expect(bomb.length).toBeLessThan(32 * 1024);
    expect(inspectContainer(bomb)!.maxFrames).toBe(2000 * 65535);
    expect(await codeOf(decodeAudio(bomb))).toBe('too_large');
  });

  it('formats outside the supported list are refused, not handed to other decoders -> unsupported_format', async () => {
    const aiff = new Uint8Array(64);
    aiff.set([0x46, 0x4f, 0x52, 0x4d, 0, 0, 0, 56, 0x41, 0x49, 0x46, 0x46]); // FORM....AIFF
    expect(await codeOf(decodeAudio(aiff))).toBe('unsupported_format');
  });
});
