/**
 * Wire the storage/messaging adapters from configuration (see adapters/env.ts): what the API and the
 * worker call at startup. No code path changes between local and cloud, only which adapter is built.
 *
 *   const services = await openServices<TrainingJob>(readServiceEnv(), { publicUrl: 'http://127.0.0.1:8787' });
 *   services.repo.createSession(...); services.queue.send(...); services.blobs.presignPut(...);
 *   await services.close();
 */
import type { BlobStore } from '../shared/ports/blob-store.ts';
import type { JobQueue } from '../shared/ports/job-queue.ts';
import type { Repository } from '../shared/ports/repository.ts';
import { FsBlobStore } from './blob/fs.ts';
import { S3BlobStore } from './blob/s3.ts';
import { createDatabase, type SentinelDatabase } from './db/index.ts';
import { KyselyRepository } from './db/repo.ts';
import type { ServiceEnv } from './env.ts';
import { DbJobQueue } from './queue/db.ts';
import { SqsJobQueue } from './queue/sqs.ts';

/** Region for custom endpoints when none is configured: emulators accept any, the SDK requires one. */
const EMULATOR_REGION = 'us-east-1';

export interface Services<TJob> {
  database: SentinelDatabase;
  repo: Repository;
  blobs: BlobStore;
  queue: JobQueue<TJob>;
  /** One line per part, e.g. {database: 'pglite', blobs: 'fs', queue: 'db'}: for the startup log and /health. */
  describe(): Record<'database' | 'blobs' | 'queue', string>;
  close(): Promise<void>;
}

export interface OpenServicesOptions {
  /** The local API's origin, when SENTINEL_PUBLIC_URL is unset (fs presigned URLs point there). */
  publicUrl?: string;
  /** Logical queue name for the db queue (default SERVICE.queue.name). */
  queueName?: string;
}

export async function openServices<TJob>(env: ServiceEnv, options: OpenServicesOptions = {}): Promise<Services<TJob>> {
  const database = await createDatabase(
    env.databaseUrl
      ? { databaseUrl: env.databaseUrl, ...(env.neonWsProxy ? { neonWsProxy: env.neonWsProxy } : {}) }
      : { pgliteDir: env.pgliteDir },
  );
  const region = env.awsRegion ?? (env.s3Endpoint || env.sqsEndpoint ? EMULATOR_REGION : undefined);
  const publicUrl = env.publicUrl ?? options.publicUrl;
  const blobs: BlobStore = env.blobBucket
    ? new S3BlobStore({
        bucket: env.blobBucket,
        ...(env.s3Endpoint ? { endpoint: env.s3Endpoint } : {}),
        ...(region ? { region } : {}),
        forcePathStyle: env.s3ForcePathStyle,
      })
    : new FsBlobStore({
        root: env.blobDir,
        ...(publicUrl ? { publicBaseUrl: publicUrl } : {}),
        ...(env.blobSigningSecret ? { signingSecret: env.blobSigningSecret } : {}),
      });
  const queue: JobQueue<TJob> = env.queueUrl
    ? new SqsJobQueue<TJob>({
        queueUrl: env.queueUrl,
        ...(env.sqsEndpoint ? { endpoint: env.sqsEndpoint } : {}),
        ...(region ? { region } : {}),
      })
    : new DbJobQueue<TJob>({ db: database.db, ...(options.queueName ? { queue: options.queueName } : {}) });
  return {
    database,
    repo: new KyselyRepository(database.db),
    blobs,
    queue,
    describe: () => ({ database: database.kind, blobs: blobs.kind, queue: queue.kind }),
    async close() {
      await queue.close();
      await blobs.close();
      await database.close();
    },
  };
}
