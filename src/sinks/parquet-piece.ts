/**
 * Worker side of Parquet written by the workers (format-agnostic): one batch, as an Arrow IPC
 * stream, becomes one complete small Parquet file (one row group) that ParquetMerger
 * (parquet-merge.ts) appends on the main thread. Its own file so that the main thread, which
 * only merges, never loads parquet-wasm (~0.1 s of start-up here).
 */
import * as pw from 'parquet-wasm';
import { writerProperties } from './parquet.js';
import type { CallResult } from '../engine/plugin.js';
import type { EncodeArg } from './parquet-call.js';

/** Worker side: one Arrow IPC stream (one batch) → one complete Parquet file, moved back. */
export function encodeParquetPiece(arg: EncodeArg): CallResult {
  const table = pw.Table.fromIPCStream(arg.ipc);
  // writeParquet takes ownership of the table (and the properties) and frees them.
  let bytes = pw.writeParquet(table, writerProperties(arg.options));
  if (bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength) bytes = bytes.slice();
  return { value: bytes, transfer: [bytes.buffer as ArrayBuffer] };
}
