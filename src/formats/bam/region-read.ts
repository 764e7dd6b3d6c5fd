/**
 * Worker side of region reads: inflate the BGZF blocks of a piece's segments, walk their records
 * from each segment's virtual offset, and copy the ones samtools view would print into one
 * buffer, which is then decoded or counted like any chunk (task.ts). The overlap test is htslib's
 * (hts_itr_next with bam_endpos): a record on the region's reference is kept when
 * `pos < end && pos + rlen > beg`, rlen being the reference length of its CIGAR (M D N = X), or 1
 * when that is 0 or the read is unmapped (so unmapped reads placed at a position, and records
 * without a CIGAR, count as one base long).
 */
import { blockSizeAt, inflateBlock, BgzfError } from '../../engine/bgzf.js';
import { RangeReader } from '../../engine/range-reader.js';
import { BamError } from './errors.js';
import { headerLength } from './header.js';
import { FIXED } from './framing.js';
import type { Interval, RegionPiece, RegionSegment } from './region-plan.js';

/** One piece: which file, and for an open segment how many compressed bytes a slice may read. */
export interface RegionArg { input: string; path: string; size: number; piece: RegionPiece; sliceBytes: number }

/** The selected records, back to back, and where each came from (for error messages). */
export interface RegionBytes {
  bytes: Uint8Array;
  /** Records copied (those passing the region test). */
  records: number;
  /** The virtual offset of the record at byte `at` of `bytes` (a record start). */
  locate(at: number): { block: number; within: number };
  /** Open segment cut short: where the next slice starts; null when the piece is done. */
  next: bigint | null;
  /** Compressed bytes read (progress). */
  compressed: number;
  /** With `next`: the slice stopped while still skipping placed records (samtools view -M's `*`). */
  skipPlaced: boolean;
}

const MAX_BLOCK = 65536;

/** Decompressed bytes of consecutive blocks from `start`, grown by inflating the next block. */
export class BlockWindow {
  private readonly reader: RangeReader;
  buf: Uint8Array = pooledWindow;
  length = 0;
  /** Compressed start and window offset of every block inflated. */
  readonly at: number[] = [];
  readonly offset: number[] = [];
  pos: number;
  constructor(private readonly input: string, path: string, private readonly size: number, readonly start: number) {
    // One block to start with: a small region reads one or two blocks, and many regions make many windows.
    this.reader = new RangeReader(path, start, start + MAX_BLOCK, size);
    this.pos = start;
  }

  get eof(): boolean {
    return this.pos >= this.size;
  }

  /** Inflates the next block; false at the end of the file. */
  more(): boolean {
    if (this.pos >= this.size) return false;
    const r = this.reader;
    if (this.pos + 18 > r.base + r.buf.length) r.extendTo(this.pos + 4 * MAX_BLOCK);
    const size = blockSizeAt(r.buf, this.pos - r.base);
    if (size < 0) throw new BgzfError(this.pos + 18 > this.size ? 'BGZF_TRUNCATED' : 'BGZF_CORRUPT', `${this.input}: no complete BGZF block at compressed offset ${this.pos}`, this.pos);
    if (this.pos + size > r.base + r.buf.length) r.extendTo(this.pos + size + 4 * MAX_BLOCK);
    if (this.length + MAX_BLOCK + 1 > this.buf.length) {
      const next = new Uint8Array(Math.max(2 * this.buf.length, this.length + MAX_BLOCK + 1));
      next.set(this.buf.subarray(0, this.length));
      this.buf = pooledWindow = next;
    }
    this.at.push(this.pos);
    this.offset.push(this.length);
    this.length += inflateBlock(r.buf, this.pos - r.base, r.base, this.buf.subarray(this.length)).length;
    this.pos += size;
    return true;
  }

  /** Inflates until `n` bytes are in the window; false when the file ends first. */
  fill(n: number): boolean {
    while (this.length < n) if (!this.more()) return false;
    return true;
  }

  /** Window offset of virtual offset `v` (inflating up to its block). */
  offsetOf(v: bigint): number {
    const block = Number(v >> 16n);
    const within = Number(v & 0xffffn);
    if (block >= this.size) {
      // The end of the file (a chunk that runs to the last record of a file without EOF block).
      while (this.more()) { /* to the end */ }
      return this.length;
    }
    while (this.pos <= block) if (!this.more()) break;
    const i = this.at.lastIndexOf(block);
    const blockEnd = i >= 0 ? (this.offset[i + 1] ?? this.length) : -1;
    if (i < 0 || this.offset[i]! + within > blockEnd) throw new BamError('BAM_BAD_INDEX', `${this.input}: the index points to virtual offset ${block}:${within}, which is not in the file's BGZF blocks (index out of date?)`);
    return this.offset[i]! + within;
  }

  /** The virtual offset of window offset `p`. */
  locate(p: number): { block: number; within: number } {
    let lo = 0;
    let hi = this.at.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.offset[mid]! <= p) lo = mid;
      else hi = mid - 1;
    }
    return { block: this.at[lo] ?? this.start, within: p - (this.offset[lo] ?? 0) };
  }
}

let pooledWindow = new Uint8Array(1 << 20);
let pooledOut = new Uint8Array(1 << 20);

/** Reference length of the record at `r` (its block_size field skipped), as bam_endpos counts it. */
function refLength(dv: DataView, r: number, flag: number): number {
  if (flag & 4) return 1;
  const nCigar = dv.getUint16(r + 12, true);
  let at = r + FIXED + dv.getUint8(r + 8);
  let len = 0;
  for (let i = 0; i < nCigar; i++, at += 4) {
    const op = dv.getUint32(at, true);
    // M D N = X consume the reference (bam_cigar_type & 2).
    if ((0x18d >> (op & 0xf)) & 1) len += op >>> 4;
  }
  return len === 0 ? 1 : len;
}

function overlaps(test: Interval[], tid: number, pos: number, end: number): boolean {
  for (const iv of test) if (iv.tid === tid && pos < iv.end && end > iv.beg) return true;
  return false;
}

/** Reads one piece's segments; records kept are copied into one buffer. */
export function readRegionPiece(arg: RegionArg): RegionBytes {
  let out = pooledOut;
  let len = 0;
  const outAt: number[] = [];
  const blocks: number[] = [];
  const withins: number[] = [];
  let next: bigint | null = null;
  let skipPlaced = false;
  let compressed = 0;
  const copy = (src: Uint8Array, from: number, to: number, where: { block: number; within: number }): void => {
    if (len + (to - from) > out.length) {
      const bigger = new Uint8Array(Math.max(2 * out.length, len + (to - from)));
      bigger.set(out.subarray(0, len));
      out = pooledOut = bigger;
    }
    out.set(src.subarray(from, to), len);
    outAt.push(len);
    blocks.push(where.block);
    withins.push(where.within);
    len += to - from;
  };
  for (const seg of arg.piece.segments) {
    const r = readSegment(arg, seg, copy);
    compressed += r.compressed;
    next = r.next;
    skipPlaced = r.skipPlaced;
  }
  return {
    bytes: out.subarray(0, len),
    records: outAt.length,
    next,
    skipPlaced,
    compressed,
    locate(at) {
      let lo = 0;
      let hi = outAt.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (outAt[mid]! <= at) lo = mid;
        else hi = mid - 1;
      }
      return { block: blocks[lo] ?? 0, within: (withins[lo] ?? 0) + (at - (outAt[lo] ?? 0)) };
    },
  };
}

type Copy = (src: Uint8Array, from: number, to: number, where: { block: number; within: number }) => void;

function readSegment(arg: RegionArg, seg: RegionSegment, copy: Copy): { compressed: number; next: bigint | null; skipPlaced: boolean } {
  const start = seg.beg < 0n ? 0 : Number(seg.beg >> 16n);
  const w = new BlockWindow(arg.input, arg.path, arg.size, start);
  let p: number;
  if (seg.beg < 0n) {
    // "After the header": inflate until the header is whole.
    for (;;) {
      const h = headerLength(w.buf.subarray(0, w.length));
      if (h >= 0) {
        p = h;
        break;
      }
      if (!w.more()) throw new BamError('BAM_BAD_HEADER', `${arg.input}: BAM header is cut short`);
    }
  } else p = w.offsetOf(seg.beg);
  const endBlock = seg.end === null ? -1 : Number(seg.end >> 16n);
  let end = Infinity;
  const endKnown = (): void => {
    if (seg.end !== null && end === Infinity && (w.pos > endBlock || w.eof)) end = w.offsetOf(seg.end);
  };
  let placedDone = !seg.skipPlaced;
  let view = new DataView(w.buf.buffer, w.buf.byteOffset, w.buf.byteLength);
  const first = p;
  // Counted from the first block's end: a slice inflates its first block again (it started inside it).
  const counted = w.pos;
  for (;;) {
    endKnown();
    if (p >= end) break;
    // A slice ends past sliceBytes, after one record at least (so each slice moves on).
    if (seg.end === null && p > first && w.pos - counted >= arg.sliceBytes && p < w.length) {
      const at = w.locate(p);
      return { compressed: w.pos - start, next: (BigInt(at.block) << 16n) | BigInt(at.within), skipPlaced: !placedDone };
    }
    if (!w.fill(p + 4)) {
      // Only an end of file exactly at a record start is clean; bytes short of a length are cut.
      if (p < w.length) copy(w.buf, p, w.length, w.locate(p));
      break;
    }
    const b = w.buf;
    const total = 4 + (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
    if (!w.fill(p + total)) {
      copy(w.buf, p, w.length, w.locate(p));
      break;
    }
    endKnown();
    if (p >= end) break;
    // One view per window buffer (it changes only when the window grows).
    if (view.buffer !== w.buf.buffer) view = new DataView(w.buf.buffer, w.buf.byteOffset, w.buf.byteLength);
    if (total < 4 + FIXED) {
      // Not a record: decode reports it with its location.
      copy(w.buf, p, p + total, w.locate(p));
      break;
    }
    const r = p + 4;
    const tid = view.getInt32(r, true);
    if (!placedDone && tid >= 0) {
      p += total;
      continue;
    }
    placedDone = true;
    let keep = seg.test === null;
    if (!keep) {
      const flag = view.getUint16(r + 14, true);
      const cigarEnd = r + FIXED + view.getUint8(r + 8) + 4 * view.getUint16(r + 12, true);
      // A record whose CIGAR does not fit is kept so that decoding reports it.
      if (cigarEnd > p + total) keep = true;
      else {
        const pos = view.getInt32(r + 4, true);
        keep = overlaps(seg.test!, tid, pos, pos + refLength(view, r, flag));
      }
    }
    if (keep) copy(w.buf, p, p + total, w.locate(p));
    p += total;
  }
  return { compressed: Math.max(0, w.pos - start), next: null, skipPlaced: false };
}
