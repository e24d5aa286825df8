/**
 * The CLI's input paths, with errors a person can act on: Node's "ENOENT: no such file or directory, open …" becomes
 * "No such file: clip.wav (looked in /home/me)" with the API's code for it (not_found, invalid_request, forbidden).
 */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { SentinelError } from '../shared/errors.ts';

type Expected = 'file' | 'audio file' | 'dataset folder or zip' | 'model folder';

function isErrno(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && 'syscall' in error;
}

/** A Node file-system error about `path` as a SentinelError; anything else is returned unchanged. */
export function fileError(error: unknown, path: string, expected: Expected = 'file'): unknown {
  if (!isErrno(error)) return error;
  const where = resolve(path) === path ? '' : ` (looked in ${process.cwd()})`;
  switch (error.code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new SentinelError('not_found', `No such ${expected}: ${path}${where}.`, { path }, { cause: error });
    case 'EISDIR':
      return new SentinelError(
        'invalid_request',
        `${path} is a folder, not a file${expected === 'audio file' ? ' (a labelled folder of clips goes to `sentinel eval`)' : ''}.`,
        { path },
        { cause: error },
      );
    case 'EACCES':
    case 'EPERM':
      return new SentinelError('forbidden', `No permission to read ${path}.`, { path }, { cause: error });
    default:
      return new SentinelError('file_not_readable', `Cannot read ${path} (${error.code}).`, { path }, { cause: error });
  }
}

/** An audio file's bytes. */
export async function readInputFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    throw fileError(error, path, 'audio file');
  }
}

/** Fails with a friendly error unless `path` exists (a folder for `model folder`). */
export async function requirePath(path: string, expected: Expected): Promise<void> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw fileError(error, path, expected);
  }
  if (expected === 'model folder' && !info.isDirectory()) {
    throw new SentinelError('invalid_request', `${path} is a file; --model takes a model folder (model.json, weights.bin, sentinel.json).`, { path });
  }
}
