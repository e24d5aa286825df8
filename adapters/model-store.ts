/**
 * Model artifacts in the blob store, under `models/<version>/` (model.json, weights.bin, sentinel.json), and their
 * registration in the database. sentinel.json is written last: its presence marks a complete artifact, so a crash
 * mid-upload leaves files that `loadModelFiles` refuses (missing manifest) rather than a half model.
 */
import { SentinelError } from '../shared/errors.ts';
import { readManifest } from '../shared/model/artifact.ts';
import type { ModelFiles } from '../shared/model/files.ts';
import { MANIFEST_FILE, type ModelManifest } from '../shared/model/types.ts';
import { SCALAR_METRIC_KEYS } from '../shared/metrics/types.ts';
import type { BlobStore } from '../shared/ports/blob-store.ts';
import type { MetricValues, Model, ModelStatus } from '../shared/ports/db-schema.ts';
import type { Repository } from '../shared/ports/repository.ts';

/** The alias /predict serves. */
export const CURRENT_ALIAS = 'current';

const VERSION = /^[A-Za-z0-9._-]{1,200}$/;

export function artifactPrefix(version: string): string {
  if (!VERSION.test(version) || version === '.' || version === '..') {
    throw new SentinelError('INVALID_ARGUMENT', `Model version "${version}" is not usable as a storage key.`, { version });
  }
  return `models/${version}/`;
}

const CONTENT_TYPES: Record<string, string> = { 'model.json': 'application/json', [MANIFEST_FILE]: 'application/json' };

/** Writes every file under `prefix`, the manifest last. */
export async function saveModelFiles(blobs: BlobStore, prefix: string, files: ModelFiles): Promise<void> {
  if (!files[MANIFEST_FILE]) throw new SentinelError('MODEL_ARTIFACT_INVALID', `Model files lack ${MANIFEST_FILE}.`);
  const names = Object.keys(files).filter((n) => n !== MANIFEST_FILE);
  for (const name of [...names, MANIFEST_FILE]) {
    await blobs.put(prefix + name, files[name], { contentType: CONTENT_TYPES[name] ?? 'application/octet-stream' });
  }
}

/** Reads the artifact under `prefix` (flat: only files directly under it). MODEL_NOT_FOUND when there is none. */
export async function loadModelFiles(blobs: BlobStore, prefix: string): Promise<ModelFiles> {
  const entries = (await blobs.list(prefix)).filter((e) => !e.key.slice(prefix.length).includes('/'));
  if (!entries.some((e) => e.key === prefix + MANIFEST_FILE)) {
    throw new SentinelError('MODEL_NOT_FOUND', `No complete model artifact under ${prefix} (no ${MANIFEST_FILE}).`, { prefix });
  }
  const files: ModelFiles = {};
  for (const entry of entries) {
    const bytes = await blobs.get(entry.key);
    if (bytes) files[entry.key.slice(prefix.length)] = bytes;
  }
  return files;
}

/** The scalar figures of a manifest's headline evaluation (cross-validation, else validation) for the models table. */
export function headlineMetrics(manifest: ModelManifest): MetricValues {
  const source = manifest.metrics.cv ?? manifest.metrics.validation ?? Object.values(manifest.metrics)[0];
  return scalarMetrics(source as unknown as Record<string, unknown> | undefined);
}

/** Finite scalar metrics only (rocAuc may be null when a class is absent: left out rather than faked). */
export function scalarMetrics(metrics: Record<string, unknown> | undefined): MetricValues {
  const out: MetricValues = {};
  if (!metrics) return out;
  if (typeof metrics.n === 'number') out.n = metrics.n;
  for (const key of SCALAR_METRIC_KEYS) {
    const value = metrics[key];
    if (typeof value === 'number' && Number.isFinite(value)) out[key] = value;
  }
  return out;
}

/**
 * Stores an artifact and records it (idempotent by version: a model already recorded is returned as it is, so a
 * retried job or a second first-start does not fail).
 */
export async function storeModel(
  repo: Repository,
  blobs: BlobStore,
  files: ModelFiles,
  options: { status?: ModelStatus; metrics?: MetricValues } = {},
): Promise<{ model: Model; manifest: ModelManifest }> {
  const manifest = readManifest(files);
  const existing = await repo.getModel(manifest.version);
  if (existing) return { model: existing, manifest };
  const prefix = artifactPrefix(manifest.version);
  await saveModelFiles(blobs, prefix, files);
  try {
    const model = await repo.recordModel({
      version: manifest.version,
      artifact_prefix: prefix,
      parent_version: manifest.parentVersion,
      metrics: options.metrics ?? headlineMetrics(manifest),
      threshold: manifest.threshold,
      status: options.status ?? 'candidate',
    });
    return { model, manifest };
  } catch (error) {
    // Lost a race with another writer of the same version: theirs is the same artifact.
    const raced = (error as { code?: string }).code === 'CONFLICT' ? await repo.getModel(manifest.version) : null;
    if (raced) return { model: raced, manifest };
    throw error;
  }
}
