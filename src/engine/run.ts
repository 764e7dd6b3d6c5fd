/**
 * runChunks: the engine's one entry point. Plans inputs into chunks, keeps a bounded window of
 * them in flight on the worker pool, and hands results to the caller in input order.
 */
import { availableParallelism } from 'node:os';
import { WorkerPool } from './pool.js';
import { OrderedCollector } from './collector.js';
import { changedInput, checkHeads, describeInput, planRanges, planStream, type InputInfo, type PlannedJob } from './source.js';
import { InterruptedError, UsageError } from './errors.js';
import type { ErrorLog } from './error-log.js';
import type { FormatTask } from './plugin.js';
import type { Job } from './protocol.js';
import type { RunOptions, RunStats } from './run-types.js';
import { SharePlan } from './share-plan.js';
import { runFailure } from './fatal.js';
import type { Shard } from './shard.js';

export const DEFAULT_CHUNK_SIZE = 4 << 20;

export interface EngineOptions<O, P> extends RunOptions<O, P> {
  /** Record errors go here (counted, written to --rejects, --max-errors enforced). */
  errorLog?: ErrorLog;
  /** Non-fatal notes for the user (e.g. a BGZF file without its EOF block). */
  warn?(message: string): void;
  /** BGZF inputs that end inside a block keep what came before instead of failing. */
  allowTruncated?: boolean;
  /** Only this shard's share of the inputs (`--shard I/N`, see shard.ts); RunStats.share says what it covered. */
  shard?: Shard;
}

export function defaultThreads(): number {
  return Math.max(1, availableParallelism());
}

async function* planAll(infos: InputInfo[], chunkSize: number, task: FormatTask<unknown, unknown>, allowTruncated: boolean, share: SharePlan | null, warn?: (message: string) => void): AsyncGenerator<PlannedJob> {
  for (const [i, info] of infos.entries()) {
    if (share) {
      yield* share.plan(i, chunkSize, task.framing, allowTruncated);
      continue;
    }
    if (info.kind === 'file' || info.kind === 'bgzf') yield* planRanges(info, i, chunkSize, allowTruncated);
    else yield* planStream(info, i, chunkSize, task.framing, { allowTruncated, warn });
  }
}

/** Resolves when fewer than `limit` chunks are unreleased, or rejects with the run's failure. */
class Window {
  private wake: (() => void) | null = null;
  failure: Error | null = null;
  /** Rejects on the first failure: raced against reads that may block (stdin) so aborts are prompt. */
  readonly failed: Promise<never>;
  private rejectFailed: (e: Error) => void = () => {};
  constructor(private readonly limit: number, private readonly inFlight: () => number) {
    this.failed = new Promise<never>((_, reject) => { this.rejectFailed = reject; });
    this.failed.catch(() => {});
  }
  async room(): Promise<void> {
    while (!this.failure && this.inFlight() >= this.limit) await new Promise<void>((r) => { this.wake = r; });
    if (this.failure) throw this.failure;
  }
  poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
  fail(err: Error): void {
    this.failure ??= err;
    this.rejectFailed(this.failure);
    this.poke();
  }
}

/**
 * Library callers get the CLI's checks (issue 8: `chunkSize: NaN` read one record, and
 * `windowPerWorker: 0` never settled): a UsageError naming the option, before anything starts.
 */
export function validateRunOptions(opts: Pick<RunOptions<unknown, unknown>, 'inputs' | 'threads' | 'chunkSize' | 'windowPerWorker'>): void {
  const positive = (name: string, v: unknown): void => {
    if (v !== undefined && !(Number.isSafeInteger(v) && (v as number) >= 1)) throw new UsageError(`${name} must be a positive integer, got ${String(v)}`);
  };
  positive('threads', opts.threads);
  positive('chunkSize', opts.chunkSize);
  positive('windowPerWorker', opts.windowPerWorker);
  if (!Array.isArray(opts.inputs) || opts.inputs.length === 0 || !opts.inputs.every((i) => typeof i === 'string' && i !== '')) {
    throw new UsageError('inputs must be a non-empty list of paths (or - for stdin)');
  }
}

export async function runChunks<O, P>(opts: EngineOptions<O, P>): Promise<RunStats> {
  validateRunOptions(opts);
  const started = performance.now();
  const infos = opts.inputs.map(describeInput);
  for (const info of infos) for (const w of info.warnings) opts.warn?.(w);
  const seekable = infos.every((i) => i.size >= 0);
  opts.progress?.setTotal(seekable ? infos.reduce((n, i) => n + i.size, 0) : null);
  const task = ((await import(opts.taskModule.href)) as { default: FormatTask<unknown, unknown> }).default;
  checkHeads(infos, task.checkHead && ((head, input) => task.checkHead!(head, input)));
  const threads = Math.max(1, opts.threads ?? defaultThreads());
  const chunkSize = Math.max(1 << 16, opts.chunkSize ?? DEFAULT_CHUNK_SIZE);
  const share = opts.shard ? await SharePlan.create(infos, opts.shard, chunkSize) : null;
  if (share) opts.progress?.setTotal(share.bytes);
  const pool = new WorkerPool(opts.taskModule, opts.taskOptions, threads);
  const stats: RunStats = { chunks: 0, records: 0, bytes: 0, errors: 0, threads: 0, seconds: 0 };
  const inputBytes = new Map<number, number>();
  const engine = { threads, call: <T>(name: string, arg: unknown, transfer?: ArrayBuffer[]) => pool.call<T>(name, arg, transfer) };
  let dispatched = share?.firstIndex ?? 0;
  const collector = new OrderedCollector<P>(async (chunk, job) => {
    stats.records += chunk.records;
    stats.bytes += chunk.bytes;
    stats.errors += chunk.errors.length;
    stats.chunks++;
    share?.locate(chunk);
    for (const e of chunk.errors) opts.errorLog?.add(e);
    if (chunk.truncatedAt !== undefined) opts.warn?.(`${chunk.input}: the file ends inside the BGZF block at compressed offset ${chunk.truncatedAt}; kept the data before it (--allow-truncated)`);
    await opts.onChunk(chunk, engine);
    opts.progress?.advance(inputBytes.get(job.index) ?? 0, chunk.records);
    inputBytes.delete(job.index);
  }, dispatched);
  const window = new Window(threads * (opts.windowPerWorker ?? 2), () => dispatched - collector.released);
  const onAbort = (): void => window.fail(new InterruptedError(String(opts.signal?.reason ?? 'abort')));
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const settled: Promise<void>[] = [];
  try {
    if (opts.signal?.aborted) onAbort();
    const plan = planAll(infos, chunkSize, task, opts.allowTruncated ?? false, share, opts.warn);
    for (;;) {
      const next = await Promise.race([plan.next(), window.failed]);
      if (next.done) break;
      const planned = next.value;
      await window.room();
      if (opts.shouldStop?.()) break;
      const index = dispatched++;
      const job = { ...planned.job, id: index, index } as Job;
      inputBytes.set(index, planned.inputBytes);
      settled.push(pool.run(job).then((outcome) => collector.add(job, outcome)).then(() => window.poke(), (err: Error) => window.fail(err)));
    }
    await Promise.all(settled);
    if (window.failure) throw window.failure;
    const changed = changedInput(infos);
    if (changed) throw changed;
    await opts.onEnd?.(engine);
    stats.threads = pool.size;
    stats.seconds = (performance.now() - started) / 1000;
    if (share) stats.share = share.coverage;
    return stats;
  } catch (err) {
    throw runFailure(err, infos);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await pool.close();
  }
}
