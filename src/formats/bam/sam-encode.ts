/**
 * SAM text lines → BAM records (runs in workers), so that SAM goes through the very decoder and
 * columns BAM does and gives the same rows as the BAM samtools makes of the same text. Encoded as
 * htslib's sam_parse1 does: integer tags in the smallest type that holds them, `f` as float32,
 * SEQ as 4-bit codes (unknown letters as N), QUAL `*` as 0xFF, a CIGAR of more than 65535
 * operations as the `<l_seq>S<ref_len>N` placeholder plus a CG:B:I tag.
 */
import type { RecordError } from '../../engine/plugin.js';

const TAB = 0x09;
const NL = 0x0a;
const CR = 0x0d;
const CIGAR_CODES = new Int8Array(256).fill(-1);
for (const [i, c] of [...'MIDNSHP=X'].entries()) CIGAR_CODES[c.charCodeAt(0)] = i;
const NT16 = new Uint8Array(256).fill(15);
for (const [i, c] of [...'=ACMGRSVTWYHKDBN'].entries()) {
  NT16[c.charCodeAt(0)] = i;
  NT16[c.toLowerCase().charCodeAt(0)] = i;
}

/** A growable little-endian byte buffer. */
class Out {
  buf = new Uint8Array(1 << 16);
  dv = new DataView(this.buf.buffer);
  len = 0;
  room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(2 * this.buf.length, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.room(1);
    this.buf[this.len++] = v;
  }
  i32(v: number): void {
    this.room(4);
    this.dv.setInt32(this.len, v, true);
    this.len += 4;
  }
  bytes(src: Uint8Array, from: number, to: number): void {
    this.room(to - from);
    this.buf.set(src.subarray(from, to), this.len);
    this.len += to - from;
  }
}

class SamError extends Error {}

const text = (b: Uint8Array, from: number, to: number): string => Buffer.from(b.buffer, b.byteOffset + from, to - from).toString('latin1');

function int(b: Uint8Array, from: number, to: number, what: string): number {
  const s = text(b, from, to);
  if (!/^[-+]?\d+$/.test(s)) throw new SamError(`${what} ${JSON.stringify(s)} is not an integer`);
  return Number(s);
}

/** reg2bin of the SAM/BAM specification (0-based [beg, end)). */
function reg2bin(beg: number, end: number): number {
  end -= 1;
  if (beg >> 14 === end >> 14) return ((1 << 15) - 1) / 7 + (beg >> 14);
  if (beg >> 17 === end >> 17) return ((1 << 12) - 1) / 7 + (beg >> 17);
  if (beg >> 20 === end >> 20) return ((1 << 9) - 1) / 7 + (beg >> 20);
  if (beg >> 23 === end >> 23) return ((1 << 6) - 1) / 7 + (beg >> 23);
  if (beg >> 26 === end >> 26) return ((1 << 3) - 1) / 7 + (beg >> 26);
  return 0;
}

/** The smallest integer type htslib stores `v` in, and its size. */
function intType(v: number): [number, number] {
  if (v < 0) {
    if (v >= -128) return [0x63, 1];
    if (v >= -32768) return [0x73, 2];
    if (v >= -2147483648) return [0x69, 4];
  } else {
    if (v <= 255) return [0x43, 1];
    if (v <= 65535) return [0x53, 2];
    if (v <= 4294967295) return [0x49, 4];
  }
  throw new SamError(`integer ${v} does not fit 32 bits`);
}

function putNumber(o: Out, type: number, v: number): void {
  o.room(4);
  switch (type) {
    case 0x63: o.dv.setInt8(o.len, v); o.len += 1; break;
    case 0x43: o.dv.setUint8(o.len, v); o.len += 1; break;
    case 0x73: o.dv.setInt16(o.len, v, true); o.len += 2; break;
    case 0x53: o.dv.setUint16(o.len, v, true); o.len += 2; break;
    case 0x69: o.dv.setInt32(o.len, v, true); o.len += 4; break;
    case 0x49: o.dv.setUint32(o.len, v, true); o.len += 4; break;
    default: o.dv.setFloat32(o.len, v, true); o.len += 4;
  }
}

const B_SIZES: Record<string, number> = { c: 1, C: 1, s: 2, S: 2, i: 4, I: 4, f: 4 };

/** One TAG:TYPE:VALUE field. */
function putTag(o: Out, b: Uint8Array, from: number, to: number): void {
  if (to - from < 5 || b[from + 2] !== 0x3a || b[from + 4] !== 0x3a) throw new SamError(`tag ${JSON.stringify(text(b, from, to))} is not TAG:TYPE:VALUE`);
  const type = b[from + 3]!;
  const v = from + 5;
  o.bytes(b, from, from + 2);
  switch (type) {
    case 0x41: // A
      if (to - v !== 1) throw new SamError(`tag ${text(b, from, from + 2)}:A needs one character`);
      o.u8(0x41);
      o.u8(b[v]!);
      return;
    case 0x69: { // i
      const n = int(b, v, to, `tag ${text(b, from, from + 2)}:i value`);
      const [t] = intType(n);
      o.u8(t);
      putNumber(o, t, n);
      return;
    }
    case 0x66: { // f
      const n = Number(text(b, v, to));
      if (Number.isNaN(n) && !/^[-+]?nan$/i.test(text(b, v, to))) throw new SamError(`tag ${text(b, from, from + 2)}:f value ${JSON.stringify(text(b, v, to))} is not a number`);
      o.u8(0x66);
      putNumber(o, 0x66, n);
      return;
    }
    case 0x5a: case 0x48: // Z H
      o.u8(type);
      o.bytes(b, v, to);
      o.u8(0);
      return;
    case 0x42: { // B
      const parts = text(b, v, to).split(',');
      const sub = parts[0]!;
      const size = B_SIZES[sub];
      if (sub.length !== 1 || size === undefined) throw new SamError(`tag ${text(b, from, from + 2)}:B has no valid subtype`);
      o.u8(0x42);
      o.u8(sub.charCodeAt(0));
      o.i32(parts.length - 1);
      for (const p of parts.slice(1)) putNumber(o, sub.charCodeAt(0), sub === 'f' ? Number(p) : Number.parseInt(p, 10));
      return;
    }
    default:
      throw new SamError(`tag ${text(b, from, from + 2)} has unknown type ${String.fromCharCode(type)}`);
  }
}

/** CIGAR text → operations (len << 4 | op); [] for `*`. */
function cigarOps(b: Uint8Array, from: number, to: number): number[] {
  if (to - from === 1 && b[from] === 0x2a) return [];
  const ops: number[] = [];
  let n = 0;
  let digits = 0;
  for (let i = from; i < to; i++) {
    const c = b[i]!;
    if (c >= 0x30 && c <= 0x39) {
      n = n * 10 + (c - 0x30);
      digits++;
      continue;
    }
    const op = CIGAR_CODES[c]!;
    if (op < 0 || digits === 0) throw new SamError(`CIGAR ${JSON.stringify(text(b, from, to))} is not valid`);
    ops.push(n * 16 + op);
    n = 0;
    digits = 0;
  }
  if (digits > 0) throw new SamError(`CIGAR ${JSON.stringify(text(b, from, to))} ends in a number`);
  return ops;
}

/** Encodes one SAM line (without its newline) as a BAM record appended to `o`. */
function encodeLine(o: Out, b: Uint8Array, from: number, to: number, refIds: ReadonlyMap<string, number>): void {
  const f: number[] = [from];
  for (let i = from; i < to; i++) if (b[i] === TAB) f.push(i + 1);
  if (f.length < 11) throw new SamError(`${f.length} fields, SAM needs at least 11`);
  const end = (k: number): number => (k + 1 < f.length ? f[k + 1]! - 1 : to);
  const field = (k: number): string => text(b, f[k]!, end(k));
  // An unknown name is `*`, as htslib's sam_parse1 reads it (samtools warns: "treated as unmapped").
  const refOf = (name: string): number => (name === '*' ? -1 : refIds.get(name) ?? -1);
  let flag = int(b, f[1]!, end(1), 'FLAG');
  let tid = refOf(field(2));
  const pos = int(b, f[3]!, end(3), 'POS') - 1;
  if (pos < 0 && tid >= 0) tid = -1;
  if (tid < 0) flag |= 4;
  const mapq = int(b, f[4]!, end(4), 'MAPQ');
  let ops = cigarOps(b, f[5]!, end(5));
  if (ops.length === 0) flag |= 4;
  const rnextText = field(6);
  let mtid = rnextText === '=' ? tid : refOf(rnextText);
  const pnext = int(b, f[7]!, end(7), 'PNEXT') - 1;
  if (pnext < 0 && mtid >= 0) mtid = -1;
  const tlen = int(b, f[8]!, end(8), 'TLEN');
  const seqStar = end(9) - f[9]! === 1 && b[f[9]!] === 0x2a;
  const lSeq = seqStar ? 0 : end(9) - f[9]!;
  const qualStar = end(10) - f[10]! === 1 && b[f[10]!] === 0x2a;
  if (!qualStar && end(10) - f[10]! !== lSeq) throw new SamError(`QUAL has ${end(10) - f[10]!} characters, SEQ ${lSeq}`);
  if (flag < 0 || flag > 0xffff || mapq < 0 || mapq > 255) throw new SamError('FLAG or MAPQ out of range');
  let rlen = 0;
  let qlen = 0;
  for (const op of ops) {
    if ((0x18d >> (op & 0xf)) & 1) rlen += Math.floor(op / 16);
    if ((0x193 >> (op & 0xf)) & 1) qlen += Math.floor(op / 16);
  }
  if (ops.length > 0 && lSeq > 0 && qlen !== lSeq) throw new SamError(`CIGAR and query sequence are of different length (${qlen} and ${lSeq})`);
  let cg: number[] | null = null;
  if (ops.length > 0xffff) {
    cg = ops;
    ops = [lSeq * 16 + 4, rlen * 16 + 3];
  }
  const nameLen = end(0) - f[0]!;
  if (nameLen < 1 || nameLen > 254) throw new SamError(`QNAME length ${nameLen} is not 1-254`);
  const start = o.len;
  o.i32(0); // block_size, set below
  o.i32(tid);
  o.i32(pos);
  o.u8(nameLen + 1);
  o.u8(mapq);
  o.room(2);
  o.dv.setUint16(o.len, reg2bin(pos, pos + (flag & 4 || rlen === 0 ? 1 : rlen)), true);
  o.len += 2;
  o.room(4);
  o.dv.setUint16(o.len, ops.length, true);
  o.dv.setUint16(o.len + 2, flag, true);
  o.len += 4;
  o.i32(lSeq);
  o.i32(mtid);
  o.i32(pnext);
  o.i32(tlen);
  o.bytes(b, f[0]!, end(0));
  o.u8(0);
  for (const op of ops) {
    o.room(4);
    o.dv.setUint32(o.len, op, true);
    o.len += 4;
  }
  o.room(lSeq + 1);
  for (let i = 0; i < lSeq; i += 2) {
    const hi = NT16[b[f[9]! + i]!]!;
    const lo = i + 1 < lSeq ? NT16[b[f[9]! + i + 1]!]! : 0;
    o.buf[o.len++] = (hi << 4) | lo;
  }
  o.room(lSeq);
  if (qualStar) o.buf.fill(0xff, o.len, o.len + lSeq);
  else {
    for (let i = 0; i < lSeq; i++) {
      const q = b[f[10]! + i]! - 33;
      if (q < 0 || q > 93) throw new SamError(`invalid QUAL character ${JSON.stringify(String.fromCharCode(q + 33))}`);
      o.buf[o.len + i] = q;
    }
  }
  o.len += lSeq;
  for (let k = 11; k < f.length; k++) putTag(o, b, f[k]!, end(k));
  if (cg) {
    o.bytes(Buffer.from('CGBI'), 0, 4);
    o.i32(cg.length);
    for (const op of cg) putNumber(o, 0x49, op);
  }
  o.dv.setInt32(start, o.len - start - 4, true);
}

/** BAM records of the SAM lines of a chunk, and where each came from. */
export interface SamEncoded {
  bam: Uint8Array;
  /** Per record: its byte offset in `bam`, and the 1-based line and byte offset in the chunk. */
  at: number[];
  lines: number[];
  offsets: number[];
  /** Lines that are not valid SAM records. */
  errors: RecordError[];
  /** Newlines in the chunk (for the engine's line numbers). */
  newlines: number;
}

/** Encodes every line of `bytes` (header lines, starting with `@`, and empty ones are skipped). */
export function encodeSam(bytes: Uint8Array, refIds: ReadonlyMap<string, number>): SamEncoded {
  const o = new Out();
  const r: SamEncoded = { bam: o.buf, at: [], lines: [], offsets: [], errors: [], newlines: 0 };
  let line = 0;
  for (let p = 0; p < bytes.length;) {
    let nl = bytes.indexOf(NL, p);
    if (nl < 0) nl = bytes.length;
    else r.newlines++;
    line++;
    let e = nl;
    if (e > p && bytes[e - 1] === CR) e--;
    if (e > p && bytes[p] !== 0x40) {
      const at = o.len;
      try {
        encodeLine(o, bytes, p, e, refIds);
        r.at.push(at);
        r.lines.push(line);
        r.offsets.push(p);
      } catch (err) {
        if (!(err instanceof SamError)) throw err;
        o.len = at;
        r.errors.push({ category: 'bad_record', reason: err.message, offset: p, line, text: text(bytes, p, Math.min(e, p + 200)) });
      }
    }
    p = nl + 1;
  }
  r.bam = o.buf.subarray(0, o.len);
  return r;
}
