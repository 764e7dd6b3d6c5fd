/**
 * A pool of long-lived worker_threads. Workers start lazily, one more only when every running
 * worker is busy, so a 10 KB input never pays for 16 thread start-ups (~30 ms each here).
 *
 * Closing stops workers between jobs, never inside one: a thread terminated while native code
 * runs in it can abort the whole process (tree-sitter: SIGABRT, `Napi::Error`, issue 16).
 */
import { moduleBeside } from './plugin.js';
import { Worker } from 'node:worker_threads';
import { sampleThreads } from './thread-cpu.js';
import { ThreadmillError, fromErrorShape } from './errors.js';
import type { ChunkResult } from './plugin.js';
import { WorkerState, type Job, type FromWorker, type ToWorker, type ChunkPlacement } from './protocol.js';

export interface JobOutcome { result: ChunkResult<unknown>; placement: ChunkPlacement }

/** A job or a call waiting for its worker; `label` names it in errors. */
interface Pending { resolve(value: unknown): void; reject(e: Error): void; label: string }

/** `starting`: the task module is still loading (a task's init may load native code too). */
interface Slot { worker: Worker; pending: Map<number, Pending>; dead: boolean; starting: boolean; idle?: () => void }

/**
 * How long close() waits for a worker to finish the job it is in (one chunk, or one item of a
 * batch) before terminating it anyway; a stuck task must not keep an interrupted run alive.
 */
const CLOSE_GRACE_MS = 5000;

/** At process exit, how long workers still inside a job get to finish it (the exit then goes on regardless). */
const EXIT_GRACE_MS = 2000;

/** Pools not closed yet: at process exit their workers are stopped between jobs (stopNow) before Node terminates them. */
const open = new Set<WorkerPool>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    const deadline = Date.now() + EXIT_GRACE_MS;
    for (const pool of open) pool.stopNow(deadline);
  });
}

/** The compiled worker sits beside this file: dist/src/engine/worker.js (or .ts under a TS loader). */
function workerUrl(): URL {
  return moduleBeside(import.meta.url, './worker');
}

/** Loader and profiling flags carry over to workers; flags about the main script do not. */
function workerExecArgv(): string[] {
  return process.execArgv.filter((a) => !/^--(input-type|eval|print|test)/.test(a) && a !== '-e' && a !== '-p');
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private closed = false;
  /** Shared with every worker (protocol.ts WorkerState): the stop flag and how many are busy. */
  private readonly state = new Int32Array(new SharedArrayBuffer(WorkerState.LENGTH * 4));

  constructor(private readonly taskModule: URL, private readonly options: unknown, readonly maxWorkers: number) {
    open.add(this);
    installExitHook();
  }

  /**
   * For an exit that cannot wait (process.exit, e.g. a second Ctrl-C): tells the workers to stop
   * and blocks until none is inside a job, or until `deadline` (ms since the epoch).
   */
  stopNow(deadline: number): void {
    Atomics.store(this.state, WorkerState.STOP, 1);
    for (let busy = Atomics.load(this.state, WorkerState.BUSY); busy > 0 && Date.now() < deadline; busy = Atomics.load(this.state, WorkerState.BUSY)) {
      Atomics.wait(this.state, WorkerState.BUSY, busy, deadline - Date.now());
    }
  }

  /** Workers started so far. */
  get size(): number {
    return this.slots.length;
  }

  run(job: Job): Promise<JobOutcome> {
    if (this.closed) return Promise.reject(new ThreadmillError('POOL_CLOSED', 'worker pool is closed'));
    const slot = this.pickSlot();
    return new Promise<JobOutcome>((resolve, reject) => {
      slot.pending.set(job.id, { resolve: resolve as (v: unknown) => void, reject, label: job.input });
      const transfer = job.kind === 'bytes' ? [job.bytes.buffer as ArrayBuffer] : [];
      slot.worker.postMessage({ type: 'job', job } satisfies ToWorker, transfer);
    });
  }

  /** Runs a named side call of the task module; call ids are negative so they never meet job ids. */
  call<T>(name: string, arg: unknown, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.closed) return Promise.reject(new ThreadmillError('POOL_CLOSED', 'worker pool is closed'));
    const slot = this.pickSlot();
    const id = -2 - this.calls++;
    return new Promise<T>((resolve, reject) => {
      slot.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, label: `call ${name}` });
      slot.worker.postMessage({ type: 'call', call: { id, name, arg } } satisfies ToWorker, transfer);
    });
  }

  private calls = 0;

  /**
   * Starts up to `n` workers now, so that their start-up (the thread, the task's imports, ~0.3 s)
   * overlaps the caller's own work, e.g. walking a directory tree before the items are known.
   */
  start(n: number): void {
    while (!this.closed && this.slots.length < Math.min(n, this.maxWorkers)) this.spawn();
  }

  private pickSlot(): Slot {
    let best: Slot | undefined;
    for (const s of this.slots) if (!s.dead && (!best || s.pending.size < best.pending.size)) best = s;
    if (best && (best.pending.size === 0 || this.slots.length >= this.maxWorkers)) return best;
    return this.spawn();
  }

  private spawn(): Slot {
    const worker = new Worker(workerUrl(), { execArgv: workerExecArgv() });
    const slot: Slot = { worker, pending: new Map(), dead: false, starting: true };
    worker.on('message', (msg: FromWorker) => this.onMessage(slot, msg));
    worker.on('error', (err) => this.failSlot(slot, new ThreadmillError('WORKER_FAILED', `worker crashed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => {
      if (!this.closed) this.failSlot(slot, new ThreadmillError('WORKER_FAILED', `worker exited unexpectedly (code ${code})`));
    });
    worker.postMessage({ type: 'init', taskModule: this.taskModule.href, options: this.options, state: this.state.buffer as SharedArrayBuffer } satisfies ToWorker);
    this.slots.push(slot);
    return slot;
  }

  private onMessage(slot: Slot, msg: FromWorker): void {
    if (msg.type === 'ready') {
      slot.starting = false;
      if (slot.pending.size === 0) slot.idle?.();
      return;
    }
    if (msg.type === 'failed' && msg.id === -1) {
      this.failSlot(slot, fromErrorShape(msg.error, 'worker could not load its task'));
      return;
    }
    const p = slot.pending.get(msg.id);
    if (!p) return;
    slot.pending.delete(msg.id);
    if (slot.pending.size === 0 && !slot.starting) slot.idle?.();
    if (msg.type === 'result') p.resolve({ result: msg.result, placement: msg.placement } satisfies JobOutcome);
    else if (msg.type === 'called') p.resolve(msg.value);
    else p.reject(fromErrorShape(msg.error, p.label));
  }

  private failSlot(slot: Slot, err: Error): void {
    slot.dead = true;
    for (const p of slot.pending.values()) p.reject(err);
    slot.pending.clear();
    slot.idle?.();
  }

  /** Resolves when the slot has started and has nothing pending, or after `ms`. */
  private async settled(slot: Slot, ms: number): Promise<void> {
    if (slot.dead || (!slot.starting && slot.pending.size === 0)) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      slot.idle = resolve;
      timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
  }

  /**
   * Stops every worker. Those still busy are told to stop (worker.ts: queued jobs are refused, a
   * batch of items stops between two) and are terminated once idle, or after CLOSE_GRACE_MS;
   * jobs and calls still pending then reject with POOL_CLOSED (never hang).
   */
  async close(): Promise<void> {
    this.closed = true;
    Atomics.store(this.state, WorkerState.STOP, 1);
    await Promise.all(this.slots.map((s) => this.settled(s, CLOSE_GRACE_MS)));
    sampleThreads();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    for (const s of this.slots) this.failSlot(s, new ThreadmillError('POOL_CLOSED', 'worker pool closed before the work finished'));
    open.delete(this);
  }
}
