/**
 * fauxqs (SQS + S3 emulator) in-process, listening on 127.0.0.1 only, on a random port.
 * (fauxqs's own startFauxqs binds 0.0.0.0, so we build its app and listen ourselves.) Queues and buckets are
 * made through the real SQS/S3 APIs, as infra would.
 */
import type { AddressInfo } from 'node:net';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { buildApp } from 'fauxqs';

/** Emulators accept any credentials; static ones keep the SDK from searching the machine for real ones. */
export const EMULATOR_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
export const EMULATOR_REGION = 'us-east-1';

export interface Emulator {
  /** http://127.0.0.1:<port>: the endpoint for S3 and SQS clients. */
  address: string;
  createBucket(name: string): Promise<void>;
  createQueue(name: string, attributes?: Record<string, string>): Promise<{ queueUrl: string; queueArn: string }>;
  stop(): Promise<void>;
}

export async function startEmulator(): Promise<Emulator> {
  const app = buildApp({ logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const common = { endpoint: address, region: EMULATOR_REGION, credentials: { ...EMULATOR_CREDENTIALS } };
  const s3 = new S3Client({ ...common, forcePathStyle: true });
  const sqs = new SQSClient(common);
  return {
    address,
    async createBucket(name) {
      await s3.send(new CreateBucketCommand({ Bucket: name }));
    },
    async createQueue(name, attributes = {}) {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
      const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
      return { queueUrl: QueueUrl!, queueArn: Attributes!.QueueArn! };
    },
    async stop() {
      s3.destroy();
      sqs.destroy();
      await app.close();
    },
  };
}

let counter = 0;
/** A fresh queue/bucket name per test, so tests never see each other's messages. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}
