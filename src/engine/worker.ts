/**
 * The one worker entry of the engine. It loads the format's task module named in the `init`
 * message, then turns jobs into chunk results. Format-agnostic: it only reads, frames and inflates.
 */
import { parentPort } from 'node:worker_threads';
import { RangeReader, closeAllFiles } from './range-reader.js';
import { readBgzfChunk } from './bgzf-chunk.js';
import { InterruptedError, toErrorShape } from './errors.js';
import { maxChunkBytes, recordTooLarge } from './limits.js';
import { nameThisThread } from './thread-cpu.js';
import type { FormatTask, Framing, ChunkContext, ChunkResult, RecordError } from './plugin.js';
import { WorkerState, type ToWorker, type FromWorker, type Job, type FileJob, type ItemsJob, type ChunkPlacement } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('threadmill worker started outside worker_threads');

let task: FormatTask<unknown, unknown> | null = null;
let options: unknown = null;
/** Shared with the pool (protocol.ts WorkerState). */
let state: Int32Array | null = null;
/** Jobs arrive while init's dynamic import is pending; chain them so each sees a loaded task. */
let queue: Promise<void> = Promise.resolve();

function post(msg: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(msg, transfer);
}

/**
 * The first record start at or after file offset `pos`, reading more of the file as needed; -1
 * when the framing proves that none lies in [pos, limit) (then the chunk is empty, whatever lies
 * past `limit`). A boundary further than the chunk limit is a located RECORD_TOO_LARGE.
 */
function boundary(reader: RangeReader, framing: Framing, pos: number, limit = Infinity): number {
  const max = maxChunkBytes();
  let noneBeforeLimit: boolean | undefined;
  for (;;) {
    const r = framing.recordStart(reader.buf, pos - reader.base, reader.eof);
    if (r >= 0 && reader.base + r - pos > max) throw recordTooLarge(null, pos, max);
    if (r >= 0) return reader.base + r;
    if (noneBeforeLimit === undefined && reader.base + reader.buf.length >= limit && framing.noRecordStartIn) {
      noneBeforeLimit = framing.noRecordStartIn(reader.buf, pos - reader.base, limit - reader.base);
      if (noneBeforeLimit) return -1;
    }
    if (reader.base + reader.buf.length - pos > max) throw recordTooLarge(null, pos, max);
    reader.grow(1 << 16);
  }
}

const FIRST_LOOK_AHEAD = 1 << 16;

function readFileChunk(job: FileJob, framing: Framing): { bytes: Uint8Array; placement: ChunkPlacement } {
  const lookBehind = job.start > 0 ? 1 : 0;
  const reader = new RangeReader(job.path, job.start - lookBehind, job.end + FIRST_LOOK_AHEAD, job.size);
  const s = boundary(reader, framing, job.start, job.end);
  if (s < 0) return { bytes: new Uint8Array(0), placement: { bytes: 0, offset: job.end, blockBytes: 0 } };
  const e = job.end >= job.size ? Math.max(s, reader.base + reader.buf.length) : Math.max(s, boundary(reader, framing, job.end));
  return { bytes: reader.buf.subarray(s - reader.base, e - reader.base), placement: { bytes: e - s, offset: s, blockBytes: 0 } };
}

function readJob(job: Exclude<Job, ItemsJob>, framing: Framing): { bytes: Uint8Array; placement: ChunkPlacement } {
  switch (job.kind) {
    case 'file': return readFileChunk(job, framing);
    case 'bgzf': return readBgzfChunk(job, framing);
    case 'bytes': return { bytes: job.bytes, placement: { bytes: job.bytes.length, offset: -1, blockBytes: 0 } };
  }
}

function stopped(): boolean {
  return state !== null && Atomics.load(state, WorkerState.STOP) !== 0;
}

/** Counts this worker busy while `work` runs (the pool waits for none to be busy before the process exits). */
async function busy(work: () => Promise<void>): Promise<void> {
  if (state) Atomics.add(state, WorkerState.BUSY, 1);
  try {
    await work();
  } finally {
    if (state) {
      Atomics.sub(state, WorkerState.BUSY, 1);
      Atomics.notify(state, WorkerState.BUSY);
    }
  }
}

/**
 * A batch of items, one processItem call each. The stop check between items is what lets the
 * pool close without terminating a thread inside native code: a worker terminated while
 * tree-sitter parsed aborted the whole process (SIGABRT, `Napi::Error`, issue 16).
 */
async function runItems(t: FormatTask<unknown, unknown>, job: ItemsJob): Promise<{ result: ChunkResult<unknown[]>; placement: ChunkPlacement }> {
  if (!t.processItem) throw new Error('the task has no processItem: it does not take many inputs');
  const payload: unknown[] = [];
  const errors: RecordError[] = [];
  const transfer: ArrayBuffer[] = [];
  for (const item of job.items) {
    if (stopped()) throw new InterruptedError('stopped');
    const r = await t.processItem(item as never, options);
    payload.push(r.value);
    if (r.errors) errors.push(...r.errors);
    if (r.transfer) transfer.push(...r.transfer);
  }
  await t.afterBatch?.(options);
  return { result: { payload, transfer, records: job.items.length, lines: 0, errors }, placement: { bytes: job.bytes, offset: 0, blockBytes: 0 } };
}

async function runJob(job: Job): Promise<void> {
  try {
    if (!task) throw new Error('job before init');
    if (stopped()) throw new InterruptedError('stopped');
    if (job.kind === 'items') {
      const { result, placement } = await runItems(task, job);
      post({ type: 'result', id: job.id, result, placement }, result.transfer);
      return;
    }
    const { bytes, placement } = readJob(job, task.framing);
    const ctx: ChunkContext = { index: job.index, input: job.input, inputIndex: job.inputIndex, offset: job.kind === 'file' ? placement.offset : -1 };
    const result = await task.processChunk(bytes, ctx, options);
    post({ type: 'result', id: job.id, result, placement }, result.transfer);
  } catch (err) {
    post({ type: 'failed', id: job.id, error: toErrorShape(err) });
  }
}

async function runCall(call: { id: number; name: string; arg: unknown }): Promise<void> {
  try {
    const fn = task?.calls?.[call.name];
    if (!fn) throw new Error(`task has no call named ${call.name}`);
    const { value, transfer } = await fn(call.arg as never, options);
    post({ type: 'called', id: call.id, value }, transfer);
  } catch (err) {
    post({ type: 'failed', id: call.id, error: toErrorShape(err) });
  }
}

async function init(taskModule: string, opts: unknown): Promise<void> {
  nameThisThread('worker');
  const mod = (await import(taskModule)) as { default: FormatTask<unknown, unknown> };
  task = mod.default;
  options = opts;
  await task.init?.(opts);
  post({ type: 'ready' });
}

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'init') {
    state = new Int32Array(msg.state);
    queue = queue.then(() => busy(() => init(msg.taskModule, msg.options))).catch((err: unknown) => post({ type: 'failed', id: -1, error: toErrorShape(err) }));
  } else if (msg.type === 'call') queue = queue.then(() => busy(() => runCall(msg.call)));
  else queue = queue.then(() => busy(() => runJob(msg.job)));
});
port.on('close', closeAllFiles);
