/**
 * fauxqs (SQS + S3 emulator) started in-process on a random 127.0.0.1 port, for the S3 and SQS adapter tests.
 */
import { startFauxqs, type FauxqsServer } from 'fauxqs';

/** Emulators accept any credentials; static ones keep the SDK from searching the machine for real ones. */
export const EMULATOR_CREDENTIALS = Object.freeze({ accessKeyId: 'test', secretAccessKey: 'test' });
export const EMULATOR_REGION = 'us-east-1';

export async function startEmulator(): Promise<FauxqsServer> {
  return startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
}

let counter = 0;
/** A fresh queue name per test, so tests never see each other's messages. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}
