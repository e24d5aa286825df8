import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync, type Zippable } from 'fflate';
import { describe, expect, it } from 'vitest';
import { IntakeError, labelFromPath, parseManifest, readDirDataset, readZipDataset } from '../../adapters/intake/dataset.ts';
import { entry, writeZip } from '../helpers/raw-zip.ts';

const fakeAudio = (n = 64) => new Uint8Array(n).fill(7);

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(IntakeError);
    return (err as IntakeError).code;
  }
  throw new Error('expected the dataset to be refused');
}

describe('labelFromPath', () => {
  it('takes the label from a safe/ or danger/ folder, under at most one wrapping folder', () => {
    expect(labelFromPath('danger/a.wav')).toEqual({ label: 'danger', relPath: 'danger/a.wav' });
    expect(labelFromPath('mydata/Safe/x/b.wav')).toEqual({ label: 'safe', relPath: 'safe/x/b.wav' });
    expect(labelFromPath('a/b/danger/c.wav')).toBeNull();
    expect(labelFromPath('danger_scream.wav')).toBeNull();
  });
});

describe('readZipDataset', () => {
  it('labels clips by folder, joins the manifest and reports what it skipped', async () => {
    const zip = zipSync({
      'set/manifest.csv': strToU8('file,label,subclass,group\ndanger/s1.wav,danger,scream,"rec, 1"\nsafe/c1.wav,safe,cough,rec2\n'),
      'set/danger/s1.wav': fakeAudio(),
      'set/safe/c1.wav': fakeAudio(),
      'set/safe/notes.txt': strToU8('hello'),
      'set/other/x.wav': fakeAudio(),
      'set/safe/empty.wav': new Uint8Array(0),
    });
    const ds = await readZipDataset(zip);
    expect(ds.clips.map((c) => [c.path, c.label, c.subclass, c.group])).toEqual([
      ['danger/s1.wav', 'danger', 'scream', 'rec, 1'],
      ['safe/c1.wav', 'safe', 'cough', 'rec2'],
    ]);
    expect(ds.clips[0].bytes).toEqual(fakeAudio());
    expect(Object.fromEntries(ds.skipped.map((s) => [s.path, s.code]))).toEqual({
      'set/safe/notes.txt': 'not_audio',
      'set/other/x.wav': 'no_label',
      'set/safe/empty.wav': 'empty',
    });
  });

  it('refuses path traversal and absolute paths', async () => {
    expect(await refusal(readZipDataset(zipSync({ '../evil/danger/a.wav': fakeAudio() })))).toBe('zip_unsafe_path');
    expect(await refusal(readZipDataset(zipSync({ 'safe/../../a.wav': fakeAudio() })))).toBe('zip_unsafe_path');
    expect(await refusal(readZipDataset(zipSync({ '/etc/danger/a.wav': fakeAudio() })))).toBe('zip_unsafe_path');
    // A NUL in a name (the fuzz suite's traversal set had one accepted as a clip path).
    expect(await refusal(readZipDataset(zipSync({ 'safe/\u0000a.wav': fakeAudio(), 'danger/b.wav': fakeAudio() })))).toBe('zip_unsafe_path');
  });

  it('refuses symbolic links', async () => {
    const files: Zippable = { 'safe/link.wav': [strToU8('/etc/passwd'), { os: 3, attrs: (0o120777 << 16) >>> 0 }] };
    expect(await refusal(readZipDataset(zipSync(files)))).toBe('zip_symlink');
  });

  it('refuses zip bombs, oversized entries and too many entries', async () => {
    const bomb = zipSync({ 'safe/a.wav': new Uint8Array(8 * 1024 * 1024) }, { level: 9 });
    expect(await refusal(readZipDataset(bomb))).toBe('zip_bomb');
    const limits = { maxEntries: 2, maxTotalBytes: 1000, maxEntryBytes: 100, maxRatio: 200 };
    expect(await refusal(readZipDataset(zipSync({ 'safe/a.wav': fakeAudio(101) }, { level: 0 }), limits))).toBe('zip_too_large');
    const many = zipSync({ 'safe/a.wav': fakeAudio(), 'safe/b.wav': fakeAudio(), 'safe/c.wav': fakeAudio() });
    expect(await refusal(readZipDataset(many, limits))).toBe('zip_too_many_entries');
  });

  it('refuses a bomb made of entries each under the per-entry check: many small ones, or overlapping ones', async () => {
    // 64 entries of 1 MiB of zeros (the per-entry ratio starts above 1 MiB): 64 MiB from ~70 KB.
    const silent = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`safe/${i}.wav`, new Uint8Array(1024 * 1024)]));
    expect(await refusal(readZipDataset(zipSync(silent(64), { level: 9 })))).toBe('zip_bomb');
    // Every central record points at one local entry (found by the fuzz suite: 100 KB inflated to 1.8 GB in memory).
    const first = entry('safe/0.wav', new Uint8Array(1024 * 1024), true);
    const overlap = writeZip([first, ...Array.from({ length: 32 }, (_, i) => ({ ...first, name: `danger/${i}.wav`, sharesLocalOf: 0 }))]);
    expect(await refusal(readZipDataset(overlap))).toBe('zip_bomb');
    // A few silent clips stay accepted: below 16 MiB in all the ratio is not checked.
    expect((await readZipDataset(zipSync(silent(8), { level: 9 }))).clips).toHaveLength(8);
  });

  it('refuses a zip without labelled clips, and bytes that are not a zip', async () => {
    expect(await refusal(readZipDataset(zipSync({ 'clips/a.wav': fakeAudio() })))).toBe('no_labeled_clips');
    expect(await refusal(readZipDataset(strToU8('definitely not a zip file')))).toBe('invalid_zip');
    const whole = zipSync({ 'safe/a.wav': fakeAudio(5000) });
    const truncated = whole.slice(0, Math.floor(whole.length / 2));
    expect(await refusal(readZipDataset(truncated))).toBe('invalid_zip');
  });
});

describe('readDirDataset', () => {
  it('reads a folder the same way', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sentinel-ds-'));
    await mkdir(join(dir, 'danger'));
    await mkdir(join(dir, 'safe', 'sub'), { recursive: true });
    await writeFile(join(dir, 'danger', 'a.wav'), fakeAudio());
    await writeFile(join(dir, 'safe', 'sub', 'b.wav'), fakeAudio());
    await writeFile(join(dir, 'manifest.csv'), 'file,subclass,group\nsafe/sub/b.wav,speech,g1\n');
    const ds = await readDirDataset(dir);
    expect(ds.clips.map((c) => [c.path, c.label, c.subclass ?? null, c.group ?? null])).toEqual([
      ['danger/a.wav', 'danger', null, null],
      ['safe/sub/b.wav', 'safe', 'speech', 'g1'],
    ]);
  });

  it('parses quoted manifest fields', () => {
    expect(parseManifest('file,subclass,group\n"safe/a,b.wav",x,"g, 2"\n').get('safe/a,b.wav')).toEqual({ subclass: 'x', group: 'g, 2' });
  });
});
