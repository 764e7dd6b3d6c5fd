/**
 * Main-thread side of `bam convert`: queues the columns that workers return and cuts them into
 * record batches of exactly `batchSize` rows, whatever the chunk sizes were, so the output bytes
 * depend only on the input and the options (not on -j or chunking). A batch is a list of row
 * ranges of chunk columns; nothing is copied here (arrow.ts turns the ranges into IPC pieces).
 */
import type { BamColumns, TextColumn } from './decode.js';

/** Rows [from, to) of one chunk's columns. */
export interface RowSpan { cols: BamColumns; from: number; to: number }
/** A span cut by the batcher; `last` when the batcher holds no more rows of those columns. */
export interface RowRange extends RowSpan { last: boolean }

/** Rows in a list of spans. */
export function rowsOf(spans: RowSpan[]): number {
  return spans.reduce((n, r) => n + r.to - r.from, 0);
}

/** Bytes of rows [from, to) of the columns: values of the variable-width columns plus 25 per row. */
export function spanBytes(c: BamColumns, from: number, to: number): number {
  const text = (t: TextColumn | null): number => (t ? t.offsets[to]! - t.offsets[from]! : 0);
  let n = 25 * (to - from) + text(c.qname) + text(c.cigar) + text(c.seq) + text(c.qual);
  if (c.tags) {
    // Tag values are indexed by entry, not by row.
    const e0 = c.tags.entries[from]!;
    const e1 = c.tags.entries[to]!;
    n += c.tags.values.offsets[e1]! - c.tags.values.offsets[e0]! + 2 * (e1 - e0);
  }
  return n;
}

/**
 * Collects chunk columns and releases them in batches of exactly `size` rows (the last may be
 * short), or fewer when the rows would hold more than `maxBytes` of values: a row count alone
 * let 100,000 long reads (50 kb each) make a 10 GB batch, all of it held in memory until written.
 * Where a batch ends still depends only on the data, never on -j or chunking.
 */
export class RowBatcher {
  private ranges: RowSpan[] = [];
  private pending = 0;
  private pendingBytes = 0;
  constructor(private readonly size: number, private readonly maxBytes = 64 << 20) {}

  push(cols: BamColumns, from = 0, to = cols.rows): void {
    if (to <= from) return;
    this.ranges.push({ cols, from, to });
    this.pending += to - from;
    this.pendingBytes += spanBytes(cols, from, to);
  }

  /** Full batches now available. */
  *full(): Generator<RowRange[]> {
    while (this.pending >= this.size || this.pendingBytes >= this.maxBytes) yield this.take(this.rowsForBatch());
  }

  /** What is left at the end of the run, one batch per call (the byte limit may cut it). */
  rest(): RowRange[] | null {
    return this.pending > 0 ? this.take(this.rowsForBatch()) : null;
  }

  /** Rows in the next batch: up to `size`, stopping before the row that would pass `maxBytes` (at least one row). */
  private rowsForBatch(): number {
    let rows = 0;
    let bytes = 0;
    for (const r of this.ranges) {
      const take = Math.min(r.to - r.from, this.size - rows);
      const b = spanBytes(r.cols, r.from, r.from + take);
      if (bytes + b <= this.maxBytes) {
        rows += take;
        bytes += b;
        if (rows === this.size) return rows;
        continue;
      }
      // Binary search for the most rows of this span that still fit.
      let lo = 0;
      let hi = take;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (bytes + spanBytes(r.cols, r.from, r.from + mid) <= this.maxBytes) lo = mid;
        else hi = mid - 1;
      }
      return Math.max(1, rows + lo);
    }
    return rows;
  }

  private take(n: number): RowRange[] {
    const out: RowRange[] = [];
    let need = n;
    while (need > 0) {
      const head = this.ranges[0]!;
      const rows = head.to - head.from;
      this.pendingBytes -= spanBytes(head.cols, head.from, head.from + Math.min(rows, need));
      if (rows <= need) {
        out.push({ ...head, last: true });
        this.ranges.shift();
        need -= rows;
      } else {
        out.push({ cols: head.cols, from: head.from, to: head.from + need, last: false });
        this.ranges[0] = { cols: head.cols, from: head.from + need, to: head.to };
        need = 0;
      }
    }
    this.pending -= n;
    return out;
  }
}
