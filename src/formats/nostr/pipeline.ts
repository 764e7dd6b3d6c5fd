/**
 * `threadmill nostr convert`: JSON lines → per-day `.pb.gz` files + `index.db`, deduplicated by
 * event id within the run and against what DIR already holds. The engine parses and validates in
 * the workers; this file only merges: the id set, the day files, the index writer thread.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { runChunks, defaultThreads } from '../../engine/run.js';
import { OutputTransaction, recoverDirectory } from '../../engine/atomic.js';
import { lockDirectory } from '../../engine/lock.js';
import { checkDirectoryOutput, checkFileOutput } from '../../engine/output-target.js';
import { ErrorLog } from '../../engine/error-log.js';
import { ThreadmillError, InterruptedError } from '../../engine/errors.js';
import type { Progress } from '../../engine/progress.js';
import type { LocatedError } from '../../engine/run-types.js';
import { IdSet } from './id-set.js';
import { DayFiles, type DayBudgets } from './day-files.js';
import { forEachIndexedId, indexPath } from './index-db.js';
import { rebuildIndex, dayFilesIn } from './index-rebuild.js';
import { repairIndexDrift, describeDrift } from './index-repair.js';
import type { ConvertPayload, NostrTaskOptions } from './task.js';
import type { FromIndexWriter, IndexBatch, IndexWriterData, ToIndexWriter } from './index-writer.js';
import type { RejectCategory } from './event.js';

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
  /** Called once when rejections past the first five arrive. */
  onMoreRecordErrors?: () => void;
  warn?: (message: string) => void;
  /** Memory budgets of the day files (tests shrink them to exercise early flushes and compaction). */
  dayBudgets?: DayBudgets;
  /** Only this share of the inputs (`--shard`, src/engine/shard.ts); the summary says what it covered. */
  shard?: import('../../engine/shard.js').Shard;
}

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
  /** With `shard`: what the run covered of each input. */
  share?: import('../../engine/share-plan.js').ShareCoverage[];
}

/**
 * The index writer thread, with a promise for its end. Batches are acknowledged, and the reader
 * waits when too many are queued: where SQLite is slower than parsing (many threads), memory stays
 * bounded instead of queueing the whole input in the writer's inbox.
 */
class IndexWriterThread {
  private readonly worker: Worker;
  private readonly done: Promise<number>;
  private queued = 0;
  private wake: (() => void) | null = null;
  constructor(data: IndexWriterData) {
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    this.worker = new Worker(new URL(`./index-writer${ext}`, import.meta.url), { workerData: data });
    this.done = new Promise<number>((resolve, reject) => {
      this.worker.on('message', (m: FromIndexWriter) => {
        if (m.type === 'ack') {
          this.queued--;
          this.wake?.();
        } else if (m.type === 'done') resolve(m.rows);
        else reject(new ThreadmillError(m.code === 'SQLITE_FULL' ? 'DISK_FULL' : 'INDEX_WRITE_FAILED', `writing ${data.path}: ${m.message}`));
      });
      this.worker.on('error', (e) => reject(new ThreadmillError('INDEX_WRITE_FAILED', `index writer crashed: ${e.message}`)));
    });
    this.done.catch(() => {});
  }
  send(batch: IndexBatch): void {
    const transfer = [batch.keep, batch.ids, batch.pubkeys, batch.kinds, batch.createdAt].map((a) => a.buffer as ArrayBuffer);
    this.worker.postMessage({ type: 'batch', batch } satisfies ToIndexWriter, transfer);
    this.queued++;
  }
  async settle(limit: number): Promise<void> {
    while (this.queued > limit) {
      await Promise.race([new Promise<void>((r) => { this.wake = r; }), this.done]);
      this.wake = null;
    }
  }
  async finish(): Promise<number> {
    this.worker.postMessage({ type: 'finish' } satisfies ToIndexWriter);
    const rows = await this.done;
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

async function convertLocked(o: ConvertOptions): Promise<ConvertSummary> {
  const started = performance.now();
  recoverDirectory(o.outDir);
  if (!existsSync(indexPath(o.outDir)) && dayFilesIn(o.outDir).length > 0) {
    o.warn?.(`${o.outDir} has .pb.gz files but no index.db: rebuilding it first so duplicates are found`);
    await rebuildIndex(o.outDir);
  }
  const drift = await repairIndexDrift(o.outDir, indexedAtNow());
  if (drift) o.warn?.(`${describeDrift(o.outDir, drift)}: repaired the index first, so those events are converted again when the input holds them`);
  const seen = new IdSet();
  forEachIndexedId(o.outDir, (id) => seen.add(id));
  const tx = new OutputTransaction();
  // Renamed last: index.db never names a day file that is not in place yet.
  const indexTmp = tx.tempFor(indexPath(o.outDir), { last: true });
  if (existsSync(indexPath(o.outDir))) copyFileSync(indexPath(o.outDir), indexTmp);
  const errorLog = new ErrorLog({ maxErrors: o.maxErrors, rejectsPath: o.rejectsPath ? tx.tempFor(o.rejectsPath) : undefined, onError: o.onRecordError, onMore: o.onMoreRecordErrors, echo: 5 });
  const index = new IndexWriterThread({ path: indexTmp, indexedAt: indexedAtNow() });
  const taskOptions: NostrTaskOptions = {
    validateIds: o.validateIds ?? true, validateSignatures: o.validateSignatures ?? true, filterKinds: o.filterKinds ?? true, compressionLevel: o.compressionLevel ?? 6,
  };
  const threads = o.threads ?? undefined;
  const days = new DayFiles(o.outDir, tx, 2 * (threads ?? defaultThreads()), o.dayBudgets);
  let linesRead = 0;
  let valid = 0;
  let written = 0;
  try {
    const stats = await runChunks<NostrTaskOptions, ConvertPayload>({
      inputs: o.inputs, taskModule: new URL('./task.js', import.meta.url), taskOptions, threads, chunkSize: o.chunkSize,
      errorLog, progress: o.progress, signal: o.signal, warn: o.warn, shard: o.shard,
      async onChunk(chunk, engine) {
        const p = chunk.payload;
        const keep = new Uint8Array(p.count);
        const proto = days.share(p.proto);
        for (let i = 0; i < p.count; i++) {
          if (!seen.add(p.ids, i * 32)) continue;
          keep[i] = 1;
          written++;
          days.add(engine, Math.floor(p.createdAt[i]! / 86400), proto, i === 0 ? 0 : p.ends[i - 1]!, p.ends[i]!);
        }
        days.afterChunk(proto);
        index.send({ n: p.count, keep, ids: p.ids, pubkeys: p.pubkeys, kinds: p.kinds, createdAt: p.createdAt });
        linesRead += p.linesRead;
        valid += p.count;
        await days.settle();
        await index.settle(16);
      },
      async onEnd(engine) {
        await days.finish(engine);
      },
    });
    await index.finish();
    errorLog.close();
    if (o.signal?.aborted) throw new InterruptedError(String(o.signal.reason ?? 'abort'));
    tx.commit(o.outDir);
    const rejected = Object.fromEntries(REJECT_CATEGORIES.map((c) => [c, errorLog.count(c)])) as Record<RejectCategory, number>;
    const seconds = (performance.now() - started) / 1000;
    return {
      lines_read: linesRead, valid, written, duplicates: valid - written, rejected, rejected_total: errorLog.total,
      files_written: days.filesWritten, seconds, events_per_second: seconds > 0 ? Math.round(stats.records / seconds) : 0, threads: stats.threads,
      ...(stats.share ? { share: stats.share } : {}),
    };
  } catch (err) {
    errorLog.close();
    await index.stop();
    await days.quiesce();
    tx.abort();
    throw err;
  }
}

