/**
 * `threadmill nostr convert`: JSON lines → per-day `.pb.gz` files + `index.db`, deduplicated by
 * event id within the run and against what DIR already holds, in memory bounded by
 * `--memory-limit` whatever the number of events (docs/decisions/0010-nostr-convert-at-scale.md).
 *
 * While reading, workers parse and validate, and group each chunk's events by day and its index
 * rows by the id's first byte; the main thread only files those groups into two partitioned spills
 * (src/engine/partition-spill.ts), which stay in memory up to the budget and go to disk past it.
 * At the end every day is deduplicated and written by a worker, many days at once (two copies of
 * an event always share a day), while the index writer thread appends the rows, sorted by id in
 * workers, to index.db.
 */
import { moduleBeside } from '../../engine/plugin.js';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { runChunks, defaultThreads } from '../../engine/run.js';
import { OutputTransaction, finalPathOfTemporary, recoverDirectory } from '../../engine/atomic.js';
import { asFatal } from '../../engine/fatal.js';
import { lockDirectory } from '../../engine/lock.js';
import { checkDirectoryOutput, checkFileOutput } from '../../engine/output-target.js';
import { ErrorLog } from '../../engine/error-log.js';
import { ThreadmillError, InterruptedError } from '../../engine/errors.js';
import { PartitionSpill } from '../../engine/partition-spill.js';
import { faultPoint } from '../../engine/fault-points.js';
import { sampleThreads } from '../../engine/thread-cpu.js';
import { releaseShared } from '../../engine/shared-pool.js';
import { dataBudget, defaultMemoryLimit, fitThreads } from '../../engine/memory-budget.js';
import type { EngineHandle } from '../../engine/run-types.js';
import type { Progress } from '../../engine/progress.js';
import type { LocatedError } from '../../engine/run-types.js';
import { ensureIndexes, indexPath } from './index-db.js';
import { rebuildIndex, dayFilesIn } from './index-rebuild.js';
import { repairIndexDrift, describeDrift } from './index-repair.js';
import { dayFileName } from './day.js';
import { ROW_BYTES } from './spill-records.js';
import { MAX_ROWS_PER_SORT, type SortedRows } from './index-rows.js';
import type { FinalizeDayArg, FinalizeDayResult } from './day-finalize.js';
import type { ConvertPayload, NostrTaskOptions } from './task.js';
import type { FromIndexWriter, IndexWriterData, ToIndexWriter } from './index-writer.js';
import type { RejectCategory } from './event.js';
import type { Grouped } from './spill-records.js';

export interface ConvertOptions {
  inputs: string[];
  outDir: string;
  threads?: number;
  chunkSize?: number;
  compressionLevel?: number;
  validateIds?: boolean;
  validateSignatures?: boolean;
  filterKinds?: boolean;
  rejectsPath?: string;
  maxErrors?: number;
  progress?: Progress;
  signal?: AbortSignal;
  onRecordError?: (e: LocatedError) => void;
  /** Called once when rejections past the first ECHO_LIMIT (20) arrive. */
  onMoreRecordErrors?: () => void;
  /**
   * The run's record-error log, e.g. the CLI runner's (which owns --rejects, --max-errors and the
   * echo): used instead of one built from rejectsPath, maxErrors and the two callbacks, and left open.
   */
  errorLog?: ErrorLog;
  warn?: (message: string) => void;
  /**
   * Build only the secondary index a convert needs (created_at) and leave idx_kind, idx_pubkey and
   * idx_file_path to `nostr index finish`: roughly halves the serial end of a run (decision 0010).
   */
  deferIndexes?: boolean;
  /** Peak RSS the run may reach, in bytes (`--memory-limit`; default: defaultMemoryLimit()). */
  memoryLimit?: number;
  /**
   * Bytes for the structures that grow with the input, instead of what memoryLimit leaves for them:
   * tests set a few KiB so every spill and multi-pass branch runs on small inputs.
   */
  dataBudget?: number;
  /** Only this share of the inputs (`--shard`, src/engine/shard.ts); the summary says what it covered. */
  shard?: import('../../engine/shard.js').Shard;
}

/** Rejections echoed through onRecordError: the CLI's limit (ECHO_LIMIT in src/cli/runner.ts), for every format. */
const ECHO_LIMIT = 20;

export const REJECT_CATEGORIES: readonly RejectCategory[] = ['parse_error', 'invalid_utf8', 'invalid_field', 'invalid_kind', 'invalid_id', 'invalid_signature'];

export interface ConvertSummary {
  lines_read: number;
  valid: number;
  written: number;
  duplicates: number;
  rejected: Record<RejectCategory, number>;
  rejected_total: number;
  files_written: number;
  seconds: number;
  events_per_second: number;
  threads: number;
  /** Bytes that went to spill files because the data did not fit the memory budget (0: all in memory). */
  spilled_bytes: number;
  /** The most passes one day's deduplication took (1: its ids fit the budget at once). */
  dedup_passes: number;
  /** With `shard`: what the run covered of each input. */
  share?: import('../../engine/share-plan.js').ShareCoverage[];
}

/**
 * INDEX_WRITE_FAILED naming index.db, the writer's SQLite code and the temporary kept in the
 * cause: a full disk becomes DISK_FULL naming index.db (engine/fatal.ts).
 */
function indexWriteFailed(tmp: string, message: string, code: string | undefined): ThreadmillError {
  return asFatal(new ThreadmillError('INDEX_WRITE_FAILED', `writing ${finalPathOfTemporary(tmp) ?? tmp}: ${message}`, { cause: Object.assign(new Error(message), { code, path: tmp }) }));
}

/**
 * The index writer thread, with a promise for its end. Sorted row batches are acknowledged and the
 * sender waits while two are queued, so memory stays bounded where SQLite is the slower side.
 */
class IndexWriterThread {
  private readonly worker: Worker;
  private readonly done: Promise<number>;
  private queued = 0;
  private wake: (() => void) | null = null;
  constructor(data: IndexWriterData, onIndexing: () => void) {
    this.worker = new Worker(moduleBeside(import.meta.url, './index-writer'), { workerData: data });
    this.done = new Promise<number>((resolve, reject) => {
      this.worker.on('message', (m: FromIndexWriter) => {
        if (m.type === 'ack') {
          this.queued--;
          this.wake?.();
        } else if (m.type === 'indexing') onIndexing();
        else if (m.type === 'done') resolve(m.rows);
        else reject(indexWriteFailed(data.path, m.message, m.code));
      });
      this.worker.on('error', (e: unknown) => reject(indexWriteFailed(data.path, e instanceof Error ? e.message : JSON.stringify(e), (e as { code?: string }).code)));
    });
    this.done.catch(() => {});
  }
  async send(sorted: SortedRows): Promise<void> {
    while (this.queued >= 2) {
      await Promise.race([new Promise<void>((r) => { this.wake = r; }), this.done]);
      this.wake = null;
    }
    this.worker.postMessage({ type: 'rows', rows: sorted.rows, count: sorted.count } satisfies ToIndexWriter, [sorted.rows.buffer as ArrayBuffer]);
    this.queued++;
  }
  async finish(): Promise<number> {
    this.worker.postMessage({ type: 'finish' } satisfies ToIndexWriter);
    const rows = await this.done;
    sampleThreads();
    await this.worker.terminate();
    return rows;
  }
  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

/** `SOURCE_DATE_EPOCH` (reproducible builds) pins indexed_at, so reruns can be compared byte for byte. */
function indexedAtNow(): number {
  const pinned = Number(process.env.SOURCE_DATE_EPOCH);
  return Number.isSafeInteger(pinned) && pinned >= 0 ? pinned : Math.floor(Date.now() / 1000);
}

/**
 * Checks the outputs before anything runs (output-target.ts) and holds DIR's lock for the whole
 * run: two runs into one directory at once lost ~40% of the events (issue 8).
 */
export async function convertNostr(o: ConvertOptions): Promise<ConvertSummary> {
  checkDirectoryOutput(o.outDir, { option: '-o', inputs: o.inputs });
  if (o.rejectsPath !== undefined) checkFileOutput(o.rejectsPath, { option: '--rejects', inputs: o.inputs, stdout: true });
  const lock = lockDirectory(o.outDir);
  try {
    return await convertLocked(o);
  } finally {
    lock.release();
  }
}

/** Shares of the data budget: the two spills while reading, the end-of-run calls after. */
const DAY_SPILL_SHARE = 0.45;
const ROW_SPILL_SHARE = 0.15;
const FINALIZE_SHARE = 0.4;
/** index.db's page cache (its secondary-index sorter uses as much again), at most 64 MiB. */
const INDEX_CACHE_SHARE = 0.1;
/** Bytes a row sort holds per row: the gathered rows, the sorted copy, its key and order. */
const SORT_BYTES_PER_ROW = 2 * ROW_BYTES + 12;

async function convertLocked(o: ConvertOptions): Promise<ConvertSummary> {
  const started = performance.now();
  recoverDirectory(o.outDir);
  if (!existsSync(indexPath(o.outDir)) && dayFilesIn(o.outDir).length > 0) {
    o.warn?.(`${o.outDir} has .pb.gz files but no index.db: rebuilding it first so duplicates are found`);
    await rebuildIndex(o.outDir);
  }
  const drift = await repairIndexDrift(o.outDir, indexedAtNow());
  if (drift) o.warn?.(`${describeDrift(o.outDir, drift)}: repaired the index first, so those events are converted again when the input holds them`);
  // Each day reads the ids DIR already holds by created_at: without that index, a scan per day.
  if (existsSync(indexPath(o.outDir)) && ensureIndexes(indexPath(o.outDir), false).length > 0) o.warn?.(`${indexPath(o.outDir)} had no idx_created_at: built it first`);
  const tx = new OutputTransaction();
  const limit = o.memoryLimit ?? defaultMemoryLimit();
  const threads = fitThreads(limit, o.threads ?? defaultThreads());
  if (threads < (o.threads ?? defaultThreads()) && o.dataBudget === undefined) o.warn?.(`--memory-limit ${(limit / 2 ** 20).toFixed(0)}M leaves room for ${threads} thread${threads > 1 ? 's' : ''}, not ${o.threads ?? defaultThreads()}: running ${threads}`);
  const budget = o.dataBudget ?? dataBudget(limit, threads);
  const spillPath = (): string => tx.tempFor(join(o.outDir, 'convert.spill'));
  const days = new PartitionSpill(budget * DAY_SPILL_SHARE, spillPath);
  const rows = new PartitionSpill(budget * ROW_SPILL_SHARE, spillPath);
  const ownLog = o.errorLog === undefined;
  const errorLog = o.errorLog ?? new ErrorLog({ maxErrors: o.maxErrors, rejectsPath: o.rejectsPath ? tx.tempFor(o.rejectsPath) : undefined, onError: o.onRecordError, onMore: o.onMoreRecordErrors, echo: ECHO_LIMIT });
  const taskOptions: NostrTaskOptions = {
    validateIds: o.validateIds ?? true, validateSignatures: o.validateSignatures ?? true, filterKinds: o.filterKinds ?? true,
  };
  let linesRead = 0;
  let valid = 0;
  let end: DaysWritten = { written: 0, files: 0, passes: 0 };
  let index: IndexWriterThread | null = null;
  try {
    const stats = await runChunks<NostrTaskOptions, ConvertPayload>({
      inputs: o.inputs, taskModule: moduleBeside(import.meta.url, './task'), taskOptions, threads, chunkSize: o.chunkSize,
      errorLog, progress: o.progress, signal: o.signal, warn: o.warn, shard: o.shard,
      async onChunk(chunk) {
        const p = chunk.payload;
        linesRead += p.linesRead;
        valid += p.count;
        if (p.count === 0) return;
        file(days, p.days, p.dayGroups);
        file(rows, p.rows, p.rowGroups);
        if (days.overBudget) await spillWithFault(days);
        if (rows.overBudget) await spillWithFault(rows);
      },
      async onEnd(engine) {
        const indexTmp = tx.tempFor(indexPath(o.outDir), { last: true });
        if (existsSync(indexPath(o.outDir))) copyFileSync(indexPath(o.outDir), indexTmp);
        o.progress?.phase?.('writing day files and index.db');
        index = new IndexWriterThread({ path: indexTmp, indexedAt: indexedAtNow(), cacheBytes: Math.min(64 << 20, budget * INDEX_CACHE_SHARE), deferIndexes: o.deferIndexes ?? false }, () => o.progress?.phase?.(`index.db: building ${o.deferIndexes ? 'idx_created_at' : 'its four secondary indexes'} (one thread)`));
        const finishing = new Finisher(engine, o, tx, budget * FINALIZE_SHARE, threads);
        end = await finishing.run(days, rows, index);
        await index.finish();
      },
    });
    if (ownLog) errorLog.close();
    if (o.signal?.aborted) throw new InterruptedError(String(o.signal.reason ?? 'abort'));
    const spilled = days.spilledBytes + rows.spilledBytes;
    await Promise.all([days.removeFiles(), rows.removeFiles()]);
    tx.commit(o.outDir);
    const rejected = Object.fromEntries(REJECT_CATEGORIES.map((c) => [c, errorLog.count(c)])) as Record<RejectCategory, number>;
    const seconds = (performance.now() - started) / 1000;
    return {
      lines_read: linesRead, valid, written: end.written, duplicates: valid - end.written, rejected, rejected_total: errorLog.total,
      files_written: end.files, seconds, events_per_second: seconds > 0 ? Math.round(stats.records / seconds) : 0, threads: stats.threads,
      spilled_bytes: spilled, dedup_passes: end.passes,
      ...(stats.share ? { share: stats.share } : {}),
    };
  } catch (err) {
    if (ownLog) errorLog.close();
    await (index as IndexWriterThread | null)?.stop();
    tx.abort();
    throw err;
  }
}

async function spillWithFault(spill: PartitionSpill): Promise<void> {
  await spill.spill();
  faultPoint('spill');
}

/** Files a chunk's groups into a spill; the shared buffer is released when the last group leaves. */
function file(spill: PartitionSpill, bytes: Uint8Array, g: Grouped): void {
  const held = spill.hold(bytes, () => releaseShared(bytes));
  for (let k = 0; k < g.keys.length; k++) spill.add(g.keys[k]!, held, k === 0 ? 0 : g.ends[k - 1]!, g.ends[k]!, g.counts[k]!);
  spill.seal(held);
}

interface DaysWritten { written: number; files: number; passes: number }

/**
 * The end of a convert on the worker pool: every day deduplicated and written (finalizeDay, up to
 * one call per worker at a time), and every row bucket sorted (sortRows) and handed to the index
 * writer in id order. A sort queues behind at most one day per worker (a day is ~1/365 of a year's
 * events), and the writer keeps two sorted buckets ahead, so it is rarely left waiting.
 */
class Finisher {
  private readonly perCall: number;
  constructor(private readonly engine: EngineHandle, private readonly o: ConvertOptions, private readonly tx: OutputTransaction, budget: number, private readonly threads: number) {
    this.perCall = Math.max(1, Math.floor(budget / Math.max(1, threads)));
  }

  async run(days: PartitionSpill, rows: PartitionSpill, index: IndexWriterThread): Promise<DaysWritten> {
    const [written] = await Promise.all([this.writeDays(days, this.threads), this.sortRows(rows, index)]);
    return written;
  }

  private async writeDays(days: PartitionSpill, concurrency: number): Promise<DaysWritten> {
    const oldIndex = existsSync(indexPath(this.o.outDir)) ? indexPath(this.o.outDir) : null;
    let written = 0;
    let files = 0;
    let passes = 0;
    await forEachLimited(days.keys(), concurrency, async (day) => {
      const name = dayFileName(day);
      const final = join(this.o.outDir, name);
      const arg: FinalizeDayArg = {
        day, pieces: days.pieces(day), events: days.count(day), tmpPath: this.tx.tempFor(final), existingPath: existsSync(final) ? final : null,
        oldIndex, budget: this.perCall, level: this.o.compressionLevel ?? 6,
      };
      const r = await this.engine.call<FinalizeDayResult>('finalizeDay', arg);
      days.release(day);
      faultPoint('day');
      written += r.written;
      passes = Math.max(passes, r.passes);
      if (r.written > 0) files++;
    });
    return { written, files, passes };
  }

  private async sortRows(rows: PartitionSpill, index: IndexWriterThread): Promise<void> {
    const perSort = Math.min(MAX_ROWS_PER_SORT, Math.max(1, Math.floor(this.perCall / SORT_BYTES_PER_ROW)));
    for (const bucket of rows.keys()) {
      const n = rows.count(bucket);
      const calls = Math.ceil(n / perSort);
      const pieces = rows.pieces(bucket);
      for (let c = 0; c < calls; c++) {
        // Ranges of the id's next two bytes, so each call takes ~n/calls rows of the bucket.
        const lo = Math.floor((c * 65536) / calls);
        const hi = Math.floor(((c + 1) * 65536) / calls);
        const sorted = await this.engine.call<SortedRows>('sortRows', { pieces, lo, hi, expected: Math.ceil((n / calls) * 1.25) + 16 });
        await index.send(sorted);
      }
      rows.release(bucket);
    }
  }
}

/** Runs `fn` over `items` with at most `limit` calls in flight; the first failure rejects. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(lanes);
}
