/**
 * A table output fed Arrow RecordBatches in order, for any format whose workers build Arrow
 * columns: Arrow IPC (file or stream) or Parquet, chosen from the output's name (table-file.ts).
 * The heavy work stays off the main thread: IPC compression and Parquet encoding are side calls
 * to the run's workers (engine.call), the IPC file is laid down with positional writes.
 */
import type { RecordBatch, Schema } from 'apache-arrow';
import { ArrowIpcFileWriter, piecesOf, type IpcCodec } from './arrow-pieces.js';
import { compressBatches } from './ipc-compression-call.js';
import { ipcCodecOf, parquetCompressionOf, type CompressionChoice } from './ipc-compression-option.js';
import { ParquetPieceWriter } from './parquet-merge.js';
import { tableKindOf } from './table-file.js';
import type { EngineHandle } from '../engine/run-types.js';

/**
 * close() runs in the engine's onEnd, while the workers (which encode Parquet) are still up;
 * drain(): the work given to the workers is done, so the next input's run may start with a new pool.
 */
export interface RecordBatchSink { write(b: RecordBatch, engine: EngineHandle): void | Promise<void>; drain(): Promise<void>; close(engine: EngineHandle): void | Promise<void>; abort(): void }

export interface RecordBatchSinkOptions {
  schema: Schema;
  /** A zero-row batch of the schema: a Parquet file needs one encoded piece for its footer. */
  empty(): RecordBatch;
  /** Rows per IPC record batch / Parquet row group. */
  batchSize: number;
  threads: number;
  compression?: CompressionChoice;
}

/**
 * Arrow IPC with positional writes off this thread (src/sinks/arrow-pieces.ts). With a codec, a
 * worker compresses each chunk's batches (the chunk's columns are moved to it, not copied), one
 * chunk per worker in flight.
 */
function arrowSink(path: string, stream: boolean, codec: IpcCodec | null, o: RecordBatchSinkOptions): RecordBatchSink {
  const { batchSize, threads } = o;
  const opened = ArrowIpcFileWriter.open(path, o.schema, [], { stream, maxInFlight: codec ? Math.max(4, threads) : 4 });
  opened.catch(() => {});
  const compressing: Array<Promise<unknown>> = [];
  return {
    async write(b, engine) {
      const w = await opened;
      const slices = [];
      for (let i = 0; i < b.numRows; i += batchSize) slices.push(piecesOf(b.slice(i, Math.min(b.numRows, i + batchSize))));
      if (!codec) {
        for (const s of slices) await w.write(s);
        return;
      }
      // `b` is not read again: its buffers (the worker's columns) can move.
      const compressed = compressBatches(engine, codec, slices, true);
      compressed.catch(() => {});
      compressing.push(compressed);
      for (let i = 0; i < slices.length; i++) await w.write(compressed.then((c) => c[i]!));
    },
    async drain() {
      await Promise.all(compressing.splice(0));
    },
    close: async () => (await opened).close(),
    abort: () => void opened.then((w) => w.abort(), () => {}),
  };
}

/** Parquet: one row group per batch, encoded in the workers and merged in order (src/sinks/parquet-merge.ts). */
function parquetSink(path: string, o: RecordBatchSinkOptions): RecordBatchSink {
  const batchSize = o.batchSize;
  const w = new ParquetPieceWriter(path, { rowGroupSize: batchSize, compression: parquetCompressionOf(o.compression) }, 2 * o.threads);
  return {
    async write(b, engine) {
      for (let i = 0; i < b.numRows; i += batchSize) await w.write(b.slice(i, Math.min(b.numRows, i + batchSize)), engine);
    },
    // A Parquet file needs at least its schema in a footer, which comes from an encoded piece:
    // with no rows (issue 8: `parquet merge: no pieces`) one zero-row piece makes a valid empty
    // file, as the Arrow writer makes a schema-only one.
    drain: () => w.drain(),
    async close(engine) {
      if (w.rows === 0) await w.write(o.empty(), engine);
      await w.close();
    },
    abort: () => w.abort(),
  };
}

/** The sink for the final path's kind (its extension; `-`, a pipe or a terminal: the IPC stream), writing to `tmp`. */
export function openRecordBatchSink(final: string, tmp: string, o: RecordBatchSinkOptions): RecordBatchSink {
  const kind = tableKindOf(final);
  if (kind === 'parquet') return parquetSink(tmp, o);
  return arrowSink(tmp, kind === 'arrows', ipcCodecOf(o.compression), o);
}
