/**
 * Column building for `fastq convert`, done in the workers: each of id, description, sequence and
 * quality becomes Arrow's Utf8 layout (one byte buffer + Int32 offsets), so the main thread wraps
 * transferred buffers in Arrow Data without touching a byte.
 */
import { F, ID_END, LEN, QUAL, SEQ, TITLE, TITLE_END, type ParsedChunk } from './parse.js';

export interface Utf8Column { data: Uint8Array; offsets: Int32Array }
export interface FastqColumns { count: number; id: Utf8Column; description: Utf8Column; sequence: Utf8Column; quality: Utf8Column }

export const COLUMN_NAMES = ['id', 'description', 'sequence', 'quality'] as const;

/** [start, end) of column `c` of record `r` in the parsed buffer. */
function span(p: ParsedChunk, r: number, c: number): [number, number] {
  const o = r * F;
  const x = p.index;
  switch (c) {
    case 0: return [x[o + TITLE]!, x[o + ID_END]!];
    case 1: return x[o + ID_END]! < x[o + TITLE_END]! ? [x[o + ID_END]! + 1, x[o + TITLE_END]!] : [0, 0];
    case 2: return [x[o + SEQ]!, x[o + SEQ]! + x[o + LEN]!];
    default: return [x[o + QUAL]!, x[o + QUAL]! + x[o + LEN]!];
  }
}

function column(p: ParsedChunk, c: number): Utf8Column {
  const offsets = new Int32Array(p.count + 1);
  let total = 0;
  for (let r = 0; r < p.count; r++) {
    const [s, e] = span(p, r, c);
    total += e - s;
    offsets[r + 1] = total;
  }
  const data = new Uint8Array(total);
  for (let r = 0; r < p.count; r++) {
    const [s, e] = span(p, r, c);
    data.set(p.buf.subarray(s, e), offsets[r]!);
  }
  return { data, offsets };
}

export function columnsOf(p: ParsedChunk): FastqColumns {
  return { count: p.count, id: column(p, 0), description: column(p, 1), sequence: column(p, 2), quality: column(p, 3) };
}

export function columnBuffers(c: FastqColumns): ArrayBuffer[] {
  return COLUMN_NAMES.flatMap((k) => [c[k].data.buffer as ArrayBuffer, c[k].offsets.buffer as ArrayBuffer]);
}
