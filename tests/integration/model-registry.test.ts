/**
 * functions/model-registry.ts: the serving model comes from the `current` alias, is re-read at most every
 * recheckSeconds (a promotion by another process shows up after that, not before), a refresh() is immediate, and a
 * model that fails to load leaves the previous one serving.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../adapters/blob/fs.ts';
import { createDatabase, IN_MEMORY, type SentinelDatabase } from '../../adapters/db/index.ts';
import { KyselyRepository } from '../../adapters/db/repo.ts';
import { CURRENT_ALIAS, storeModel } from '../../adapters/model-store.ts';
import { ModelRegistry } from '../../functions/model-registry.ts';
import { encodeWav } from '../../shared/audio/index.ts';
import type { ModelFiles } from '../../shared/model/files.ts';
import { screamLike } from '../helpers/synth.ts';
import { tinyModelFiles } from '../helpers/tiny-model.ts';

let dir: string;
let database: SentinelDatabase;
let repo: KyselyRepository;
let blobs: FsBlobStore;
let a: ModelFiles;
let b: ModelFiles;
const wav = encodeWav(screamLike(3, 1, 16000), 16000, { bitDepth: 16 });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sentinel-registry-'));
  database = await createDatabase({ pgliteDir: IN_MEMORY });
  repo = new KyselyRepository(database.db);
  blobs = new FsBlobStore({ root: dir });
  [a, b] = [await tinyModelFiles({ seed: 21, clips: 8 }), await tinyModelFiles({ seed: 22, clips: 8 })];
});
afterAll(async () => {
  await database?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('ModelRegistry', () => {
  it('serves the alias, re-checks it at most every recheckSeconds, and keeps serving when a load fails', async () => {
    let now = 1_000_000;
    const registry = new ModelRegistry({ repo, blobs, recheckSeconds: 30, now: () => now });
    expect(await registry.current()).toBeNull();
    await expect(registry.predict(wav)).rejects.toMatchObject({ code: 'MODEL_NOT_READY' });

    const { model: ma } = await storeModel(repo, blobs, a, { status: 'promoted' });
    const { model: mb } = await storeModel(repo, blobs, b);
    await repo.setAlias(CURRENT_ALIAS, ma.version, 'test', 'first');
    // The empty answer above is remembered until the next check is due.
    expect(await registry.current()).toBeNull();
    now += 30_000;
    expect((await registry.current())!.version).toBe(ma.version);
    expect((await registry.predict(wav)).modelVersion).toBe(ma.version);

    // Promoted elsewhere: not seen before the re-check is due, seen right after.
    await repo.setAlias(CURRENT_ALIAS, mb.version, 'test', 'second');
    now += 29_000;
    expect((await registry.predict(wav)).modelVersion).toBe(ma.version);
    now += 1_000;
    expect((await registry.predict(wav)).modelVersion).toBe(mb.version);

    // refresh() does not wait for the interval.
    await repo.setAlias(CURRENT_ALIAS, ma.version, 'test', 'back');
    await registry.refresh();
    expect((await registry.current())!.version).toBe(ma.version);

    // A broken artifact: the error is reported, the previous model keeps serving.
    await blobs.put(`${mb.artifact_prefix}weights.bin`, new Uint8Array(10));
    await repo.setAlias(CURRENT_ALIAS, mb.version, 'test', 'broken');
    await registry.refresh();
    expect((await registry.current())!.version).toBe(ma.version);
    expect(registry.status().lastError).toMatch(/weights|size|sha256|bytes/i);
    expect((await registry.predict(wav)).modelVersion).toBe(ma.version);
    await registry.dispose();
  });
});
