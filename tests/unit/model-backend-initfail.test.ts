// Own file (own process): a failed wasm initialisation stays failed for the rest of the process.
import { expect, it } from 'vitest';
import { selectBackend } from '../../shared/model/backend.ts';

it('a backend whose initialisation fails (setBackend resolves false) is an error, not a silent fallback', async () => {
  await expect(selectBackend({ requested: 'wasm', wasmPaths: '/nonexistent/', log: () => {} })).rejects.toMatchObject({
    code: 'BACKEND_INIT_FAILED',
    message: expect.stringContaining('not falling back'),
  });
});
