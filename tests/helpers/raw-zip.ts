/**
 * Zip archives written field by field: every size, offset, count and name as given, so a test can make an archive
 * lie the way a hostile one does (the defaults make a correct one). Synthetic bytes only.
 */
import { deflateSync, strToU8 } from 'fflate';

export interface RawEntry {
  name: string | Uint8Array;
  /** The bytes as stored: already deflated when method is 8. */
  data: Uint8Array;
  method?: number;
  crc?: number;
  uncompressedSize: number;
  compressedSize?: number;
  flags?: number;
  /** High byte 3 = Unix: external attributes then carry st_mode << 16. */
  versionMadeBy?: number;
  externalAttributes?: number;
  extra?: Uint8Array;
  /** Central entry points at another entry's local header (its index) instead of one of its own. */
  sharesLocalOf?: number;
  /** The local header says something else than the central one. */
  localName?: string;
  localSizes?: { compressed: number; uncompressed: number };
}

export interface ZipShape {
  entryCount?: number;
  cdOffset?: number;
  cdSize?: number;
  comment?: Uint8Array;
  /** Central directory records written for only the first N entries (a truncated directory). */
  centralFor?: number;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = CRC_TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const bytesOf = (s: string | Uint8Array) => (typeof s === 'string' ? strToU8(s) : s);

/** A zip with every field as given (defaults make a correct archive). */
export function writeZip(entries: readonly RawEntry[], shape: ZipShape = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  const offsets: number[] = [];
  let at = 0;
  for (const e of entries) {
    offsets.push(at);
    if (e.sharesLocalOf !== undefined) continue;
    const name = bytesOf(e.localName ?? e.name);
    const extra = e.extra ?? new Uint8Array();
    const h = new Uint8Array(30);
    const v = new DataView(h.buffer);
    v.setUint32(0, 0x04034b50, true);
    v.setUint16(4, 20, true);
    v.setUint16(6, e.flags ?? 0, true);
    v.setUint16(8, e.method ?? 0, true);
    v.setUint32(14, e.crc ?? 0, true);
    v.setUint32(18, e.localSizes?.compressed ?? e.compressedSize ?? e.data.length, true);
    v.setUint32(22, e.localSizes?.uncompressed ?? e.uncompressedSize, true);
    v.setUint16(26, name.length, true);
    v.setUint16(28, extra.length, true);
    parts.push(h, name, extra, e.data);
    at += 30 + name.length + extra.length + e.data.length;
  }
  const cdStart = at;
  for (const [i, e] of entries.slice(0, shape.centralFor ?? entries.length).entries()) {
    const name = bytesOf(e.name);
    const extra = e.extra ?? new Uint8Array();
    const h = new Uint8Array(46);
    const v = new DataView(h.buffer);
    v.setUint32(0, 0x02014b50, true);
    v.setUint16(4, e.versionMadeBy ?? 20, true);
    v.setUint16(6, 20, true);
    v.setUint16(8, e.flags ?? 0, true);
    v.setUint16(10, e.method ?? 0, true);
    v.setUint32(16, e.crc ?? 0, true);
    v.setUint32(20, e.compressedSize ?? e.data.length, true);
    v.setUint32(24, e.uncompressedSize, true);
    v.setUint16(28, name.length, true);
    v.setUint16(30, extra.length, true);
    v.setUint32(38, e.externalAttributes ?? 0, true);
    v.setUint32(42, offsets[e.sharesLocalOf ?? i], true);
    parts.push(h, name, extra);
    at += 46 + name.length + extra.length;
  }
  const comment = shape.comment ?? new Uint8Array();
  const end = new Uint8Array(22);
  const v = new DataView(end.buffer);
  v.setUint32(0, 0x06054b50, true);
  v.setUint16(8, Math.min(0xffff, shape.entryCount ?? entries.length), true);
  v.setUint16(10, Math.min(0xffff, shape.entryCount ?? entries.length), true);
  v.setUint32(12, shape.cdSize ?? at - cdStart, true);
  v.setUint32(16, shape.cdOffset ?? cdStart, true);
  v.setUint16(20, comment.length, true);
  parts.push(end, comment);
  return concat(parts);
}

/** A stored (or deflated) entry with honest sizes and CRC. */
export function entry(name: string | Uint8Array, data: Uint8Array, deflate = false, more: Partial<RawEntry> = {}): RawEntry {
  const packed = deflate ? deflateSync(data, { level: 6 }) : data;
  return { name, data: packed, method: deflate ? 8 : 0, crc: crc32(data), uncompressedSize: data.length, ...more };
}


/** The parts one after another in one array. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
