/**
 * adapters/training-threads.ts: training on worker threads gives the same model, byte for byte, as training on this
 * thread (same functions, same wasm backend), also when continuing a parent model; epoch logs reach the caller; a
 * thread's error comes back typed; a warm-started head crosses to a thread and back.
 */
import * as tf from '../../shared/model/tf.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestThread } from '../../adapters/threads.ts';
import { TrainingThreads } from '../../adapters/training-threads.ts';
import { SentinelError } from '../../shared/errors.ts';
import { selectBackend } from '../../shared/model/backend.ts';
import { loadArtifact } from '../../shared/model/artifact.ts';
import { buildHead, headOf } from '../../shared/model/classifier.ts';
import { inProcessCompute } from '../../shared/training/compute.ts';
import { MemoryEmbeddingCache } from '../../shared/training/embedding-cache.ts';
import { trainModel, type TrainRequest, type TrainResult } from '../../shared/training/trainer.ts';
import { randomBackbone, syntheticClips } from '../helpers/tiny-model.ts';

let threads: TrainingThreads;

beforeAll(async () => {
  await selectBackend({ requested: 'wasm', log: () => {} });
  threads = new TrainingThreads(2, tf.getBackend());
});
afterAll(async () => {
  await threads?.dispose();
});

describe('TrainingThreads', () => {
  let inline: TrainResult;
  let threaded: TrainResult;
  const epochs = { inline: [] as (number | null)[], threaded: [] as (number | null)[] };

  let request: (compute: TrainRequest['compute'], log: (number | null)[]) => TrainRequest;

  beforeAll(async () => {
    const backbone = await randomBackbone();
    request = (compute, log) => ({
      clips: syntheticClips(24, 700),
      backbone,
      representation: 'grey128',
      folds: 3,
      augmentations: 1,
      epochs: 12,
      cache: new MemoryEmbeddingCache(),
      compute,
      command: 'test',
      now: () => new Date('2026-11-26T00:00:00Z'),
      onEpoch: (e) => log.push(e.fold),
    });
    inline = await trainModel(request(inProcessCompute(), epochs.inline));
    threaded = await trainModel(request(threads, epochs.threaded));
  });

  it('trains the same model as the in-process compute, byte for byte', () => {
    expect(threaded.embeddings).toEqual(inline.embeddings);
    expect(threaded.embeddings.computed).toBeGreaterThan(0);
    expect(Buffer.from(threaded.files['weights.bin']).equals(Buffer.from(inline.files['weights.bin']))).toBe(true);
    expect(threaded.manifest.threshold).toBe(inline.manifest.threshold);
    expect(threaded.cv!.outOfFold.map((o) => o.probability)).toEqual(inline.cv!.outOfFold.map((o) => o.probability));
  });

  it('continues a parent model (warm start: its head crosses to a thread) as the in-process compute does', async () => {
    const { model, manifest } = await loadArtifact(inline.files);
    const continued = async (compute: TrainRequest['compute']) =>
      trainModel({ ...request(compute, []), folds: 0, parent: { manifest, head: headOf(model) } });
    const [a, b] = [await continued(inProcessCompute()), await continued(threads)];
    expect(b.manifest.parentVersion).toBe(manifest.version);
    expect(Buffer.from(b.files['weights.bin']).equals(Buffer.from(a.files['weights.bin']))).toBe(true);
    model.dispose();
  });

  it('passes every epoch log of the reporting member back to the caller', () => {
    expect(epochs.threaded.length).toBeGreaterThan(0);
    expect(epochs.threaded).toEqual(epochs.inline);
  });

  it('rebuilds a head fit error as the same typed error', async () => {
    const error = await threads.trainHeads([{ x: new Float32Array(8), y: [0, 0, 0, 0], dim: 2 }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SentinelError);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('fails a request to a thread that has exited at once, with INTERNAL, instead of waiting for an answer', async () => {
    const thread = new RequestThread(new URL('../../adapters/training-thread.ts', import.meta.url), { backend: tf.getBackend() });
    await thread.ready;
    await thread.terminate();
    await expect(thread.request({ type: 'drop-extractor', key: 1 })).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(thread.inFlight).toBe(0);
  });

  it('warm-starts a thread from a given head as the in-process compute does', async () => {
    const x = Float32Array.from({ length: 64 * 4 }, (_, i) => Math.sin(i * 1.7) + (Math.floor(i / 4) % 2) * (i % 4 === 0 ? 2 : 0));
    const y = Array.from({ length: 64 }, (_, i) => i % 2);
    const initialHead = buildHead({ embeddingDim: 4, head: { hiddenUnits: 8, dropout: 0 }, seed: 5 });
    const job = { x, y, dim: 4, epochs: 3, seed: 9, initialHead };
    const [a] = await inProcessCompute().trainHeads([job]);
    const [b] = await threads.trainHeads([job]);
    const wa = a.head.getWeights().map((w) => Array.from(w.dataSync()));
    const wb = b.head.getWeights().map((w) => Array.from(w.dataSync()));
    expect(wb).toEqual(wa);
    expect(b.history).toEqual(a.history);
  });
});
