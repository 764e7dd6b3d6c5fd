/**
 * The ordered collector: results arrive in any order, are released in chunk order, and get their
 * chunk-relative lines, records and offsets made absolute per input. Output therefore never
 * depends on thread timing or on -j.
 */
import type { JobOutcome } from './pool.js';
import type { OrderedChunk, LocatedError } from './run-types.js';
import type { Job } from './protocol.js';

interface InputPosition { lines: number; records: number; bytes: number; blockBytes: number }

export class OrderedCollector<P> {
  private readonly waiting = new Map<number, { job: Job; outcome: JobOutcome }>();
  private readonly positions = new Map<number, InputPosition>();
  private next: number;
  private delivering = false;

  /** `first`: the index of the first chunk (a shard's chunks keep their numbers in the unsharded plan). */
  constructor(private readonly deliver: (chunk: OrderedChunk<P>, job: Job) => Promise<void>, first = 0) {
    this.next = first;
  }

  /** Index past the last chunk released (chunks released so far, counted from `first`). */
  get released(): number {
    return this.next;
  }

  add(job: Job, outcome: JobOutcome): Promise<void> {
    this.waiting.set(job.index, { job, outcome });
    if (this.delivering) return Promise.resolve();
    this.delivering = true;
    this.delivery = this.drain().finally(() => { this.delivering = false; });
    return this.delivery;
  }

  /** Resolves once no result is being delivered (a failed run waits for it before closing its sink). */
  idle(): Promise<void> {
    return this.delivery.catch(() => undefined);
  }

  private delivery: Promise<void> = Promise.resolve();

  private async drain(): Promise<void> {
    for (let item = this.waiting.get(this.next); item; item = this.waiting.get(this.next)) {
      this.waiting.delete(this.next);
      await this.deliver(this.place(item.job, item.outcome), item.job);
      this.next++;
    }
  }

  private place(job: Job, { result, placement }: JobOutcome): OrderedChunk<P> {
    let pos = this.positions.get(job.inputIndex);
    if (!pos) {
      pos = { lines: 0, records: 0, bytes: 0, blockBytes: 0 };
      this.positions.set(job.inputIndex, pos);
    }
    const offset = job.kind === 'file' ? placement.offset : job.kind === 'bgzf' ? pos.blockBytes + placement.offset : job.kind === 'items' ? 0 : pos.bytes;
    // Many inputs: an error names its own item and is placed in it already.
    const errors: LocatedError[] = result.errors.map((e) => e.input !== undefined ? { ...e, input: e.input } : ({
      ...e,
      input: job.input,
      offset: offset + e.offset,
      ...(e.line !== undefined ? { line: pos.lines + e.line } : {}),
      ...(e.record !== undefined ? { record: pos.records + e.record } : {}),
    }));
    const chunk: OrderedChunk<P> = {
      index: job.index, inputIndex: job.inputIndex, input: job.input, payload: result.payload as P,
      records: result.records, lines: result.lines, bytes: placement.bytes, offset, errors,
      ...(placement.truncatedAt !== undefined ? { truncatedAt: placement.truncatedAt } : {}),
    };
    pos.lines += result.lines;
    pos.records += result.records;
    pos.bytes = offset + placement.bytes;
    pos.blockBytes += placement.blockBytes;
    return chunk;
  }
}
