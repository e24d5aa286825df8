/**
 * A model's file map (shared/model/files.ts, artifact.ts) <-> a directory on disk.
 * Writing is all-or-nothing: files go to a temporary sibling directory which is renamed into place, so a reader
 * never sees half a model (a crash leaves only a `.tmp-*` directory behind).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SentinelError } from '../shared/errors.ts';
import type { ModelFiles } from '../shared/model/files.ts';

/** Reads every regular file of `dir` (not recursive) into a file map. */
export async function readModelFiles(dir: string): Promise<ModelFiles> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (cause) {
    throw new SentinelError('MODEL_NOT_FOUND', `Cannot read model directory ${dir}: ${(cause as Error).message}`, { dir }, { cause });
  }
  const files: ModelFiles = {};
  for (const entry of entries) {
    if (entry.isFile()) files[entry.name] = new Uint8Array(await readFile(join(dir, entry.name)));
  }
  return files;
}

/**
 * Writes the map as `dir` atomically. An existing `dir` is replaced only when `overwrite` is set (it is moved
 * aside, the new one renamed in, then the old one deleted); otherwise it is a MODEL_EXISTS error.
 */
export async function writeModelFiles(dir: string, files: ModelFiles, options: { overwrite?: boolean } = {}): Promise<void> {
  for (const name of Object.keys(files)) {
    if (name !== basename(name) || name === '.' || name === '..' || name === '') {
      throw new SentinelError('INVALID_ARGUMENT', `Model file name ${JSON.stringify(name)} is not a plain file name.`);
    }
  }
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  const tmp = join(parent, `.${basename(dir)}.tmp-${randomUUID()}`);
  await mkdir(tmp);
  try {
    for (const [name, bytes] of Object.entries(files)) await writeFile(join(tmp, name), bytes);
    try {
      await rename(tmp, dir);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw cause;
      if (!options.overwrite) throw new SentinelError('MODEL_EXISTS', `Model directory ${dir} already exists.`, { dir });
      const old = join(parent, `.${basename(dir)}.old-${randomUUID()}`);
      await rename(dir, old);
      await rename(tmp, dir);
      await rm(old, { recursive: true, force: true });
    }
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}
