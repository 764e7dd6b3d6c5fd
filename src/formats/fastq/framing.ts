/**
 * FASTQ framing: where records start.
 *
 * A line that begins with `@` is not enough — a quality line may begin with `@` too. A position is
 * accepted as a record start only when the four lines from it form a complete record:
 *
 *   `@title` / sequence / `+` or `+title` (the same title) / quality of the sequence's length,
 *   followed by another `@` line, a blank line or the end of the input.
 *
 * For 4-line FASTQ this cannot accept a quality line: from a quality line, the third line would be
 * the next record's *sequence*, which never begins with `+`. The answer depends only on the bytes
 * from `from - 1` on (never on where `buf` happens to begin), so two workers looking at the same
 * boundary from different buffers always agree.
 *
 * Wrapped (multi-line) FASTQ defeats any local check (a wrapped quality may contain four lines that
 * look like a record); the pipeline detects it and falls back to one chunk per input — see
 * docs/decisions/0005-fastq-framing.md.
 */
import type { Framing } from '../../engine/plugin.js';

export const NL = 0x0a;
export const CR = 0x0d;
export const AT = 0x40;
export const PLUS = 0x2b;

/** Length of line [start, end) without a trailing CR. */
function contentEnd(buf: Uint8Array, start: number, end: number): number {
  return end > start && buf[end - 1] === CR ? end - 1 : end;
}

/** Yes (1), no (0), or "need bytes past the end of buf" (-1). */
type Verdict = 1 | 0 | -1;

/** The `+` line [s3, e3) is `+` alone or `+` followed by the title of line [s1, e1) (both without `@`/`+`). */
function plusMatches(buf: Uint8Array, s1: number, e1: number, s3: number, e3: number): boolean {
  const titleLen = e1 - (s1 + 1);
  const plusLen = e3 - (s3 + 1);
  if (plusLen === 0) return true;
  if (plusLen !== titleLen) return false;
  for (let i = 1; i <= titleLen; i++) if (buf[s1 + i] !== buf[s3 + i]) return false;
  return true;
}

/**
 * Is there a complete 4-line record at line start `p` (where `buf[p] === '@'`)? When the input ends
 * inside the candidate it is not a record start (the previous chunk then owns and reports the
 * truncated bytes), so `eof` never yields -1.
 */
export function fourLineRecordAt(buf: Uint8Array, p: number, eof: boolean, checkNext = true): Verdict {
  const n = buf.length;
  const more: Verdict = eof ? 0 : -1;
  const e1 = buf.indexOf(NL, p);
  if (e1 < 0) return more;
  const s2 = e1 + 1;
  const e2 = buf.indexOf(NL, s2);
  if (e2 < 0) return more;
  const s3 = e2 + 1;
  if (s3 >= n) return more;
  if (buf[s3] !== PLUS) return 0;
  const e3 = buf.indexOf(NL, s3);
  if (e3 < 0) return more;
  if (!plusMatches(buf, p, contentEnd(buf, p, e1), s3, contentEnd(buf, s3, e3))) return 0;
  const s4 = e3 + 1;
  let e4 = buf.indexOf(NL, s4);
  if (e4 < 0) {
    if (!eof) return -1;
    e4 = n;
  }
  const seqLen = contentEnd(buf, s2, e2) - s2;
  if (contentEnd(buf, s4, e4) - s4 !== seqLen) return 0;
  const s5 = e4 + 1;
  if (!checkNext) return 1;
  if (s5 >= n) return eof ? 1 : -1;
  // The next line must start a record, or be blank (Biopython and htslib skip blank lines).
  const c = buf[s5];
  return c === AT || c === NL || c === CR ? 1 : 0;
}

/** First line start at or after `from` (`from` itself when the byte before it is a newline). */
function lineStartAtOrAfter(buf: Uint8Array, from: number): number {
  if (from === 0 || buf[from - 1] === NL) return from;
  const nl = buf.indexOf(NL, from);
  return nl < 0 ? -1 : nl + 1;
}

/** First verified record start at or after `from`; see {@link fastqFraming}. */
export function findRecordStart(buf: Uint8Array, from: number, eof: boolean, checkNext = true): number {
  let p = lineStartAtOrAfter(buf, from);
  while (p >= 0 && p < buf.length) {
    if (buf[p] === AT) {
      const v = fourLineRecordAt(buf, p, eof, checkNext);
      if (v === 1) return p;
      if (v === -1) return -1;
    }
    const nl = buf.indexOf(NL, p);
    p = nl < 0 ? -1 : nl + 1;
  }
  if (p === buf.length) return eof ? p : -1;
  return eof ? buf.length : -1;
}

/**
 * No line in [from, to) begins with `@`, so no record starts there. A worker whose range lies inside
 * a read longer than the range (no newline at all) learns it from its own bytes and returns an empty
 * chunk, instead of reading to the end of the read as the worker that owns it does.
 */
export function noAtLineIn(buf: Uint8Array, from: number, to: number): boolean {
  const b = buf.subarray(0, to);
  let p = from;
  if (from > 0 && b[from - 1] !== NL) {
    const nl = b.indexOf(NL, from);
    if (nl < 0) return true;
    p = nl + 1;
  }
  while (p < to) {
    if (b[p] === AT) return false;
    const nl = b.indexOf(NL, p);
    if (nl < 0) return true;
    p = nl + 1;
  }
  return true;
}

/** The Framing of the FASTQ task (see the module comment). */
export const fastqFraming: Framing = {
  recordStart(buf, from, eof) {
    return from === 0 ? 0 : findRecordStart(buf, from, eof);
  },
  noRecordStartIn: noAtLineIn,
};
