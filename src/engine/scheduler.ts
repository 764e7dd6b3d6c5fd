/**
 * The one scheduler of the engine: planned jobs (byte ranges of inputs, or batches of items) go to
 * the worker pool with a bounded window in flight; results are released in plan order; each is
 * counted, its record errors logged and its bytes shown as progress; an abort or a failure stops
 * the dispatch at once. runChunks (run.ts) and runManyInputs (many-inputs.ts) only plan.
 */
import { OrderedCollector } from './collector.js';
import { InterruptedError } from './errors.js';
import { faultPoint } from './fault-points.js';
import type { ErrorLog } from './error-log.js';
import type { WorkerPool } from './pool.js';
import type { Progress } from './progress.js';
import type { Job } from './protocol.js';
import type { OrderedChunk } from './run-types.js';
import type { PlannedJob } from './source.js';

export interface ScheduleOptions<P> {
  pool: WorkerPool;
  plan: AsyncIterable<PlannedJob> | Iterable<PlannedJob>;
  /** Number of the first job (a shard's chunks keep their numbers in the unsharded plan). */
  first?: number;
  /** Jobs dispatched but not yet released, at most: bounds memory whatever the input size. */
  window: number;
  signal?: AbortSignal;
  /** Stops planning new jobs (e.g. --limit reached); those in flight are still released. */
  shouldStop?(): boolean;
  errorLog?: ErrorLog;
  progress?: Progress;
  /** Called on each released result before its errors are logged (a shard makes their offsets absolute). */
  adjust?(chunk: OrderedChunk<P>): void;
  /** Called once per job in plan order; the next waits for its promise. */
  onChunk(chunk: OrderedChunk<P>): void | Promise<void>;
}

export interface ScheduleCounts { chunks: number; records: number; bytes: number; errors: number }

/** Resolves when fewer than `limit` jobs are unreleased, or rejects with the run's failure. */
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

function iteratorOf<T>(plan: AsyncIterable<T> | Iterable<T>): AsyncIterator<T> | Iterator<T> {
  return Symbol.asyncIterator in plan ? plan[Symbol.asyncIterator]() : plan[Symbol.iterator]();
}

/** Runs every planned job; resolves once all were released, rejects with the first failure or the abort. */
export async function schedule<P>(o: ScheduleOptions<P>): Promise<ScheduleCounts> {
  const counts: ScheduleCounts = { chunks: 0, records: 0, bytes: 0, errors: 0 };
  const inputBytes = new Map<number, number>();
  let dispatched = o.first ?? 0;
  const window = new Window(Math.max(1, o.window), () => dispatched - collector.released);
  const collector = new OrderedCollector<P>(async (chunk, job) => {
    // After a failure nothing more reaches the sink, which the caller may be closing.
    if (window.failure) throw window.failure;
    counts.records += chunk.records;
    counts.bytes += chunk.bytes;
    counts.errors += chunk.errors.length;
    counts.chunks++;
    o.adjust?.(chunk);
    for (const e of chunk.errors) o.errorLog?.add(e);
    faultPoint('chunk');
    await o.onChunk(chunk);
    o.progress?.advance(inputBytes.get(job.index) ?? 0, chunk.records);
    inputBytes.delete(job.index);
  }, dispatched);
  const onAbort = (): void => window.fail(new InterruptedError(String(o.signal?.reason ?? 'abort')));
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const settled: Promise<void>[] = [];
  try {
    if (o.signal?.aborted) onAbort();
    const plan = iteratorOf(o.plan);
    for (;;) {
      const next = await Promise.race([plan.next(), window.failed]);
      if (next.done) break;
      const planned = next.value;
      await window.room();
      if (o.shouldStop?.()) break;
      const index = dispatched++;
      const job = { ...planned.job, id: index, index } as Job;
      inputBytes.set(index, planned.inputBytes);
      settled.push(o.pool.run(job).then((outcome) => collector.add(job, outcome)).then(() => window.poke(), (err: Error) => window.fail(err)));
    }
    await Promise.all(settled);
    if (window.failure) throw window.failure;
    return counts;
  } catch (err) {
    // A delivery under way finishes first: the caller may roll its sink back once this rejects.
    await collector.idle();
    throw err;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
}
