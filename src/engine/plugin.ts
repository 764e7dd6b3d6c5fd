/**
 * The contract between the engine and a format plug-in.
 *
 * A format ships one *task module* whose default export is a {@link FormatTask}. The engine loads
 * it inside every worker (by URL) and, for streams, on the main thread for framing only. The
 * engine never looks inside records: it only asks the framing where records start and hands the
 * task whole records.
 */

/** Where records start. Pure; runs in workers, and on the main thread to cut stream blocks. */
export interface Framing {
  /**
   * The first record start at or after `from` in `buf`.
   *
   * `from === 0` means `buf[0]` is the first byte of the input, which is always a record start
   * (or the header, for formats that have one). When `from > 0` the engine guarantees that
   * `buf[from - 1]` is the byte before `from` in the input (one byte of look-behind).
   *
   * Returns -1 when the answer depends on bytes past the end of `buf` and `eof` is false (the
   * engine then reads more and asks again). When `eof` is true and no record starts at or after
   * `from`, returns `buf.length`.
   */
  recordStart(buf: Uint8Array, from: number, eof: boolean): number;
  /**
   * Optional: true only when no record can start in [from, to) of `buf` (`to <= buf.length`, one
   * byte of look-behind as for recordStart), judged from these bytes alone. A worker whose range
   * lies inside one huge record then stops at its range's end instead of reading to the record's
   * end: without it every such worker reads the rest of the record, which is quadratic in its size
   * (issue 8: a 300 Mbp FASTQ read was killed at 120 s). Must never say true wrongly.
   */
  noRecordStartIn?(buf: Uint8Array, from: number, to: number): boolean;
  /**
   * Optional, for formats whose records carry their own length (BAM): where the record that starts
   * at the known record start `start` ends, i.e. the next record start; -1 when it runs past the end
   * of `buf`, 0 when its length is impossible. `atInputStart` says `start` is the input's first byte
   * (the header, for formats that have one). A stream is then cut where a sequential reader walking
   * from the input's start arrives, never at bytes inside a record that merely look like records.
   */
  recordEnd?(buf: Uint8Array, start: number, atInputStart: boolean): number;
}

/** Where a chunk's bytes sit. Offsets, lines and records in results are relative to the chunk. */
export interface ChunkContext {
  /** Chunk number, 0-based, global over all inputs in input order. */
  readonly index: number;
  /** The input's display name (a path, or `-`). */
  readonly input: string;
  /** Position of the input in the run's input list. */
  readonly inputIndex: number;
  /**
   * Byte offset of the chunk's first byte in the input's (decompressed) data, when the worker
   * knows it (seekable plain files); -1 otherwise. Informational: error offsets are relative.
   */
  readonly offset: number;
}

/** A record that could not be used. Never stops the run on its own. */
export interface RecordError {
  /** Stable machine-readable category, e.g. `parse_error`, `invalid_field`. */
  category: string;
  /** One line for a person. */
  reason: string;
  /** Byte offset of the record *relative to the chunk's first byte*; the engine makes it absolute. */
  offset: number;
  /** 1-based line *within the chunk*, for line formats; the engine makes it absolute. */
  line?: number;
  /** 1-based record *within the chunk*; the engine makes it absolute. */
  record?: number;
  /** The raw record text for the rejects file (may be shortened by the format). */
  text?: string;
  /**
   * Many inputs only: the item the error is in (e.g. a file's path). Its offset, line and record
   * are then the item's own, and the engine leaves them as they are.
   */
  input?: string;
}

/** What a worker hands back for one chunk. */
export interface ChunkResult<P> {
  /** Structured-cloneable result. Put bulk data in ArrayBuffers and list them in `transfer`. */
  payload: P;
  /** Buffers inside `payload` to move instead of copy. */
  transfer: ArrayBuffer[];
  /** Records that started in this chunk (valid or not). */
  records: number;
  /** Newline count of the chunk's bytes (0 for binary formats); used to number lines. */
  lines: number;
  /** Bad records met in the chunk, in chunk order. */
  errors: RecordError[];
}

/** A format's worker-side half. */
export interface FormatTask<O, P> {
  framing: Framing;
  /**
   * Optional, on the main thread: shown the first decompressed bytes of each input (up to 64 KiB,
   * fewer for a shorter input; never for an empty one) before any is framed. Throw a ThreadmillError
   * to refuse an input that is not in this format, naming what it looks like instead.
   */
  checkHead?(head: Uint8Array, input: string): void;
  /** Called once per worker before the first chunk (load WASM, build tables, ...). */
  init?(options: O): void | Promise<void>;
  /** Turn exactly the chunk's whole records into a result. Must not depend on chunk size. */
  processChunk(bytes: Uint8Array, ctx: ChunkContext, options: O): ChunkResult<P> | Promise<ChunkResult<P>>;
  /**
   * Side work the main thread may hand to the same workers after records are merged (e.g. compress
   * a deduplicated output segment), so that no heavy work stays on the main thread.
   */
  calls?: Record<string, (arg: never, options: O) => CallResult | Promise<CallResult>>;
  /**
   * Many inputs (many-inputs.ts): one item → its value. The worker runs a batch's items in order
   * and gathers their values into the batch's payload; a stopped run stops between two items.
   */
  processItem?(item: never, options: O): ItemResult | Promise<ItemResult>;
  /** Many inputs: after each batch (e.g. free native memory that its items left behind). */
  afterBatch?(options: O): void | Promise<void>;
}

/** What one item of a many-inputs batch gave. */
export interface ItemResult {
  /** Structured-cloneable; the batch's payload is the array of its items' values. */
  value: unknown;
  /** Buffers inside `value` to move instead of copy. */
  transfer?: ArrayBuffer[];
  /** Bad records found in the item (each with `input` set to the item's name). */
  errors?: RecordError[];
}

/** What a side call returns: a structured-cloneable value and the buffers inside it to move. */
export interface CallResult { value: unknown; transfer: ArrayBuffer[] }

/** Identity helper that fixes the generic types of a task module's default export. */
export function defineTask<O, P>(task: FormatTask<O, P>): FormatTask<O, P> {
  return task;
}

/** Framing for newline-terminated records (JSON lines, logs, CSV without quoted newlines). */
export const lineFraming: Framing = {
  recordStart(buf, from, eof) {
    if (from === 0) return 0;
    if (buf[from - 1] === 0x0a) return from;
    const nl = buf.indexOf(0x0a, from);
    if (nl >= 0) return nl + 1;
    return eof ? buf.length : -1;
  },
};

/**
 * The module `name` (e.g. `./task`) beside the calling module `metaUrl` (its import.meta.url): .js
 * when running from dist/, .ts when running from sources (a loader such as tsx). Workers load a
 * format's task by this URL.
 */
export function moduleBeside(metaUrl: string, name: string): URL {
  return new URL(`${name}${metaUrl.endsWith('.ts') ? '.ts' : '.js'}`, metaUrl);
}
