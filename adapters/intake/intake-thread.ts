/** The thread of intakeZipOnThread (thread.ts): reads one zip and decodes its clips; the bytes move back, not copied. */
import { intakeZip } from '../dataset-store.ts';
import { serveRequests, transferables } from '../threads.ts';

serveRequests(async (body) => {
  const result = await intakeZip(body as Uint8Array);
  return { result, transfer: transferables([result.zip, ...result.dataset.clips.map((c) => c.bytes)]) };
});
