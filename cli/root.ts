/**
 * The project root: the nearest folder above this file with a package.json. This file is cli/root.ts when run by
 * tsx and dist/cli/root.js when compiled, so a fixed '..' would be wrong for one of them.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return from;
  }
}

export const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));
