/**
 * `bam convert`: BAM → Arrow IPC or Parquet, atomically, on the run loop of pipeline.ts. Workers
 * decode records into columns in shared memory; this thread cuts them into batches of exactly
 * `--batch-size` rows (or `--batch-mib`), and the sinks below write them without copying values.
 * Its own module so that `bam stats` and `bam header` never load apache-arrow.
 */
import { OutputTransaction } from '../../engine/atomic.js';
import { tableExtensionOf, tableKindOf, tableKindOfExtension } from '../../sinks/table-file.js';
import { checkFileOutput, isStreamTarget } from '../../engine/output-target.js';
import { ThreadmillError, UsageError } from '../../engine/errors.js';
import type { EngineHandle, LocatedError, RunStats } from '../../engine/run-types.js';
import { ErrorLog } from '../../engine/error-log.js';
import { releaseShared } from '../../engine/shared-pool.js';
import { ArrowIpcFileWriter, ipcStreamHead, type IpcBatch, type IpcCodec, type PieceBatch } from '../../sinks/arrow-pieces.js';
import { compressBatches } from '../../sinks/ipc-compression-call.js';
import { ipcCodecOf, parquetCompressionOf, type CompressionChoice } from '../../sinks/ipc-compression-option.js';
import { ParquetPieceWriter } from '../../sinks/parquet-merge.js';
import { BamError } from './errors.js';
import type { BamHeader } from './header.js';
import { BAM_COLUMNS } from './column-names.js';
import { bamSchema, toPieceBatch, type BamArrow, type BamSchemaOptions } from './arrow.js';
import { RowBatcher, rowsOf, type RowRange, type RowSpan } from './batch.js';
import { assembleBatch, type BatchAssembly } from './assemble.js';
import { ASSEMBLE_CALL, PARQUET_CALL, type AssembleArg, type ParquetArg } from './calls.js';
import { columnViews, emptyColumns, type BamColumns } from './decode.js';
import { runBam, type BamRunOptions } from './pipeline.js';

export type BamOutputFormat = 'ipc' | 'parquet';
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
  /** Only these columns (BAM_COLUMNS names), in the schema's order; seq, qual and tags among them too. */
  columns?: string[];
  /** One boolean column per flag bit (FLAG_COLUMNS), after `flag`. */
  flagColumns?: boolean;
  /** `--tag NM:i …`: `tags` as a struct of these typed fields instead of the map. */
  typedTags?: import('./typed-tags.js').TagSpec[];
  /** The typed fields came from --tags auto's sample: warn about values of tags it did not see. */
  tagsAuto?: boolean;
  limit?: number;
  /**
   * Parquet page compression (zstd, the default, snappy or none; decision 0004), or Arrow IPC
   * body compression (lz4, zstd or none, the default; decision 0026). Others: a UsageError.
   */
  compression?: CompressionChoice;
  /** Where IPC batches' offsets and bitmaps are joined (default: by thread count); same bytes either way. */
  assembleIn?: 'main' | 'workers';
  /**
   * Rejected records as JSON lines (written atomically with the output). With this or
   * `maxErrors`, bad records are skipped and counted instead of failing the run (see runBam).
   */
  rejectsPath?: string;
  /** Fail with TOO_MANY_ERRORS when more than this many records are rejected. */
  maxErrors?: number;
  /** Called for the first few rejected records (e.g. to print them), then onMoreRecordErrors once. */
  onRecordError?: (e: LocatedError) => void;
  onMoreRecordErrors?: () => void;
}

export interface BamConvertResult {
  /** Records read (rejected ones included). */
  records: number;
  written: number;
  /** Records skipped as bad, by category (empty without rejectsPath / maxErrors). */
  rejected: Record<string, number>;
  batches: number;
  truncated: boolean;
  stats: RunStats;
}

/** The columns asked for: --no-sequence etc. and --columns (checked against the names). */
function schemaOptionsOf(opts: BamConvertOptions): BamSchemaOptions {
  const cols = opts.columns ?? null;
  const unknown = cols?.filter((c) => !(BAM_COLUMNS as readonly string[]).includes(c)) ?? [];
  if (unknown.length > 0) throw new UsageError(`--columns: unknown column ${JSON.stringify(unknown[0])} (columns: ${BAM_COLUMNS.join(', ')})`);
  if (cols && cols.length === 0 && !opts.flagColumns) throw new UsageError('--columns: name at least one column');
  const has = (c: string): boolean => !cols || cols.includes(c);
  const typed = opts.typedTags && opts.typedTags.length > 0 && has('tags') ? opts.typedTags : null;
  return { sequence: (opts.sequence ?? true) && has('seq'), quality: (opts.quality ?? true) && has('qual'), tags: !typed && (opts.tags ?? true) && has('tags'), columns: cols, flagColumns: opts.flagColumns ?? false, typedTags: typed };
}

/** The output format from `--format` or else the output's name (src/sinks/table-file.ts). */
export function outputFormat(output: string, format?: string): BamOutputFormat {
  if (format === 'ipc' || format === 'parquet') return format;
  if (format !== undefined) throw new UsageError(`--format must be ipc or parquet, got ${JSON.stringify(format)}`);
  return tableKindOf(output) === 'parquet' ? 'parquet' : 'ipc';
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
  private readonly queue: Array<{ batch: Promise<IpcBatch>; written: () => void }> = [];
  constructor(private readonly file: ArrowIpcFileWriter, private readonly options: BamSchemaOptions, private readonly inWorkers: boolean, private readonly maxInFlight: number, private readonly codec: IpcCodec | null) {}

  async write(spans: RowSpan[], engine: EngineHandle, written: () => void): Promise<void> {
    const arg: AssembleArg = { spans, options: this.options };
    const pieces = this.inWorkers
      ? engine.call<BatchAssembly>(ASSEMBLE_CALL, arg).then((m) => toPieceBatch(this.options, arg.spans, m))
      : Promise.resolve(toPieceBatch(this.options, arg.spans, assembleBatch(arg.spans, this.options)));
    // --compression lz4|zstd: a worker compresses the buffers (reading the columns in shared memory).
    const codec = this.codec;
    const batch: Promise<IpcBatch> = codec ? pieces.then(async (b: PieceBatch) => (await compressBatches(engine, codec, [b]))[0]!) : pieces;
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
      const arg: ParquetArg = { spans, options: arrow.options, head, parquet: w.options };
      const piece = engine.call<Uint8Array>(PARQUET_CALL, arg);
      piece.then(written, () => {});
      return w.writePiece(piece, rowsOf(spans));
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
async function openSink(path: string, format: BamOutputFormat, arrow: BamArrow, o: { batchSize: number; compression: BamConvertOptions['compression']; threads: number; assembleIn?: 'main' | 'workers'; stream: boolean }): Promise<Sink> {
  if (format === 'ipc') {
    const inWorkers = o.assembleIn ? o.assembleIn === 'workers' : o.threads >= ASSEMBLE_IN_WORKERS_FROM;
    const codec = ipcCodecOf(o.compression);
    // Compressing, one batch per worker in flight keeps them all busy (one at a time idled all but one).
    return new IpcSink(await ArrowIpcFileWriter.open(path, arrow.schema, arrow.dictionaries, { stream: o.stream }), arrow.options, inWorkers, inWorkers || codec ? o.threads : 0, codec);
  }
  return parquetSink(new ParquetPieceWriter(path, { rowGroupSize: o.batchSize, compression: parquetCompressionOf(o.compression) }, 2 * o.threads), arrow);
}

/** `bam convert`: BAM → Arrow IPC or Parquet, atomically. */
export async function convertBam(opts: BamConvertOptions): Promise<BamConvertResult> {
  const format = outputFormat(opts.output, opts.format);
  // The IPC stream format (no footer) for .arrows and stdout, as fastq convert does.
  const ext = tableExtensionOf(opts.output);
  const stream = format === 'ipc' && (ext === 'arrows' || (isStreamTarget(opts.output) && (ext === null || tableKindOfExtension(ext) !== 'arrow')));
  checkFileOutput(opts.output, { option: '-o', inputs: [opts.input], stdout: stream });
  // A codec the output format has not: a usage error before any work.
  if (format === 'ipc') ipcCodecOf(opts.compression);
  else parquetCompressionOf(opts.compression);
  const batchSize = opts.batchSize ?? 100_000;
  const schemaOptions = schemaOptionsOf(opts);
  const limit = opts.limit ?? Infinity;
  const tx = new OutputTransaction();
  const tmp = tx.tempFor(opts.output);
  // The CLI's runner passes its own log (opts.errorLog: it owns the rejects file); a library caller may name the file.
  const ownLog = opts.errorLog === undefined;
  const errorLog = !ownLog ? opts.errorLog : opts.rejectsPath !== undefined || opts.maxErrors !== undefined
    ? new ErrorLog({ maxErrors: opts.maxErrors, rejectsPath: opts.rejectsPath ? tx.tempFor(opts.rejectsPath) : undefined, onError: opts.onRecordError, onMore: opts.onMoreRecordErrors, echo: 20 })
    : undefined;
  const batcher = new RowBatcher(batchSize, opts.maxBatchBytes);
  const leases = new ColumnLeases();
  let arrow: BamArrow | null = null;
  let sink: Sink | null = null;
  let written = 0;
  let batches = 0;
  let taken = 0;
  let untyped = 0;
  const ensureSink = async (header: BamHeader, engine: EngineHandle): Promise<{ arrow: BamArrow; sink: Sink }> => {
    arrow ??= bamSchema(header, schemaOptions);
    sink ??= await openSink(tmp, format, arrow, { batchSize, compression: opts.compression, threads: engine.threads, assembleIn: opts.assembleIn, stream });
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
    written += rowsOf(ranges);
    batches++;
  };
  try {
    const run = await runBam({ ...opts, errorLog }, { ...schemaOptions, mode: 'convert', nRef: -1 }, async (p, header, engine) => {
      await ensureSink(header, engine);
      const cols = p.columns;
      if (!cols) return;
      untyped += cols.untypedTags ?? 0;
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
    }, (p) => {
      // A chunk replaced by a sequential re-read (runBam): its columns go back unused.
      if (p.columns) for (const v of columnViews(p.columns)) releaseShared(v);
    });
    if (!sink) throw new BamError('BAM_BAD_HEADER', `${opts.input}: empty input, no BAM header`);
    // Every row handed to the batcher must have been written; never commit a file missing some.
    if (written !== taken) throw new ThreadmillError('INTERNAL', `bam convert wrote ${written} of ${taken} decoded records; output discarded`);
    if (ownLog) errorLog?.close();
    tx.commit();
    if (opts.tagsAuto && untyped > 0) opts.warn?.(`${untyped} tag values were not written: their tags were not in the first records --tags auto looked at (raise --tags-sample, name them with --tag, or keep the tags map)`);
    return { records: run.records, written, rejected: Object.fromEntries(errorLog?.counts ?? []), batches, truncated: run.truncated, stats: run.stats };
  } catch (err) {
    (sink as Sink | null)?.abort();
    try {
      if (ownLog) errorLog?.close();
    } catch {
      // Already closed by the success path (the commit failed); the file is discarded anyway.
    }
    tx.abort();
    throw err;
  }
}

