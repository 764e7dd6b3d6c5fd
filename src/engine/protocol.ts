/**
 * The typed message protocol between the main thread and the workers (one place, both sides
 * import it). Bulk data crosses as transferred ArrayBuffers, never as per-record messages.
 */
import type { ChunkResult } from './plugin.js';
import type { ErrorShape } from './errors.js';

interface JobBase {
  /** Job id, unique per run (equals the chunk index). */
  id: number;
  index: number;
  input: string;
  inputIndex: number;
}

/** A byte range [start, end) of a seekable plain file; the worker reads and frames it itself. */
export interface FileJob extends JobBase { kind: 'file'; path: string; start: number; end: number; size: number }

/** A compressed byte range of a seekable BGZF file: blocks starting in [start, end). */
export interface BgzfJob extends JobBase { kind: 'bgzf'; path: string; start: number; end: number; size: number; allowTruncated: boolean }

/** Whole records already cut by the main thread (streams). */
export interface BytesJob extends JobBase { kind: 'bytes'; bytes: Uint8Array }

/**
 * Many inputs (engine mode 3): a batch of items (usually files) that the worker hands to the
 * task's processItem one by one, checking between them whether the run was stopped.
 */
export interface ItemsJob extends JobBase { kind: 'items'; items: unknown[]; bytes: number }

/** Side work: a named function of the task module (see FormatTask.calls). */
export interface CallJob { kind: 'call'; id: number; name: string; arg: unknown; transfer: ArrayBuffer[] }

export type Job = FileJob | BgzfJob | BytesJob | ItemsJob;

/**
 * The pool's shared Int32s. STOP: set to 1 when the pool closes (queued jobs are refused, a batch of
 * items stops between two). BUSY: workers inside a job, a call or their start-up, so that the
 * process can wait for them to leave native code before it exits.
 */
export const WorkerState = { STOP: 0, BUSY: 1, LENGTH: 2 } as const;

export type ToWorker =
  /** `state`: Int32s shared by the pool and its workers, indexed by WorkerState. */
  | { type: 'init'; taskModule: string; options: unknown; state: SharedArrayBuffer }
  | { type: 'job'; job: Job }
  | { type: 'call'; call: Omit<CallJob, 'transfer' | 'kind'> };

/** Where the chunk's first byte sits: absolute for plain files, relative to its first block for BGZF. */
export interface ChunkPlacement {
  /** Decompressed bytes handed to processChunk. */
  bytes: number;
  /** Absolute offset (file) or offset from the first byte of the chunk's own blocks (bgzf); -1 for streams. */
  offset: number;
  /** BGZF only: decompressed bytes of the blocks that start in the job's range. */
  blockBytes: number;
  /** BGZF only: set when the file ended inside a block and allowTruncated kept what came before. */
  truncatedAt?: number;
}

export type FromWorker =
  | { type: 'ready' }
  | { type: 'result'; id: number; result: ChunkResult<unknown>; placement: ChunkPlacement }
  | { type: 'called'; id: number; value: unknown }
  | { type: 'failed'; id: number; error: ErrorShape };
