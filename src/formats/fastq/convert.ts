/**
 * `fastq convert`: records → Arrow IPC (`.arrow`, `.arrows` for the stream format) or Parquet
 * (`.parquet`), columns id, description, sequence, quality. Workers build the Arrow columns; the main
 * thread wraps them (no copy) and writes, to a temporary file renamed into place at the end.
 */
import { Field, List, makeData, RecordBatch, Schema, Struct, Uint8, Utf8, type Data } from 'apache-arrow';
import { ipcCodecOf, parquetCompressionOf, type CompressionChoice } from '../../sinks/ipc-compression-option.js';
import { openRecordBatchSink, type RecordBatchSink } from '../../sinks/record-batch-sink.js';
import { tableKindOf } from '../../sinks/table-file.js';
import type { EngineHandle } from '../../engine/run-types.js';
import { OutputTransaction } from '../../engine/atomic.js';
import { checkFileOutput } from '../../engine/output-target.js';
import { UsageError } from '../../engine/errors.js';
import { defaultThreads } from '../../engine/run.js';
import type { ErrorLog } from '../../engine/error-log.js';
import type { Progress } from '../../engine/progress.js';
import { COLUMN_NAMES, sameMate, type FastqColumns } from './columns.js';
import { ThreadmillError } from '../../engine/errors.js';
import { runFastq } from './pipeline.js';
import { convertPairedRuns, pairsOf } from './paired-runs.js';

export interface ConvertOptions {
  input: string;
  /** Several inputs into one table, in this order (`input` is then ignored). */
  inputs?: string[];
  /**
   * The input holds pairs, mate 1 then mate 2 (interleaved): a `mate` column (1, 2) is added and
   * each pair's names must agree (a trailing /1, /2 aside), else FASTQ_PAIR_MISMATCH; a rejected
   * record would shift every later pair, so any record error fails the run.
   */
  interleaved?: boolean;
  /**
   * `inputs` are files of mates, R1 R2 [R1 R2 …] (record k of R1 pairs with record k of its R2):
   * one table in pair order with a `mate` column, as `interleaved` gives, the pairs one after the
   * other; names are checked the same way, and one file ending first is FASTQ_PAIR_MISMATCH
   * (paired-runs.ts).
   */
  paired?: boolean;
  /** The quality column as list<uint8> of Phred scores (the --phred offset removed) instead of text. */
  qualityScores?: boolean;
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

export interface ConvertSummary { input: string; inputs: string[]; output: string; records_in: number; written: number; rejected: number; threads: number; seconds: number; records_per_second: number; share?: import('../../engine/share-plan.js').ShareCoverage[] }

/** What the table holds besides the four text columns. */
export interface FastqLayout { mate: boolean; scores: boolean }
const scoresType = (): List<Uint8> => new List(new Field('item', new Uint8(), false));

function schemaOf(l: FastqLayout): Schema {
  const fields: Field[] = COLUMN_NAMES.map((n) => new Field(n, n === 'quality' && l.scores ? scoresType() : new Utf8(), false));
  if (l.mate) fields.push(new Field('mate', new Uint8(), false));
  return new Schema(fields, new Map([['threadmill', JSON.stringify({ format: 'fastq', ...(l.scores ? { quality: 'list<uint8>: Phred scores, the offset removed' } : {}) })]]));
}

/**
 * Wraps worker-built columns in a RecordBatch (no copy); `mate`, for interleaved pairs, adds that
 * column; with `scores` the quality bytes are already Phred scores (the worker removed the offset)
 * and become a list<uint8> over the same offsets.
 */
export function batchOf(c: FastqColumns, mate?: Uint8Array, scores = false): RecordBatch {
  const s = schemaOf({ mate: mate !== undefined, scores });
  const children: Data[] = COLUMN_NAMES.map((n) => {
    if (n !== 'quality' || !scores) return makeData({ type: new Utf8(), length: c.count, nullCount: 0, valueOffsets: c[n].offsets, data: c[n].data });
    const items = makeData({ type: new Uint8(), length: c.quality.data.length, nullCount: 0, data: c.quality.data });
    return makeData({ type: scoresType(), length: c.count, nullCount: 0, valueOffsets: c.quality.offsets, child: items });
  });
  if (mate) children.push(makeData({ type: new Uint8(), length: c.count, nullCount: 0, data: mate }));
  return new RecordBatch(s, makeData({ type: new Struct(s.fields), length: c.count, nullCount: 0, children }));
}

/** No rows at all (empty or all-rejected input): the schema alone, as a zero-row batch. */
function emptyBatch(l: FastqLayout): RecordBatch {
  const none = (): { data: Uint8Array; offsets: Int32Array } => ({ data: new Uint8Array(0), offsets: new Int32Array(1) });
  return batchOf({ count: 0, id: none(), description: none(), sequence: none(), quality: none() }, l.mate ? new Uint8Array(0) : undefined, l.scores);
}

/** The sink for the output's extension (src/sinks/record-batch-sink.ts), writing to the temporary path. */
function sinkFor(final: string, tmp: string, batchSize: number, threads = 1, compression?: CompressionChoice, layout: FastqLayout = { mate: false, scores: false }): RecordBatchSink {
  return openRecordBatchSink(final, tmp, { schema: schemaOf(layout), empty: () => emptyBatch(layout), batchSize, threads, compression });
}

/** The library's options get the CLI's checks (batchSize 0 looped forever). */
function validateConvertOptions(o: ConvertOptions): void {
  for (const [name, v] of [['batchSize', o.batchSize], ['limit', o.limit]] as const) {
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 1)) throw new UsageError(`${name} must be a positive integer, got ${String(v)}`);
  }
}

/**
 * Interleaved pairs across chunks: the mate column of each chunk (1, 2, … from the parity of the
 * rows before it) and the pair checks — a chunk's own pairs by its worker (firstPairMismatch), the
 * pair that straddles two chunks here, with the previous chunk's last id kept for it.
 */
class PairCheck {
  private rows = 0;
  private last: { cols: FastqColumns; input: string; record: number } | null = null;
  constructor(private readonly fail: (input: string, record: number, why: string) => never) {}

  mates(c: FastqColumns, pairMismatch: [number, number] | undefined, input: string, recordsBefore: number): Uint8Array {
    const start = this.rows & 1;
    if (start === 1 && c.count > 0 && !sameMate(this.last!.cols.id, this.last!.cols.count - 1, c.id, 0)) this.fail(input, recordsBefore + 1, 'names a different read than the mate 1 before it');
    const first = start === 1 ? 1 : 0;
    const bad = pairMismatch?.[first] ?? -1;
    if (bad >= 0) this.fail(input, recordsBefore + bad + 2, 'names a different read than the mate 1 before it');
    const mate = new Uint8Array(c.count);
    for (let r = 0; r < c.count; r++) mate[r] = ((this.rows + r) & 1) + 1;
    this.rows += c.count;
    if (c.count > 0) this.last = { cols: c, input, record: recordsBefore + c.count };
    return mate;
  }

  /** At the end: an odd number of records leaves mate 1 without its mate 2. */
  finish(): void {
    if (this.rows & 1) this.fail(this.last!.input, this.last!.record, 'is a mate 1 without a mate 2 (odd number of records)');
  }
}

function pairError(input: string, record: number, why: string): never {
  throw new ThreadmillError('FASTQ_PAIR_MISMATCH', `${input === '-' ? 'stdin' : input}: record ${record} ${why}; --interleaved expects mate 1, mate 2 of each pair in turn`);
}

export async function convertFastq(o: ConvertOptions): Promise<ConvertSummary> {
  validateConvertOptions(o);
  const inputs = o.inputs && o.inputs.length > 0 ? o.inputs : [o.input];
  const batchSize = o.batchSize ?? 65_536;
  const limit = o.limit ?? Infinity;
  const tx = new OutputTransaction();
  checkFileOutput(o.output, { option: '-o', inputs, stdout: true });
  tableKindOf(o.output);
  // A codec the output format has not: a usage error before any work.
  if (/\.parquet$/i.test(o.output)) parquetCompressionOf(o.compression);
  else ipcCodecOf(o.compression);
  if (o.paired) {
    pairsOf(inputs);
    if (o.shard) throw new UsageError('--paired cannot be combined with --shard (a shard covers one input)');
    if (o.interleaved) throw new UsageError('--paired and --interleaved exclude each other: --paired reads mates from two files, --interleaved from one');
  }
  const interleaved = o.interleaved === true;
  const scores = o.qualityScores === true;
  const sink = sinkFor(o.output, tx.tempFor(o.output), batchSize, o.threads ?? defaultThreads(), o.compression, { mate: interleaved || o.paired === true, scores });
  if (o.paired) return convertPairedFiles(o, inputs, sink, tx, limit, scores);
  const pairs = interleaved ? new PairCheck(pairError) : null;
  let written = 0;
  const total = { records: 0, errors: 0, threads: 0, seconds: 0 };
  let share: ConvertSummary['share'];
  try {
    for (const [k, input] of inputs.entries()) {
      let records = 0;
      const stats = await runFastq(input, { mode: 'columns', phred: o.phred ?? 33, pairs: interleaved, qualityScores: scores }, {
        threads: o.threads, chunkSize: o.chunkSize, wrapped: o.wrapped, allowTruncated: o.allowTruncated, progress: o.progress, errorLog: o.errorLog, signal: o.signal, warn: o.warn, shard: o.shard,
        failTruncatedRecord: true,
        shouldStop: () => written >= limit,
        // The sink closes while the last run's workers (which encode Parquet) are still up.
        onEnd: (engine) => (k === inputs.length - 1 || written >= limit ? pairsDone(engine) : sink.drain()),
      }, async (c, engine) => {
        if (c.payload.kind !== 'columns' || written >= limit) return;
        if (pairs && c.errors.length > 0) pairError(input, c.errors[0]!.record ?? records + 1, `is rejected (${c.errors[0]!.reason}), which would shift every later pair`);
        const mate = pairs?.mates(c.payload.columns, c.payload.pairMismatch, input, records);
        records += c.records;
        let batch = batchOf(c.payload.columns, mate, scores);
        if (written + batch.numRows > limit) batch = batch.slice(0, limit - written);
        written += batch.numRows;
        await sink.write(batch, engine);
      });
      total.records += stats.records;
      total.errors += stats.errors;
      total.threads = Math.max(total.threads, stats.threads);
      total.seconds += stats.seconds;
      share ??= stats.share;
      if (written >= limit) break;
    }
    tx.commit();
    return { input: inputs[0]!, inputs, output: o.output, records_in: total.records, written, rejected: total.errors, threads: total.threads, seconds: total.seconds, records_per_second: Math.round(written / Math.max(total.seconds, 1e-9)), ...(share ? { share } : {}) };
  } catch (err) {
    sink.abort();
    tx.abort();
    throw err;
  }

  async function pairsDone(engine: EngineHandle): Promise<void> {
    if (written < limit) pairs?.finish();
    await sink.close(engine);
  }
}

/** `paired`: each pair's two runs zipped into pair order (paired-runs.ts), the pairs in turn. */
async function convertPairedFiles(o: ConvertOptions, inputs: string[], sink: RecordBatchSink, tx: OutputTransaction, limit: number, scores: boolean): Promise<ConvertSummary> {
  const total = { records: 0, errors: 0, threads: 0, seconds: 0 };
  let written = 0;
  try {
    const pairs = pairsOf(inputs);
    for (const [k, pair] of pairs.entries()) {
      const r = await convertPairedRuns({
        inputs: pair, last: k === pairs.length - 1, writtenBefore: written, sink, limit,
        taskOptions: { mode: 'columns', phred: o.phred ?? 33, qualityScores: scores },
        runOptions: { threads: o.threads, chunkSize: o.chunkSize, wrapped: o.wrapped, allowTruncated: o.allowTruncated, progress: o.progress, errorLog: o.errorLog, signal: o.signal, warn: o.warn, failTruncatedRecord: true },
        batchOf: (columns, mate) => batchOf(columns, mate, scores),
      });
      written = r.written;
      total.records += r.stats.records;
      total.errors += r.stats.errors;
      total.threads = Math.max(total.threads, r.stats.threads);
      total.seconds += r.stats.seconds;
      if (written >= limit) break;
    }
    tx.commit();
    return { input: inputs[0]!, inputs, output: o.output, records_in: total.records, written, rejected: total.errors, threads: total.threads, seconds: total.seconds, records_per_second: Math.round(written / Math.max(total.seconds, 1e-9)) };
  } catch (err) {
    sink.abort();
    tx.abort();
    throw err;
  }
}
