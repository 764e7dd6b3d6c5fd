/**
 * BAM indexes (.bai, and .csi as `samtools index -c` writes it) and the chunks of the file a
 * region reads, computed exactly as htslib's hts_itr_query does (hts.c): the same bins, the same
 * lower bound from the linear index (or the bins' loffset for CSI), the same upper bound from the
 * next bin to the right, and the same sorting and merging of chunks. With the same chunks and
 * samtools' overlap test (region-read.ts), a region selects the records `samtools view` prints.
 *
 * Virtual offsets are bigints (compressed offset << 16 | offset in the block): a compressed
 * offset past 2^37 bytes (128 GiB) does not fit a double once shifted.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { BamError } from './errors.js';

/** A range of records: those whose first byte's virtual offset lies in [u, v). */
export interface VChunk { u: bigint; v: bigint }

interface Bin { loff: bigint; chunks: VChunk[] }

interface RefIndex { bins: Map<number, Bin>; /** BAI's linear index, already filled as htslib does; null for CSI. */ lidx: bigint[] | null }

export interface BamIndex {
  kind: 'bai' | 'csi';
  path: string;
  minShift: number;
  levels: number;
  nRef: number;
  /** Unplaced records counted by the index (0 when absent). */
  nNoCoor: bigint;
  /** The parsed index of reference `tid` (parsed on first use). */
  ref(tid: number): RefIndex;
}

/** 2^p as a number (JS shifts are 32-bit). */
const pow2 = (p: number): number => 2 ** p;
const shr = (x: number, s: number): number => Math.floor(x / pow2(s));

export const binParent = (b: number): number => (b - 1) >> 3;
export const binFirst = (level: number): number => (pow2(3 * level) - 1) / 7;
function binLevel(bin: number): number {
  let l = 0;
  for (let b = bin; b; b = binParent(b)) l++;
  return l;
}
/** First linear-index window of a bin (hts_bin_bot). */
function binBottom(bin: number, levels: number): number {
  const l = binLevel(bin);
  return (bin - binFirst(l)) * pow2((levels - l) * 3);
}

/** htslib's n_bins; the pseudo-bin holding a reference's offsets and counts is n_bins + 1. */
const binCount = (levels: number): number => (pow2(3 * levels + 3) - 1) / 7;
export const metaBin = (levels: number): number => binCount(levels) + 1;
/** One past the largest position the index can hold (hts_idx_maxpos). */
export const maxPos = (idx: BamIndex): number => pow2(idx.minShift + 3 * idx.levels);

class Reader {
  private readonly dv: DataView;
  p = 0;
  constructor(readonly buf: Uint8Array, private readonly path: string) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  need(n: number): void {
    if (this.p + n > this.buf.length) throw new BamError('BAM_BAD_INDEX', `${this.path}: index is cut short at byte ${this.p} (needs ${n} more)`);
  }
  i32(): number {
    this.need(4);
    const v = this.dv.getInt32(this.p, true);
    this.p += 4;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.dv.getUint32(this.p, true);
    this.p += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.dv.getBigUint64(this.p, true);
    this.p += 8;
    return v;
  }
  count(what: string): number {
    const n = this.i32();
    if (n < 0) throw new BamError('BAM_BAD_INDEX', `${this.path}: negative ${what} count ${n} at byte ${this.p - 4}`);
    return n;
  }
  skip(n: number): void {
    this.need(n);
    this.p += n;
  }
}

/** Reads a .bai or .csi file (the kind from its magic bytes; a .csi is BGZF-compressed). */
export function readBamIndex(path: string): BamIndex {
  let raw: Uint8Array = readFileSync(path);
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = gunzipSync(raw);
    } catch (e) {
      throw new BamError('BAM_BAD_INDEX', `${path}: the compressed index cannot be read: ${(e as Error).message}`);
    }
  }
  const magic = Buffer.from(raw.subarray(0, 4)).toString('latin1');
  if (magic !== 'BAI\x01' && magic !== 'CSI\x01') throw new BamError('BAM_BAD_INDEX', `${path}: not a BAM index (.bai or .csi): it starts with ${JSON.stringify(magic)}`);
  const csi = magic === 'CSI\x01';
  const r = new Reader(raw, path);
  r.p = 4;
  let minShift = 14;
  let levels = 5;
  if (csi) {
    minShift = r.i32();
    levels = r.i32();
    r.skip(r.count('aux byte'));
    if (minShift < 1 || minShift > 32 || levels < 1 || levels > 10) throw new BamError('BAM_BAD_INDEX', `${path}: unsupported CSI geometry (min_shift ${minShift}, depth ${levels})`);
  }
  const nRef = r.count('reference');
  // One pass to find where each reference starts; references are parsed when a region asks.
  const starts: number[] = [];
  for (let t = 0; t < nRef; t++) {
    starts.push(r.p);
    const nBin = r.count('bin');
    for (let b = 0; b < nBin; b++) {
      r.skip(csi ? 12 : 4);
      r.skip(16 * r.count('chunk'));
    }
    if (!csi) r.skip(8 * r.count('linear index'));
  }
  const nNoCoor = r.p + 8 <= raw.length ? r.u64() : 0n;
  const parsed = new Map<number, RefIndex>();
  return {
    kind: csi ? 'csi' : 'bai', path, minShift, levels, nRef, nNoCoor,
    ref(tid) {
      let ref = parsed.get(tid);
      if (!ref) {
        r.p = starts[tid]!;
        ref = parseRef(r, csi, levels);
        parsed.set(tid, ref);
      }
      return ref;
    },
  };
}

function parseRef(r: Reader, csi: boolean, levels: number): RefIndex {
  const bins = new Map<number, Bin>();
  const nBin = r.count('bin');
  for (let b = 0; b < nBin; b++) {
    const bin = r.u32();
    const loff = csi ? r.u64() : 0n;
    const chunks: VChunk[] = [];
    for (let c = r.count('chunk'); c > 0; c--) chunks.push({ u: r.u64(), v: r.u64() });
    bins.set(bin, { loff, chunks });
  }
  if (csi) return { bins, lidx: null };
  const lidx: bigint[] = [];
  for (let n = r.count('linear index'); n > 0; n--) lidx.push(r.u64());
  // htslib's idx_read_core: zero entries after the first non-zero one take the next value.
  let k = 0;
  while (k < lidx.length && lidx[k] === 0n) k++;
  for (let j = lidx.length - 1; j > k; j--) if (lidx[j - 1] === 0n) lidx[j - 1] = lidx[j]!;
  // update_loff: a BAI bin's loffset is the linear index at its first window.
  const n = binCount(levels);
  for (const [key, bin] of bins) {
    const bot = key < n ? binBottom(key, levels) : -1;
    bin.loff = bot >= 0 && bot < lidx.length ? lidx[bot]! : 0n;
  }
  return { bins, lidx };
}

/** The bins present in the index that overlap [beg, end) (reg2bins). */
function regionBins(idx: BamIndex, bins: Map<number, Bin>, beg: number, end: number): number[] {
  let s = idx.minShift + 3 * idx.levels;
  if (end >= pow2(s)) end = pow2(s);
  if (beg >= end) return [];
  const last = end - 1;
  const found: number[] = [];
  for (let l = 0, t = 0; l <= idx.levels; s -= 3, t += pow2(3 * l), l++) {
    const b = t + shr(beg, s);
    const e = t + shr(last, s);
    if (e - b + 1 > bins.size) {
      for (const key of bins.keys()) if (key >= b && key <= e) found.push(key);
    } else {
      for (let i = b; i <= e; i++) if (bins.has(i)) found.push(i);
    }
  }
  return found;
}

const U64_MAX = (1n << 64n) - 1n;

/** The smallest virtual offset a record overlapping `beg` can have (hts_itr_query's min_off). */
function minOffset(idx: BamIndex, ref: RefIndex, beg: number, unmapped: boolean): bigint {
  const rel = shr(beg, idx.minShift);
  let bin = binFirst(idx.levels) + rel;
  do {
    if (ref.bins.has(bin)) break;
    const first = (binParent(bin) << 3) + 1;
    if (bin > first) bin--;
    else bin = binParent(bin);
  } while (bin);
  const found = ref.bins.get(bin);
  let min = found ? found.loff : 0n;
  if (ref.lidx && rel < ref.lidx.length) {
    if (min < ref.lidx[rel]!) min = ref.lidx[rel]!;
    if (unmapped) {
      // Unmapped placed reads are not in the linear index: search back for a smaller offset.
      let t = rel - 1;
      for (; t >= 0; t--) {
        if (ref.lidx[t]! < min) {
          min = ref.lidx[t]!;
          break;
        }
      }
      if (found && (min < found.loff || t < 0)) min = found.loff;
    }
  } else if (unmapped && found) min = found.loff;
  return min;
}

/** A virtual offset no record overlapping [.., end) starts at or after (max_off). */
function maxOffset(idx: BamIndex, ref: RefIndex, end: number): bigint {
  if (end > maxPos(idx)) return U64_MAX;
  let bin = binFirst(idx.levels) + shr(end - 1, idx.minShift) + 1;
  if (bin >= binCount(idx.levels)) bin = 0;
  for (;;) {
    while (bin % 8 === 1) bin = binParent(bin);
    if (bin === 0) return U64_MAX;
    const b = ref.bins.get(bin);
    if (b && b.chunks.length > 0) return b.chunks[0]!.u;
    bin++;
  }
}

/** Sorts chunks and resolves containment, overlaps and same-block neighbours as htslib does. */
export function mergeChunks(list: VChunk[]): VChunk[] {
  if (list.length === 0) return [];
  const off = list.map((c) => ({ ...c })).sort((a, b) => (a.u < b.u ? -1 : a.u > b.u ? 1 : a.v < b.v ? -1 : a.v > b.v ? 1 : 0));
  let l = 0;
  for (let i = 1; i < off.length; i++) if (off[l]!.v < off[i]!.v) off[++l] = off[i]!;
  off.length = l + 1;
  for (let i = 1; i < off.length; i++) if (off[i - 1]!.v >= off[i]!.u) off[i - 1]!.v = off[i]!.u;
  l = 0;
  for (let i = 1; i < off.length; i++) {
    if (off[l]!.v >> 16n === off[i]!.u >> 16n) off[l]!.v = off[i]!.v;
    else off[++l] = off[i]!;
  }
  off.length = l + 1;
  return off;
}

/**
 * The chunks hts_itr_query reads for reference `tid`, 0-based [beg, end), before merging (the
 * caller merges one region's chunks, or all regions' with -M). Empty when nothing can overlap.
 */
export function regionChunks(idx: BamIndex, tid: number, beg: number, end: number): VChunk[] {
  if (tid >= idx.nRef) return [];
  const ref = idx.ref(tid);
  if (ref.bins.size === 0) return [];
  if (beg < 0) beg = 0;
  if (beg >= maxPos(idx)) return [];
  const meta = ref.bins.get(metaBin(idx.levels));
  const unmapped = meta ? meta.chunks[1] !== undefined && meta.chunks[1].v !== 0n : true;
  const min = minOffset(idx, ref, beg, unmapped);
  const max = maxOffset(idx, ref, end);
  const out: VChunk[] = [];
  for (const key of regionBins(idx, ref.bins, beg, end)) {
    for (const c of ref.bins.get(key)!.chunks) {
      if (c.v > min && c.u < max) out.push({ u: min > c.u ? min : c.u, v: max < c.v ? max : c.v });
    }
  }
  return out;
}

/**
 * Where the unplaced records (`*`) start: the end of the last placed reference's records; null
 * when the index knows of none. 0n means "right after the header" (only unplaced records).
 */
export function noCoorOffset(idx: BamIndex): bigint | null {
  let off: bigint | null = null;
  for (let t = 0; t < idx.nRef; t++) {
    const meta = idx.ref(t).bins.get(metaBin(idx.levels));
    if (meta?.chunks[0] && (off === null || off < meta.chunks[0].v)) off = meta.chunks[0].v;
  }
  if (off === null && idx.nNoCoor > 0n) off = 0n;
  return off;
}

/** Where the first record is (`.`): the smallest reference start; 0n "after the header". */
export function firstOffset(idx: BamIndex): bigint | null {
  let off: bigint | null = null;
  for (let t = 0; t < idx.nRef; t++) {
    const meta = idx.ref(t).bins.get(metaBin(idx.levels));
    if (meta?.chunks[0] && (off === null || off > meta.chunks[0].u)) off = meta.chunks[0].u;
  }
  if (off === null && idx.nNoCoor > 0n) off = 0n;
  return off;
}

/**
 * Virtual offsets known to be record starts on reference `tid` (every chunk start and the linear
 * index or bins' loffsets), sorted: a long range of records can be cut there into pieces that
 * workers read in parallel, each starting exactly on a record.
 */
export function recordStarts(idx: BamIndex, tid: number): bigint[] {
  const ref = idx.ref(tid);
  const meta = metaBin(idx.levels);
  const set = new Set<bigint>();
  for (const [key, bin] of ref.bins) {
    if (key === meta) continue;
    if (bin.loff > 0n) set.add(bin.loff);
    for (const c of bin.chunks) set.add(c.u);
  }
  for (const o of ref.lidx ?? []) if (o > 0n) set.add(o);
  return [...set].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
