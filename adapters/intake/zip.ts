/**
 * Zip intake that never extracts-all: the central directory is checked entry by entry before any byte is
 * inflated; traversal, absolute paths and symlinks refuse the whole zip (it is hostile), and sizes are checked
 * both as declared and as actually inflated (yauzl's validateEntrySizes), so a lying header cannot bomb us.
 */
import yauzl from 'yauzl';
import { INTAKE } from '../../shared/config.ts';
import { classifyDatasetFile, IntakeError, parseManifest, requireLabeledClips, type Dataset, type ManifestRow } from './dataset.ts';

const S_IFMT = 0o170000;
/** Inflated bytes in all below which an archive's ratio is not checked: a few short silent clips compress far past it. */
const ARCHIVE_RATIO_FREE_BYTES = 16 * 1024 * 1024;
const S_IFLNK = 0o120000;

export interface ZipLimits {
  maxEntries: number;
  maxTotalBytes: number;
  maxEntryBytes: number;
  maxRatio: number;
}

async function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, maxBytes: number): Promise<Uint8Array> {
  const stream = await zip.openReadStreamPromise(entry);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      stream.destroy();
      throw new IntakeError('zip_bomb', `${entry.fileName} inflates past ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

export async function readZipDataset(bytes: Uint8Array, limits: ZipLimits = INTAKE): Promise<Dataset> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.fromBufferPromise(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
      lazyEntries: true,
      decodeStrings: false,
      validateEntrySizes: true,
    });
  } catch (err) {
    throw new IntakeError('invalid_zip', `not a readable zip archive: ${(err as Error).message}`);
  }
  try {
    if (zip.entryCount > limits.maxEntries) {
      throw new IntakeError('zip_too_many_entries', `${zip.entryCount} entries; at most ${limits.maxEntries}`);
    }
    // First pass over the central directory only: refuse the whole archive before inflating anything.
    const entries: { entry: yauzl.Entry; name: string }[] = [];
    let declaredTotal = 0;
    for await (const entry of zip.eachEntry()) {
      const raw = entry.fileName as unknown as Buffer;
      const name = yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, raw, entry.extraFields, false);
      // Control characters too: a NUL ends a path early in C APIs, and Postgres text cannot hold one.
      const bad =
        yauzl.validateFileName(name) ?? (/(^|\/)\.\.(\/|$)/.test(name) ? 'invalid relative path' : /[\u0000-\u001f\u007f]/.test(name) ? 'control character' : null);
      if (bad) throw new IntakeError('zip_unsafe_path', `refused: entry "${name}" has an unsafe path (${bad})`);
      const unixMode = entry.externalFileAttributes >>> 16;
      if (entry.versionMadeBy >> 8 === 3 && (unixMode & S_IFMT) === S_IFLNK) {
        throw new IntakeError('zip_symlink', `refused: entry "${name}" is a symbolic link`);
      }
      if (name.endsWith('/')) continue;
      if (entry.isEncrypted()) throw new IntakeError('zip_encrypted', `refused: entry "${name}" is encrypted`);
      if (entry.uncompressedSize > limits.maxEntryBytes) {
        throw new IntakeError('zip_too_large', `entry "${name}" is ${entry.uncompressedSize} bytes; at most ${limits.maxEntryBytes}`);
      }
      if (entry.uncompressedSize > 1024 * 1024 && entry.uncompressedSize / Math.max(1, entry.compressedSize) > limits.maxRatio) {
        throw new IntakeError('zip_bomb', `entry "${name}" compresses ${Math.round(entry.uncompressedSize / Math.max(1, entry.compressedSize))}:1; at most ${limits.maxRatio}:1`);
      }
      declaredTotal += entry.uncompressedSize;
      if (declaredTotal > limits.maxTotalBytes) {
        throw new IntakeError('zip_too_large', `archive inflates past ${limits.maxTotalBytes} bytes`);
      }
      // The ratio over the whole archive too: entries each under the per-entry check, or central records that all
      // point at one local entry (an overlapping bomb), inflate as much as one big bomb, and intake holds it all.
      if (declaredTotal > Math.max(limits.maxRatio * bytes.byteLength, ARCHIVE_RATIO_FREE_BYTES)) {
        throw new IntakeError('zip_bomb', `archive of ${bytes.byteLength} bytes inflates to at least ${declaredTotal} bytes; at most ${limits.maxRatio}:1 in all`);
      }
      entries.push({ entry, name });
    }
    const manifestEntry = entries.find((e) => e.name.split('/').length <= 2 && e.name.toLowerCase().endsWith('manifest.csv'));
    const manifest = manifestEntry
      ? parseManifest(new TextDecoder().decode(await readEntry(zip, manifestEntry.entry, limits.maxEntryBytes)))
      : new Map<string, ManifestRow>();
    const out: Dataset = { clips: [], skipped: [] };
    for (const { entry, name } of entries) {
      // Sizes were checked on the declared values; readEntry re-checks while inflating.
      const data = name === manifestEntry?.name ? new Uint8Array() : await readEntry(zip, entry, limits.maxEntryBytes);
      classifyDatasetFile(name, data, manifest, out);
    }
    return requireLabeledClips(out, 'zip');
  } catch (err) {
    if (err instanceof IntakeError) throw err;
    throw new IntakeError('invalid_zip', `zip archive is corrupt: ${(err as Error).message}`);
  } finally {
    zip.close();
  }
}
