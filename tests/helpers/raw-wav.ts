/**
 * WAV files written field by field, with values encodeWav refuses: the decode-budget tests' bombs and odd headers.
 * Synthetic bytes only.
 */

export interface RawWav {
  formatTag: number;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bits: number;
  /** The data chunk's declared size (0xFFFFFFFF: "read to the end"). */
  dataSize: number;
  /** Bytes after the data chunk header. */
  payload: number;
  /** fmt chunk extension (cbSize and what follows), for ADPCM. */
  extension?: number[];
}

export function rawWav(w: RawWav): Uint8Array {
  const ext = w.extension ?? [];
  const fmtSize = 16 + ext.length;
  const out = new Uint8Array(12 + 8 + fmtSize + 8 + w.payload);
  const v = new DataView(out.buffer);
  const ascii = (o: number, t: string) => [...t].forEach((c, i) => (out[o + i] = c.charCodeAt(0)));
  ascii(0, 'RIFF');
  v.setUint32(4, out.length - 8, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, fmtSize, true);
  v.setUint16(20, w.formatTag, true);
  v.setUint16(22, w.channels, true);
  v.setUint32(24, w.sampleRate, true);
  v.setUint32(28, w.sampleRate * w.blockAlign, true);
  v.setUint16(32, w.blockAlign, true);
  v.setUint16(34, w.bits, true);
  ext.forEach((b, i) => (out[36 + i] = b));
  ascii(36 + ext.length, 'data');
  v.setUint32(40 + ext.length, w.dataSize, true);
  for (let i = 44 + ext.length; i < out.length; i++) out[i] = (i * 37) & 0xff;
  return out;
}

/** Issue 14's first bomb: μ-law, 65,535 channels, 1-byte frames, "read to the end", 32 KB in all. */
export function ulawBomb(): Uint8Array {
  return rawWav({ formatTag: 7, channels: 65535, sampleRate: 8000, blockAlign: 1, bits: 8, dataSize: 0xffffffff, payload: 32 * 1024 - 44 });
}

/** Its 8-bit PCM variant with 4,096 channels (1-byte frames unless told otherwise), which used to answer 200. */
export function pcm8Bomb(blockAlign = 1): Uint8Array {
  return rawWav({ formatTag: 1, channels: 4096, sampleRate: 8000, blockAlign, bits: 8, dataSize: 0xffffffff, payload: 32 * 1024 - 44 });
}
