/**
 * Dataset zips for the fuzz suite, written field by field (tests/helpers/raw-zip.ts) so sizes, offsets, counts and
 * names can lie: the hostile archives (bombs by ratio, by count, by overlap; traversal, symlinks,
 * encryption, nesting, truncated or lying central directories) and mutations of one valid dataset.
 */
import { deflateSync, strToU8, zipSync } from 'fflate';
import type { Rng } from '../../shared/training/random.ts';
import { concat, crc32, entry, writeZip, type RawEntry } from '../helpers/raw-zip.ts';
import { mutate, type Seed } from './audio.ts';

/** Deflated zeros, made once per size: the bombs' payloads. */
const zeroCache = new Map<number, { data: Uint8Array; crc: number }>();
function deflatedZeros(size: number): { data: Uint8Array; crc: number } {
  let hit = zeroCache.get(size);
  if (!hit) {
    const zeros = new Uint8Array(size);
    hit = { data: deflateSync(zeros, { level: 9 }), crc: crc32(zeros) };
    zeroCache.set(size, hit);
  }
  return hit;
}

function zerosEntry(name: string, size: number, more: Partial<RawEntry> = {}): RawEntry {
  const z = deflatedZeros(size);
  return { name, data: z.data, method: 8, crc: z.crc, uncompressedSize: size, ...more };
}

const MiB = 1024 * 1024;

/** One small dataset that intake accepts: two clips per label and a manifest. */
export function validDataset(corpus: readonly Seed[]): Uint8Array {
  const pick = (n: string) => corpus.find((s) => s.name === n)!.bytes;
  return zipSync({
    'set/manifest.csv': strToU8('file,subclass,group,source\ndanger/a.wav,scream,r1,synth\nsafe/c.wav,room,r2,synth\n'),
    'set/danger/a.wav': pick('wav16-16k'),
    'set/danger/b.mp3': pick('tone.mp3'),
    'set/safe/c.wav': pick('wav8-22k'),
    'set/safe/d.flac': pick('tone.flac'),
  });
}

/** The hostile archives by name; each is a function of the Rng so its variants are reproducible. */
export function hostileZips(corpus: readonly Seed[]): Record<string, (rng: Rng) => Uint8Array> {
  const wav = corpus.find((s) => s.name === 'wav16-16k')!.bytes;
  const valid = validDataset(corpus);
  return {
    // Declared honestly, inflates far past the ratio a recording has.
    'bomb-ratio': (rng) => writeZip([zerosEntry('safe/a.wav', rng.choice([2, 8, 64, 100, 101]) * MiB), entry('danger/b.wav', wav)]),
    // Declares a small size, inflates to far more: only counting while inflating catches it.
    'bomb-size-lie': (rng) => writeZip([zerosEntry('safe/a.wav', rng.choice([16, 100, 200]) * MiB, { uncompressedSize: rng.choice([0, 1000, MiB]) }), entry('danger/b.wav', wav)]),
    // Entries just under the per-entry ratio check (1 MiB), many of them: the total is what must hold.
    'bomb-many-small': (rng) => writeZip(Array.from({ length: rng.int(16, 1024) }, (_, i) => zerosEntry(`${i % 2 ? 'safe' : 'danger'}/${i}.wav`, MiB))),
    // Fifield's overlapping bomb: every central entry points at one local entry.
    'bomb-overlap': (rng) => {
      const n = rng.int(2, 2048);
      const first = zerosEntry('safe/0.wav', MiB);
      return writeZip([first, ...Array.from({ length: n }, (_, i) => ({ ...first, name: `${i % 2 ? 'safe' : 'danger'}/${i + 1}.wav`, sharesLocalOf: 0 }))]);
    },
    'many-entries-over': () => writeZip(Array.from({ length: 20_001 }, (_, i) => entry(`safe/${i}.txt`, new Uint8Array()))),
    'many-entries-under': (rng) => writeZip(Array.from({ length: rng.int(1000, 5000) }, (_, i) => entry(`${i % 2 ? 'safe' : 'danger'}/${i}.wav`, new Uint8Array([i & 0xff])))),
    'count-lie': (rng) => writeZip([entry('safe/a.wav', wav), entry('danger/b.wav', wav)], { entryCount: rng.choice([0, 1, 3, 0xffff]) }),
    traversal: (rng) => {
      const name = rng.choice(['../danger/a.wav', 'safe/../../a.wav', '/etc/danger/a.wav', 'C:\\danger\\a.wav', 'safe\\..\\..\\a.wav', 'safe/./../../x.wav', '..', 'safe/\u0000a.wav', '//server/share/a.wav']);
      return writeZip([entry(name, wav), entry('danger/b.wav', wav)]);
    },
    'long-name': (rng) => writeZip([entry(`safe/${'a'.repeat(rng.choice([255, 4096, 65_000]))}.wav`, wav), entry('danger/b.wav', wav)]),
    'bad-utf8-name': () => writeZip([entry(new Uint8Array([0x73, 0x61, 0x66, 0x65, 0x2f, 0xc3, 0x28, 0xff, 0x2e, 0x77, 0x61, 0x76]), wav, false, { flags: 0x800 }), entry('danger/b.wav', wav)]),
    symlink: () => writeZip([entry('safe/a.wav', strToU8('/etc/passwd'), false, { versionMadeBy: 0x031e, externalAttributes: (0o120777 << 16) >>> 0 }), entry('danger/b.wav', wav)]),
    encrypted: () => writeZip([entry('safe/a.wav', wav, false, { flags: 1 }), entry('danger/b.wav', wav)]),
    'unknown-method': (rng) => writeZip([entry('safe/a.wav', wav, false, { method: rng.choice([1, 9, 12, 14, 93, 99, 0xffff]) }), entry('danger/b.wav', wav)]),
    'crc-wrong': () => writeZip([entry('safe/a.wav', wav, true, { crc: 0xdeadbeef }), entry('danger/b.wav', wav)]),
    'nested-zip': (rng) => {
      let inner = valid;
      for (let depth = rng.int(1, 4); depth > 0; depth--) inner = zipSync({ 'safe/inner.wav': inner, 'danger/inner.zip': inner, 'inner.zip': inner });
      return inner;
    },
    'truncated-cd': (rng) => {
      const zip = writeZip([entry('safe/a.wav', wav), entry('danger/b.wav', wav)]);
      const cdStart = new DataView(zip.buffer).getUint32(zip.length - 6, true);
      return rng.uniform() < 0.5 ? zip.slice(0, rng.int(cdStart, zip.length - 1)) : writeZip([entry('safe/a.wav', wav), entry('danger/b.wav', wav)], { centralFor: 1, entryCount: 2 });
    },
    'cd-offset-lie': (rng) => writeZip([entry('safe/a.wav', wav), entry('danger/b.wav', wav)], { cdOffset: rng.choice([0, 1, 0x7fffffff, 0xffffffff]), cdSize: rng.choice([0, 46, 0xffffffff]) }),
    'local-central-mismatch': (rng) =>
      writeZip([
        entry('safe/a.wav', wav, false, rng.uniform() < 0.5 ? { localName: 'danger/../../x.wav' } : { localSizes: { compressed: rng.choice([0, 1, 0xffffffff]), uncompressed: rng.choice([0, 0xffffffff]) } }),
        entry('danger/b.wav', wav),
      ]),
    'compressed-size-past-end': () => writeZip([entry('safe/a.wav', wav, false, { compressedSize: 0x7fffffff }), entry('danger/b.wav', wav)]),
    'zip64-lie': (rng) => {
      // A zip64 extra field (id 1) claiming an exabyte; sizes in the record say "see zip64".
      const extra = new Uint8Array(20);
      const v = new DataView(extra.buffer);
      v.setUint16(0, 1, true);
      v.setUint16(2, 16, true);
      v.setUint32(4, 0xffffffff, true);
      v.setUint32(8, rng.int(0, 0xffffffff), true);
      v.setUint32(12, 0xffffffff, true);
      v.setUint32(16, 0xffff, true);
      return writeZip([entry('safe/a.wav', wav, false, { extra, uncompressedSize: 0xffffffff, compressedSize: 0xffffffff }), entry('danger/b.wav', wav)]);
    },
    'eocd-comment-lie': (rng) => {
      const comment = new Uint8Array(rng.int(0, 300)).fill(0x50);
      const zip = writeZip([entry('safe/a.wav', wav), entry('danger/b.wav', wav)], { comment });
      new DataView(zip.buffer).setUint16(zip.length - comment.length - 2, rng.choice([0, 0xffff, comment.length + 1]), true);
      return zip;
    },
    'dup-names': () => writeZip([entry('safe/a.wav', wav), entry('safe/a.wav', wav), entry('danger/a.wav', wav), entry('danger/a.wav', new Uint8Array([1]))]),
    manifest: (rng) => {
      const bad = rng.choice([
        'file,subclass\n"danger/a.wav,unclosed\n',
        'file\n' + 'danger/a.wav\n'.repeat(200_000),
        'file,' + 'x,'.repeat(20_000) + '\n',
        '\uFEFF\uFEFFfile,group\n\u0000,\u0000\n',
        'file,subclass\ndanger/a.wav,' + 'y'.repeat(2 * MiB) + '\n',
      ]);
      return writeZip([entry('manifest.csv', strToU8(bad), rng.uniform() < 0.5), entry('safe/a.wav', wav), entry('danger/b.wav', wav)]);
    },
    'only-dirs': () => writeZip([entry('safe/', new Uint8Array()), entry('danger/', new Uint8Array())]),
    'one-label': () => writeZip([entry('safe/a.wav', wav), entry('safe/b.wav', wav)]),
    'audio-junk': (rng) => writeZip([entry('safe/a.wav', new Uint8Array(4096).map(() => rng.int(0, 255))), entry('danger/b.mp3', strToU8('ID3 not really'))]),
    'eocd-only': () => writeZip([]),
    'not-a-zip': (rng) => concat([strToU8(rng.choice(['PK\x03\x04', 'PK\x05\x06', 'PK\x01\x02', 'RIFF', ''])), new Uint8Array(rng.int(0, 4096)).map(() => rng.int(0, 255))]),
  };
}

/**
 * A damaged dataset: half the time the valid zip's bytes mutated, half the time a sound zip of damaged clips (seeds
 * mutated, or bombs), so that intake decodes each one.
 */
export function mutatedDataset(rng: Rng, valid: Uint8Array, corpus: readonly Seed[], bombs: Record<string, () => Uint8Array>): { bytes: Uint8Array; ops: string[] } {
  if (rng.uniform() < 0.5) return mutate(rng, valid, corpus);
  const ops: string[] = [];
  const files: Record<string, Uint8Array> = {};
  for (let i = rng.int(2, 6); i > 0; i--) {
    const label = i % 2 ? 'safe' : 'danger';
    if (rng.uniform() < 0.25) {
      const name = rng.choice(Object.keys(bombs));
      ops.push(name);
      files[`${label}/${i}-${name}.wav`] = bombs[name]();
    } else {
      const from = rng.choice(corpus);
      const m = mutate(rng, from.bytes, corpus);
      ops.push(`${from.name}:${m.ops.join('+')}`);
      const ext = from.name.includes('.') ? '' : from.name.startsWith('mp3') ? '.mp3' : '.wav';
      files[`${label}/${i}-${from.name}${ext}`] = m.bytes;
    }
  }
  return { bytes: zipSync(files, { level: rng.choice([0, 6]) as 0 | 6 }), ops: ['clips', ...ops] };
}
