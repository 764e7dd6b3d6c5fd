/**
 * Engine mode 3, many inputs: a task module runs over a list of items (usually files) rather than
 * byte ranges of one input. Items are grouped into batches of similar weight (bytes), so that
 * one batch of 300 small files weighs about as much as one large file; batches go to the same
 * pool of workers as the byte-range path, with a bounded window in flight, and their results are
 * released in batch order, so the output does not depend on -j or thread timing.
 *
 * The byte-range path (runChunks) frames records inside one input; nothing of that applies here,
 * so this is a separate small entry that reuses the pool rather than a mode flag inside run.ts.
 * A task module for this mode is an ordinary task module whose `calls` include ITEMS_CALL.
 */
import { WorkerPool } from './pool.js';
import { ThreadmillError, InterruptedError } from './errors.js';
import { defineTask, type CallResult, type FormatTask } from './plugin.js';

/** The side call a many-inputs task module implements: one batch of items → one result. */
export const ITEMS_CALL = 'items';

export interface WeightedItem { weight: number }

export interface ItemsTask<O, I, R> {
  init?(options: O): void | Promise<void>;
  /** Turns one batch of items into one result (structured-cloneable; list buffers in `transfer`). */
  processBatch(items: I[], options: O): CallResult & { value: R } | Promise<CallResult & { value: R }>;
}

/** Wraps a many-inputs task as a task module default export (the framing is never used). */
export function defineItemsTask<O, I, R>(task: ItemsTask<O, I, R>): FormatTask<O, never> {
  return defineTask<O, never>({
    framing: { recordStart() { throw new Error('a many-inputs task has no byte framing'); } },
    init: task.init,
    processChunk() { throw new Error('a many-inputs task takes batches of items, not chunks'); },
    calls: { [ITEMS_CALL]: (batch: never, options: O) => task.processBatch(batch as I[], options) },
  });
}

export interface ManyInputsOptions<O, I extends WeightedItem, R> {
  taskModule: URL;
  taskOptions: O;
  items: I[];
  threads: number;
  /** A batch closes when its weight reaches this (default 1 MiB) ... */
  batchWeight?: number;
  /** ... or when it holds this many items (default 256). */
  batchItems?: number;
  /** Batches in flight per worker (default 2): bounds memory whatever the number of items. */
  windowPerWorker?: number;
  signal?: AbortSignal;
  /** A pool from startItemsPool (its owner closes it); by default one is made and closed here. */
  pool?: WorkerPool;
  /** Called once per batch, in batch order; may be async (the next results wait). */
  onBatch(result: R, items: I[], index: number): void | Promise<void>;
}

/** Consecutive items grouped by weight; consecutive so that results keep the items' order. */
export function planBatches<I extends WeightedItem>(items: I[], batchWeight: number, batchItems: number): I[][] {
  const batches: I[][] = [];
  let current: I[] = [];
  let weight = 0;
  for (const item of items) {
    current.push(item);
    weight += item.weight;
    if (weight >= batchWeight || current.length >= batchItems) {
      batches.push(current);
      current = [];
      weight = 0;
    }
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * A pool whose first `warm` workers start loading the task module now (each gets an empty
 * batch), so that a caller can overlap their start-up (~0.3 s: the thread, the task's imports)
 * with its own work, e.g. walking a directory tree, before it knows the items.
 */
export function startItemsPool<O>(taskModule: URL, taskOptions: O, threads: number, warm = threads): WorkerPool {
  const pool = new WorkerPool(taskModule, taskOptions, threads);
  // Each call goes to a new worker while every started one is busy; the rest start on demand.
  for (let i = 0; i < Math.min(warm, threads); i++) pool.call(ITEMS_CALL, []).catch(() => undefined);
  return pool;
}

/** Runs the task over every item; resolves with the number of batches once all were handed over. */
export async function runManyInputs<O, I extends WeightedItem, R>(opts: ManyInputsOptions<O, I, R>): Promise<number> {
  const batches = planBatches(opts.items, opts.batchWeight ?? 1 << 20, opts.batchItems ?? 256);
  const threads = opts.pool ? opts.pool.maxWorkers : Math.max(1, Math.min(opts.threads, batches.length));
  const pool = opts.pool ?? new WorkerPool(opts.taskModule, opts.taskOptions, threads);
  const window = threads * (opts.windowPerWorker ?? 2);
  const inFlight = new Map<number, Promise<R>>();
  let next = 0;
  const launch = (): void => {
    while (next < batches.length && inFlight.size < window) {
      const i = next++;
      const p = pool.call<R>(ITEMS_CALL, batches[i]);
      p.catch(() => undefined); // observed when its turn comes; never an unhandled rejection
      inFlight.set(i, p);
    }
  };
  const aborted = new Promise<never>((_, reject) => {
    if (!opts.signal) return;
    const onAbort = (): void => reject(new InterruptedError(String(opts.signal!.reason ?? 'SIGINT')));
    if (opts.signal.aborted) onAbort();
    else opts.signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    launch();
    for (let i = 0; i < batches.length; i++) {
      const p = inFlight.get(i);
      if (!p) throw new ThreadmillError('INTERNAL', `batch ${i} was never started`);
      const result = await Promise.race([p, aborted]);
      inFlight.delete(i);
      launch();
      await opts.onBatch(result, batches[i]!, i);
    }
    return batches.length;
  } finally {
    if (!opts.pool) await pool.close();
  }
}
