/**
 * ParallelParser: the library API (the TypeScript form of the builder-style parallel FASTQ parser
 * API of the Rust ecosystem). Every method runs the same engine and task module as the CLI.
 *
 * ```ts
 * const parser = ParallelParser.fromFile('reads.fq.gz').withThreads(8);
 * for await (const r of parser.records()) console.log(r.id, r.sequence.length);
 * ```
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Progress } from '../../engine/progress.js';
import type { OrderedChunk } from '../../engine/run-types.js';
import { runFastq } from './pipeline.js';
import { FastqParseError, FastqParseErrors, recordsOf, type FastqRecord } from './record.js';
import { emptyPartial, finalizeStats, mergePartials, type FastqStats } from './stats.js';
import type { FastqPayload, FastqTaskOptions } from './task.js';

export interface ParallelParserConfig {
  /** Worker threads (default: all available cores). */
  threads?: number;
  /** Target chunk size in bytes (default 4 MiB). */
  chunkSize?: number;
  /** Quality offset, 33 (default) or 64. */
  phred?: 33 | 64;
  /** Input is wrapped (multi-line) FASTQ: read it as one chunk without sniffing. */
  wrapped?: boolean;
  /** Keep going past bad records (they are in `parser.errors`) instead of rejecting at the end. */
  skipInvalid?: boolean;
  /** Chunks in flight per worker (default 2). */
  windowPerWorker?: number;
}

export interface ParseProgress {
  /** 0..1 of the input's bytes (null while the total is unknown, e.g. stdin). */
  fraction: number | null;
  bytes: number;
  totalBytes: number | null;
  records: number;
}

/** A worker-side function: a module and an export, `(record) => R` or `{ map(record): R, combine(a, b): R }`. */
export interface WorkerFunction {
  module: string | URL;
  export?: string;
}

type Source = { data: Uint8Array } | { path: string };

export class ParallelParser {
  private config: ParallelParserConfig = {};
  private source: Source;
  /** Bad records met by the last parse, in input order. */
  errors: FastqParseError[] = [];

  /** Parses FASTQ bytes held in memory (plain, gzip or BGZF). */
  constructor(data: Uint8Array) {
    this.source = { data };
  }

  /** Parses a file (plain, gzip or BGZF, detected from its bytes), or stdin with `-`. */
  static fromFile(path: string): ParallelParser {
    const p = new ParallelParser(new Uint8Array(0));
    p.source = { path };
    return p;
  }

  withThreads(threads: number): this {
    this.config = { ...this.config, threads };
    return this;
  }

  withConfig(config: ParallelParserConfig): this {
    this.config = { ...this.config, ...config };
    return this;
  }

  /** All records, in file order. */
  async parseParallel(): Promise<FastqRecord[]> {
    return (await this.parseIntoChunks()).flat();
  }

  /** Records grouped by engine chunk, in order. */
  async parseIntoChunks(): Promise<FastqRecord[][]> {
    const chunks: FastqRecord[][] = [];
    await this.run({ mode: 'records' }, (c) => void chunks.push(recordsOf(asRecords(c.payload))));
    return chunks;
  }

  /**
   * Calls `fn` for every record, in file order, on this thread; resolves to the number of records.
   * A promise returned by `fn` is awaited before the next record (and holds back the parse): a
   * rejection fails the parse, and no callback is still running when it resolves.
   */
  async parseWithCallback(fn: (record: FastqRecord) => void | Promise<void>): Promise<number> {
    let n = 0;
    await this.run({ mode: 'records' }, async (c) => {
      for (const r of recordsOf(asRecords(c.payload))) {
        const pending = fn(r);
        if (pending !== undefined && typeof (pending as Promise<void>).then === 'function') await pending;
        n++;
      }
    });
    return n;
  }

  /**
   * Runs a function on every record *inside the workers* (functions cannot cross threads, so it is
   * named by module and export) and reduces its results on this thread, in file order. With
   * `{ map, combine }` each chunk is combined in its worker and only one value per chunk crosses.
   */
  async parseInWorkers<R, A>(fn: WorkerFunction, reduce: (acc: A, value: R) => A, initial: A): Promise<A> {
    const href = fn.module instanceof URL ? fn.module.href : fn.module.startsWith('file:') ? fn.module : pathToFileURL(fn.module).href;
    let acc = initial;
    await this.run({ mode: 'map', mapModule: href, mapExport: fn.export ?? 'default' }, (c) => {
      if (c.payload.kind !== 'map') return;
      for (const v of c.payload.values) acc = reduce(acc, v as R);
    });
    return acc;
  }

  /** All records, calling `onProgress` after each chunk. */
  async parseWithProgress(onProgress: (p: ParseProgress) => void): Promise<FastqRecord[]> {
    const state: ParseProgress = { fraction: null, bytes: 0, totalBytes: null, records: 0 };
    const progress: Progress = {
      setTotal(total) { state.totalBytes = total; },
      advance(bytes, records) {
        state.bytes += bytes;
        state.records += records;
        state.fraction = state.totalBytes ? Math.min(1, state.bytes / state.totalBytes) : null;
        onProgress({ ...state });
      },
      finish() {},
    };
    const chunks: FastqRecord[][] = [];
    await this.run({ mode: 'records' }, (c) => void chunks.push(recordsOf(asRecords(c.payload))), progress);
    return chunks.flat();
  }

  /** The `seqkit stats -a` numbers of the input, computed in the workers. */
  async stats(name = 'input'): Promise<FastqStats> {
    let partial = emptyPartial();
    await this.run({ mode: 'stats' }, (c) => {
      if (c.payload.kind === 'stats') partial = mergePartials(partial, c.payload.partial);
    });
    return finalizeStats(name, partial);
  }

  /** Records as a channel: memory stays bounded (a few chunks) whatever the input size. */
  records(): AsyncIterable<FastqRecord> {
    return { [Symbol.asyncIterator]: () => this.iterate() };
  }

  private async *iterate(): AsyncGenerator<FastqRecord> {
    const ch = new Channel<FastqRecord[]>();
    const abort = new AbortController();
    const done = this.run({ mode: 'records' }, (c) => ch.put(recordsOf(asRecords(c.payload))), undefined, abort.signal)
      .then(() => ch.close(), (err: unknown) => ch.close(err));
    try {
      for (let batch = await ch.take(); batch; batch = await ch.take()) yield* batch;
    } finally {
      abort.abort('consumer stopped');
      ch.drain();
      await done.catch(() => {});
    }
  }

  private async run(task: FastqTaskOptions, onChunk: (c: OrderedChunk<FastqPayload>) => void | Promise<void>, progress?: Progress, signal?: AbortSignal): Promise<void> {
    const { path, cleanup } = this.inputPath();
    this.errors = [];
    try {
      await runFastq(path, { ...task, phred: this.config.phred ?? 33 }, {
        threads: this.config.threads,
        chunkSize: this.config.chunkSize,
        windowPerWorker: this.config.windowPerWorker,
        wrapped: this.config.wrapped,
        progress,
        signal,
      }, async (c) => {
        for (const e of c.errors) this.errors.push(new FastqParseError(e, c.index));
        await onChunk(c);
      });
    } finally {
      cleanup();
    }
    if (this.errors.length > 0 && !this.config.skipInvalid) throw new FastqParseErrors(this.errors);
  }

  /** The engine reads paths; bytes in memory go through a private temporary file. */
  private inputPath(): { path: string; cleanup: () => void } {
    if ('path' in this.source) return { path: this.source.path, cleanup: () => {} };
    const dir = mkdtempSync(join(tmpdir(), 'threadmill-fastq-'));
    const path = join(dir, 'input');
    writeFileSync(path, this.source.data);
    return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  }
}

function asRecords(p: FastqPayload): Extract<FastqPayload, { kind: 'records' }> {
  if (p.kind !== 'records') throw new Error(`expected records, got ${p.kind}`);
  return p;
}

/** A one-slot channel: the producer waits while a batch is unconsumed (backpressure). */
class Channel<T> {
  private items: T[] = [];
  private closed = false;
  private error: unknown = undefined;
  private wakeTaker: (() => void) | null = null;
  private wakePutter: (() => void) | null = null;

  async put(item: T): Promise<void> {
    this.items.push(item);
    this.wake('taker');
    while (this.items.length > 1 && !this.closed) await new Promise<void>((r) => { this.wakePutter = r; });
  }

  async take(): Promise<T | undefined> {
    while (this.items.length === 0 && !this.closed) await new Promise<void>((r) => { this.wakeTaker = r; });
    if (this.items.length > 0) {
      const item = this.items.shift();
      this.wake('putter');
      return item;
    }
    if (this.error !== undefined) throw this.error;
    return undefined;
  }

  close(err?: unknown): void {
    this.closed = true;
    this.error = err;
    this.wake('taker');
    this.wake('putter');
  }

  drain(): void {
    this.items = [];
    this.closed = true;
    this.wake('putter');
  }

  private wake(who: 'taker' | 'putter'): void {
    const w = who === 'taker' ? this.wakeTaker : this.wakePutter;
    if (who === 'taker') this.wakeTaker = null;
    else this.wakePutter = null;
    w?.();
  }
}
