/**
 * One-off after the first deploy: registers the shipped model (models/default) as `current` in the deployment's
 * database and bucket, as the local stack does on its first start (a Lambda never registers one itself: it only
 * reads the alias). Does nothing when the deployment already has a current model. Needs the deployment's
 * DATABASE_URL and SENTINEL_BLOB_BUCKET (+ AWS credentials); see docs/deploy.md.
 *
 *   DATABASE_URL=... SENTINEL_BLOB_BUCKET=... AWS_REGION=... node --import tsx infra/scripts/bootstrap-model.ts
 */
import { readApiEnv, readServiceEnv } from '../../adapters/env.ts';
import { openServices } from '../../adapters/service.ts';
import { initTfBackend } from '../../adapters/tf-backend.ts';
import { registerDefaultModel } from '../../functions/bootstrap.ts';

const serviceEnv = readServiceEnv();
if (!serviceEnv.databaseUrl || !serviceEnv.blobBucket) {
  console.error('Set DATABASE_URL and SENTINEL_BLOB_BUCKET to the deployment\'s (see docs/deploy.md).');
  process.exit(2);
}
await initTfBackend(process.env, (m) => console.log(m));
const services = await openServices(serviceEnv);
try {
  const version = await registerDefaultModel(services.repo, services.blobs, readApiEnv().defaultModelDir);
  console.log(version ? `registered ${version} as current` : 'the deployment already has a current model: nothing done');
} finally {
  await services.close();
}
