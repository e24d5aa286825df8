/** EmbeddingCache on the filesystem: one small float32 file per key under a cache folder (default .cache/embeddings). */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Hex } from '../shared/hash.ts';
import type { EmbeddingCache } from '../shared/training/embedding-cache.ts';

export class FsEmbeddingCache implements EmbeddingCache {
  constructor(private readonly dir: string) {}

  private async path(key: string): Promise<string> {
    const h = await sha256Hex(key);
    return join(this.dir, h.slice(0, 2), `${h}.f32`);
  }

  async get(key: string): Promise<Float32Array | undefined> {
    try {
      const buf = await readFile(await this.path(key));
      return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    } catch {
      return undefined;
    }
  }

  async set(key: string, value: Float32Array): Promise<void> {
    const path = await this.path(key);
    await mkdir(join(path, '..'), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
    await rename(tmp, path);
  }
}
