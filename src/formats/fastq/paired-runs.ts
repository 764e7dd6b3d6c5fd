/**
 * `fastq convert --paired R1 R2`: both files read at once, each by its own engine run with half the
 * threads, their chunks zipped into pair order (mate-zip.ts) and written to one sink. A run that
 * gets ahead waits in its chunk callback, so neither file is ever held whole in memory.
 */
import type { RecordBatch } from 'apache-arrow';
import { ThreadmillError, UsageError } from '../../engine/errors.js';
import { defaultThreads } from '../../engine/run.js';
import type { RunStats } from '../../engine/run-types.js';
import type { Progress } from '../../engine/progress.js';
import type { RecordBatchSink } from '../../sinks/record-batch-sink.js';
import type { FastqColumns } from './columns.js';
import { MateZip } from './mate-zip.js';
import { runFastq, type FastqRunOptions } from './pipeline.js';
import type { FastqTaskOptions } from './task.js';

export interface PairedRunsOptions {
  /** One pair of files: R1, R2. */
  inputs: [string, string];
  /** The last pair of the run: the sink is closed at its end (drained otherwise, for the next pair). */
  last: boolean;
  /** Rows written by the pairs before this one (--limit counts across pairs). */
  writtenBefore: number;
  taskOptions: FastqTaskOptions;
  /** As for one input; `threads` is shared by the two runs. */
  runOptions: FastqRunOptions;
  sink: RecordBatchSink;
  batchOf(columns: FastqColumns, mate: Uint8Array): RecordBatch;
  limit: number;
}

const shown = (input: string): string => (input === '-' ? 'stdin' : input);

/** R1 R2 [R1 R2 …] (lanes, in order), stdin at most once; a usage error otherwise. */
export function pairsOf(inputs: string[]): Array<[string, string]> {
  if (inputs.length === 0 || inputs.length % 2 !== 0) throw new UsageError(`--paired takes pairs of inputs, R1 R2 [R1 R2 …] (got ${inputs.length})`);
  if (inputs.filter((i) => i === '-').length > 1) throw new UsageError('--paired: stdin (-) can be only one of the inputs');
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < inputs.length; i += 2) pairs.push([inputs[i]!, inputs[i + 1]!]);
  return pairs;
}

/** One pair of files into the sink; returns the runs' stats and the rows written in all (`writtenBefore` included). */
export async function convertPairedRuns(p: PairedRunsOptions): Promise<{ stats: RunStats; written: number }> {
  const inputs = p.inputs;
  const zip = new MateZip([shown(inputs[0]), shown(inputs[1])], (m) => {
    throw new ThreadmillError('FASTQ_PAIR_MISMATCH', m);
  });
  const threads = Math.max(2, p.runOptions.threads ?? defaultThreads());
  const stop = stopWith(p.runOptions.signal);
  const progress = p.runOptions.progress ? sharedProgress(p.runOptions.progress) : undefined;
  let written = p.writtenBefore;
  let writing: Promise<void> = Promise.resolve();
  let ended = 0;
  // The run that ends first keeps its workers (which may still encode its Parquet pieces) until
  // the other has closed the sink.
  let closed!: () => void;
  const sinkClosed = new Promise<void>((r) => (closed = r));

  const runSide = (side: 0 | 1): Promise<RunStats> => runFastq(inputs[side], p.taskOptions, {
    ...p.runOptions,
    threads: side === 0 ? Math.ceil(threads / 2) : Math.floor(threads / 2),
    signal: stop.signal,
    progress: progress?.[side],
    shouldStop: () => written >= p.limit,
    async onEnd(engine) {
      zip.end(side, written < p.limit);
      if (++ended === 1) return sinkClosed;
      await writing;
      await (p.last || written >= p.limit ? p.sink.close(engine) : p.sink.drain());
      closed();
    },
  }, async (c, engine) => {
    if (c.payload.kind !== 'columns' || written >= p.limit) return;
    const bad = c.errors[0];
    if (bad) throw new ThreadmillError('FASTQ_PAIR_MISMATCH', `${shown(inputs[side])}: record ${bad.record ?? '?'} is rejected (${bad.reason}), which would shift every later pair`);
    for (const piece of zip.push(side, c.payload.columns)) {
      if (written >= p.limit) break;
      let batch = p.batchOf(piece.columns, piece.mate);
      if (written + batch.numRows > p.limit) batch = batch.slice(0, p.limit - written);
      written += batch.numRows;
      writing = writing.then(() => p.sink.write(batch, engine));
    }
    await writing;
    await zip.room(side);
  });

  let failure: unknown = null;
  const sides = ([0, 1] as const).map((side) => runSide(side).catch((err: unknown) => {
    failure ??= err;
    zip.cancel(err);
    stop.abort(err);
    closed();
    throw err;
  }));
  const settled = await Promise.allSettled(sides);
  stop.dispose();
  if (failure !== null) throw failure;
  const [a, b] = settled.map((s) => (s as PromiseFulfilledResult<RunStats>).value) as [RunStats, RunStats];
  return { stats: { chunks: a.chunks + b.chunks, records: a.records + b.records, bytes: a.bytes + b.bytes, errors: a.errors + b.errors, threads: a.threads + b.threads, seconds: Math.max(a.seconds, b.seconds) }, written };
}

/** An AbortController that also follows the caller's signal (one run's failure stops the other). */
function stopWith(outer: AbortSignal | undefined): AbortController & { dispose(): void } {
  const c = new AbortController();
  const follow = (): void => c.abort(outer!.reason);
  if (outer?.aborted) follow();
  outer?.addEventListener('abort', follow, { once: true });
  return Object.assign(c, { dispose: () => outer?.removeEventListener('abort', follow) });
}

/** One progress for two runs: bytes and records add up, the total is both inputs' once both are known. */
function sharedProgress(p: Progress): [Progress, Progress] {
  const totals: Array<number | null | undefined> = [undefined, undefined];
  const side = (s: 0 | 1): Progress => ({
    advance: (bytes, records) => p.advance(bytes, records),
    setTotal(bytes) {
      totals[s] = bytes;
      if (totals[0] !== undefined && totals[1] !== undefined) p.setTotal(totals[0] === null || totals[1] === null ? null : totals[0] + totals[1]);
    },
    finish: () => {},
    phase: (name) => p.phase?.(name),
  });
  return [side(0), side(1)];
}
