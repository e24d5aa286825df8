/**
 * adapters/intake/thread.ts: a dataset zip read on a thread gives what intakeZip gives on this one (clips, skips,
 * hashes), hands the zip's bytes back, and refuses a bad zip with the same error code the API maps to a status.
 */
import { describe, expect, it } from 'vitest';
import { intakeZip } from '../../adapters/dataset-store.ts';
import { intakeZipOnThread } from '../../adapters/intake/thread.ts';
import { SentinelError } from '../../shared/errors.ts';
import { datasetZip, syntheticClips } from '../helpers/tiny-model.ts';

describe('intakeZipOnThread', () => {
  it('reads and decodes a zip as intakeZip does, and hands its bytes back', async () => {
    const zip = datasetZip(syntheticClips(6, 300), { 'danger/notes.txt': new TextEncoder().encode('not audio'), 'safe/broken.wav': new Uint8Array(64) });
    const here = await intakeZip(zip.slice());
    const there = await intakeZipOnThread(zip.slice());
    expect(there.sha256).toBe(here.sha256);
    expect(Buffer.from(there.zip).equals(Buffer.from(zip))).toBe(true);
    expect(there.dataset.skipped).toEqual(here.dataset.skipped);
    expect(there.dataset.skipped.map((s) => s.path).sort()).toEqual(['danger/notes.txt', 'safe/broken.wav']);
    expect(there.dataset.clips.map(({ bytes, ...c }) => ({ ...c, bytes: bytes.byteLength }))).toEqual(here.dataset.clips.map(({ bytes, ...c }) => ({ ...c, bytes: bytes.byteLength })));
    expect(there.dataset.clips).toHaveLength(6);
  });

  it('refuses what is not a zip with the code the API answers 400 for', async () => {
    const error = await intakeZipOnThread(new TextEncoder().encode('plainly not a zip archive')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SentinelError);
    expect(error).toMatchObject({ code: 'invalid_zip' });
  });
});
