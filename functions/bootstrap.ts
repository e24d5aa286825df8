/**
 * First-start duties shared by the entrypoints: the bootstrap API key (hashed into api_keys) and the shipped
 * default model registered as `current` when a deployment has none. Both are idempotent.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobStore } from '../shared/ports/blob-store.ts';
import type { Repository } from '../shared/ports/repository.ts';
import { MANIFEST_FILE } from '../shared/model/types.ts';
import { readModelFiles } from '../adapters/model-files.ts';
import { CURRENT_ALIAS, storeModel } from '../adapters/model-store.ts';
import { Detector } from '../shared/inference/detector.ts';
import { ensureApiKey, generateApiKey } from './auth.ts';

/**
 * The admin key: SENTINEL_ADMIN_KEY when set; else (local stack only) a random key made once and kept in
 * `<dataDir>/admin-key` (mode 600), so the person at the machine can read it and nobody else gets one for free.
 */
export async function ensureAdminKey(repo: Repository, configured: string | undefined, dataDir?: string): Promise<{ key: string; source: string } | null> {
  if (configured) {
    await ensureApiKey(repo, configured);
    return { key: configured, source: 'SENTINEL_ADMIN_KEY' };
  }
  if (!dataDir) return null;
  const path = join(dataDir, 'admin-key');
  await mkdir(dataDir, { recursive: true });
  try {
    await writeFile(path, generateApiKey() + '\n', { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as { code?: string }).code !== 'EEXIST') throw error;
  }
  const key = (await readFile(path, 'utf8')).trim();
  await ensureApiKey(repo, key);
  return { key, source: path };
}

/**
 * Registers the model in `dir` as `current` unless the deployment already has a current model. The artifact is
 * checked (sha256 of every file, audio settings) before anything is stored. Returns the version registered, or null.
 */
export async function registerDefaultModel(repo: Repository, blobs: BlobStore, dir: string): Promise<string | null> {
  if (await repo.getAlias(CURRENT_ALIAS)) return null;
  if (!existsSync(join(dir, MANIFEST_FILE))) return null;
  const files = await readModelFiles(dir);
  (await Detector.fromFiles(files)).dispose(); // refuse a broken or incompatible artifact here, not at the first request
  const { model } = await storeModel(repo, blobs, files, { status: 'promoted' });
  await repo.setAlias(CURRENT_ALIAS, model.version, 'system', `default model from ${dir} on first start`);
  await repo.recordEvent('model.alias', { current: model.version, previous: null, actor: 'system', reason: 'default model' });
  return model.version;
}
