/**
 * Engine mode 3, many inputs: a task runs over a list of items (usually files) rather than byte
 * ranges of one input. The plan groups consecutive items into batches of similar weight (bytes),
 * so one batch of 300 small files weighs about as much as one large file; the batches then go
 * through the same scheduler as byte ranges (scheduler.ts: window, release in plan order, abort,
 * progress, the error log, RunStats), so the output does not depend on -j or thread timing.
 * A task module for this mode implements processItem (defineItemsTask).
 */
import { WorkerPool } from './pool.js';
import { schedule } from './scheduler.js';
import { defineTask, type FormatTask, type ItemResult } from './plugin.js';
import type { ErrorLog } from './error-log.js';
import type { Progress } from './progress.js';
import type { OrderedChunk, RunStats } from './run-types.js';
import type { PlannedJob } from './source.js';

export interface WeightedItem {
  /** Balances batches (e.g. a file's bytes plus a fixed cost per file). */
  weight: number;
  /** Counted as progress and in RunStats.bytes (default: the weight). */
  bytes?: number;
}

export interface ItemsTask<O, I, R> {
  init?(options: O): void | Promise<void>;
  /** One item → its value (structured-cloneable; buffers to move in `transfer`) and the record errors met in it. */
  processItem(item: I, options: O): ItemResult & { value: R } | Promise<ItemResult & { value: R }>;
  /** After each batch (e.g. free native memory its items left behind). */
  afterBatch?(options: O): void | Promise<void>;
}

/** Wraps a many-inputs task as a task module default export (it has no byte framing). */
export function defineItemsTask<O, I, R>(task: ItemsTask<O, I, R>): FormatTask<O, R[]> {
  return defineTask<O, R[]>({
    framing: { recordStart() { throw new Error('a many-inputs task has no byte framing'); } },
    init: task.init,
    processChunk() { throw new Error('a many-inputs task takes batches of items, not chunks'); },
    processItem: (item: never, options: O) => task.processItem(item as I, options),
    afterBatch: task.afterBatch,
  });
}

export interface ManyInputsOptions<O, I extends WeightedItem, R> {
  taskModule: URL;
  taskOptions: O;
  /** In the order results are wanted; an array also gives progress its total. */
  items: Iterable<I>;
  threads: number;
  /** A batch closes when its weight reaches this (default: see defaultBatchWeight) ... */
  batchWeight?: number;
  /** ... or when it holds this many items (default 256). */
  batchItems?: number;
  /** Batches in flight per worker (default 2): bounds memory whatever the number of items. */
  windowPerWorker?: number;
  signal?: AbortSignal;
  /** A pool started early (WorkerPool.start) that its owner closes; by default one is made and closed here. */
  pool?: WorkerPool;
  /** Record errors the items gave (counted, written to --rejects, --max-errors enforced). */
  errorLog?: ErrorLog;
  progress?: Progress;
  /** Called once per batch, in item order, with its items' values; may be async (the next batch waits). */
  onBatch(values: R[], batch: OrderedChunk<R[]>): void | Promise<void>;
}

function bytesOf(item: WeightedItem): number {
  return item.bytes ?? item.weight;
}

/** Consecutive items grouped by weight, as they come; consecutive so that results keep the items' order. */
export function* itemBatches<I extends WeightedItem>(items: Iterable<I>, batchWeight: number, batchItems: number): Generator<I[]> {
  let current: I[] = [];
  let weight = 0;
  for (const item of items) {
    current.push(item);
    weight += item.weight;
    if (weight >= batchWeight || current.length >= batchItems) {
      yield current;
      current = [];
      weight = 0;
    }
  }
  if (current.length > 0) yield current;
}

export function planBatches<I extends WeightedItem>(items: Iterable<I>, batchWeight: number, batchItems: number): I[][] {
  return [...itemBatches(items, batchWeight, batchItems)];
}

/** The plan of a many-inputs run: one job per batch, named by the items it holds (1-based). */
export function* planItems<I extends WeightedItem>(items: Iterable<I>, batchWeight: number, batchItems: number): Generator<PlannedJob> {
  let done = 0;
  for (const batch of itemBatches(items, batchWeight, batchItems)) {
    const bytes = batch.reduce((n, item) => n + bytesOf(item), 0);
    yield { job: { kind: 'items', input: `items ${done + 1}-${done + batch.length}`, inputIndex: 0, items: batch, bytes }, inputBytes: bytes };
    done += batch.length;
  }
}

/**
 * At least ~4 batches per thread, so that a small list still spreads over every worker; 16 KiB to
 * 1 MiB of weight, so a batch is worth its message and never holds too much. 1 MiB when the items
 * are not counted beforehand.
 */
export function defaultBatchWeight(items: Iterable<WeightedItem>, threads: number): number {
  if (!Array.isArray(items)) return 1 << 20;
  const total = (items as WeightedItem[]).reduce((n, item) => n + item.weight, 0);
  return Math.max(16 << 10, Math.min(1 << 20, Math.ceil(total / (Math.max(1, threads) * 4))));
}

/** Runs the task over every item; resolves with the run's stats once every batch was handed over. */
export async function runManyInputs<O, I extends WeightedItem, R>(opts: ManyInputsOptions<O, I, R>): Promise<RunStats> {
  const started = performance.now();
  if (Array.isArray(opts.items)) opts.progress?.setTotal((opts.items as I[]).reduce((n, item) => n + bytesOf(item), 0));
  const pool = opts.pool ?? new WorkerPool(opts.taskModule, opts.taskOptions, Math.max(1, opts.threads));
  try {
    const counts = await schedule<R[]>({
      pool, plan: planItems(opts.items, opts.batchWeight ?? defaultBatchWeight(opts.items, opts.threads), opts.batchItems ?? 256),
      window: pool.maxWorkers * (opts.windowPerWorker ?? 2), signal: opts.signal, errorLog: opts.errorLog, progress: opts.progress,
      onChunk: (chunk) => opts.onBatch(chunk.payload, chunk),
    });
    return { ...counts, threads: pool.size, seconds: (performance.now() - started) / 1000 };
  } finally {
    if (!opts.pool) await pool.close();
  }
}
