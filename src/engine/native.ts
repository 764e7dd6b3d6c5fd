/**
 * The optional native inflate (native/deflate.c: libdeflate through Node-API), built at install
 * time when a compiler and libdeflate's headers are there. Null when it is absent or when
 * THREADMILL_NATIVE=0 (tests use that to check both paths give the same bytes), in which case
 * callers use node:zlib. See docs/decisions/0008-ipc-pieces-and-native-inflate.md.
 */
import { createRequire } from 'node:module';

export interface NativeDeflate {
  /** Inflates raw deflate data into `dst`: bytes written, -1 for bad data, -2 when `dst` is too small. */
  inflateRaw(src: Uint8Array, dst: Uint8Array): number;
  /** CRC-32 of data, continuing from `crc` (0 to start). */
  crc32(data: Uint8Array, crc?: number): number;
  /**
   * Raw deflate of data (libdeflate, levels 0-12) ending in a sync flush, so outputs concatenate into
   * one deflate stream; absent from a native module built before it existed.
   */
  deflateSyncFlush?(data: Uint8Array, level: number): Uint8Array;
}

function load(): NativeDeflate | null {
  if (process.env.THREADMILL_NATIVE === '0') return null;
  try {
    // From dist/src/engine/ (built) to the package root, where node-gyp puts build/.
    return createRequire(import.meta.url)('../../../build/Release/threadmill_native.node') as NativeDeflate;
  } catch {
    return null;
  }
}

export const nativeDeflate: NativeDeflate | null = load();
