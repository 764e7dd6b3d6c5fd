/**
 * Index rows sorted by id for index.db (a worker side call). A row bucket (ids with one first
 * byte) is sorted in one or more calls, each taking the ids whose next two bytes fall in
 * [lo, hi): the main thread chooses the ranges so one call's rows fit its memory budget.
 *
 * Sort: a 64-bit key per row — id bytes 1..4, byte 5, and the row's index in the low 24 bits —
 * sorted by BigUint64Array's native numeric sort, written through a Uint32Array view so no BigInt is
 * ever made. Rows whose 40-bit prefixes tie (rare: ~1 pair per 10^5 rows at 16M rows) and copies of
 * one id are then put in order by their full ids, and copies dropped.
 */
import { forEachSpilledRecord, type SpillPiece } from '../../engine/partition-spill.js';
import { ROW_BYTES, rowEnd } from './spill-records.js';

export interface SortRowsArg { pieces: SpillPiece[]; lo: number; hi: number }
export interface SortedRows { rows: Uint8Array; count: number }

/** The most rows one call may sort (the index field of the sort key has 24 bits). */
export const MAX_ROWS_PER_SORT = 1 << 24;

export function sortRows(a: SortRowsArg, expected: number): SortedRows {
  let rows = new Uint8Array(Math.max(1, expected) * ROW_BYTES);
  let n = 0;
  forEachSpilledRecord(a.pieces, rowEnd, (buf, start) => {
    const sub = (buf[start + 1]! << 8) | buf[start + 2]!;
    if (sub < a.lo || sub >= a.hi) return;
    if ((n + 1) * ROW_BYTES > rows.length) {
      const bigger = new Uint8Array(rows.length * 2);
      bigger.set(rows);
      rows = bigger;
    }
    rows.set(buf.subarray(start, start + ROW_BYTES), n * ROW_BYTES);
    n++;
  });
  if (n > MAX_ROWS_PER_SORT) throw new Error(`index row sort of ${n} rows exceeds ${MAX_ROWS_PER_SORT}`);
  const keys = new BigUint64Array(n);
  const words = new Uint32Array(keys.buffer);
  for (let i = 0; i < n; i++) {
    const p = i * ROW_BYTES;
    words[2 * i + 1] = ((rows[p + 1]! << 24) | (rows[p + 2]! << 16) | (rows[p + 3]! << 8) | rows[p + 4]!) >>> 0;
    words[2 * i] = ((rows[p + 5]! << 24) | i) >>> 0;
  }
  keys.sort();
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = words[2 * i]! & 0xffffff;
  fixTies(rows, words, order);
  const out = new Uint8Array(n * ROW_BYTES);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const p = order[i]! * ROW_BYTES;
    if (m > 0 && sameId(out, (m - 1) * ROW_BYTES, rows, p)) continue;
    out.set(rows.subarray(p, p + ROW_BYTES), m * ROW_BYTES);
    m++;
  }
  return { rows: out.slice(0, m * ROW_BYTES), count: m };
}

/** Runs of equal 40-bit prefixes, ordered by the full id (insertion sort: runs are tiny). */
function fixTies(rows: Uint8Array, words: Uint32Array, order: Uint32Array): void {
  const n = order.length;
  for (let i = 0; i < n;) {
    let j = i + 1;
    while (j < n && words[2 * j + 1] === words[2 * i + 1] && (words[2 * j]! >>> 24) === (words[2 * i]! >>> 24)) j++;
    for (let a = i + 1; a < j; a++) {
      const v = order[a]!;
      let b = a - 1;
      while (b >= i && compareIds(rows, order[b]! * ROW_BYTES, rows, v * ROW_BYTES) > 0) {
        order[b + 1] = order[b]!;
        b--;
      }
      order[b + 1] = v;
    }
    i = j;
  }
}

function compareIds(a: Uint8Array, pa: number, b: Uint8Array, pb: number): number {
  for (let k = 0; k < 32; k++) {
    const d = a[pa + k]! - b[pb + k]!;
    if (d !== 0) return d;
  }
  return 0;
}

function sameId(a: Uint8Array, pa: number, b: Uint8Array, pb: number): boolean {
  return compareIds(a, pa, b, pb) === 0;
}
