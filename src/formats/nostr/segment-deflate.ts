/**
 * Raw deflate of one day-file segment, ending in a sync flush so that segments concatenate into
 * one deflate stream (pigz's method). libdeflate (native, built at install) when present, else
 * node:zlib. The two give different compressed bytes for the same events (libdeflate's are ~6%
 * smaller); the events decompressed are identical, and on one machine the bytes do not depend on
 * -j (docs/decisions/0010-nostr-convert-at-scale.md).
 */
import { constants, deflateRawSync } from 'node:zlib';
import { nativeDeflate } from '../../engine/native.js';

const native = nativeDeflate?.deflateSyncFlush ? nativeDeflate : null;

export function deflateSegment(data: Uint8Array, level: number): Uint8Array {
  if (native) return native.deflateSyncFlush!(data, level);
  return deflateRawSync(data, { level, finishFlush: constants.Z_SYNC_FLUSH });
}
