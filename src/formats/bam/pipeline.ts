/**
 * `bam convert`, `bam stats`, `bam header`: compose the engine with the BAM task module.
 * Workers inflate BGZF blocks and decode records into columns; this thread only cuts the
 * columns into record batches (offsets and validity bitmaps; the values are written from the
 * workers' arrays as they are) and writes them in chunk order.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { extname } from 'node:path';
import { runChunks, type EngineOptions } from '../../engine/run.js';
import { describeInput } from '../../engine/source.js';
import { OutputTransaction } from '../../engine/atomic.js';
import { ThreadmillError, UsageError } from '../../engine/errors.js';
import { blockSizeAt, inflateBlock, isBgzfHeader, locateBlock } from '../../engine/bgzf.js';
import type { EngineHandle, LocatedError, OrderedChunk, RunStats } from '../../engine/run-types.js';
import type { Progress } from '../../engine/progress.js';
import { ArrowIpcFileWriter, ipcStreamHead, type PieceBatch } from '../../sinks/arrow-pieces.js';
import { ParquetPieceWriter } from '../../sinks/parquet-merge.js';
import { BamError } from './errors.js';
import { headerLength, parseHeader, type BamHeader } from './header.js';
import { bamSchema, toPieceBatch, type BamArrow, type BamSchemaOptions } from './arrow.js';
import { RowBatcher, type RowRange, type RowSpan } from './batch.js';
import { assembleBatch, type BatchAssembly } from './assemble.js';
import { ASSEMBLE_CALL, PARQUET_CALL, type AssembleArg, type ParquetArg } from './calls.js';
import { emptyStats, mergeStats, type BamStatsPartial } from './stats.js';
import type { BamPayload, BamTaskOptions } from './task.js';
import { columnViews, emptyColumns, type BamColumns } from './decode.js';
import { releaseShared } from '../../engine/shared-pool.js';

const TASK = new URL('./task.js', import.meta.url);

export type BamOutputFormat = 'ipc' | 'parquet';

export interface BamRunOptions {
  input: string;
  threads?: number;
  progress?: Progress;
  warn?: (message: string) => void;
  /** Keep the records decoded before a truncated end instead of failing. */
  allowTruncated?: boolean;
  /** Compressed bytes per chunk (default: the engine's 4 MiB). */
  chunkSize?: number;
  signal?: AbortSignal;
}

export interface BamConvertOptions extends BamRunOptions {
  output: string;
  format?: BamOutputFormat;
  /** Rows per record batch / row group (default 100,000). */
  batchSize?: number;
  /** Fewer rows when a batch would hold more bytes of values than this (default 64 MiB). */
  maxBatchBytes?: number;
  sequence?: boolean;
  quality?: boolean;
  tags?: boolean;
  limit?: number;
  /** Parquet page compression (default zstd; see docs/decisions/0004-parquet-writer.md). */
  compression?: 'zstd' | 'snappy' | 'none';
  /** Where IPC batches' offsets and bitmaps are joined (default: by thread count); same bytes either way. */
  assembleIn?: 'main' | 'workers';
}

export interface BamConvertResult { records: number; written: number; batches: number; truncated: boolean; stats: RunStats }

/** The output format from `--format` or else the output's extension. */
export function outputFormat(output: string, format?: string): BamOutputFormat {
  if (format === 'ipc' || format === 'parquet') return format;
  if (format !== undefined) throw new UsageError(`--format must be ipc or parquet, got ${JSON.stringify(format)}`);
  const ext = extname(output).toLowerCase();
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  if (ext === '.arrow' || ext === '.ipc' || ext === '.feather' || ext === '.arrows') return 'ipc';
  throw new UsageError(`cannot tell the output format from ${JSON.stringify(output)}; use .arrow or .parquet, or --format ipc|parquet`);
}

/**
 * Reads the header of a BGZF file on this thread (a few blocks), so a wrong file fails before
 * any worker starts and workers can check reference ids. Null for inputs that are not BGZF files.
 */
export function readHeaderFromFile(path: string): BamHeader | null {
  // describeInput names a missing or unreadable input with the engine's codes (INPUT_NOT_FOUND, ...).
  if (path === '-' || describeInput(path).kind !== 'bgzf') return null;
  const fd = openSync(path, 'r');
  try {
    const parts: Uint8Array[] = [];
    let pos = 0;
    for (;;) {
      const head = new Uint8Array(1 << 16);
      const n = readSync(fd, head, 0, head.length, pos);
      if (pos === 0 && !isBgzfHeader(head.subarray(0, n), 0)) return null;
      const size = blockSizeAt(head.subarray(0, n), 0);
      if (size < 0 || size > n) throw new BamError('BAM_BAD_HEADER', `${path}: BAM header is cut short (no complete BGZF block at compressed offset ${pos})`);
      parts.push(inflateBlock(head, 0, pos));
      pos += size;
      const data = Buffer.concat(parts);
      if (headerLength(data) >= 0) return parseHeader(data);
      if (size === 28 && parts[parts.length - 1]!.length === 0) throw new BamError('BAM_BAD_HEADER', `${path}: BAM header is cut short (file truncated?)`);
    }
  } finally {
    closeSync(fd);
  }
}

/** One line naming the record, its offsets and, for files, the compressed offset of its block. */
function describeBad(input: string, e: LocatedError): string {
  const block = input !== '-' ? locateBlockSafe(input, e.offset) : -1;
  const where = block >= 0 ? `in the BGZF block at compressed offset ${block} ` : '';
  return `${input}: record ${e.record ?? '?'} ${where}(decompressed offset ${e.offset}): ${e.reason}`;
}

function locateBlockSafe(path: string, uoffset: number): number {
  try {
    return locateBlock(path, uoffset);
  } catch {
    return -1;
  }
}

/** Shared run loop: header from chunk 0, fatal record errors, reference-id checks for streams. */
async function runBam(opts: BamRunOptions, taskOptions: BamTaskOptions, onPayload: (p: BamPayload, header: BamHeader, engine: EngineHandle) => void | Promise<void>, shouldStop?: () => boolean, onEnd?: (engine: EngineHandle, header: BamHeader | null) => void | Promise<void>): Promise<{ stats: RunStats; header: BamHeader; truncated: boolean }> {
  const pre = readHeaderFromFile(opts.input);
  let header: BamHeader | null = pre;
  let truncated = false;
  const engineOptions: EngineOptions<BamTaskOptions, BamPayload> = {
    inputs: [opts.input],
    taskModule: TASK,
    taskOptions: { ...taskOptions, nRef: pre ? pre.references.length : -1 },
    threads: opts.threads,
    chunkSize: opts.chunkSize,
    progress: opts.progress,
    warn: opts.warn,
    allowTruncated: opts.allowTruncated,
    signal: opts.signal,
    shouldStop,
    onChunk: async (chunk, engine) => {
      const p = chunk.payload;
      if (p.header) header = p.header;
      if (!header) throw new BamError('BAM_BAD_HEADER', `${opts.input}: no BAM header before the first records`);
      for (const e of chunk.errors) {
        if (e.category === 'truncated_record' && opts.allowTruncated) {
          truncated = true;
          opts.warn?.(`${opts.input}: the data ends inside record ${e.record ?? '?'}; kept the ${(e.record ?? 1) - 1} records before it (--allow-truncated)`);
          continue;
        }
        throw new BamError(e.category === 'truncated_record' ? 'BAM_TRUNCATED' : 'BAM_BAD_RECORD', describeBad(opts.input, e));
      }
      const cols = p.columns;
      if (cols && cols.maxRef >= header.references.length) throw badRefId(opts.input, chunk, cols, header.references.length);
      await onPayload(p, header, engine);
    },
    onEnd: onEnd && ((engine) => onEnd(engine, header)),
  };
  const stats = await runChunks(engineOptions);
  if (!header) throw new BamError('BAM_BAD_HEADER', `${opts.input}: empty input, no BAM header`);
  return { stats, header, truncated };
}

/** Streams only (files check in the workers): the first row whose reference id is out of range. */
function badRefId(input: string, chunk: OrderedChunk<BamPayload>, c: BamColumns, nRef: number): BamError {
  let i = 0;
  while (i < c.rows && c.refId[i]! < nRef && c.rnext[i]! <= nRef) i++;
  const before = chunk.records - c.rows;
  return new BamError('BAM_BAD_RECORD', `${input}: record ${before + i + 1} of the chunk at decompressed offset ${chunk.offset}: reference id out of range [-1, ${nRef})`);
}

/**
 * Where batches go. `written` runs once the batch's column buffers are no longer read (its bytes
 * are in the file, or a worker has encoded them), so they can be recycled.
 */
interface Sink { write(spans: RowSpan[], engine: EngineHandle, written: () => void): Promise<void>; close(): Promise<void>; abort(): void }

/**
 * The workers decode into shared buffers from their own pools (task.ts); a chunk's buffers go
 * back to its worker once every batch holding some of its rows is written and the batcher holds
 * none of them. Reusing them saved the zero-filled fresh pages of each chunk in the workers and
 * the freeing of ~750 MB of moved buffers by this thread's GC per 2M records.
 */
class ColumnLeases {
  private readonly refs = new Map<BamColumns, number>();
  hold(c: BamColumns): void {
    this.refs.set(c, (this.refs.get(c) ?? 0) + 1);
  }
  drop(c: BamColumns): void {
    const n = (this.refs.get(c) ?? 1) - 1;
    if (n > 0) {
      this.refs.set(c, n);
      return;
    }
    this.refs.delete(c);
    for (const v of columnViews(c)) releaseShared(v);
  }
}

/**
 * Past this many workers, a batch's offsets and bitmaps are joined by a worker instead of this
 * thread. Joining costs ~0.17 µs per row here and a worker decodes ~570k rows/s (2M-record
 * benchmark), so up to 4 workers this thread stays under ~40% busy and joining here is free
 * (it is the spare core). Joining in the workers at -j 1 and -j 2 measured 15–30% slower: they
 * do the work themselves, and the longer round trip keeps more column buffers in flight (fresh
 * pages). Past ~10 workers this thread would be the ceiling, so there they join.
 */
const ASSEMBLE_IN_WORKERS_FROM = 5;

/**
 * Arrow IPC: each batch's offsets and bitmaps are joined (assemble.ts), this thread lays out the
 * pieces, and the file writer puts them down in batch order with positional writes.
 */
class IpcSink implements Sink {
  private readonly queue: Array<{ batch: Promise<PieceBatch>; written: () => void }> = [];
  constructor(private readonly file: ArrowIpcFileWriter, private readonly options: BamSchemaOptions, private readonly inWorkers: boolean, private readonly maxInFlight: number) {}

  async write(spans: RowSpan[], engine: EngineHandle, written: () => void): Promise<void> {
    const arg: AssembleArg = { spans: spans.map(({ cols, from, to }) => ({ cols, from, to })), options: this.options };
    const batch = this.inWorkers
      ? engine.call<BatchAssembly>(ASSEMBLE_CALL, arg).then((m) => toPieceBatch(this.options, arg.spans, m))
      : Promise.resolve(toPieceBatch(this.options, arg.spans, assembleBatch(arg.spans, this.options)));
    batch.catch(() => {});
    this.queue.push({ batch, written });
    while (this.queue.length > this.maxInFlight) await this.next();
  }

  private async next(): Promise<void> {
    const q = this.queue.shift()!;
    await this.file.write(await q.batch, q.written);
  }

  async close(): Promise<void> {
    while (this.queue.length > 0) await this.next();
    await this.file.close();
  }

  abort(): void {
    this.file.abort();
  }
}

/** Parquet: a worker builds and encodes each batch as one row group (PARQUET_CALL). */
function parquetSink(w: ParquetPieceWriter, arrow: BamArrow): Sink {
  const head = ipcStreamHead(arrow.schema, arrow.dictionaries);
  return {
    write: (spans, engine, written) => {
      const arg: ParquetArg = { spans: spans.map(({ cols, from, to }) => ({ cols, from, to })), options: arrow.options, head, parquet: w.options };
      const piece = engine.call<Uint8Array>(PARQUET_CALL, arg);
      piece.then(written, () => {});
      return w.writePiece(piece, spans.reduce((n, r) => n + r.to - r.from, 0));
    },
    close: () => w.close(),
    abort: () => w.abort(),
  };
}

/**
 * In flight: for Parquet two encodings per worker keep them all busy; for IPC one batch per
 * worker being joined (the file writer adds its own few), since every batch in flight holds
 * its chunks' column buffers.
 */
async function openSink(path: string, format: BamOutputFormat, arrow: BamArrow, o: { batchSize: number; compression: BamConvertOptions['compression']; threads: number; assembleIn?: 'main' | 'workers' }): Promise<Sink> {
  if (format === 'ipc') {
    const inWorkers = o.assembleIn ? o.assembleIn === 'workers' : o.threads >= ASSEMBLE_IN_WORKERS_FROM;
    return new IpcSink(await ArrowIpcFileWriter.open(path, arrow.schema, arrow.dictionaries), arrow.options, inWorkers, inWorkers ? o.threads : 0);
  }
  return parquetSink(new ParquetPieceWriter(path, { rowGroupSize: o.batchSize, compression: o.compression }, 2 * o.threads), arrow);
}

/** `bam convert`: BAM → Arrow IPC or Parquet, atomically. */
export async function convertBam(opts: BamConvertOptions): Promise<BamConvertResult> {
  const format = outputFormat(opts.output, opts.format);
  const batchSize = opts.batchSize ?? 100_000;
  const schemaOptions = { sequence: opts.sequence ?? true, quality: opts.quality ?? true, tags: opts.tags ?? true };
  const limit = opts.limit ?? Infinity;
  const tx = new OutputTransaction();
  const tmp = tx.tempFor(opts.output);
  const batcher = new RowBatcher(batchSize, opts.maxBatchBytes);
  const leases = new ColumnLeases();
  let arrow: BamArrow | null = null;
  let sink: Sink | null = null;
  let written = 0;
  let batches = 0;
  let taken = 0;
  const ensureSink = async (header: BamHeader, engine: EngineHandle): Promise<{ arrow: BamArrow; sink: Sink }> => {
    arrow ??= bamSchema(header, schemaOptions);
    sink ??= await openSink(tmp, format, arrow, { batchSize, compression: opts.compression, threads: engine.threads, assembleIn: opts.assembleIn });
    return { arrow, sink };
  };
  const writeBatch = async (ranges: RowRange[], header: BamHeader, engine: EngineHandle): Promise<void> => {
    const s = await ensureSink(header, engine);
    for (const r of ranges) {
      leases.hold(r.cols);
      if (r.last) leases.drop(r.cols);
    }
    await s.sink.write(ranges, engine, () => {
      for (const r of ranges) leases.drop(r.cols);
    });
    written += ranges.reduce((n, r) => n + r.to - r.from, 0);
    batches++;
  };
  try {
    const run = await runBam(opts, { ...schemaOptions, mode: 'convert', nRef: -1 }, async (p, header, engine) => {
      await ensureSink(header, engine);
      const cols = p.columns;
      if (!cols) return;
      const keep = Math.min(cols.rows, limit - taken);
      leases.hold(cols);
      if (keep <= 0) return leases.drop(cols);
      batcher.push(cols, 0, keep);
      taken += keep;
      for (const full of batcher.full()) await writeBatch(full, header, engine);
    }, () => taken >= limit, async (engine, header) => {
      // The last batch and the Parquet footer need the workers, so they are written before they stop.
      if (!header) return;
      for (let rest = batcher.rest(); rest; rest = batcher.rest()) await writeBatch(rest, header, engine);
      if (batches === 0) await writeBatch([{ cols: emptyColumns({ ...schemaOptions, nRef: 0 }), from: 0, to: 0, last: true }], header, engine);
      await (await ensureSink(header, engine)).sink.close();
    });
    if (!sink) throw new BamError('BAM_BAD_HEADER', `${opts.input}: empty input, no BAM header`);
    // Every row handed to the batcher must have been written; never commit a file missing some.
    if (written !== taken) throw new ThreadmillError('INTERNAL', `bam convert wrote ${written} of ${taken} decoded records; output discarded`);
    tx.commit();
    return { records: run.stats.records, written, batches, truncated: run.truncated, stats: run.stats };
  } catch (err) {
    (sink as Sink | null)?.abort();
    tx.abort();
    throw err;
  }
}

export interface BamStatsResult { header: BamHeader; stats: BamStatsPartial; run: RunStats; truncated: boolean }

/** `bam stats`: flagstat-like counters and per-reference counts (map-reduce). */
export async function statsBam(opts: BamRunOptions): Promise<BamStatsResult> {
  let total = emptyStats();
  const run = await runBam(opts, { sequence: false, quality: false, tags: false, mode: 'stats', nRef: -1 }, (p) => {
    if (p.stats) total = mergeStats(total, p.stats);
  });
  return { header: run.header, stats: total, run: run.stats, truncated: run.truncated };
}

/** `bam header`: reads only the first blocks of a file; streams go through the engine. */
export async function headerBam(opts: BamRunOptions): Promise<BamHeader> {
  const pre = readHeaderFromFile(opts.input);
  if (pre) return pre;
  let header: BamHeader | null = null;
  await runBam(opts, { sequence: false, quality: false, tags: false, mode: 'stats', nRef: -1 }, (p) => {
    header ??= p.header;
  }, () => header !== null);
  return header!;
}
