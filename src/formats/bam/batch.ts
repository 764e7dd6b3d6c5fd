/**
 * Main-thread side of `bam convert`: queues the columns that workers return and cuts them into
 * record batches of exactly `batchSize` rows, whatever the chunk sizes were, so the output bytes
 * depend only on the input and the options (not on -j or chunking). A batch is a list of row
 * ranges of chunk columns; nothing is copied here (arrow.ts turns the ranges into IPC pieces).
 */
import type { BamColumns } from './decode.js';

/** Rows [from, to) of one chunk's columns. */
export interface RowSpan { cols: BamColumns; from: number; to: number }
/** A span cut by the batcher; `last` when the batcher holds no more rows of those columns. */
export interface RowRange extends RowSpan { last: boolean }

/** Collects chunk columns and releases them in batches of exactly `size` rows (the last may be short). */
export class RowBatcher {
  private ranges: RowSpan[] = [];
  private pending = 0;
  constructor(private readonly size: number) {}

  push(cols: BamColumns, from = 0, to = cols.rows): void {
    if (to <= from) return;
    this.ranges.push({ cols, from, to });
    this.pending += to - from;
  }

  /** Full batches now available. */
  *full(): Generator<RowRange[]> {
    while (this.pending >= this.size) yield this.take(this.size);
  }

  /** Whatever is left (at the end of the run). */
  rest(): RowRange[] | null {
    return this.pending > 0 ? this.take(this.pending) : null;
  }

  private take(n: number): RowRange[] {
    const out: RowRange[] = [];
    let need = n;
    while (need > 0) {
      const head = this.ranges[0]!;
      const rows = head.to - head.from;
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
