/**
 * Arrow IPC body compression done by the workers (format-agnostic): the side call's name and
 * argument, and the main thread's half, which hands a batch's buffers to a worker and gets back one
 * compressed body. A module without runtime dependencies, so a task module can name the call
 * without loading a codec before the call is first made (ipc-compression.ts does the work).
 *
 * Compression never runs on the main thread: at ~100–300 MB/s per core (decision 0026) it would
 * cap every run at one core's rate.
 */
import type { EngineHandle } from '../engine/run-types.js';
import type { CompressedBatch, IpcCodec, PieceBatch } from './arrow-pieces.js';

export const IPC_COMPRESS_CALL = 'ipcCompressBuffers';

/** Each batch as its buffers, each buffer as pieces written back to back (empty pieces left out). */
export interface IpcCompressArg { codec: IpcCodec; batches: Uint8Array[][][] }
/**
 * Per batch: the body (every buffer an 8-byte-aligned region: int64 uncompressed length, or −1
 * when the codec did not make it smaller, then the bytes; the body padded to 8) and the region
 * lengths (0 for an empty buffer).
 */
export interface CompressedBody { body: Uint8Array; lengths: number[] }

const isShared = (b: ArrayBufferLike): boolean => typeof SharedArrayBuffer !== 'undefined' && b instanceof SharedArrayBuffer;

/**
 * Compresses batches in one worker side call. Pieces in shared memory travel without a copy.
 * `give`: the pieces' other buffers belong to the caller, which will not read them again, so
 * they are moved (no copy); otherwise a piece that is a view of a larger buffer is copied alone
 * (postMessage would copy its whole buffer, e.g. a shared table of offsets).
 */
export function compressBatches(engine: EngineHandle, codec: IpcCodec, batches: PieceBatch[], give = false): Promise<CompressedBatch[]> {
  const transfer = new Set<ArrayBuffer>();
  const arg: IpcCompressArg = {
    codec,
    batches: batches.map((b) => b.buffers.map((buf) => buf.pieces.filter((p) => p.byteLength > 0).map((p) => {
      if (isShared(p.buffer)) return p;
      if (give) {
        transfer.add(p.buffer as ArrayBuffer);
        return p;
      }
      if (p.byteLength === p.buffer.byteLength) return p;
      const own = p.slice();
      transfer.add(own.buffer);
      return own;
    }))),
  };
  return engine.call<CompressedBody[]>(IPC_COMPRESS_CALL, arg, [...transfer]).then((bodies) =>
    bodies.map((c, i) => ({ length: batches[i]!.length, nodes: batches[i]!.nodes, codec, body: c.body, lengths: c.lengths })));
}
