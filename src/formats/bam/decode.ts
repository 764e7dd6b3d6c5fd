/**
 * Decodes whole BAM records into columns (runs in workers). Text columns are built as one
 * UTF-8 byte buffer plus Int32 offsets, exactly what Arrow's Utf8 layout wants, so the main
 * thread wraps them without copying or creating strings.
 */
import type { RecordError } from '../../engine/plugin.js';
import { Bytes, Ints, fit as fitIn, formatG, heapMemory, int32s, uint16s, type ColumnMemory } from './bytes.js';
import { isUtf8 } from 'node:buffer';
import { FIXED, MAX_RECORD, auxSize } from './framing.js';
import { isFiltering, keeps, type RecordFilter } from './filter.js';
import { TypedTagBuilders, fitsSpec, typeText, typedTagViews, type TagColumnTyped, type TagSpec } from './typed-tags.js';

export interface DecodeOptions {
  sequence: boolean;
  quality: boolean;
  tags: boolean;
  /** Number of references when known (records are checked against it), else -1. */
  nRef: number;
  /** samtools view's -f/-F/-G/-q: records it drops are read and checked, not decoded. */
  filter?: RecordFilter;
  /** `--tag NM:i …`: these tags as typed columns (typed-tags.ts). */
  typedTags?: TagSpec[] | null;
}

/** A UTF-8 column: row i is data[offsets[i], offsets[i+1]); an empty value means SAM `*` (null). */
export interface TextColumn { offsets: Int32Array; data: Uint8Array }

/** Aux fields as a map column: row i owns entries [entries[i], entries[i+1]); key j is keys[2j, 2j+2). */
export interface TagColumn { entries: Int32Array; keys: Uint8Array; values: TextColumn }

export interface BamColumns {
  rows: number;
  qname: TextColumn;
  flag: Uint16Array;
  /** Reference id, -1 when `*`. */
  refId: Int32Array;
  /** 1-based position, 0 when unset. */
  pos: Int32Array;
  mapq: Uint8Array;
  cigar: TextColumn;
  /** Mate reference as an index into ['=', ...references]; -1 when `*`. */
  rnext: Int32Array;
  pnext: Int32Array;
  tlen: Int32Array;
  seq: TextColumn | null;
  qual: TextColumn | null;
  tags: TagColumn | null;
  /** `--tag`: one typed column per TagSpec, in their order. */
  typedTags: TagColumnTyped[] | null;
  /** Largest reference id seen (refID or next refID), for checking when nRef was unknown. */
  maxRef: number;
  /** With typed tags: aux values left out because their tag has no field (--tags auto warns). */
  untypedTags?: number;
}

const CIGAR_OPS = 'MIDNSHP=X';
const BASES = '=ACMGRSVTWYHKDBN';
/** Byte → its two bases, as ASCII. */
const SEQ_PAIRS = new Uint8Array(512);
for (let b = 0; b < 256; b++) {
  SEQ_PAIRS[2 * b] = BASES.charCodeAt(b >> 4);
  SEQ_PAIRS[2 * b + 1] = BASES.charCodeAt(b & 15);
}
const CG0 = 0x43;
const CG1 = 0x47;

class TextBuilder {
  readonly data: Bytes;
  readonly offsets: Ints;
  constructor(rowsHint: number, bytesHint: number, mem: ColumnMemory) {
    this.data = new Bytes(bytesHint, mem);
    this.offsets = new Ints(rowsHint + 1, mem);
    this.offsets.push(0);
  }
  end(): void {
    this.offsets.push(this.data.len);
  }
  take(): TextColumn {
    return { offsets: this.offsets.take(), data: this.data.take() };
  }
}

function grown<T extends Uint8Array | Uint16Array | Int32Array>(mem: ColumnMemory, a: T, make: (n: number) => T): T {
  const next = make(a.length * 2);
  next.set(a);
  mem.free(a);
  return next;
}

/**
 * Column builders for one chunk, sized from an estimate of its rows and bases and grown when
 * the estimate is short. Sizing everything for the worst case (every record minimal) zero-filled
 * ~8× more memory than used: 22% of decode time in allocation.
 */
class Builders {
  readonly qname: TextBuilder;
  readonly cigar: TextBuilder;
  readonly seq: TextBuilder | null;
  readonly qual: TextBuilder | null;
  readonly tagEntries: Ints | null;
  readonly tagKeys: Bytes | null;
  readonly tagValues: TextBuilder | null;
  readonly typed: TypedTagBuilders | null;
  flag: Uint16Array;
  refId: Int32Array;
  pos: Int32Array;
  mapq: Uint8Array;
  rnext: Int32Array;
  pnext: Int32Array;
  tlen: Int32Array;
  rows = 0;
  maxRef = -1;
  constructor(rowsHint: number, basesPerRow: number, o: DecodeOptions, private readonly mem: ColumnMemory) {
    const rows = Math.max(16, rowsHint);
    this.qname = new TextBuilder(rows, rows * 24, mem);
    this.cigar = new TextBuilder(rows, rows * 8, mem);
    this.seq = o.sequence ? new TextBuilder(rows, rows * basesPerRow, mem) : null;
    this.qual = o.quality ? new TextBuilder(rows, rows * basesPerRow, mem) : null;
    this.tagEntries = o.tags ? new Ints(rows + 1, mem) : null;
    this.tagEntries?.push(0);
    this.tagKeys = o.tags ? new Bytes(rows * 10, mem) : null;
    this.tagValues = o.tags ? new TextBuilder(rows * 5, rows * 40, mem) : null;
    this.typed = o.typedTags && o.typedTags.length > 0 ? new TypedTagBuilders(o.typedTags, rows, mem, writeAuxText) : null;
    this.flag = uint16s(mem, rows);
    this.refId = int32s(mem, rows);
    this.pos = int32s(mem, rows);
    this.mapq = mem.bytes(rows);
    this.rnext = int32s(mem, rows);
    this.pnext = int32s(mem, rows);
    this.tlen = int32s(mem, rows);
  }
  /** Index of a new row, growing the fixed-width columns when full. */
  addRow(): number {
    if (this.rows === this.flag.length) {
      const m = this.mem;
      const i32 = (n: number): Int32Array => int32s(m, n);
      this.flag = grown(m, this.flag, (n) => uint16s(m, n));
      this.refId = grown(m, this.refId, i32);
      this.pos = grown(m, this.pos, i32);
      this.mapq = grown(m, this.mapq, (n) => m.bytes(n));
      this.rnext = grown(m, this.rnext, i32);
      this.pnext = grown(m, this.pnext, i32);
      this.tlen = grown(m, this.tlen, i32);
    }
    return this.rows++;
  }
  take(): BamColumns {
    const n = this.rows;
    const fit = <T extends Uint8Array | Uint16Array | Int32Array>(a: T, k: number): T => fitIn(this.mem, a, k);
    return {
      rows: n,
      qname: this.qname.take(),
      flag: fit(this.flag, n),
      refId: fit(this.refId, n),
      pos: fit(this.pos, n),
      mapq: fit(this.mapq, n),
      cigar: this.cigar.take(),
      rnext: fit(this.rnext, n),
      pnext: fit(this.pnext, n),
      tlen: fit(this.tlen, n),
      seq: this.seq?.take() ?? null,
      qual: this.qual?.take() ?? null,
      tags: this.tagEntries && this.tagKeys && this.tagValues
        ? { entries: this.tagEntries.take(), keys: this.tagKeys.take(), values: this.tagValues.take() }
        : null,
      typedTags: this.typed?.take() ?? null,
      maxRef: this.maxRef,
      untypedTags: this.typed?.untyped ?? 0,
    };
  }
}

/** Zero rows with the layout of `o` (an empty input still gets a valid output file with its schema). */
export function emptyColumns(o: DecodeOptions): BamColumns {
  return new Builders(1, 1, o, heapMemory).take();
}

/** Every array of a BamColumns. */
export function columnViews(c: BamColumns): ArrayBufferView[] {
  const list: ArrayBufferView[] = [c.qname.offsets, c.qname.data, c.flag, c.refId, c.pos, c.mapq, c.cigar.offsets, c.cigar.data, c.rnext, c.pnext, c.tlen];
  for (const t of [c.seq, c.qual, c.tags?.values]) if (t) list.push(t.offsets, t.data);
  if (c.tags) list.push(c.tags.entries, c.tags.keys);
  list.push(...typedTagViews(c.typedTags));
  return list;
}

/** The ArrayBuffers to move to the main thread (shared buffers are not moved, they are shared). */
export function columnBuffers(c: BamColumns): ArrayBuffer[] {
  return columnViews(c).flatMap((v) => (v.buffer instanceof SharedArrayBuffer ? [] : [v.buffer as ArrayBuffer]));
}

/** The CG:B:I tag's position when the CIGAR is the `<l_seq>S<ref_len>N` placeholder (htslib's rule). */
function findCigarTag(buf: Uint8Array, dv: DataView, r: number, cigarAt: number, nCigar: number, lSeq: number, auxAt: number, end: number): number {
  if (nCigar === 0 || dv.getInt32(r, true) < 0 || dv.getInt32(r + 4, true) < 0) return -1;
  const c0 = dv.getUint32(cigarAt, true);
  if ((c0 & 0xf) !== 4 || c0 >>> 4 !== lSeq) return -1;
  for (let p = auxAt; p < end;) {
    const type = buf[p + 2]!;
    if (buf[p] === CG0 && buf[p + 1] === CG1) return type === 0x42 && (buf[p + 3] === 0x49 || buf[p + 3] === 0x69) ? p : -1;
    p = skipAux(buf, dv, p, end);
    if (p < 0) return -1;
  }
  return -1;
}

/** Offset after the aux field at `p`, or -1 when it does not fit before `end`. */
function skipAux(buf: Uint8Array, dv: DataView, p: number, end: number): number {
  const type = buf[p + 2]!;
  let q: number;
  if (type === 0x5a || type === 0x48) {
    const nul = buf.indexOf(0, p + 3);
    q = nul < 0 || nul >= end ? -1 : nul + 1;
  } else if (type === 0x42) {
    const size = buf[p + 3] === 0x41 ? 0 : auxSize(buf[p + 3]!);
    q = size === 0 || p + 8 > end ? -1 : p + 8 + size * dv.getUint32(p + 4, true);
  } else {
    const size = auxSize(type);
    q = size === 0 ? -1 : p + 3 + size;
  }
  return q > end ? -1 : q;
}

function writeCigar(out: Bytes, dv: DataView, at: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const op = dv.getUint32(at + 4 * i, true);
    out.int(op >>> 4);
    out.push(CIGAR_OPS.charCodeAt(op & 0xf));
  }
}

/** Byte → its two bases as one little-endian uint16 (first base in the low byte). */
const SEQ_WORDS = new Uint16Array(256);
for (let b = 0; b < 256; b++) SEQ_WORDS[b] = SEQ_PAIRS[2 * b]! | (SEQ_PAIRS[2 * b + 1]! << 8);

/** 4-bit bases → ASCII, two bases per 16-bit store (measured 2× the byte-by-byte loop). */
function writeSeq(out: Bytes, buf: Uint8Array, at: number, lSeq: number): void {
  out.reserve(lSeq + 1);
  const dv = out.view();
  let o = out.len;
  const pairs = lSeq >> 1;
  for (let i = 0; i < pairs; i++, o += 2) dv.setUint16(o, SEQ_WORDS[buf[at + i]!]!, true);
  if (lSeq & 1) out.buf[o++] = SEQ_PAIRS[buf[at + pairs]! << 1]!;
  out.len = o;
}

/**
 * Phred → Phred+33, four bytes per 32-bit add: no byte carries into the next while every score
 * is below 0x80 (real scores are 0..93); a word with a higher byte falls back to bytes.
 */
function writeQual(out: Bytes, src: DataView, buf: Uint8Array, at: number, lSeq: number): void {
  if (lSeq === 0 || buf[at] === 0xff) return;
  const b = out.reserve(lSeq);
  const dv = out.view();
  const o = out.len;
  let i = 0;
  for (; i + 4 <= lSeq; i += 4) {
    const w = src.getUint32(at + i, true);
    if (w & 0x80808080) break;
    dv.setUint32(o + i, w + 0x21212121, true);
  }
  for (; i < lSeq; i++) b[o + i] = (buf[at + i]! + 33) & 0xff;
  out.len = o + lSeq;
}

/** One integer or float of aux type `t` at `p`. */
export function auxNumber(dv: DataView, t: number, p: number): number {
  switch (t) {
    case 0x63: return dv.getInt8(p);
    case 0x43: return dv.getUint8(p);
    case 0x73: return dv.getInt16(p, true);
    case 0x53: return dv.getUint16(p, true);
    case 0x69: return dv.getInt32(p, true);
    case 0x49: return dv.getUint32(p, true);
    default: return dv.getFloat32(p, true);
  }
}

function writeNumber(out: Bytes, t: number, v: number): void {
  if (t === 0x66) out.ascii(formatG(v));
  else out.int(v);
}

/** Whether the bytes [from, to) are not valid UTF-8: ASCII is checked here, anything else by node. */
function utf8Problem(buf: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i]! >= 0x80) return !isUtf8(buf.subarray(from, to));
  return false;
}

const printable = (c: number): boolean => c >= 0x20 && c <= 0x7e;
const tagName = (buf: Uint8Array, p: number): string => String.fromCharCode(buf[p]!, buf[p + 1]!);

/**
 * Writes the aux fields of buf[p, end) as map entries; skips CG at `skipAt`. Returns why the
 * fields cannot be written (malformed, or text that is not UTF-8: it would make an invalid
 * Arrow/Parquet string), null when written.
 */
function writeTags(tags: { entries: Ints; keys: Bytes; values: TextBuilder }, buf: Uint8Array, dv: DataView, p: number, end: number, skipAt: number): RecordProblem | null {
  const values = tags.values.data;
  while (p < end) {
    const next = skipAux(buf, dv, p, end);
    if (next < 0) return ['bad_record', 'malformed auxiliary fields'];
    if (p === skipAt) {
      p = next;
      continue;
    }
    // Keys as samtools prints them (its test files have names like `A!`), but never non-ASCII.
    if (!printable(buf[p]!) || !printable(buf[p + 1]!)) return ['invalid_text', `tag name bytes 0x${buf[p]!.toString(16)} 0x${buf[p + 1]!.toString(16)} are not printable ASCII`];
    tags.keys.append(buf, p, p + 2);
    const problem = writeAuxText(values, buf, dv, p, next);
    if (problem) return problem;
    tags.values.end();
    p = next;
  }
  return null;
}

/** The aux field at `p` (ending at `next`) as SAM prints it after the tag: `TYPE:VALUE`. */
export function writeAuxText(values: Bytes, buf: Uint8Array, dv: DataView, p: number, next: number): RecordProblem | null {
  const t = buf[p + 2]!;
  if (t === 0x5a || t === 0x48) {
    if (utf8Problem(buf, p + 3, next - 1)) return ['invalid_text', `tag ${tagName(buf, p)}:${String.fromCharCode(t)} value is not valid UTF-8`];
    values.push(t);
    values.push(0x3a);
    values.append(buf, p + 3, next - 1);
  } else if (t === 0x41) {
    if (!printable(buf[p + 3]!)) return ['invalid_text', `tag ${tagName(buf, p)}:A value is byte 0x${buf[p + 3]!.toString(16)}, not a printable character`];
    values.ascii('A:');
    values.push(buf[p + 3]!);
  } else if (t === 0x42) {
    const sub = buf[p + 3]!;
    const size = auxSize(sub);
    values.ascii('B:');
    values.push(sub);
    for (let q = p + 8; q < next; q += size) {
      values.push(0x2c);
      writeNumber(values, sub, auxNumber(dv, sub, q));
    }
  } else {
    values.push(t === 0x66 ? 0x66 : 0x69);
    values.push(0x3a);
    writeNumber(values, t, auxNumber(dv, t, p + 3));
  }
  return null;
}

/** A problem with the record at `at` (offset of its block_size field within the chunk). */
function recordError(reason: string, at: number, record: number, category = 'bad_record'): RecordError {
  return { category, reason, offset: at, record };
}

/** Why the record at `p` cannot be decoded, or null when its fixed fields are consistent. */
function checkFixed(buf: Uint8Array, dv: DataView, p: number, bs: number, nRef: number): string | null {
  const r = p + 4;
  const tid = dv.getInt32(r, true);
  const mtid = dv.getInt32(r + 20, true);
  if (tid < -1 || (nRef >= 0 && tid >= nRef)) return `reference id ${tid} out of range [-1, ${nRef})`;
  if (mtid < -1 || (nRef >= 0 && mtid >= nRef)) return `mate reference id ${mtid} out of range [-1, ${nRef})`;
  const lName = buf[r + 8]!;
  const nCigar = dv.getUint16(r + 12, true);
  const lSeq = dv.getInt32(r + 16, true);
  if (lName < 1) return 'empty read name';
  if (lSeq < 0) return `negative sequence length ${lSeq}`;
  const need = FIXED + lName + 4 * nCigar + ((lSeq + 1) >> 1) + lSeq;
  if (need > bs) return `fields need ${need} bytes but the record has ${bs}`;
  if (buf[r + FIXED + lName - 1] !== 0) return 'read name not NUL-terminated';
  return null;
}

export interface DecodeResult { columns: BamColumns; errors: RecordError[]; records: number }

/**
 * Decodes the records in `bytes[start, end)` (whole records; the last one may run past the end
 * only when the input was cut, which is reported). Record numbers in errors are 1-based within
 * the chunk.
 */
export function decodeRecords(bytes: Uint8Array, start: number, o: DecodeOptions, mem: ColumnMemory = heapMemory): DecodeResult {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length;
  // Estimate rows and bases from the first record; builders grow if later ones differ.
  const first = start + 4 + FIXED <= end ? dv.getUint32(start, true) + 4 : 4 + FIXED;
  const bases = start + 4 + FIXED <= end ? Math.max(1, dv.getInt32(start + 20, true)) : 1;
  const b = new Builders(Math.ceil(((end - start) / first) * 1.1) + 1, Math.min(bases, MAX_RECORD), o, mem);
  const tags = b.tagEntries && b.tagKeys && b.tagValues ? { entries: b.tagEntries, keys: b.tagKeys, values: b.tagValues } : null;
  const errors: RecordError[] = [];
  const filter = isFiltering(o.filter) ? o.filter : null;
  let records = 0;
  let p = start;
  while (p < end) {
    records++;
    if (p + 4 + FIXED > end) {
      errors.push(recordError(`record runs past the end of the data (${end - p} bytes left, the fixed fields need ${4 + FIXED})`, p, records, 'truncated_record'));
      break;
    }
    const bs = dv.getUint32(p, true);
    if (bs < FIXED || bs > MAX_RECORD || p + 4 + bs > end) {
      const impossible = bs < FIXED || bs > MAX_RECORD;
      const why = impossible ? `impossible record length ${bs}` : `record length ${bs} runs past the end of the data (${end - p - 4} bytes left)`;
      errors.push(recordError(why, p, records, impossible ? 'bad_length' : 'truncated_record'));
      break;
    }
    const bad = checkFixed(bytes, dv, p, bs, o.nRef);
    if (bad) {
      errors.push(recordError(bad, p, records));
      p += 4 + bs;
      continue;
    }
    if (filter && !keeps(filter, dv.getUint16(p + 18, true), bytes[p + 13]!)) {
      p += 4 + bs;
      continue;
    }
    const problem = decodeOne(bytes, dv, p, bs, b, tags);
    if (problem) errors.push(recordError(problem[1], p, records, problem[0]));
    p += 4 + bs;
  }
  return { columns: b.take(), errors, records };
}

/** A record that cannot be written: [category, reason]. */
export type RecordProblem = [string, string];

/** The first CIGAR operation code past `X` (8), as SAM has no letter for it; -1 when all are valid. */
function badCigarOp(dv: DataView, at: number, n: number): number {
  for (let i = 0; i < n; i++) {
    const op = dv.getUint32(at + 4 * i, true) & 0xf;
    if (op > 8) return op;
  }
  return -1;
}

/**
 * The first Phred score above 93 (SAM prints score + 33, and 94 up are not printable ASCII, or
 * not even UTF-8 from 95), or -1. Four bytes per test: a byte b ≤ 93 keeps the high bit of both
 * b and b + 34 clear.
 */
function badQuality(dv: DataView, buf: Uint8Array, at: number, lSeq: number): number {
  if (lSeq === 0 || buf[at] === 0xff) return -1;
  let i = 0;
  for (; i + 4 <= lSeq; i += 4) {
    const w = dv.getUint32(at + i, true);
    if (((w | (w + 0x22222222)) & 0x80808080) !== 0) break;
  }
  for (; i < lSeq; i++) if (buf[at + i]! > 93) return buf[at + i]!;
  return -1;
}

/** Why the read name cannot be written as SAM text (SAM allows printable ASCII only), or null. */
function badName(buf: Uint8Array, at: number, n: number): RecordProblem | null {
  for (let i = 0; i < n; i++) {
    const c = buf[at + i]!;
    if (c < 0x21 || c > 0x7e) return ['invalid_text', `read name byte ${i + 1} is 0x${c.toString(16)}, not printable ASCII`];
  }
  return null;
}

/**
 * Appends one checked record to the builders; returns why it cannot be written (nothing of it is
 * then kept), or null. Only what is written is checked: --no-quality writes qualities above 93.
 */
function decodeOne(buf: Uint8Array, dv: DataView, p: number, bs: number, b: Builders, tags: { entries: Ints; keys: Bytes; values: TextBuilder } | null): RecordProblem | null {
  const r = p + 4;
  const end = r + bs;
  const tid = dv.getInt32(r, true);
  const mtid = dv.getInt32(r + 20, true);
  const lName = buf[r + 8]!;
  const nCigar = dv.getUint16(r + 12, true);
  const lSeq = dv.getInt32(r + 16, true);
  const cigarAt = r + FIXED + lName;
  const seqAt = cigarAt + 4 * nCigar;
  const qualAt = seqAt + ((lSeq + 1) >> 1);
  const auxAt = qualAt + lSeq;
  const cg = findCigarTag(buf, dv, r, cigarAt, nCigar, lSeq, auxAt, end);
  const name = badName(buf, r + FIXED, lName - 1);
  if (name) return name;
  const op = cg >= 0 ? badCigarOp(dv, cg + 8, dv.getUint32(cg + 4, true)) : badCigarOp(dv, cigarAt, nCigar);
  if (op >= 0) return ['invalid_cigar', `CIGAR operation code ${op} is not one of MIDNSHP=X (0-8)`];
  const q = b.qual ? badQuality(dv, buf, qualAt, lSeq) : -1;
  if (q >= 0) return ['invalid_quality', `quality ${q} is above 93 (SAM text cannot show it)`];
  if (b.typed) {
    // Checked before anything of the row is written (a wrong type drops the record).
    const why = typedProblem(b.typed, buf, dv, auxAt, end, cg);
    if (why) return ['invalid_tag_type', why];
  }
  if (tags) {
    const keys = tags.keys.len;
    const data = tags.values.data.len;
    const offsets = tags.values.offsets.len;
    const problem = writeTags(tags, buf, dv, auxAt, end, cg);
    if (problem) {
      // The row is dropped: undo its partial entries so the map column stays aligned.
      tags.keys.len = keys;
      tags.values.data.len = data;
      tags.values.offsets.len = offsets;
      return problem;
    }
  }
  const i = b.addRow();
  if (tid > b.maxRef) b.maxRef = tid;
  if (mtid > b.maxRef) b.maxRef = mtid;
  b.qname.data.append(buf, r + FIXED, r + FIXED + lName - 1);
  b.qname.end();
  b.flag[i] = dv.getUint16(r + 14, true);
  b.refId[i] = tid;
  b.pos[i] = dv.getInt32(r + 4, true) + 1;
  b.mapq[i] = buf[r + 9]!;
  if (cg >= 0) writeCigar(b.cigar.data, dv, cg + 8, dv.getUint32(cg + 4, true));
  else writeCigar(b.cigar.data, dv, cigarAt, nCigar);
  b.cigar.end();
  b.rnext[i] = mtid < 0 ? -1 : mtid === tid ? 0 : mtid + 1;
  b.pnext[i] = dv.getInt32(r + 24, true) + 1;
  b.tlen[i] = dv.getInt32(r + 28, true);
  if (b.seq) {
    writeSeq(b.seq.data, buf, seqAt, lSeq);
    b.seq.end();
  }
  if (b.qual) {
    writeQual(b.qual.data, dv, buf, qualAt, lSeq);
    b.qual.end();
  }
  if (tags) tags.entries.push(tags.keys.len >> 1);
  b.typed?.add(buf, dv, auxAt, end, cg);
  return null;
}

/** Whether a tag named with --tag has another type here (the row must then be dropped). */
function typedProblem(t: TypedTagBuilders, buf: Uint8Array, dv: DataView, p: number, end: number, skipAt: number): string | null {
  while (p < end) {
    const next = skipAux(buf, dv, p, end);
    if (next < 0) return null; // malformed: writeTags or the row's checks report it
    if (p !== skipAt) {
      for (const s of t.specs) {
        if (s.name.charCodeAt(0) !== buf[p] || s.name.charCodeAt(1) !== buf[p + 1]) continue;
        const type = buf[p + 2]!;
        const ok = fitsSpec(s, type, buf[p + 3]!);
        if (ok && (type === 0x5a || type === 0x48) && (s.kind === 'text' || s.kind === 'any') && utf8Problem(buf, p + 3, next - 1)) return `tag ${s.name}:${String.fromCharCode(type)} value is not valid UTF-8`;
        if (ok && type === 0x41 && (s.kind === 'text' || s.kind === 'any') && !printable(buf[p + 3]!)) return `tag ${s.name}:A value is not a printable character`;
        if (!ok) return `tag ${s.name} has type ${String.fromCharCode(type)}${type === 0x42 ? `:${String.fromCharCode(buf[p + 3]!)}` : ''}, not the ${typeText(s)} asked with --tag or found by --tags auto`;
      }
    }
    p = next;
  }
  return null;
}
