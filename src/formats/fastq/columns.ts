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

/** The id without a trailing `/1` or `/2` (the old Illumina mate suffix), as [start, end) in `data`. */
function pairName(id: Utf8Column, r: number): [number, number] {
  const s = id.offsets[r]!;
  let e = id.offsets[r + 1]!;
  if (e - s >= 2 && id.data[e - 2] === 0x2f && (id.data[e - 1] === 0x31 || id.data[e - 1] === 0x32)) e -= 2;
  return [s, e];
}

/** Do records a and b (of the same or two chunks' id columns) name one pair? */
export function sameMate(a: Utf8Column, i: number, b: Utf8Column, j: number): boolean {
  const [s1, e1] = pairName(a, i);
  const [s2, e2] = pairName(b, j);
  if (e1 - s1 !== e2 - s2) return false;
  for (let k = 0; k < e1 - s1; k++) if (a.data[s1 + k] !== b.data[s2 + k]) return false;
  return true;
}

/**
 * For interleaved input, run in the worker (the chunk's parity is not known there): the first
 * record r ≥ start, r ≡ start (mod 2), whose next record has another name, for start 0 and 1
 * (-1 when none), so the main thread checks a chunk's pairs without touching its records.
 */
export function firstPairMismatch(c: FastqColumns): [number, number] {
  const at = (start: number): number => {
    for (let r = start; r + 1 < c.count; r += 2) if (!sameMate(c.id, r, c.id, r + 1)) return r;
    return -1;
  };
  return [at(0), at(1)];
}
