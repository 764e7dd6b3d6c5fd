/**
 * FASTQ parsing of one chunk: pure, runs in the workers.
 *
 * Why a hand-written loop over bytes: decoding the chunk to a string and splitting it into lines
 * allocates several strings per record (millions per GB) and copies every byte twice; here lines
 * are found with `Uint8Array.indexOf` (a native byte search) and records become 7 integers in an
 * Int32Array, so the only per-byte JS work is the character check (or the base counts, for stats)
 * that validation needs anyway. Records do not become objects until the main thread asks for them.
 *
 * Grammar (Biopython's and htslib's, multi-line aware): `@title`, one or more sequence lines up to a
 * line starting with `+` (optionally repeating the title), then quality lines until the quality is
 * as long as the sequence. Lines may end in CRLF. Blank lines between records are skipped.
 */
import { isUtf8 } from 'node:buffer';
import type { RecordError } from '../../engine/plugin.js';
import { AT, CR, NL, PLUS, findRecordStart } from './framing.js';
import { Counts, countQual, countSeq } from './swar.js';

/** Int32 fields per record in {@link ParsedChunk.index}. */
export const F = 7;
/** Field offsets: record start (`@`), title start, id end, title end, sequence start, quality start, length. */
export const REC = 0, TITLE = 1, ID_END = 2, TITLE_END = 3, SEQ = 4, QUAL = 5, LEN = 6;

export interface ParseOptions {
  /** Quality offset: 33 (Sanger, default) or 64 (Illumina 1.3+/Solexa, which also allows `;`..`?`). */
  phred?: 33 | 64;
  /** Count G/C, gaps and Q20/Q30 bases into `counts` instead of checking characters: for stats. */
  counts?: boolean;
  /** Find where the id ends in the title (default true; stats does not need it). */
  ids?: boolean;
}

export interface ParsedChunk {
  /** Bytes the index points into: the chunk, followed by joined lines of wrapped records if any. */
  buf: Uint8Array;
  /** {@link F} integers per valid record. */
  index: Int32Array;
  /** Valid records. */
  count: number;
  /** Records met, valid or not. */
  records: number;
  /** Newlines in the chunk. */
  lines: number;
  errors: RecordError[];
  /** A record spanned more than 4 lines: chunk boundaries of this input cannot be trusted. */
  wrapped: boolean;
  /** Base counts of the records (only with `counts`); `counts.bad` means a character check failed. */
  counts?: Counts;
}

class State {
  index = new Int32Array(F * 1024);
  count = 0;
  line = 1;
  wrapped = false;
  extra = new Uint8Array(0);
  extraLen = 0;
  reason = '';
  category = '';
  readonly lo: number;
  readonly ids: boolean;
  /** The chunk's ArrayBuffer as 32-bit words, for the 4-bytes-at-a-time character check. */
  readonly words: Int32Array;
  readonly phred: number;
  readonly counts: Counts | undefined;
  /** The whole chunk is valid UTF-8 (one native check, GB/s): then no title needs its own check. */
  readonly utf8: boolean;
  constructor(readonly b: Uint8Array, opts: ParseOptions) {
    this.utf8 = isUtf8(b);
    this.lo = opts.phred === 64 ? 59 : 33;
    this.ids = opts.ids ?? true;
    this.words = new Int32Array(b.buffer, 0, b.buffer.byteLength >> 2);
    this.phred = opts.phred ?? 33;
    if (opts.counts) this.counts = new Counts();
  }
  append(src: Uint8Array, start: number, end: number): void {
    const need = this.extraLen + (end - start);
    if (need > this.extra.length) {
      const grown = new Uint8Array(Math.max(need, this.extra.length * 2, 4096));
      grown.set(this.extra.subarray(0, this.extraLen));
      this.extra = grown;
    }
    this.extra.set(src.subarray(start, end), this.extraLen);
    this.extraLen = need;
  }
}

function contentEnd(b: Uint8Array, start: number, end: number): number {
  return end > start && b[end - 1] === CR ? end - 1 : end;
}

function fail(st: State, category: string, reason: string): number {
  st.category = category;
  st.reason = reason;
  return -1;
}

function show(c: number | undefined): string {
  if (c === undefined) return 'end of input';
  return c >= 33 && c <= 126 ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}

/** First byte in [s, e) outside [lo, 126], or -1, one byte at a time. */
function badByteSlow(b: Uint8Array, s: number, e: number, lo: number): number {
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if (c < lo || c > 126) return i;
  }
  return -1;
}

/**
 * First byte in [s, e) outside [lo, 126], or -1: the hot loop of records mode, 4 bytes per step on
 * aligned 32-bit words (a byte < lo: `(x - lo*0x01010101) & ~x`; a byte > 126: `(x + 0x01010101) | x`;
 * both set a byte's top bit). Measured 2.3x faster than the byte loop on 150 bp reads.
 */
function badByte(b: Uint8Array, words: Int32Array, s: number, e: number, lo: number): number {
  const base = b.byteOffset;
  let i = s;
  while (i < e && ((base + i) & 3) !== 0) {
    const c = b[i]!;
    if (c < lo || c > 126) return i;
    i++;
  }
  const loX = Math.imul(lo, 0x01010101);
  const wEnd = (base + e) >> 2;
  for (let w = (base + i) >> 2; w < wEnd; w++) {
    const x = words[w]!;
    if ((((x - loX) & ~x) | (x + 0x01010101) | x) & 0x80808080) return badByteSlow(b, w * 4 - base, e, lo);
  }
  return badByteSlow(b, Math.max(i, wEnd * 4 - base), e, lo);
}

/**
 * Titles must be UTF-8, in every mode (docs/decisions/0015-fastq-titles-utf8.md): convert writes
 * them to Utf8 columns and the library decodes them as UTF-8, so a title that is not would make an
 * invalid Arrow file or a different string; rejecting the record keeps stats, convert and the
 * library counting the same records.
 */
function notUtf8(b: Uint8Array, s: number, e: number): string {
  let i = s;
  while (i < e && b[i]! < 0x80) i++;
  return `title is not valid UTF-8 (byte 0x${b[i]!.toString(16)} at column ${i - s + 2}; titles are read as UTF-8)`;
}

/** Title, sequence lines and `+` line; returns the position after the `+` line, or -1. */
function parseHead(st: State, p: number, f: Int32Array, o: number): number {
  const b = st.b;
  const n = b.length;
  if (b[p] !== AT) return fail(st, 'missing_at', `expected '@' at the start of a record, found ${show(b[p])}`);
  const e1 = b.indexOf(NL, p);
  if (e1 < 0) return fail(st, 'truncated', 'input ends inside the title line');
  const t1 = contentEnd(b, p, e1);
  if (!st.utf8 && !isUtf8(b.subarray(p + 1, t1))) return fail(st, 'invalid_title', notUtf8(b, p + 1, t1));
  let idEnd = t1;
  if (st.ids) for (idEnd = p + 1; idEnd < t1 && b[idEnd] !== 0x20 && b[idEnd] !== 0x09; ) idEnd++;
  const s2 = e1 + 1;
  let e = b.indexOf(NL, s2);
  if (e < 0) return fail(st, 'truncated', 'input ends inside the sequence');
  const seqEnd = contentEnd(b, s2, e);
  let seqStart = s2;
  let seqLen = seqEnd - s2;
  let next = e + 1;
  let lines = 2;
  while (b[next] !== PLUS) {
    if (next >= n) return fail(st, 'truncated', "input ends before the '+' line");
    if (b[next] === AT) return fail(st, 'missing_plus', "expected a '+' line after the sequence, found '@'");
    if (seqStart === s2) {
      st.wrapped = true;
      seqStart = n + st.extraLen;
      st.append(b, s2, seqEnd);
    }
    e = b.indexOf(NL, next);
    if (e < 0) return fail(st, 'truncated', "input ends before the '+' line");
    const ce = contentEnd(b, next, e);
    st.append(b, next, ce);
    seqLen += ce - next;
    next = e + 1;
    lines++;
  }
  const e3 = b[next + 1] === NL ? next + 1 : b.indexOf(NL, next);
  if (e3 < 0) return fail(st, 'truncated', "input ends inside the '+' line");
  const t3 = contentEnd(b, next, e3);
  if (t3 - next > 1 && !sameBytes(b, p + 1, t1, next + 1, t3)) return fail(st, 'plus_mismatch', "the '+' line repeats a different title");
  f[o + REC] = p;
  f[o + TITLE] = p + 1;
  f[o + ID_END] = idEnd;
  f[o + TITLE_END] = t1;
  f[o + SEQ] = seqStart;
  f[o + LEN] = seqLen;
  st.line += lines + 1;
  return e3 + 1;
}

function sameBytes(b: Uint8Array, s1: number, e1: number, s2: number, e2: number): boolean {
  if (e1 - s1 !== e2 - s2) return false;
  for (let i = 0; i < e1 - s1; i++) if (b[s1 + i] !== b[s2 + i]) return false;
  return true;
}

/**
 * The reason of a quality/sequence length mismatch. A sequence on one line means a 4-line record,
 * so the quality is its one line: count that line, not the lines read past it looking for more
 * quality (often the next record's title, which the report quotes as the next record: issue 8,
 * "quality length 34" for an empty quality line). A wrapped sequence has a wrapped quality: count all.
 */
function lengthMismatch(wrappedSeq: boolean, firstLine: number, total: number, lines: number, seqLen: number): string {
  if (!wrappedSeq) return `quality length ${firstLine} differs from sequence length ${seqLen}`;
  return `quality length ${total} (${lines} lines) differs from sequence length ${seqLen}`;
}

/** Quality lines from q until as long as the sequence; returns the position after them, or -1. */
function parseQual(st: State, q: number, f: Int32Array, o: number, guess: boolean): number {
  const b = st.b;
  const n = b.length;
  const seqLen = f[o + LEN]!;
  if (q >= n) return fail(st, 'truncated', 'input ends before the quality line');
  // Guess that the quality is one line as long as the sequence (no search); the character check
  // then proves it (a newline inside fails it, and the record is parsed again without the guess).
  const g = q + seqLen;
  // g === n: the last line has no newline. Past n the quality is cut short: the slow path below
  // reports it (accepting it here wrote a record whose quality was shorter than its sequence).
  if (guess && (g === n || (g < n && (b[g] === NL || (b[g] === CR && b[g + 1] === NL))))) {
    f[o + QUAL] = q;
    st.line += g < n ? 1 : 0;
    return Math.min(b[g] === CR ? g + 2 : g + 1, n);
  }
  let e = b.indexOf(NL, q);
  if (e < 0) e = n;
  const qe = contentEnd(b, q, e);
  let qLen = qe - q;
  let qualStart = q;
  let next = e + 1;
  let lines = e < n ? 1 : 0;
  let qLines = 1;
  while (qLen < seqLen) {
    qLines++;
    if (next >= n) return fail(st, 'truncated', `input ends inside the quality (${qLen} of ${seqLen})`);
    if (qualStart === q) {
      st.wrapped = true;
      qualStart = n + st.extraLen;
      st.append(b, q, qe);
    }
    e = b.indexOf(NL, next);
    if (e < 0) e = n;
    const ce = contentEnd(b, next, e);
    st.append(b, next, ce);
    qLen += ce - next;
    next = e + 1;
    if (e < n) lines++;
  }
  if (qLen !== seqLen) return fail(st, 'length_mismatch', lengthMismatch(f[o + SEQ]! >= n, qe - q, qLen, qLines, seqLen));
  f[o + QUAL] = qualStart;
  st.line += lines;
  return Math.min(next, n);
}

/** Character check (records mode) or base counts (stats mode) of one parsed record. */
function checkChars(st: State, f: Int32Array, o: number): number {
  const len = f[o + LEN]!;
  const n = st.b.length;
  const seq = f[o + SEQ]!;
  const qual = f[o + QUAL]!;
  // Wrapped records were joined into `extra`; most records are read in place (no tuple, no copy).
  const sb = seq < n ? st.b : st.extra;
  const ss = seq < n ? seq : seq - n;
  const qb = qual < n ? st.b : st.extra;
  const qs = qual < n ? qual : qual - n;
  if (st.counts) {
    countSeq(sb, sb === st.b ? st.words : null, ss, ss + len, st.counts);
    countQual(qb, qb === st.b ? st.words : null, qs, qs + len, st.lo, st.phred, st.counts);
    return 0;
  }
  const bs = sb === st.b ? badByte(sb, st.words, ss, ss + len, 33) : badByteSlow(sb, ss, ss + len, 33);
  if (bs >= 0) return fail(st, 'invalid_sequence', `sequence contains ${show(sb[bs])}`);
  const bq = qb === st.b ? badByte(qb, st.words, qs, qs + len, st.lo) : badByteSlow(qb, qs, qs + len, st.lo);
  if (bq >= 0) return fail(st, 'invalid_quality', `quality contains ${show(qb[bq])} (outside ${show(st.lo)}..'~')`);
  return 0;
}

/** Parses one record at p into slot `st.count`; returns the next position, or -1 with a reason. */
function parseRecord(st: State, p: number): number {
  if (st.index.length < (st.count + 1) * F) {
    const grown = new Int32Array(st.index.length * 2);
    grown.set(st.index);
    st.index = grown;
  }
  const f = st.index;
  const o = st.count * F;
  const line0 = st.line;
  const extra0 = st.extraLen;
  const wrapped0 = st.wrapped;
  let next = parseHead(st, p, f, o);
  const afterHead = next;
  const line1 = st.line;
  if (next >= 0) next = parseQual(st, next, f, o, true);
  if (next >= 0 && checkChars(st, f, o) < 0) {
    // A bad byte may be the newline of a wrapped quality that the guess swallowed: parse properly.
    st.line = line1;
    next = parseQual(st, afterHead, f, o, false);
    if (next >= 0 && checkChars(st, f, o) < 0) next = -1;
  }
  if (next < 0) {
    st.line = line0;
    st.extraLen = extra0;
    st.wrapped = wrapped0;
  }
  return next;
}

function countNewlines(b: Uint8Array, s: number, e: number): number {
  let k = 0;
  for (let i = b.indexOf(NL, s); i >= 0 && i < e; i = b.indexOf(NL, i + 1)) k++;
  return k;
}

/** Skips blank lines (LF or CRLF) at p; returns the new position. */
function skipBlank(st: State, p: number): number {
  const b = st.b;
  for (;;) {
    if (b[p] === NL) p += 1;
    else if (b[p] === CR && b[p + 1] === NL) p += 2;
    else return p;
    st.line++;
  }
}

const MAX_TEXT = 2000;

function latin1(b: Uint8Array, s: number, e: number): string {
  return Buffer.from(b.buffer, b.byteOffset + s, Math.min(e, s + MAX_TEXT) - s).toString('latin1');
}

/**
 * Parses every record of a chunk (the bytes from a record start to the next chunk's record start,
 * or to the end of the input). A bad record is reported and skipped: parsing goes on at the next
 * verified record start, so one damaged record costs one record.
 */
export function parseChunk(bytes: Uint8Array, opts: ParseOptions = {}): ParsedChunk {
  const st = new State(bytes, opts);
  const errors: RecordError[] = [];
  const n = bytes.length;
  let records = 0;
  let p = skipBlank(st, 0);
  while (p < n) {
    records++;
    const next = parseRecord(st, p);
    if (next >= 0) {
      st.count++;
      p = skipBlank(st, next);
      continue;
    }
    // Resume at the next complete 4-line record; unlike a chunk boundary it need not be followed by
    // another record (a good record before more damage is kept). Needs no byte past the chunk.
    const resume = findRecordStart(bytes, p + 1, true, false);
    errors.push({ category: st.category, reason: st.reason, offset: p, line: st.line, record: records, text: latin1(bytes, p, resume) });
    st.line += countNewlines(bytes, p, resume);
    p = skipBlank(st, resume);
  }
  return finish(st, records, errors);
}

function finish(st: State, records: number, errors: RecordError[]): ParsedChunk {
  const n = st.b.length;
  let buf = st.b;
  if (st.extraLen > 0) {
    buf = new Uint8Array(n + st.extraLen);
    buf.set(st.b);
    buf.set(st.extra.subarray(0, st.extraLen), n);
  }
  const out: ParsedChunk = { buf, index: st.index.subarray(0, st.count * F), count: st.count, records, lines: st.line - 1, errors, wrapped: st.wrapped };
  if (st.counts) out.counts = st.counts;
  return out;
}
