/**
 * First-start duties shared by the entrypoints: the bootstrap API key (hashed into api_keys) and the shipped
 * default model registered as `current` when a deployment has none. Both are idempotent.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobStore } from '../shared/ports/blob-store.ts';
import type { Repository } from '../shared/ports/repository.ts';
import { MANIFEST_FILE } from '../shared/model/types.ts';
import { readModelFiles } from '../adapters/model-files.ts';
import { CURRENT_ALIAS, storeModel } from '../adapters/model-store.ts';
import { Detector } from '../shared/inference/detector.ts';
import { generateApiKey, rotateBootstrapKey } from './auth.ts';

export interface AdminKey {
  key: string;
  source: string;
  /** Ids of the bootstrap keys this one replaced (revoked now). */
  revoked: string[];
  /** False when the configured key was revoked earlier: it stays so, and admin routes need another key. */
  valid: boolean;
}

/**
 * The admin key: SENTINEL_ADMIN_KEY when set (a changed one revokes the bootstrap key it replaces); else (local stack only) a random key made once and kept in
 * `<dataDir>/admin-key` (mode 600), so the person at the machine can read it and nobody else gets one for free.
 */
export async function ensureAdminKey(
  repo: Repository,
  configured: string | undefined,
  dataDir?: string,
): Promise<AdminKey | null> {
  if (configured) {
    const rotated = await rotateBootstrapKey(repo, configured);
    // A revoked key is not revived by a restart (the operator sets a new one); serving goes on without it.
    return { key: configured, source: 'SENTINEL_ADMIN_KEY', revoked: rotated?.revoked ?? [], valid: rotated !== null };
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
  const rotated = await rotateBootstrapKey(repo, key);
  // The local key was revoked: make a new one in its place, as on a first start.
  if (!rotated) {
    await rm(path, { force: true });
    return ensureAdminKey(repo, undefined, dataDir);
  }
  return { key, source: path, revoked: rotated.revoked, valid: true };
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
