/**
 * Paired files (R1, R2) into pair order — R1 record k, then R2 record k — as `--interleaved` lays
 * them out, from two engine runs going at once (docs/decisions/0033-fastq-pairs.md). Each run hands
 * its chunks here in order; the chunks of the two files hold different numbers of records, so a
 * piece is cut at every chunk boundary of either file: the cuts, and so the batches written, depend
 * on the chunk grid alone, never on which run was ahead (the same bytes for any -j).
 */
import { COLUMN_NAMES, sameMate, type FastqColumns, type Utf8Column } from './columns.js';

interface Pending { cols: FastqColumns; next: number }

/** A run of whole pairs, ready to write: 2n rows and their mate column (1, 2, 1, 2, …). */
export interface MatePiece { columns: FastqColumns; mate: Uint8Array }

export class MateZip {
  private readonly queues: [Pending[], Pending[]] = [[], []];
  private readonly ended = [false, false];
  private readonly received = [0, 0];
  private pairs = 0;
  private failure: unknown = null;
  private waiters: Array<() => void> = [];

  /** `names`: the two inputs as the messages name them; `fail` throws FASTQ_PAIR_MISMATCH. */
  constructor(private readonly names: [string, string], private readonly fail: (message: string) => never) {}

  /** Side `side`'s next chunk; returns the whole pairs it completes, in order. */
  push(side: 0 | 1, cols: FastqColumns): MatePiece[] {
    this.received[side]! += cols.count;
    if (cols.count > 0) this.queues[side].push({ cols, next: 0 });
    const out: MatePiece[] = [];
    const [a, b] = this.queues;
    while (a.length > 0 && b.length > 0) {
      const x = a[0]!;
      const y = b[0]!;
      const n = Math.min(x.cols.count - x.next, y.cols.count - y.next);
      this.checkNames(x, y, n);
      out.push({ columns: interleave(x.cols, x.next, y.cols, y.next, n), mate: mates(n) });
      this.pairs += n;
      x.next += n;
      y.next += n;
      if (x.next === x.cols.count) a.shift();
      if (y.next === y.cols.count) b.shift();
    }
    this.checkLengths();
    this.wakeAll();
    return out;
  }

  /** Side `side` has no more records; `complete` false when the run stopped early (--limit): no length check. */
  end(side: 0 | 1, complete = true): void {
    this.ended[side] = true;
    if (complete) this.checkLengths();
    this.wakeAll();
  }

  /** Pairs zipped so far. */
  get pairCount(): number {
    return this.pairs;
  }

  /**
   * Resolves when side `side` may take its next chunk: it holds at most one chunk not yet zipped,
   * so a run ahead of the other waits (its engine's window then fills and it stops reading) and
   * memory stays at a few chunks. Both never wait: after a zip one queue is empty.
   */
  async room(side: 0 | 1): Promise<void> {
    while (this.failure === null && this.queues[side].length > 1 && !this.ended[1 - side]) await new Promise<void>((r) => this.waiters.push(r));
    if (this.failure !== null) throw this.failure;
  }

  /** The other run failed: wake a waiting side so that it stops too. */
  cancel(err: unknown): void {
    this.failure ??= err;
    this.wakeAll();
  }

  private wakeAll(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private checkNames(x: Pending, y: Pending, n: number): void {
    for (let k = 0; k < n; k++) {
      if (sameMate(x.cols.id, x.next + k, y.cols.id, y.next + k)) continue;
      const id = (c: Utf8Column, r: number): string => JSON.stringify(Buffer.from(c.data.subarray(c.offsets[r], c.offsets[r + 1])).toString('utf8'));
      this.fail(`record ${this.pairs + k + 1} names ${id(x.cols.id, x.next + k)} in ${this.names[0]} but ${id(y.cols.id, y.next + k)} in ${this.names[1]}; --paired expects the same reads in the same order (a trailing /1, /2 aside)`);
    }
  }

  /** A side that ended while the other still has records: the file that ends first is named. */
  private checkLengths(): void {
    for (const s of [0, 1] as const) {
      const other = (1 - s) as 0 | 1;
      if (!this.ended[s] || this.queues[other].length === 0) continue;
      this.fail(`${this.names[s]} ends after ${this.received[s]!} records but ${this.names[other]} has more (its record ${this.received[s]! + 1} has no mate)`);
    }
  }
}

function mates(n: number): Uint8Array {
  const m = new Uint8Array(2 * n);
  for (let r = 0; r < 2 * n; r += 2) {
    m[r] = 1;
    m[r + 1] = 2;
  }
  return m;
}

/** Rows a[ai..ai+n) and b[bi..bi+n) alternated, as a new set of columns. */
function interleave(a: FastqColumns, ai: number, b: FastqColumns, bi: number, n: number): FastqColumns {
  const out = { count: 2 * n } as FastqColumns;
  for (const name of COLUMN_NAMES) out[name] = interleaveColumn(a[name], ai, b[name], bi, n);
  return out;
}

function interleaveColumn(a: Utf8Column, ai: number, b: Utf8Column, bi: number, n: number): Utf8Column {
  const offsets = new Int32Array(2 * n + 1);
  const data = new Uint8Array(a.offsets[ai + n]! - a.offsets[ai]! + b.offsets[bi + n]! - b.offsets[bi]!);
  let at = 0;
  for (let r = 0; r < n; r++) {
    at = copyRow(a, ai + r, data, at);
    offsets[2 * r + 1] = at;
    at = copyRow(b, bi + r, data, at);
    offsets[2 * r + 2] = at;
  }
  return { data, offsets };
}

function copyRow(c: Utf8Column, r: number, into: Uint8Array, at: number): number {
  const s = c.offsets[r]!;
  const e = c.offsets[r + 1]!;
  into.set(c.data.subarray(s, e), at);
  return at + e - s;
}
