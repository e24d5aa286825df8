/**
 * Training datasets in the blob store. An upload `<id>` keeps:
 *   uploads/<id>/<file name>            the zip as uploaded (direct or presigned)
 *   uploads/<id>/clips/<n>-<name>       each usable clip, decoded and validated once at intake
 *   uploads/<id>/dataset.json           the index: clips (key, label, subclass, group, sha256) + skipped files
 * Feedback clips (predictions with a corrected label and kept audio) join the data of retrain-existing and
 * continue-training. The worker reads only what the API wrote here: no zip is parsed twice.
 */
import { z } from 'zod';
import { decodeAudio } from '../shared/audio/index.ts';
import { AudioError } from '../shared/audio/errors.ts';
import { SentinelError } from '../shared/errors.ts';
import { sha256Hex } from '../shared/hash.ts';
import type { BlobStore } from '../shared/ports/blob-store.ts';
import type { Repository } from '../shared/ports/repository.ts';
import type { Label, LabeledClip, SkippedFile } from '../shared/types.ts';
import { IntakeError, readZipDataset, type Dataset } from './intake/dataset.ts';

export const DATASET_INDEX = 'dataset.json';

export function uploadPrefix(uploadId: string): string {
  return `uploads/${uploadId}/`;
}

/** A user's file name as one safe key segment (never used as a path; for recognisable keys only). */
export function safeSegment(name: string, maxLength = 80): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = base.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[.]+/, '_').slice(-maxLength);
  return cleaned.length > 0 && cleaned !== '.' && cleaned !== '..' ? cleaned : 'file';
}

const storedClipSchema = z.object({
  key: z.string(),
  path: z.string(),
  label: z.enum(['safe', 'danger']),
  subclass: z.string().optional(),
  group: z.string().optional(),
  sha256: z.string(),
  duration: z.number(),
});
const indexSchema = z.object({
  upload_id: z.string(),
  clips: z.array(storedClipSchema),
  skipped: z.array(z.object({ path: z.string(), code: z.string(), reason: z.string() })),
  counts: z.object({ safe: z.number(), danger: z.number() }),
});
export type StoredClip = z.infer<typeof storedClipSchema>;
export type DatasetIndex = z.infer<typeof indexSchema>;

/** A dataset whose clips were each decoded once: the usable ones with their duration and hash, the rest skipped. */
export interface CheckedDataset {
  clips: (LabeledClip & { duration: number; sha256: string })[];
  skipped: SkippedFile[];
}

/** Decodes every clip (CPU-bound: the local stack runs it on a thread, adapters/intake/thread.ts). */
export async function checkDataset(dataset: Dataset): Promise<CheckedDataset> {
  const clips: CheckedDataset['clips'] = [];
  const skipped: SkippedFile[] = [...dataset.skipped];
  for (const clip of dataset.clips) {
    let duration: number;
    try {
      duration = (await decodeAudio(clip.bytes)).duration;
    } catch (error) {
      if (!(error instanceof AudioError)) throw error;
      skipped.push({ path: clip.path, code: error.code, reason: error.message });
      continue;
    }
    clips.push({ ...clip, duration, sha256: await sha256Hex(clip.bytes) });
  }
  return { clips, skipped };
}

/**
 * Stores the usable clips of a checked dataset and its index. Throws IntakeError `no_valid_clips` when nothing
 * usable is left.
 */
export async function storeCheckedDataset(blobs: BlobStore, uploadId: string, dataset: CheckedDataset): Promise<DatasetIndex> {
  const prefix = uploadPrefix(uploadId);
  if (dataset.clips.length === 0) {
    throw new IntakeError('no_valid_clips', 'No clip of the dataset could be decoded as audio.', {
      skipped: dataset.skipped.slice(0, 50),
    });
  }
  const clips: StoredClip[] = [];
  for (const [i, clip] of dataset.clips.entries()) {
    const key = `${prefix}clips/${String(i).padStart(5, '0')}-${safeSegment(clip.path)}`;
    await blobs.put(key, clip.bytes);
    clips.push({
      key,
      path: clip.path,
      label: clip.label,
      ...(clip.subclass ? { subclass: clip.subclass } : {}),
      ...(clip.group ? { group: clip.group } : {}),
      sha256: clip.sha256,
      duration: clip.duration,
    });
  }
  const counts = { safe: clips.filter((c) => c.label === 'safe').length, danger: clips.filter((c) => c.label === 'danger').length };
  const index: DatasetIndex = { upload_id: uploadId, clips, skipped: dataset.skipped, counts };
  await blobs.put(prefix + DATASET_INDEX, new TextEncoder().encode(JSON.stringify(index)), { contentType: 'application/json' });
  return index;
}

/** What intake learns from a zip before anything is stored; `zip` is the same bytes, handed back (a thread takes them over). */
export interface ZipIntake {
  zip: Uint8Array;
  sha256: string;
  dataset: CheckedDataset;
}

/** Reads a dataset zip (adapters/intake) and decodes each clip: intake's CPU-bound half, on the caller's thread. */
export async function intakeZip(zip: Uint8Array): Promise<ZipIntake> {
  const dataset = await checkDataset(await readZipDataset(zip));
  return { zip, sha256: await sha256Hex(zip), dataset };
}

/** checkDataset then storeCheckedDataset, on the caller's thread. */
export async function storeDataset(blobs: BlobStore, uploadId: string, dataset: Dataset): Promise<DatasetIndex> {
  return storeCheckedDataset(blobs, uploadId, await checkDataset(dataset));
}

export async function readDatasetIndex(blobs: BlobStore, uploadId: string): Promise<DatasetIndex> {
  const bytes = await blobs.get(uploadPrefix(uploadId) + DATASET_INDEX);
  if (!bytes) throw new SentinelError('UPLOAD_NOT_FOUND', `Upload ${uploadId} has no dataset index.`, { upload_id: uploadId });
  const parsed = indexSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
  if (!parsed.success) throw new SentinelError('UPLOAD_INVALID', `Dataset index of upload ${uploadId} is malformed.`);
  return parsed.data;
}

/** The clips of one stored dataset, bytes included. Groups default to `<upload>/<path>` so uploads never share one. */
export async function loadDatasetClips(blobs: BlobStore, uploadId: string): Promise<LabeledClip[]> {
  const index = await readDatasetIndex(blobs, uploadId);
  const out: LabeledClip[] = [];
  for (const clip of index.clips) {
    const bytes = await blobs.get(clip.key);
    if (!bytes) throw new SentinelError('UPLOAD_INVALID', `Clip ${clip.key} of upload ${uploadId} is missing from the store.`);
    out.push({
      path: `${uploadId}/${clip.path}`,
      label: clip.label,
      bytes,
      ...(clip.subclass ? { subclass: clip.subclass } : {}),
      group: `${uploadId}/${clip.group ?? clip.path}`,
    });
  }
  return out;
}

/** Predictions with a person's label and kept audio: training data from the field. Newest first, at most `limit`. */
export async function loadFeedbackClips(repo: Repository, blobs: BlobStore, limit = 1000): Promise<LabeledClip[]> {
  const out: LabeledClip[] = [];
  for (const p of await repo.listPredictions({ withFeedback: true, limit })) {
    if (!p.object_key || !p.feedback_label) continue;
    const bytes = await blobs.get(p.object_key);
    if (!bytes) continue; // audio deleted since: the label alone is no training data
    out.push({ path: `feedback/${p.id}`, label: p.feedback_label as Label, bytes, subclass: 'feedback', group: `feedback/${p.id}` });
  }
  return out;
}
