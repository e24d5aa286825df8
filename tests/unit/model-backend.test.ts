import * as tf from '../../shared/model/tf.ts';
import { describe, expect, it, vi } from 'vitest';
import { initTfBackend } from '../../adapters/tf-backend.ts';
import { BACKEND_ENV_VAR, selectBackend } from '../../shared/model/backend.ts';

async function installed(pkg: string): Promise<boolean> {
  try {
    await import(/* @vite-ignore */ pkg);
    return true;
  } catch {
    return false;
  }
}

describe('selectBackend', () => {
  it('an unknown forced backend is BACKEND_UNKNOWN naming the choices', async () => {
    await expect(selectBackend({ requested: 'tpu', log: () => {} })).rejects.toMatchObject({
      code: 'BACKEND_UNKNOWN',
      message: expect.stringContaining('node-gpu, node, wasm, cpu'),
    });
    // webgl is not one: its package is not installed (a browser runs wasm, then cpu).
    await expect(selectBackend({ requested: 'webgl', log: () => {} })).rejects.toMatchObject({ code: 'BACKEND_UNKNOWN' });
  });

  it('a forced backend that is not installed is BACKEND_UNAVAILABLE', async () => {
    const missing = !(await installed('@tensorflow/tfjs-node-gpu'));
    if (missing) {
      await expect(selectBackend({ requested: 'node-gpu', log: () => {} })).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
    }
  });

  it('picks the fastest installed backend and logs the choice', async () => {
    const log = vi.fn();
    const expected = (await installed('@tensorflow/tfjs-node-gpu')) ? 'node-gpu' : (await installed('@tensorflow/tfjs-node')) ? 'node' : 'wasm';
    const selection = await selectBackend({ log });
    expect(selection.choice).toBe(expected);
    expect(tf.getBackend()).toBe(selection.tfBackend);
    expect(log).toHaveBeenCalledWith(expect.stringContaining(`tfjs backend: ${expected}`));
    if (expected === 'wasm') expect(selection.reason).toContain('node not installed');
  });

  it('SENTINEL_TF_BACKEND forces the backend through initTfBackend', async () => {
    const selection = await initTfBackend({ [BACKEND_ENV_VAR]: 'cpu' }, () => {});
    expect(selection).toEqual({ choice: 'cpu', tfBackend: 'cpu', reason: 'requested' });
    expect(tf.getBackend()).toBe('cpu');
    await expect(initTfBackend({ [BACKEND_ENV_VAR]: 'gpu' }, () => {})).rejects.toMatchObject({ code: 'BACKEND_UNKNOWN' });
    expect((await initTfBackend({}, () => {})).choice).not.toBe('cpu');
  });
});
