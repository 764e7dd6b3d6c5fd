/** Types of the main-thread API of the engine (`runChunks` in ./run.ts). */
import type { RecordError } from './plugin.js';

/** A record error made absolute by the collector: names the input, line/record and byte offset. */
export interface LocatedError extends RecordError {
  input: string;
  /** Absolute byte offset in the input's (decompressed) data. */
  offset: number;
  /** Absolute 1-based line (line formats). */
  line?: number;
  /** Absolute 1-based record number within the input. */
  record?: number;
}

/** One chunk's result, delivered in input order. */
export interface OrderedChunk<P> {
  index: number;
  inputIndex: number;
  input: string;
  payload: P;
  records: number;
  lines: number;
  /** Bytes of (decompressed) input the chunk covered. */
  bytes: number;
  /** Absolute byte offset of the chunk's first byte in the input's (decompressed) data. */
  offset: number;
  errors: LocatedError[];
  /** BGZF with allowTruncated: the compressed offset of the cut block this chunk stopped at. */
  truncatedAt?: number;
}

export interface RunOptions<O, P> {
  /** Paths, or `-` for stdin. Gzip and BGZF are detected from the bytes, not the name. */
  inputs: readonly string[];
  /** URL of the format's task module (its default export is a FormatTask<O, P>). */
  taskModule: URL;
  taskOptions: O;
  /** Worker threads; default all available cores, fewer for small inputs. */
  threads?: number;
  /** Target chunk size in bytes (default 4 MiB). */
  chunkSize?: number;
  /** Chunks in flight per worker (default 2): bounds memory whatever the input size. */
  windowPerWorker?: number;
  /** Called once per chunk in input order; the next chunk waits for its promise. */
  onChunk(chunk: OrderedChunk<P>, engine: EngineHandle): void | Promise<void>;
  /** Called after the last chunk, before the workers stop (flush work that needs `engine.call`). */
  onEnd?(engine: EngineHandle): void | Promise<void>;
  /** Progress sink (see progress.ts); optional. */
  progress?: import('./progress.js').Progress;
  /** Stops reading new chunks (e.g. --limit reached); in-flight chunks are still delivered. */
  shouldStop?(): boolean;
  /** Aborts the run: pending work is dropped and runChunks rejects with an AbortError. */
  signal?: AbortSignal;
}

/** What onChunk/onEnd may ask of the running engine. */
export interface EngineHandle {
  /** Runs a named side call (FormatTask.calls) on the worker pool. */
  call<T>(name: string, arg: unknown, transfer?: ArrayBuffer[]): Promise<T>;
  /** Workers the run may use. */
  readonly threads: number;
}

export interface RunStats {
  chunks: number;
  records: number;
  bytes: number;
  errors: number;
  threads: number;
  seconds: number;
  /** With `shard`: what the run covered of each input (for the part's manifest). */
  share?: import('./share-plan.js').ShareCoverage[];
}
