/**
 * Labelled datasets from a folder or a zip: `safe/…` and `danger/…` folders give the labels (never the file
 * names), an optional `manifest.csv` (columns file, subclass, group, source — or source_repo) adds subclasses,
 * recording groups and the sources (datasets, microphones) the recordings came from.
 * Node-side: reads the filesystem; the zip reader never extracts to disk.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { parse } from 'csv-parse/sync';
import { INTAKE } from '../../shared/config.ts';
import { SentinelError } from '../../shared/errors.ts';
import type { Label, LabeledClip, SkippedFile } from '../../shared/types.ts';

export interface Dataset {
  clips: LabeledClip[];
  skipped: SkippedFile[];
}

export interface ManifestRow {
  subclass?: string;
  group?: string;
  source?: string;
}

/** Raised when a dataset as a whole is refused (unsafe zip, no labelled clip…). `code` is the API error code. */
export class IntakeError extends SentinelError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = 'IntakeError';
  }
}

/** Parses manifest.csv: keyed by the `file` column (path relative to the dataset root, `/` separators). */
export function parseManifest(text: string): Map<string, ManifestRow> {
  const rows = parse(text, { columns: true, skip_empty_lines: true, trim: true, bom: true }) as Record<string, string>[];
  const out = new Map<string, ManifestRow>();
  for (const row of rows) {
    if (!row.file) continue;
    out.set(normalise(row.file), { subclass: row.subclass || undefined, group: row.group || undefined, source: row.source || row.source_repo || undefined });
  }
  return out;
}

function normalise(path: string): string {
  return path.replace(/\\/g, '/').replace(/^\.\//, '');
}

function extensionOf(path: string): string {
  const dot = path.lastIndexOf('.');
  return dot < 0 ? '' : path.slice(dot + 1).toLowerCase();
}

/**
 * Labels one dataset file from its folders: the first segment named safe/danger (case-insensitive), which
 * may sit under one wrapping folder (zipping a folder adds one). Returns the path relative to the dataset root.
 */
export function labelFromPath(path: string): { label: Label; relPath: string } | null {
  const parts = normalise(path).split('/');
  for (let i = 0; i < Math.min(2, parts.length - 1); i++) {
    const seg = parts[i].toLowerCase();
    if (seg === 'safe' || seg === 'danger') return { label: seg, relPath: [seg, ...parts.slice(i + 1)].join('/') };
  }
  return null;
}

/** Classifies one file of a dataset: a clip to use, a skip with its reason, or nothing (folders, OS litter). */
function classify(path: string, bytes: Uint8Array, manifest: Map<string, ManifestRow>, out: Dataset): void {
  const name = path.split('/').pop() ?? '';
  if (path.startsWith('__MACOSX/') || name.startsWith('.')) {
    out.skipped.push({ path, code: 'hidden_file', reason: 'hidden or OS metadata file' });
    return;
  }
  if (name.toLowerCase() === 'manifest.csv') return;
  const labelled = labelFromPath(path);
  if (!INTAKE.audioExtensions.includes(extensionOf(path))) {
    out.skipped.push({ path, code: 'not_audio', reason: `extension .${extensionOf(path) || '(none)'} is not an audio format` });
    return;
  }
  if (!labelled) {
    out.skipped.push({ path, code: 'no_label', reason: 'not inside a safe/ or danger/ folder' });
    return;
  }
  if (bytes.byteLength === 0) {
    out.skipped.push({ path, code: 'empty', reason: 'empty file' });
    return;
  }
  const row = manifest.get(labelled.relPath) ?? manifest.get(normalise(path));
  out.clips.push({ path: labelled.relPath, label: labelled.label, bytes, subclass: row?.subclass, group: row?.group, source: row?.source });
}

function requireClips(out: Dataset, what: string): Dataset {
  if (out.clips.length === 0) {
    throw new IntakeError('no_labeled_clips', `${what} has no audio file inside a safe/ or danger/ folder`);
  }
  out.clips.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return out;
}

/** Reads a dataset folder (recursively). */
export async function readDirDataset(dir: string): Promise<Dataset> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile())
    .map((e) => normalise(relative(dir, join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)).split(sep).join('/')));
  if (files.length > INTAKE.maxEntries) throw new IntakeError('too_many_files', `${files.length} files; at most ${INTAKE.maxEntries}`);
  const manifestPath = files.find((f) => f.split('/').length <= 2 && f.toLowerCase().endsWith('manifest.csv'));
  const manifest = manifestPath ? parseManifest(await readFile(join(dir, manifestPath), 'utf8')) : new Map<string, ManifestRow>();
  const out: Dataset = { clips: [], skipped: [] };
  for (const f of files.sort()) classify(f, new Uint8Array(await readFile(join(dir, f))), manifest, out);
  return requireClips(out, `folder ${dir}`);
}

export { readZipDataset } from './zip.ts';
export { classify as classifyDatasetFile, requireClips as requireLabeledClips };

/** A dataset from a path: a .zip file or a folder. */
export async function readDataset(path: string): Promise<Dataset> {
  const { stat } = await import('node:fs/promises');
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new IntakeError('dataset_not_found', `Cannot read dataset ${path}: ${(err as Error).message}`, { path });
  }
  if (info.isDirectory()) return readDirDataset(path);
  const { readZipDataset } = await import('./zip.ts');
  return readZipDataset(new Uint8Array(await readFile(path)));
}
