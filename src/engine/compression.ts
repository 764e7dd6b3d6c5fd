/**
 * Compression of inputs, told from their first bytes (never their names): gzip and BGZF (node:zlib),
 * zstd (fzstd, a maintained pure-JS decoder: node 20's zlib has no zstd), and the ones threadmill
 * does not read — bzip2, xz, lz4 — refused with a coded error that names them, instead of being
 * handed to a format as if they were data (issue 8: a .fq.zst gave an all-zero stats row and exit 0).
 * Format-agnostic; see docs/decisions/0016-compressed-and-non-seekable-inputs.md.
 */
import { constants as zc, gunzipSync } from 'node:zlib';
import { Decompress } from 'fzstd';
import { isBgzfHeader } from './bgzf.js';
import { ThreadmillError } from './errors.js';

export type Compression = 'gzip' | 'bgzf' | 'zstd' | 'bzip2' | 'xz' | 'lz4';

/** Bytes that {@link sniffCompression} needs to be sure (BGZF's extra field ends at byte 18). */
export const SNIFF_LENGTH = 18;

/** The compression the first bytes announce, or null for data that is not compressed (as far as we know). */
export function sniffCompression(head: Uint8Array): Compression | null {
  const b = (i: number): number => head[i] ?? -1;
  if (b(0) === 0x1f && b(1) === 0x8b) return isBgzfHeader(head, 0) ? 'bgzf' : 'gzip';
  // A zstd frame (28 B5 2F FD), or a skippable frame (5? 2A 4D 18) that zstd tools may put first.
  if (b(1) === 0xb5 && b(2) === 0x2f && b(3) === 0xfd && b(0) === 0x28) return 'zstd';
  if ((b(0) & 0xf0) === 0x50 && b(1) === 0x2a && b(2) === 0x4d && b(3) === 0x18) return 'zstd';
  if (b(0) === 0x42 && b(1) === 0x5a && b(2) === 0x68 && b(3) >= 0x31 && b(3) <= 0x39) return 'bzip2';
  if (b(0) === 0xfd && b(1) === 0x37 && b(2) === 0x7a && b(3) === 0x58 && b(4) === 0x5a && b(5) === 0x00) return 'xz';
  if (b(0) === 0x04 && b(1) === 0x22 && b(2) === 0x4d && b(3) === 0x18) return 'lz4';
  return null;
}

const UNSUPPORTED: Partial<Record<Compression, string>> = { bzip2: 'bzip2 -dc', xz: 'xz -dc', lz4: 'lz4 -dc' };

/**
 * Throws INPUT_COMPRESSION_UNSUPPORTED for compressions threadmill cannot decode. No bzip2/xz/lz4
 * decoder on npm is both maintained and streaming (unbzip2-stream's last release is from 2020;
 * @napi-rs/lzma decodes whole buffers only), and a pipe through the system tool is as fast.
 */
export function refuseUnsupported(name: string, c: Compression | null): void {
  const tool = c ? UNSUPPORTED[c] : undefined;
  if (!tool || !c) return;
  const shown = name === '-' ? 'stdin' : name;
  const pipe = name === '-' ? `${tool} | threadmill … -` : `${tool} ${name} | threadmill … -`;
  throw new ThreadmillError('INPUT_COMPRESSION_UNSUPPORTED', `${shown}: input is ${c}-compressed, which threadmill does not read (it reads plain, gzip, BGZF and zstd); decompress it on the way in: ${pipe}`);
}

/** Decompressed chunks of a zstd stream (all frames), or ZSTD_CORRUPT naming the compressed offset. */
export async function* zstdChunks(raw: AsyncIterable<Uint8Array>, name: string, compressedBytes: () => number): AsyncGenerator<Uint8Array> {
  const out: Uint8Array[] = [];
  // fzstd hands each block over in a buffer of its own, so holding on to them is safe.
  const z = new Decompress((chunk) => { if (chunk.length > 0) out.push(chunk); });
  const corrupt = (err: unknown): ThreadmillError => new ThreadmillError('ZSTD_CORRUPT', `${name === '-' ? 'stdin' : name}: bad zstd data near compressed byte ${compressedBytes()}: ${(err as Error).message}`);
  for await (const c of raw) {
    try {
      z.push(c, false);
    } catch (err) {
      throw corrupt(err);
    }
    yield* out.splice(0);
  }
  try {
    z.push(new Uint8Array(0), true);
  } catch (err) {
    throw corrupt(err);
  }
  yield* out.splice(0);
}

/** Up to `max` decompressed bytes from the first bytes of a compressed input (may be fewer: a prefix decodes only so far). */
export function decompressHead(raw: Uint8Array, c: Compression | null, max: number): Uint8Array {
  if (c === 'gzip' || c === 'bgzf') {
    try {
      return gunzipSync(raw, { finishFlush: zc.Z_SYNC_FLUSH }).subarray(0, max);
    } catch {
      return new Uint8Array(0);
    }
  }
  if (c === 'zstd') {
    const parts: Uint8Array[] = [];
    try {
      new Decompress((chunk) => { parts.push(chunk); }).push(raw, false);
    } catch {
      // A corrupt head: what decoded so far is all there is; the run reports the corruption.
    }
    return Buffer.concat(parts).subarray(0, max);
  }
  return raw.subarray(0, max);
}
