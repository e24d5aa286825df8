/// <reference path="./.sst/platform/config.d.ts" />
/**
 * Sentinel in AWS (SST): API Gateway -> Lambda (Hono + tfjs wasm), S3, SQS + DLQ -> GPU worker on ECS/EC2, Neon
 * Postgres (a secret), the console on CloudFront. One file per concern in infra/, composed here; docs/deploy.md
 * has the commands. `npm run check:infra` type-checks this offline and runs the Lambda bundle.
 */
export default $config({
  app(input) {
    return {
      name: 'sentinel',
      home: 'aws',
      // prod keeps its data when the stack is removed; other stages clean up after themselves.
      removal: input?.stage === 'prod' ? 'retain' : 'remove',
      protect: input?.stage === 'prod',
      providers: { aws: { region: (process.env.AWS_REGION as aws.Region | undefined) ?? 'eu-central-1' } },
    };
  },
  async run() {
    const { createSecrets } = await import('./infra/secrets.ts');
    const { createQueue } = await import('./infra/queue.ts');
    const { createStorage } = await import('./infra/storage.ts');
    const { createApiGateway, createApi } = await import('./infra/api.ts');
    const { createWeb } = await import('./infra/web.ts');
    const { createWorker } = await import('./infra/worker.ts');

    const secrets = createSecrets();
    const queues = createQueue();
    // Order breaks the URL cycle: gateway URL -> console build -> console origin -> bucket CORS + API CORS.
    const gateway = createApiGateway();
    const web = createWeb({ apiUrl: gateway.url });
    const consoleOrigins = $output(web.url).apply((url) => (url ? [new URL(url).origin] : []));
    const storage = createStorage({ consoleOrigins });
    const api = createApi({ gateway, storage, queues, secrets, corsOrigins: consoleOrigins });
    const worker = createWorker({ storage, queues, secrets, imageTag: process.env.SENTINEL_WORKER_IMAGE_TAG });

    return {
      api: api.url,
      console: web.url,
      bucket: storage.bucket.name,
      queue: queues.queue.url,
      deadLetters: queues.deadLetters.url,
      workerImages: worker.repository.repositoryUrl,
      workerLogs: worker.logGroup.name,
    };
  },
});
