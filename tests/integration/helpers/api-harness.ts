/**
 * The API wired in-process for route tests: PGlite in memory, fs blobs in a temp folder, the db queue, a model
 * registry, and an admin key. Requests go through `app.request` (no socket); presigned URLs point at 127.0.0.1.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { FsBlobStore } from '../../../adapters/blob/fs.ts';
import { createDatabase, IN_MEMORY, type SentinelDatabase } from '../../../adapters/db/index.ts';
import { KyselyRepository } from '../../../adapters/db/repo.ts';
import { CURRENT_ALIAS, storeModel } from '../../../adapters/model-store.ts';
import { DbJobQueue } from '../../../adapters/queue/db.ts';
import { createApp, type AppConfig, type AppDeps } from '../../../functions/app.ts';
import { ensureApiKey, generateApiKey } from '../../../functions/auth.ts';
import { ModelRegistry } from '../../../functions/model-registry.ts';
import { API } from '../../../shared/config.ts';
import type { ModelFiles } from '../../../shared/model/files.ts';
import type { TrainingJob } from '../../../worker/job.ts';

export const PUBLIC_URL = 'http://127.0.0.1:8787';

export interface ApiHarness {
  app: ReturnType<typeof createApp>;
  repo: KyselyRepository;
  blobs: FsBlobStore;
  queue: DbJobQueue<TrainingJob>;
  models: ModelRegistry;
  database: SentinelDatabase;
  adminKey: string;
  /** Authorization header with the admin key. */
  auth: { authorization: string };
  close(): Promise<void>;
}

export interface ApiHarnessOptions {
  model?: ModelFiles | null;
  config?: Partial<AppConfig>;
  /** Replaces parts of the app's dependencies, e.g. a repository whose writes fail. */
  deps?: (parts: { repo: KyselyRepository; blobs: FsBlobStore }) => Partial<AppDeps>;
}

export async function createApiHarness(options: ApiHarnessOptions = {}): Promise<ApiHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'sentinel-api-'));
  const database = await createDatabase({ pgliteDir: IN_MEMORY });
  const repo = new KyselyRepository(database.db);
  const blobs = new FsBlobStore({ root: join(dir, 'blobs'), publicBaseUrl: PUBLIC_URL });
  const queue = new DbJobQueue<TrainingJob>({ db: database.db, pollIntervalMs: 50 });
  if (options.model) {
    const { model } = await storeModel(repo, blobs, options.model, { status: 'promoted' });
    await repo.setAlias(CURRENT_ALIAS, model.version, 'test', 'fixture');
  }
  const models = new ModelRegistry({ repo, blobs, recheckSeconds: 30 });
  const adminKey = generateApiKey();
  await ensureApiKey(repo, adminKey, 'test-admin');
  const app = createApp({
    repo,
    blobs,
    queue,
    models,
    config: {
      predictAuth: 'open',
      corsOrigins: [],
      maxAudioBytes: API.maxAudioBytes,
      maxDatasetBytes: API.maxDatasetBytes,
      defaultEpochs: 5,
      // Route tests send many requests from one in-process "client"; the limit has tests of its own.
      rateLimitPerMinute: 0,
      ...options.config,
    },
    describe: () => ({ database: database.kind, blobs: blobs.kind, queue: queue.kind }),
    blobHandler: (r) => blobs.handlePresignedRequest(r),
    consolePage: (c) => c.html('<!doctype html><title>console</title>'),
    ...options.deps?.({ repo, blobs }),
  });
  return {
    app,
    repo,
    blobs,
    queue,
    models,
    database,
    adminKey,
    auth: { authorization: `Bearer ${adminKey}` },
    async close() {
      await models.dispose();
      await queue.close();
      await database.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** multipart/form-data with `file` (and extra text fields). */
export function fileForm(bytes: Uint8Array | null, name = 'clip.wav', type = 'audio/wav', fields: Record<string, string> = {}): FormData {
  const form = new FormData();
  if (bytes) form.set('file', new Blob([bytes as Uint8Array<ArrayBuffer>], { type }), name);
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  return form;
}

/** An error answer's status, code and message; every error body names its request id, the X-Request-Id it was sent with. */
export async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string; request_id?: string } };
  expect(body.error?.request_id, `request_id of a ${res.status} ${body.error?.code}`).toBe(res.headers.get('x-request-id'));
  return { status: res.status, code: body.error?.code, message: body.error?.message };
}
