/**
 * Embeddings are the expensive part of head training (a backbone pass per view); they depend only on the backbone's
 * weights, the input representation, the clip's bytes and the view (window or augmentation draw), so they are cached
 * under a key made of exactly those. The port is tiny so the CLI can keep it on disk and tests in memory.
 */
export interface EmbeddingCache {
  get(key: string): Promise<Float32Array | undefined>;
  set(key: string, value: Float32Array): Promise<void>;
}

export class MemoryEmbeddingCache implements EmbeddingCache {
  private readonly map = new Map<string, Float32Array>();
  async get(key: string): Promise<Float32Array | undefined> {
    return this.map.get(key);
  }
  async set(key: string, value: Float32Array): Promise<void> {
    this.map.set(key, value);
  }
  get size(): number {
    return this.map.size;
  }
}
