/**
 * Dataset intake on a worker thread: unzipping, manifest.csv parsing and decoding every clip are CPU-bound (a 34 MB
 * manifest alone parses for seconds), so the local stack runs them here and its API keeps answering meanwhile.
 * One thread per zip (uploads are rare; its memory goes with it). The zip's buffer moves to the thread and back.
 */
import { RequestThread, threadModule, transferables } from '../threads.ts';
import type { ZipIntake } from '../dataset-store.ts';

/** intakeZip (adapters/dataset-store.ts) on a thread of its own. Takes `zip` over: use the returned `zip`. */
export async function intakeZipOnThread(zip: Uint8Array): Promise<ZipIntake> {
  // A view into a larger buffer is copied out first: moving that buffer would take the rest of it along.
  const bytes = transferables([zip]).length > 0 ? zip : zip.slice();
  const thread = new RequestThread(threadModule('intake-thread', import.meta.url), {});
  try {
    return await thread.request<ZipIntake>(bytes, transferables([bytes]));
  } finally {
    await thread.terminate();
  }
}
