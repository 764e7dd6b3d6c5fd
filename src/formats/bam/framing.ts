/**
 * Where BAM records start, in decompressed bytes. The engine cuts a BGZF file into compressed
 * ranges; each worker finds the first record at or after its cut with this framing, and the
 * worker before it stops at the same place, so every record is decoded exactly once.
 *
 * There is no sync marker in BAM, so a start is recognised by content: a candidate offset must
 * hold a record that passes strong checks, followed by RECORD_CHAIN - 1 more (or the end of the
 * data). The answer depends only on the bytes at and after the candidate, never on how many are
 * buffered: missing bytes give -1 ("read more"), not a guess.
 */
import type { Framing } from '../../engine/plugin.js';
import { BamError } from './errors.js';
import { headerLength } from './header.js';

/**
 * Largest record accepted as a chain candidate. A 4 Mbp read with qualities is ~6 MiB; 64 MiB
 * leaves room and keeps header text (whose 4th byte is >= 0x09 and so reads as >= 150 MiB) and
 * random bytes from forcing a long read-ahead before they are rejected.
 */
export const MAX_RECORD = 64 << 20;
/** Records checked from a candidate before it is believed. */
const RECORD_CHAIN = 3;
/** Fixed part of a record after block_size. */
export const FIXED = 32;

const VALID = 1;
const INVALID = 0;
const MORE = -1;

/** Size in bytes of a B-array element / fixed-size aux value, 0 for an unknown type letter. */
export function auxSize(type: number): number {
  switch (type) {
    case 0x41: case 0x63: case 0x43: return 1; // A c C
    case 0x73: case 0x53: return 2; // s S
    case 0x69: case 0x49: case 0x66: return 4; // i I f
    default: return 0;
  }
}

function isTagChar(c: number, first: boolean): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (!first && c >= 0x30 && c <= 0x39);
}

/** Whether the aux fields in buf[p, end) parse exactly to `end`. */
export function auxParses(buf: Uint8Array, dv: DataView, p: number, end: number): boolean {
  while (p < end) {
    if (p + 3 > end || !isTagChar(buf[p]!, true) || !isTagChar(buf[p + 1]!, false)) return false;
    const type = buf[p + 2]!;
    p += 3;
    if (type === 0x5a || type === 0x48) { // Z H: NUL-terminated
      const nul = buf.indexOf(0, p);
      if (nul < 0 || nul >= end) return false;
      p = nul + 1;
    } else if (type === 0x42) { // B: subtype, count, values
      if (p + 5 > end) return false;
      const size = auxSize(buf[p]!);
      const count = dv.getUint32(p + 1, true);
      if (size === 0 || buf[p] === 0x41) return false;
      p += 5 + size * count;
    } else {
      const size = auxSize(type);
      if (size === 0) return false;
      p += size;
    }
  }
  return p === end;
}

/**
 * Checks the record at `p`: its total length (4 + block_size) when it is plausible, 0 when it is
 * not, -1 when bytes past the buffer are needed to decide.
 */
export function checkRecord(buf: Uint8Array, dv: DataView, p: number): number {
  const n = buf.length;
  if (p + 4 + FIXED > n) return MORE;
  const bs = dv.getUint32(p, true);
  if (bs < FIXED + 1 || bs > MAX_RECORD) return INVALID;
  const r = p + 4;
  if (dv.getInt32(r, true) < -1 || dv.getInt32(r + 4, true) < -1) return INVALID;
  if (dv.getInt32(r + 20, true) < -1 || dv.getInt32(r + 24, true) < -1) return INVALID;
  const lName = buf[r + 8]!;
  const nCigar = dv.getUint16(r + 12, true);
  const lSeq = dv.getInt32(r + 16, true);
  if (lName < 1 || lSeq < 0) return INVALID;
  const qualAt = r + FIXED + lName + 4 * nCigar + ((lSeq + 1) >> 1);
  if (qualAt + lSeq > r + bs) return INVALID;
  const name = r + FIXED;
  if (name + lName > n) return MORE;
  for (let i = 0; i < lName - 1; i++) {
    const c = buf[name + i]!;
    if (c < 0x21 || c > 0x7e) return INVALID;
  }
  if (buf[name + lName - 1] !== 0) return INVALID;
  if (r + bs > n) return MORE;
  for (let i = 0, c = name + lName; i < nCigar; i++, c += 4) if ((buf[c]! & 0xf) > 8) return INVALID;
  // Phred scores are 0..93 (SAM prints them as '!'..'~'); 0xFF first means "no qualities".
  if (lSeq > 0 && buf[qualAt] !== 0xff) {
    for (let i = 0; i < lSeq; i++) if (buf[qualAt + i]! > 93) return INVALID;
  }
  return auxParses(buf, dv, qualAt + lSeq, r + bs) ? 4 + bs : INVALID;
}

/**
 * Length of the record at a known record start `p` (for resyncBgzf's sequential walk): 0 when
 * its block_size is impossible, -1 when the record is not all in `buf`.
 */
export function recordLength(buf: Uint8Array, p: number): number {
  if (p + 4 > buf.length) return -1;
  const bs = (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
  if (bs < FIXED || bs > MAX_RECORD) return 0;
  return p + 4 + bs > buf.length ? -1 : 4 + bs;
}

/** 1 when RECORD_CHAIN records (or all up to eof) start at `p`, 0 when not, -1 when unknown. */
function chainAt(buf: Uint8Array, dv: DataView, p: number, eof: boolean): number {
  for (let i = 0; i < RECORD_CHAIN; i++) {
    if (p === buf.length && eof && i > 0) return VALID;
    const len = checkRecord(buf, dv, p);
    if (len === INVALID) return INVALID;
    if (len === MORE) return eof ? INVALID : MORE;
    p += len;
  }
  return VALID;
}

export const bamFraming: Framing = {
  recordStart(buf, from, eof) {
    if (from === 0) {
      // Chunk 0 keeps the header: the worker that gets it parses it, so stdin works like a file.
      if (headerLength(buf) >= 0) return 0;
      if (eof) throw new BamError('BAM_BAD_HEADER', 'BAM header is cut short (file truncated?)');
      return -1;
    }
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    for (let p = from; p < buf.length; p++) {
      const v = chainAt(buf, dv, p, eof);
      if (v === VALID) return p;
      if (v === MORE) return -1;
    }
    return eof ? buf.length : -1;
  },
  /**
   * True when no offset in [from, to) holds even one plausible record (bytes past `to` in `buf`
   * are used to decide the last candidates). A worker whose range lies inside one record longer
   * than the range proves it from its own bytes and yields an empty chunk, instead of scanning to
   * the end of that record (which every such worker did: quadratic in the record's length).
   */
  recordEnd(buf, start, atInputStart) {
    if (!atInputStart) {
      const len = recordLength(buf, start);
      return len <= 0 ? len : start + len;
    }
    const h = headerLength(buf);
    return h > 0 ? h : -1;
  },
  noRecordStartIn(buf, from, to) {
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    for (let p = from; p < to; p++) if (checkRecord(buf, dv, p) !== INVALID) return false;
    return true;
  },
};
