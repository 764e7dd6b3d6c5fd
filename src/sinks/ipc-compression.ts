/**
 * Worker side of Arrow IPC body compression (the call and the main thread's half are in
 * ipc-compression-call.ts). Each buffer is compressed on its own, as the IPC format specifies
 * (BodyCompression method BUFFER): an int64 uncompressed length, then an LZ4 frame or a zstd frame.
 * A buffer the codec does not make smaller is stored as it is with length −1, as arrow-rs does.
 *
 * Codecs (decision 0026): lz4 from lz4-napi (lz4_flex; prebuilt binaries as npm packages per
 * platform), zstd from @bokuweb/zstd-wasm (zstd compiled to WASM inside the package: no binary to
 * download, runs wherever Node does) at level 1, Arrow C++'s default for IPC. Each is loaded in a
 * worker on its first call, so runs without compression never load either.
 */
import type { CallResult } from '../engine/plugin.js';
import { ThreadmillError } from '../engine/errors.js';
import { joined, padded } from './ipc-bytes.js';
import type { IpcCodec } from './arrow-pieces.js';
import type { CompressedBody, IpcCompressArg } from './ipc-compression-call.js';

/**
 * zstd level 1 (Arrow C++'s default for IPC): on 200k generated BAM records level 3 gave 29.6 MB
 * instead of 29.8 MB at ~2/3 of the speed (141 vs 209 MB/s of CPU, one core).
 */
const ZSTD_LEVEL = 1;

type Encode = (data: Uint8Array) => Uint8Array;
const encoders = new Map<IpcCodec, Promise<Encode>>();

async function loadEncoder(codec: IpcCodec): Promise<Encode> {
  try {
    if (codec === 'lz4') {
      const lz4 = await import('lz4-napi');
      return (d) => lz4.compressFrameSync(Buffer.from(d.buffer, d.byteOffset, d.byteLength));
    }
    const zstd = await import('@bokuweb/zstd-wasm');
    await zstd.init();
    return (d) => zstd.compress(d, ZSTD_LEVEL);
  } catch (err) {
    throw new ThreadmillError('IPC_CODEC_UNAVAILABLE', `cannot load the ${codec} codec for Arrow IPC compression (${(err as Error).message}); use --compression ${codec === 'lz4' ? 'zstd' : 'lz4'} or none`, { cause: err });
  }
}

function encoderFor(codec: IpcCodec): Promise<Encode> {
  let e = encoders.get(codec);
  if (!e) {
    e = loadEncoder(codec);
    encoders.set(codec, e);
  }
  return e;
}

/** The pieces of one buffer as one contiguous array (no copy when there is one piece). */
function contiguous(pieces: Uint8Array[]): Uint8Array {
  return pieces.length === 1 ? pieces[0]! : joined(pieces);
}

/** One batch's buffers → its compressed body, laid out as ArrowIpcFileWriter reads it (arrow-pieces.ts). */
function compressBody(buffers: Uint8Array[][], encode: Encode): CompressedBody {
  const parts = buffers.map((pieces): { raw: number; data: Uint8Array } | null => {
    if (pieces.length === 0) return null;
    const raw = contiguous(pieces);
    const packed = encode(raw);
    return packed.byteLength < raw.byteLength ? { raw: raw.byteLength, data: packed } : { raw: -1, data: raw };
  });
  const lengths = parts.map((p) => (p ? 8 + p.data.byteLength : 0));
  const body = new Uint8Array(lengths.reduce((n, l) => n + padded(l), 0));
  const view = new DataView(body.buffer);
  let at = 0;
  for (const p of parts) {
    if (!p) continue;
    view.setBigInt64(at, BigInt(p.raw), true);
    body.set(p.data, at + 8);
    at += padded(8 + p.data.byteLength);
  }
  return { body, lengths };
}

/** The IPC_COMPRESS_CALL handler a task module registers. */
export async function compressIpcBuffers(arg: IpcCompressArg): Promise<CallResult> {
  const encode = await encoderFor(arg.codec);
  const value = arg.batches.map((b) => compressBody(b, encode));
  return { value, transfer: value.map((c) => c.body.buffer as ArrayBuffer) };
}
