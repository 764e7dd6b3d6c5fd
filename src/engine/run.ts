/**
 * runChunks: the engine's entry for byte ranges. Plans inputs into record-aligned chunks; the one
 * scheduler (scheduler.ts) keeps a bounded window of them in flight on the worker pool and hands
 * results to the caller in input order.
 */
import { availableParallelism } from 'node:os';
import { WorkerPool } from './pool.js';
import { schedule } from './scheduler.js';
import { changedInput, checkHeads, describeInput, planRanges, planStream, type InputInfo, type PlannedJob } from './source.js';
import { UsageError } from './errors.js';
import type { ErrorLog } from './error-log.js';
import type { FormatTask } from './plugin.js';
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
  const engine = { threads, call: <T>(name: string, arg: unknown, transfer?: ArrayBuffer[]) => pool.call<T>(name, arg, transfer) };
  try {
    const counts = await schedule<P>({
      pool, plan: planAll(infos, chunkSize, task, opts.allowTruncated ?? false, share, opts.warn), first: share?.firstIndex ?? 0,
      window: threads * (opts.windowPerWorker ?? 2), signal: opts.signal, shouldStop: opts.shouldStop, errorLog: opts.errorLog, progress: opts.progress,
      adjust: (chunk) => share?.locate(chunk),
      async onChunk(chunk) {
        if (chunk.truncatedAt !== undefined) opts.warn?.(`${chunk.input}: the file ends inside the BGZF block at compressed offset ${chunk.truncatedAt}; kept the data before it (--allow-truncated)`);
        await opts.onChunk(chunk, engine);
      },
    });
    const changed = changedInput(infos);
    if (changed) throw changed;
    await opts.onEnd?.(engine);
    const stats: RunStats = { ...counts, threads: pool.size, seconds: (performance.now() - started) / 1000 };
    if (share) stats.share = share.coverage;
    return stats;
  } catch (err) {
    throw runFailure(err, infos);
  } finally {
    await pool.close();
  }
}
