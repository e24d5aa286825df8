/**
 * Audio inputs for the fuzz suite: a seed corpus of valid files (the project's own encoders and
 * tests/fixtures/formats, all synthetic), byte-level mutations of them, WAV headers written field by field, and the
 * decode bombs of issue 14 with their cousins in the other containers. Everything is a pure function of the Rng.
 */
import { readFileSync } from 'node:fs';
import { encodeWav } from '../../shared/audio/index.ts';
import type { Rng } from '../../shared/training/random.ts';
import { encodeMp3 } from '../../cli/encodings.ts';
import { backgroundLike, screamLike } from '../helpers/synth.ts';
import { pcm8Bomb, rawWav, ulawBomb } from '../helpers/raw-wav.ts';
import { concat } from '../helpers/raw-zip.ts';

export interface Seed {
  name: string;
  bytes: Uint8Array;
}

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/formats/${name}`, import.meta.url)));

/** Valid files, one per format and WAV layout; short (≤ 1 s) so a mutation that still decodes costs little. */
export async function audioCorpus(): Promise<Seed[]> {
  const scream = screamLike(1, 7, 16_000);
  const room = backgroundLike(0.5, 8, 22_050);
  const stereo = new Float32Array(2 * 11_025).map((_, i) => 0.3 * Math.sin(i / 7));
  return [
    { name: 'wav16-16k', bytes: encodeWav(scream, 16_000, { bitDepth: 16 }) },
    { name: 'wav8-22k', bytes: encodeWav(room, 22_050, { bitDepth: 8 }) },
    { name: 'wav24-stereo-44k', bytes: encodeWav(stereo, 44_100, { bitDepth: 24, channels: 2 }) },
    { name: 'wav32f-48k', bytes: encodeWav(screamLike(0.5, 9, 48_000), 48_000, { bitDepth: 32, float: true }) },
    { name: 'mp3-lamejs', bytes: await encodeMp3(screamLike(1, 10, 44_100), 44_100) },
    ...['tone.mp3', 'tone.flac', 'tone.opus', 'tone.webm', 'tone_stereo.m4a', 'tone_stereo.ogg'].map((n) => ({ name: n, bytes: fixture(n) })),
  ];
}

const INTERESTING_32 = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

function interesting32(rng: Rng): number {
  return rng.uniform() < 0.7 ? rng.choice(INTERESTING_32) : rng.int(0, 0xffffffff);
}

/** An offset biased to the first 256 bytes, where headers live. */
function offsetIn(rng: Rng, length: number): number {
  if (length <= 1) return 0;
  return rng.uniform() < 0.6 ? rng.int(0, Math.min(255, length - 1)) : rng.int(0, length - 1);
}

type Mutator = (rng: Rng, b: Uint8Array, corpus: readonly Seed[]) => Uint8Array;

const MUTATORS: Record<string, Mutator> = {
  bitflip(rng, b) {
    const out = b.slice();
    for (let k = rng.int(1, 32); k > 0 && out.length > 0; k--) out[offsetIn(rng, out.length)] ^= 1 << rng.int(0, 7);
    return out;
  },
  byte(rng, b) {
    const out = b.slice();
    for (let k = rng.int(1, 8); k > 0 && out.length > 0; k--) out[offsetIn(rng, out.length)] = rng.choice([0, 0xff, 0x7f, 0x80, rng.int(0, 255)]);
    return out;
  },
  int32(rng, b) {
    const out = b.slice();
    if (out.length < 4) return out;
    const v = new DataView(out.buffer);
    for (let k = rng.int(1, 3); k > 0; k--) {
      const at = Math.min(offsetIn(rng, out.length), out.length - 4);
      if (rng.uniform() < 0.5) v.setUint32(at, interesting32(rng), rng.uniform() < 0.7);
      else v.setUint16(at, interesting32(rng) & 0xffff, rng.uniform() < 0.7);
    }
    return out;
  },
  truncate(rng, b) {
    return b.slice(0, rng.uniform() < 0.5 ? rng.int(0, Math.min(b.length, 128)) : rng.int(0, b.length));
  },
  cut(rng, b) {
    const from = rng.int(0, b.length);
    const to = Math.min(b.length, from + rng.int(1, 4096));
    return concat([b.subarray(0, from), b.subarray(to)]);
  },
  insert(rng, b) {
    const at = offsetIn(rng, b.length + 1);
    const junk = new Uint8Array(rng.int(1, 2048)).map(() => rng.int(0, 255));
    return concat([b.subarray(0, at), junk, b.subarray(at)]);
  },
  repeat(rng, b) {
    // A block copied many times over: frame and page walkers meet the same header again and again.
    const from = offsetIn(rng, b.length);
    const block = b.subarray(from, Math.min(b.length, from + rng.int(4, 512)));
    return concat([b, ...Array.from({ length: rng.int(2, 200) }, () => block)]);
  },
  splice(rng, b, corpus) {
    // One format's head on another's body.
    const other = rng.choice(corpus).bytes;
    return concat([b.subarray(0, rng.int(0, Math.min(b.length, 512))), other.subarray(rng.int(0, other.length))]);
  },
};

export function mutate(rng: Rng, bytes: Uint8Array, corpus: readonly Seed[]): { bytes: Uint8Array; ops: string[] } {
  const ops: string[] = [];
  let out = bytes;
  for (let k = rng.int(1, 3); k > 0; k--) {
    const op = rng.choice(Object.keys(MUTATORS));
    ops.push(op);
    out = MUTATORS[op](rng, out, corpus);
  }
  return { bytes: out, ops };
}

/** A WAV whose every header field is drawn from values that break readers (formats, channels, rates, sizes, chunks). */
export function wavHeaderFuzz(rng: Rng): Uint8Array {
  const formatTag = rng.choice([1, 1, 3, 3, 6, 7, 2, 0x11, 0x55, 0xfffe, 0, rng.int(0, 0xffff)]);
  const channels = rng.choice([0, 1, 2, 8, 9, 255, 4096, 65535, rng.int(0, 0xffff)]);
  const bits = rng.choice([0, 1, 4, 8, 12, 16, 20, 24, 32, 48, 64, 65535]);
  const sampleRate = rng.choice([0, 1, 999, 1000, 8000, 22050, 384_000, 384_001, 0x7fffffff, 0xffffffff, rng.int(0, 0xffffffff)]);
  const blockAlign = rng.choice([0, 1, 2, Math.max(1, (channels * bits) >> 3) & 0xffff, 0xffff, rng.int(0, 0xffff)]);
  const payload = rng.choice([0, 1, 3, 44, 1000, 8192, rng.int(0, 64 * 1024)]);
  const dataSize = rng.choice([0, payload, payload + 1, payload * 2, 0x7fffffff, 0xffffffff, rng.int(0, 0xffffffff)]);
  const extension = formatTag === 2 || formatTag === 0x11 || formatTag === 0xfffe ? Array.from({ length: rng.choice([2, 4, 22, 32]) }, () => rng.int(0, 255)) : undefined;
  const wav = rawWav({ formatTag, channels, sampleRate, blockAlign, bits, dataSize, payload, ...(extension ? { extension } : {}) });
  if (rng.uniform() < 0.25) return chunkShuffle(rng, wav);
  return wav;
}

/** Chunk-level oddities: a huge or odd-sized chunk before fmt, data before fmt, fmt twice, a RIFF size that lies. */
function chunkShuffle(rng: Rng, wav: Uint8Array): Uint8Array {
  const head = wav.subarray(0, 12);
  const fmt = wav.subarray(12, 36);
  const rest = wav.subarray(36);
  const chunk = (id: string, size: number, body: number) => {
    const c = new Uint8Array(8 + body);
    [...id].forEach((ch, i) => (c[i] = ch.charCodeAt(0)));
    new DataView(c.buffer).setUint32(4, size >>> 0, true);
    return c;
  };
  const variant = rng.int(0, 4);
  const out =
    variant === 0 ? concat([head, chunk('LIST', 0xfffffff0, 16), fmt, rest])
    : variant === 1 ? concat([head, rest, fmt])
    : variant === 2 ? concat([head, fmt, fmt, rest])
    : variant === 3 ? concat([head, chunk('junk', rng.int(0, 99), rng.int(0, 99)), fmt, rest])
    : concat([head, fmt, chunk('data', 0, 0), rest]);
  new DataView(out.buffer).setUint32(4, rng.choice([0, 4, out.length - 8, 0xffffffff]), true);
  return out;
}

/** Writes `value` (little- or big-endian, `width` bytes) `offset` bytes after each occurrence of `marker`. */
function patchAfter(b: Uint8Array, marker: string, offset: number, value: number, width: 1 | 2 | 4, littleEndian = false): Uint8Array {
  const out = b.slice();
  const m = [...marker].map((c) => c.charCodeAt(0));
  for (let i = 0; i + m.length <= out.length; i++) {
    if (m.every((c, k) => out[i + k] === c)) {
      const at = i + offset;
      if (at + width > out.length) continue;
      const v = new DataView(out.buffer);
      if (width === 1) v.setUint8(at, value & 0xff);
      else if (width === 2) v.setUint16(at, value & 0xffff, littleEndian);
      else v.setUint32(at, value >>> 0, littleEndian);
    }
  }
  return out;
}

function floatWav(values: number[], frames: number, bits: 32 | 64 = 32): Uint8Array {
  const bytesPer = bits / 8;
  const wav = rawWav({ formatTag: 3, channels: 1, sampleRate: 16_000, blockAlign: bytesPer, bits, dataSize: frames * bytesPer, payload: frames * bytesPer });
  const v = new DataView(wav.buffer);
  for (let i = 0; i < frames; i++) {
    const x = values[i % values.length];
    if (bits === 32) v.setFloat32(44 + i * 4, x, true);
    else v.setFloat64(44 + i * 8, x, true);
  }
  return wav;
}

/**
 * The bombs: issue 14's three WAVs exactly, then their relatives: every declared quantity at its extreme in each
 * container the service reads. Each is small (≤ 1 MiB): the danger is in what it claims, not in its size.
 */
export function bombs(corpus: readonly Seed[]): Record<string, () => Uint8Array> {
  const seed = (name: string) => corpus.find((s) => s.name === name)!.bytes;
  return {
    'ulaw-65535ch': () => ulawBomb(),
    'pcm8-4096ch': () => pcm8Bomb(),
    'pcm8-4096ch-align4096': () => pcm8Bomb(4096),
    'float-1e38': () => floatWav([1e38, -1e38], 16_000),
    'float-max': () => floatWav([3.4e38, -3.4e38, 0], 16_000),
    'float-nan-inf': () => floatWav([NaN, Infinity, -Infinity, 0.5], 16_000),
    'float64-1e300': () => floatWav([1e300, -1e300], 16_000, 64),
    'float-denormal': () => floatWav([1e-45, -1e-45], 16_000),
    'pcm16-declares-300MB': () => rawWav({ formatTag: 1, channels: 1, sampleRate: 384_000, blockAlign: 2, bits: 16, dataSize: 300e6, payload: 64 }),
    'pcm8-8ch-384k-read-to-end': () => rawWav({ formatTag: 1, channels: 8, sampleRate: 384_000, blockAlign: 8, bits: 8, dataSize: 0xffffffff, payload: 1024 * 1024 }),
    'pcm8-1000Hz-1MB': () => rawWav({ formatTag: 1, channels: 1, sampleRate: 1000, blockAlign: 1, bits: 8, dataSize: 0xffffffff, payload: 1024 * 1024 }),
    'pcm16-1Hz': () => rawWav({ formatTag: 1, channels: 1, sampleRate: 1, blockAlign: 2, bits: 16, dataSize: 0xffffffff, payload: 32 * 1024 }),
    'ima-adpcm-huge-block': () => rawWav({ formatTag: 0x11, channels: 8, sampleRate: 8000, blockAlign: 0xffff, bits: 4, dataSize: 0xffffffff, payload: 32 * 1024, extension: [2, 0, 0xff, 0xff] }),
    'ms-adpcm-65535ch': () => rawWav({ formatTag: 2, channels: 65535, sampleRate: 8000, blockAlign: 1, bits: 4, dataSize: 0xffffffff, payload: 32 * 1024, extension: [32, 0, 0xf4, 0x07] }),
    'extensible-65535ch': () => rawWav({ formatTag: 0xfffe, channels: 65535, sampleRate: 48_000, blockAlign: 1, bits: 8, dataSize: 0xffffffff, payload: 32 * 1024, extension: [22, 0, 8, 0, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71] }),
    // FLAC STREAMINFO (big-endian, 8 bytes into the file + 10): 20-bit rate, 3-bit channels-1, 5-bit bps-1, 36-bit total.
    'flac-streaminfo-max': () => patchAfter(patchAfter(seed('tone.flac'), 'fLaC', 18, 0xfffff1ff, 4), 'fLaC', 22, 0xffffffff, 4),
    'flac-blocksize-max': () => patchAfter(seed('tone.flac'), 'fLaC', 8, 0xffffffff, 4),
    'mp3-id3-size-lie': () => patchAfter(seed('tone.mp3'), 'ID3', 6, 0x7f7f7f7f, 4),
    'mp3-xing-frames-max': () => patchAfter(patchAfter(seed('mp3-lamejs'), 'Info', 8, 0xffffffff, 4), 'Xing', 8, 0xffffffff, 4),
    'opus-head-255ch': () => patchAfter(seed('tone.opus'), 'OpusHead', 9, 255, 1),
    'opus-head-rate-max': () => patchAfter(seed('tone.opus'), 'OpusHead', 12, 0xffffffff, 4, true),
    'vorbis-ident-255ch-rate-max': () => patchAfter(patchAfter(seed('tone_stereo.ogg'), '\x01vorbis', 11, 255, 1), '\x01vorbis', 12, 0xffffffff, 4, true),
    'ogg-granule-max': () => patchAfter(patchAfter(seed('tone_stereo.ogg'), 'OggS', 6, 0xffffffff, 4), 'OggS', 10, 0x7fffffff, 4),
    'mp4-stsz-count-max': () => patchAfter(seed('tone_stereo.m4a'), 'stsz', 12, 0xffffffff, 4),
    'mp4-stts-delta-max': () => patchAfter(patchAfter(seed('tone_stereo.m4a'), 'stts', 12, 0xffffffff, 4), 'stts', 16, 0xffffffff, 4),
    'mp4-mdhd-timescale-1': () => patchAfter(seed('tone_stereo.m4a'), 'mdhd', 16, 1, 4),
    'mp4-box-size-0': () => patchAfter(seed('tone_stereo.m4a'), 'moov', -4, 0, 4),
    'mp4-box-size-64bit': () => patchAfter(seed('tone_stereo.m4a'), 'mdat', -4, 1, 4),
    'webm-unknown-sizes': () => patchAfter(seed('tone.webm'), '\x18\x53\x80\x67', 4, 0x01ffffff, 4),
  };
}

