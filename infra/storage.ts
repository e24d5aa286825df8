/**
 * One private bucket for uploads (`uploads/`), kept prediction audio (`predictions/`) and model artifacts
 * (`models/<version>/`), the prefixes the blob store uses (adapters/). S3 versioning is bucket-wide, so history is
 * kept where it matters — model artifacts — and pruned after a day elsewhere; raw uploads expire after
 * CLOUD.uploadRetentionDays. Encrypted at rest (SSE-S3), public access blocked, HTTPS only, CORS for the console's
 * presigned browser PUTs.
 */
import { CLOUD } from '../shared/config.ts';

export interface StorageArgs {
  /** Browser origins allowed to PUT/GET presigned URLs (the console's CloudFront URL, plus any custom domain). */
  consoleOrigins: $util.Input<string[]>;
  uploadRetentionDays?: number;
}

export function createStorage(args: StorageArgs) {
  const bucket = new sst.aws.Bucket('Blobs', {
    versioning: true,
    enforceHttps: true,
    // No `access`: private, and SST keeps the public access block on.
    cors: {
      allowOrigins: args.consoleOrigins,
      allowMethods: ['PUT', 'GET', 'HEAD'],
      allowHeaders: ['content-type', 'content-length', 'x-amz-*'],
      exposeHeaders: ['etag'],
      maxAge: '1 hour',
    },
  });

  new aws.s3.BucketServerSideEncryptionConfiguration('BlobsEncryption', {
    bucket: bucket.name,
    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' }, bucketKeyEnabled: true }],
  });

  const uploadDays = args.uploadRetentionDays ?? CLOUD.uploadRetentionDays;
  new aws.s3.BucketLifecycleConfiguration('BlobsLifecycle', {
    bucket: bucket.name,
    rules: [
      {
        id: 'expire-raw-uploads',
        status: 'Enabled',
        filter: { prefix: 'uploads/' },
        expiration: { days: uploadDays },
        noncurrentVersionExpiration: { noncurrentDays: CLOUD.otherVersionRetentionDays },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      },
      {
        id: 'keep-model-history',
        status: 'Enabled',
        filter: { prefix: 'models/' },
        noncurrentVersionExpiration: { noncurrentDays: CLOUD.modelVersionRetentionDays },
      },
      {
        id: 'prune-prediction-history',
        status: 'Enabled',
        filter: { prefix: 'predictions/' },
        noncurrentVersionExpiration: { noncurrentDays: CLOUD.otherVersionRetentionDays },
      },
    ],
  });

  return { bucket };
}

export type Storage = ReturnType<typeof createStorage>;
