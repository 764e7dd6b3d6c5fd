/**
 * `fastq convert`: records → Arrow IPC (`.arrow`, `.arrows` for the stream format) or Parquet
 * (`.parquet`), columns id, description, sequence, quality. Workers build the Arrow columns; the main
 * thread wraps them (no copy) and writes, to a temporary file renamed into place at the end.
 */
import { Field, makeData, RecordBatch, Schema, Struct, Utf8 } from 'apache-arrow';
import { ArrowIpcFileWriter, piecesOf, type IpcCodec } from '../../sinks/arrow-pieces.js';
import { compressBatches } from '../../sinks/ipc-compression-call.js';
import { ipcCodecOf, parquetCompressionOf, type CompressionChoice } from '../../sinks/ipc-compression-option.js';
import { ParquetPieceWriter } from '../../sinks/parquet-merge.js';
import type { EngineHandle } from '../../engine/run-types.js';
import { OutputTransaction } from '../../engine/atomic.js';
import { checkFileOutput, isStreamTarget } from '../../engine/output-target.js';
import { UsageError } from '../../engine/errors.js';
import { defaultThreads } from '../../engine/run.js';
import type { ErrorLog } from '../../engine/error-log.js';
import type { Progress } from '../../engine/progress.js';
import { COLUMN_NAMES, type FastqColumns } from './columns.js';
import { runFastq } from './pipeline.js';

export interface ConvertOptions {
  input: string;
  output: string;
  threads?: number;
  chunkSize?: number;
  /** Rows per Arrow record batch / Parquet row group (default 65,536). */
  batchSize?: number;
  /** Stop after this many records. */
  limit?: number;
  phred?: 33 | 64;
  wrapped?: boolean;
  /** A BGZF input cut inside a block keeps the records before the cut (a warning says where). */
  allowTruncated?: boolean;
  progress?: Progress;
  errorLog?: ErrorLog;
  signal?: AbortSignal;
  warn?(message: string): void;
  /**
   * Parquet page compression (zstd, the default, snappy or none), or Arrow IPC body compression
   * (lz4, zstd or none, the default; decision 0026). Others: a UsageError.
   */
  compression?: CompressionChoice;
  /** Only this share of the input (`--shard`, src/engine/shard.ts). */
  shard?: import('../../engine/shard.js').Shard;
}

export interface ConvertSummary { input: string; output: string; records_in: number; written: number; rejected: number; threads: number; seconds: number; records_per_second: number; share?: import('../../engine/share-plan.js').ShareCoverage[] }

const schema = new Schema(COLUMN_NAMES.map((n) => new Field(n, new Utf8(), false)), new Map([['threadmill', JSON.stringify({ format: 'fastq' })]]));

/** Wraps worker-built columns in a RecordBatch (no copy). */
export function batchOf(c: FastqColumns): RecordBatch {
  const children = COLUMN_NAMES.map((n) => makeData({ type: new Utf8(), length: c.count, nullCount: 0, valueOffsets: c[n].offsets, data: c[n].data }));
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: c.count, nullCount: 0, children }));
}

/** close() runs in the engine's onEnd, while the workers (which encode Parquet) are still up. */
interface Sink { write(b: RecordBatch, engine: EngineHandle): void | Promise<void>; close(engine: EngineHandle): void | Promise<void>; abort(): void }

/** No rows at all (empty or all-rejected input): the schema alone, as a zero-row batch. */
function emptyBatch(): RecordBatch {
  const none = (): { data: Uint8Array; offsets: Int32Array } => ({ data: new Uint8Array(0), offsets: new Int32Array(1) });
  return batchOf({ count: 0, id: none(), description: none(), sequence: none(), quality: none() });
}

/**
 * Arrow IPC with positional writes off this thread (src/sinks/arrow-pieces.ts). With a codec, a
 * worker compresses each chunk's batches (the chunk's columns are moved to it, not copied), one
 * chunk per worker in flight.
 */
function arrowSink(path: string, stream: boolean, batchSize: number, codec: IpcCodec | null, threads: number): Sink {
  const opened = ArrowIpcFileWriter.open(path, schema, [], { stream, maxInFlight: codec ? Math.max(4, threads) : 4 });
  opened.catch(() => {});
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
      for (let i = 0; i < slices.length; i++) await w.write(compressed.then((c) => c[i]!));
    },
    close: async () => (await opened).close(),
    abort: () => void opened.then((w) => w.abort(), () => {}),
  };
}

/** Parquet: one row group per batch, encoded in the workers and merged in order (src/sinks/parquet-merge.ts). */
function parquetSink(path: string, batchSize: number, threads: number, compression: CompressionChoice | undefined): Sink {
  const w = new ParquetPieceWriter(path, { rowGroupSize: batchSize, compression: parquetCompressionOf(compression) }, 2 * threads);
  return {
    async write(b, engine) {
      for (let i = 0; i < b.numRows; i += batchSize) await w.write(b.slice(i, Math.min(b.numRows, i + batchSize)), engine);
    },
    // A Parquet file needs at least its schema in a footer, which comes from an encoded piece:
    // with no rows (issue 8: `parquet merge: no pieces`) one zero-row piece makes a valid empty
    // file, as the Arrow writer makes a schema-only one.
    async close(engine) {
      if (w.rows === 0) await w.write(emptyBatch(), engine);
      await w.close();
    },
    abort: () => w.abort(),
  };
}

/** The sink for the final path's extension, writing to the temporary path. */
function sinkFor(final: string, tmp: string, batchSize: number, threads = 1, compression?: CompressionChoice): Sink {
  if (/\.parquet$/i.test(final)) return parquetSink(tmp, batchSize, threads, compression);
  const codec = ipcCodecOf(compression);
  if (/\.arrows$/i.test(final)) return arrowSink(tmp, true, batchSize, codec, threads);
  if (/\.(arrow|feather|ipc)$/i.test(final)) return arrowSink(tmp, false, batchSize, codec, threads);
  if (isStreamTarget(final)) return arrowSink(tmp, true, batchSize, codec, threads); // -, a pipe or terminal: the IPC stream format
  throw new UsageError(`cannot tell the output format from ${JSON.stringify(final)}: use .parquet, .arrow or .arrows`);
}

/** The library's options get the CLI's checks (batchSize 0 looped forever). */
function validateConvertOptions(o: ConvertOptions): void {
  for (const [name, v] of [['batchSize', o.batchSize], ['limit', o.limit]] as const) {
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 1)) throw new UsageError(`${name} must be a positive integer, got ${String(v)}`);
  }
}

export async function convertFastq(o: ConvertOptions): Promise<ConvertSummary> {
  validateConvertOptions(o);
  const batchSize = o.batchSize ?? 65_536;
  const limit = o.limit ?? Infinity;
  const tx = new OutputTransaction();
  checkFileOutput(o.output, { option: '-o', inputs: [o.input], stdout: true });
  if (!isStreamTarget(o.output) && !/\.(parquet|arrows?|feather|ipc)$/i.test(o.output)) sinkFor(o.output, '', batchSize);
  // A codec the output format has not: a usage error before any work.
  if (/\.parquet$/i.test(o.output)) parquetCompressionOf(o.compression);
  else ipcCodecOf(o.compression);
  const sink = sinkFor(o.output, tx.tempFor(o.output), batchSize, o.threads ?? defaultThreads(), o.compression);
  let written = 0;
  try {
    const stats = await runFastq(o.input, { mode: 'columns', phred: o.phred ?? 33 }, {
      threads: o.threads, chunkSize: o.chunkSize, wrapped: o.wrapped, allowTruncated: o.allowTruncated, progress: o.progress, errorLog: o.errorLog, signal: o.signal, warn: o.warn, shard: o.shard,
      shouldStop: () => written >= limit,
      onEnd: (engine) => sink.close(engine),
    }, async (c, engine) => {
      if (c.payload.kind !== 'columns' || written >= limit) return;
      let batch = batchOf(c.payload.columns);
      if (written + batch.numRows > limit) batch = batch.slice(0, limit - written);
      written += batch.numRows;
      await sink.write(batch, engine);
    });
    tx.commit();
    return { input: o.input, output: o.output, records_in: stats.records, written, rejected: stats.errors, threads: stats.threads, seconds: stats.seconds, records_per_second: Math.round(written / Math.max(stats.seconds, 1e-9)), ...(stats.share ? { share: stats.share } : {}) };
  } catch (err) {
    sink.abort();
    tx.abort();
    throw err;
  }
}
