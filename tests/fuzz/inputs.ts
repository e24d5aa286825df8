/**
 * The fuzz suite's inputs: input `i` of seed `s` is drawn from its own generator (seeded by s and i), so any one of
 * them is rebuilt alone (`--only i`). The first inputs are every bomb and hostile zip once, in order, so even a short
 * run sends each; after them, families are drawn by weight.
 */
import { createRng, type Rng } from '../../shared/training/random.ts';
import { audioCorpus, bombs, mutate, wavHeaderFuzz, type Seed } from './audio.ts';
import { fileUpload, malformedRequests, type FuzzRequest } from './http.ts';
import { hostileZips, mutatedDataset, validDataset } from './zips.ts';

export type Family = 'audio-mutate' | 'wav-header' | 'bomb' | 'random-bytes' | 'multipart' | 'zip-hostile' | 'zip-mutate' | 'presigned' | 'oversize';

/** A request, or the presigned flow: POST /uploads, PUT the bytes to the URL it gives, then use its object_key. */
export type Plan = { request: FuzzRequest } | { presigned: { purpose: 'audio' | 'dataset'; bytes: Uint8Array; filename: string } };

export interface FuzzInput {
  index: number;
  family: Family;
  /** What exactly: the bomb's or zip's name, the seed file and mutations. */
  name: string;
  plan: Plan;
}

/**
 * Shares of each family, per cent. A dataset upload costs ~0.8 s of CPU before its first byte is read (intake starts a
 * thread of its own per zip, adapters/intake/thread.ts), against ~10-50 ms for an audio input, so zips are a few per
 * cent of the draw (and all 29 hostile kinds are among the fixed inputs) to keep 10,000 inputs within 10 minutes.
 */
const WEIGHTS: [Family, number][] = [
  ['audio-mutate', 45],
  ['wav-header', 14],
  ['bomb', 8],
  ['random-bytes', 4],
  ['multipart', 24],
  ['zip-hostile', 1.2],
  ['zip-mutate', 0.7],
  ['presigned', 2.8],
  ['oversize', 0.3],
];

const MAGIC = ['RIFF\0\0\0\0WAVE', 'fLaC', 'OggS', 'ID3', '\xff\xfb', '\xff\xf1', '\0\0\0\x20ftypM4A ', '\x1a\x45\xdf\xa3', 'PK\x03\x04', ''];

export interface Generator {
  corpus: Seed[];
  /** How many inputs are the fixed list (each bomb and hostile zip once). */
  fixed: number;
  input(index: number): FuzzInput;
}

export async function createGenerator(seed: number, maxAudioBytes: number): Promise<Generator> {
  const corpus = await audioCorpus();
  const bombList = bombs(corpus);
  const zipList = hostileZips(corpus);
  const malformed = malformedRequests(maxAudioBytes);
  const valid = validDataset(corpus);
  const fixedList: [Family, string][] = [...Object.keys(bombList).map((n) => ['bomb', n] as [Family, string]), ...Object.keys(zipList).map((n) => ['zip-hostile', n] as [Family, string])];
  const total = WEIGHTS.reduce((n, [, w]) => n + w, 0);

  const rngFor = (index: number): Rng => {
    const s = seed * 1_000_003 + index;
    if (!Number.isSafeInteger(s)) throw new Error(`seed ${seed} is too large`);
    return createRng(s);
  };
  const pickFamily = (rng: Rng): Family => {
    let r = rng.uniform(0, total);
    for (const [family, w] of WEIGHTS) if ((r -= w) < 0) return family;
    return 'audio-mutate';
  };
  const audio = (rng: Rng, bytes: Uint8Array, odd = true): Plan => ({ request: fileUpload(rng, '/predict', bytes, { odd }) });
  const train = (rng: Rng, bytes: Uint8Array, odd = true): Plan => ({
    request: fileUpload(rng, rng.uniform() < 0.85 ? '/retrain' : '/continue-training', bytes, { admin: true, odd }),
  });

  function input(index: number): FuzzInput {
    const rng = rngFor(index);
    const [family, fixedName] = index < fixedList.length ? fixedList[index] : [pickFamily(rng), null];
    const make = (name: string, plan: Plan): FuzzInput => ({ index, family, name, plan });
    switch (family) {
      case 'bomb': {
        const name = fixedName ?? rng.choice(Object.keys(bombList));
        return make(name, audio(rng, bombList[name](), false));
      }
      case 'zip-hostile': {
        const name = fixedName ?? rng.choice(Object.keys(zipList));
        return make(name, train(rng, zipList[name](rng), false));
      }
      case 'audio-mutate': {
        const from = rng.choice(corpus);
        const { bytes, ops } = mutate(rng, from.bytes, corpus);
        return make(`${from.name}:${ops.join('+')}`, audio(rng, bytes));
      }
      case 'wav-header':
        return make('raw-fields', audio(rng, wavHeaderFuzz(rng)));
      case 'random-bytes': {
        const magic = rng.choice(MAGIC);
        const junk = new Uint8Array(rng.int(0, 16_384)).map(() => rng.int(0, 255));
        const bytes = new Uint8Array([...magic].map((c) => c.charCodeAt(0)).concat(Array.from(junk)));
        return make(`magic:${JSON.stringify(magic).slice(1, 9)}`, audio(rng, bytes));
      }
      case 'multipart': {
        const name = rng.choice(Object.keys(malformed).filter((n) => !n.startsWith('oversize')));
        const from = rng.choice(corpus);
        const bytes = rng.uniform() < 0.5 ? from.bytes : mutate(rng, from.bytes, corpus).bytes;
        return make(name, { request: malformed[name](rng, name === 'train-fields' ? valid : bytes) });
      }
      case 'oversize': {
        const name = rng.choice(['oversize-declared', 'oversize-chunked']);
        return make(name, { request: malformed[name](rng, new Uint8Array()) });
      }
      case 'zip-mutate': {
        const { bytes, ops } = mutatedDataset(rng, valid, corpus, bombList);
        return make(ops.join('+'), train(rng, bytes));
      }
      case 'presigned': {
        const purpose = rng.uniform() < 0.85 ? 'audio' : 'dataset';
        const from = rng.choice(corpus);
        const bytes = purpose === 'audio' ? mutate(rng, from.bytes, corpus).bytes : mutatedDataset(rng, valid, corpus, bombList).bytes;
        return make(purpose, { presigned: { purpose, bytes, filename: purpose === 'audio' ? 'clip.wav' : 'dataset.zip' } });
      }
    }
  }
  return { corpus, fixed: fixedList.length, input };
}
