/**
 * The worker half of the map-reduce: a chunk's lines folded into per-directory partial aggregates.
 *
 * Directories are keyed by their full path bytes in a chunk-local open-addressing table (no string
 * per line). Every key's ancestors are keyed too, parents before children, so the main thread can
 * merge a partial top-down by (parent, name) without ever seeing a path again (merge.ts). Each
 * directory carries: files directly in it, their allocated bytes, child-directory lines, newest
 * access, and the single-owner / single-group state (-1 none yet, -2 several, else the id), and
 * whether the directory had a line of its own. Per-uid histograms ride along.
 *
 * Sums are doubles: a chunk is a few MiB (≈ 30k lines) and a size is at most 1 PiB (parse.ts), so
 * a sum leaves the exact range (2^53) only for absurd inputs — and then the run fails loudly
 * (FSSCAN_SUM_OVERFLOW) rather than round. The main thread sums in BigInt.
 */
import { isUtf8 } from 'node:buffer';
import { ThreadmillError } from '../../engine/errors.js';
import { LINE_ERROR, LINE_MESSAGE, newRec, parseLine, type ScanFormat } from './parse.js';
import { atimeBucket, HIST_WIDTH, sizeBucket } from './buckets.js';

export const NONE = -1;
export const MANY = -2;

/** A chunk's directories, ready to transfer (every array has `count` entries). */
export interface DirPartial {
  count: number;
  /** Local index of the parent directory, -1 for a top-level directory (`/x`). */
  parent: Int32Array;
  /** The directory's own name is keys[nameStart[i], nameEnd[i]). */
  nameStart: Int32Array;
  nameEnd: Int32Array;
  keys: Uint8Array;
  files: Float64Array;
  size: Float64Array;
  dirLines: Float64Array;
  atime: Float64Array;
  uid: Float64Array;
  gid: Float64Array;
  own: Uint8Array;
  /** Histograms: uid i is histUids[i], its HIST_WIDTH numbers at hist[i * HIST_WIDTH]. */
  histUids: Float64Array;
  hist: Float64Array;
  messages: number;
  /** Bit k set: a record of SCAN_FORMATS[k] was read. */
  formats: number;
}

export interface AggregateOptions {
  /** Forced format; null reads each line in the format its first bytes name. */
  format: ScanFormat | null;
  /** Scan date (naive seconds) for the access-age histogram; null puts every file in the last bucket. */
  scanDate: number | null;
  unescapePercent: boolean;
}

export interface ChunkError { line: number; offset: number; reason: string; text: string }

function grow<T extends Float64Array | Int32Array | Uint8Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

/** Chunk-local table of directories keyed by full path bytes. */
class LocalDirs {
  count = 0;
  private slots = new Int32Array(1 << 12);
  private mask = (1 << 12) - 1;
  private hashes = new Int32Array(256);
  keyStart = new Int32Array(256);
  keyEnd = new Int32Array(256);
  nameStart = new Int32Array(256);
  parent = new Int32Array(256);
  keys = new Uint8Array(1 << 16);
  keyUsed = 0;
  files = new Float64Array(256);
  size = new Float64Array(256);
  dirLines = new Float64Array(256);
  atime = new Float64Array(256);
  uid = new Float64Array(256);
  gid = new Float64Array(256);
  own = new Uint8Array(256);

  /** Index of the directory b[s, e) (hash h), inserting it and its missing ancestors. */
  get(b: Uint8Array, s: number, e: number, h: number): number {
    const len = e - s;
    for (let at = h & this.mask; ; at = (at + 1) & this.mask) {
      const id = this.slots[at]! - 1;
      if (id < 0) return this.insert(b, s, e, h, at);
      if (this.hashes[id] !== h || this.keyEnd[id]! - this.keyStart[id]! !== len) continue;
      const k = this.keyStart[id]!;
      let i = 0;
      while (i < len && this.keys[k + i] === b[s + i]) i++;
      if (i === len) return id;
    }
  }

  private insert(b: Uint8Array, s: number, e: number, h: number, at: number): number {
    const slash = b.lastIndexOf(0x2f, e - 1);
    // Parent first: indexes come out parents before children, which merge.ts relies on.
    const parent = slash > s ? this.get(b, s, slash, hashBytes(b, s, slash)) : -1;
    if (parent >= 0) at = this.freeSlot(h); // inserting the parent may have taken the slot or rehashed
    const id = this.count++;
    if (id === this.parent.length) this.growRows();
    const len = e - s;
    if (this.keyUsed + len > this.keys.length) this.keys = grow(this.keys, Math.max(this.keys.length * 2, this.keyUsed + len));
    this.keys.set(b.subarray(s, e), this.keyUsed);
    this.keyStart[id] = this.keyUsed;
    this.keyEnd[id] = this.keyUsed + len;
    this.nameStart[id] = this.keyUsed + (slash - s) + 1;
    this.keyUsed += len;
    this.hashes[id] = h;
    this.parent[id] = parent;
    this.atime[id] = -Infinity;
    this.uid[id] = NONE;
    this.gid[id] = NONE;
    this.slots[at] = id + 1;
    if (this.count * 2 > this.slots.length) this.rehash();
    return id;
  }

  private freeSlot(h: number): number {
    let at = h & this.mask;
    while (this.slots[at] !== 0) at = (at + 1) & this.mask;
    return at;
  }

  private growRows(): void {
    const n = this.parent.length * 2;
    this.hashes = grow(this.hashes, n); this.keyStart = grow(this.keyStart, n); this.keyEnd = grow(this.keyEnd, n);
    this.nameStart = grow(this.nameStart, n); this.parent = grow(this.parent, n); this.files = grow(this.files, n);
    this.size = grow(this.size, n); this.dirLines = grow(this.dirLines, n); this.atime = grow(this.atime, n);
    this.uid = grow(this.uid, n); this.gid = grow(this.gid, n); this.own = grow(this.own, n);
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    this.mask = this.slots.length - 1;
    for (let id = 0; id < this.count; id++) this.slots[this.freeSlot(this.hashes[id]!)] = id + 1;
  }
}

/** FNV-1a over b[s, e). */
export function hashBytes(b: Uint8Array, s: number, e: number): number {
  let h = 0x811c9dc5;
  for (let i = s; i < e; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h;
}

function unescapePercent(b: Uint8Array, s: number, e: number): Uint8Array {
  const out = new Uint8Array(e - s);
  let n = 0;
  const hex = (c: number): number => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 55 : c >= 0x61 && c <= 0x66 ? c - 87 : -1);
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    const hi = c === 0x25 && i + 2 < e ? hex(b[i + 1]!) : -1;
    const lo = hi >= 0 ? hex(b[i + 2]!) : -1;
    if (lo >= 0) { out[n++] = hi * 16 + lo; i += 2; } else out[n++] = c;
  }
  return out.subarray(0, n);
}

const lossy = new TextDecoder('utf-8');
const encoder = new TextEncoder();

function lastSlash(b: Uint8Array, s: number, e: number): number {
  let i = e - 1;
  while (i >= s && b[i] !== 0x2f) i--;
  return i;
}

/** Compares from the end: sibling directories differ last. */
function sameBytes(b: Uint8Array, x: number, y: number, n: number): boolean {
  for (let i = n - 1; i >= 0; i--) if (b[x + i] !== b[y + i]) return false;
  return true;
}

/** Any byte ≥ 0x80 (maybe invalid UTF-8), or a `%` to decode. */
function needsNormalizing(b: Uint8Array, s: number, e: number, percent: boolean): boolean {
  let high = 0;
  if (percent) {
    for (let i = s; i < e; i++) {
      const c = b[i]!;
      high |= c;
      if (c === 0x25) return true;
    }
  } else for (let i = s; i < e; i++) high |= b[i]!;
  return (high & 0x80) !== 0;
}

/** A path as fs-scans keys it: %XX decoded when asked, invalid UTF-8 replaced by U+FFFD (its errors="replace"). */
function normalizedPath(b: Uint8Array, s: number, e: number, opts: AggregateOptions): Uint8Array | null {
  let high = 0;
  let percent = false;
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    high |= c;
    if (c === 0x25) percent = true;
  }
  if (!(high & 0x80) && !(percent && opts.unescapePercent)) return null;
  const p = percent && opts.unescapePercent ? unescapePercent(b, s, e) : b.subarray(s, e);
  return isUtf8(p) ? (p.buffer === b.buffer ? null : p) : encoder.encode(lossy.decode(p));
}

class Histograms {
  readonly byUid = new Map<number, Float64Array>();
  private lastUid = -1;
  private last: Float64Array | null = null;
  add(uid: number, ageBucket: number, sizeBucketIndex: number, alloc: number): void {
    let h = this.last;
    if (uid !== this.lastUid || h === null) {
      h = this.byUid.get(uid) ?? null;
      if (h === null) this.byUid.set(uid, (h = new Float64Array(HIST_WIDTH)));
      this.lastUid = uid;
      this.last = h;
    }
    h[ageBucket] = h[ageBucket]! + 1;
    h[10 + ageBucket] = h[10 + ageBucket]! + alloc;
    h[20 + sizeBucketIndex] = h[20 + sizeBucketIndex]! + 1;
    h[30 + sizeBucketIndex] = h[30 + sizeBucketIndex]! + alloc;
  }
}

/** The directory b[s, e) as fs-scans keys it (normalized only when it has a high byte or a `%`). */
function directoryOf(dirs: LocalDirs, b: Uint8Array, s: number, e: number, opts: AggregateOptions): number {
  const fixed = needsNormalizing(b, s, e, opts.unescapePercent) ? normalizedPath(b, s, e, opts) : null;
  return fixed === null ? dirs.get(b, s, e, hashBytes(b, s, e)) : dirs.get(fixed, 0, fixed.length, hashBytes(fixed, 0, fixed.length));
}

/** A directory's own line: it exists, and it is one more subdirectory of its parent. */
function addDirectoryLine(dirs: LocalDirs, b: Uint8Array, ps: number, pe: number, opts: AggregateOptions): void {
  let pb = b, s = ps, e = pe;
  const fixed = needsNormalizing(b, ps, pe, opts.unescapePercent) ? normalizedPath(b, ps, pe, opts) : null;
  if (fixed !== null) { pb = fixed; s = 0; e = fixed.length; }
  const slash = lastSlash(pb, s, e);
  if (slash > s) {
    const p = dirs.get(pb, s, slash, hashBytes(pb, s, slash));
    dirs.dirLines[p] = dirs.dirLines[p]! + 1;
  }
  const id = dirs.get(pb, s, e, hashBytes(pb, s, e)); // first: get() may replace dirs.own when it grows
  dirs.own[id] = 1;
}

function overflow(): never {
  throw new ThreadmillError('FSSCAN_SUM_OVERFLOW', 'the allocated bytes of one directory within one chunk exceed 2^53; rerun with a smaller --chunk-size');
}

/** Folds one chunk's lines (whole lines; the last may lack its newline) into a partial. */
export function aggregateChunk(bytes: Uint8Array, opts: AggregateOptions): { partial: DirPartial; errors: ChunkError[]; lines: number; records: number } {
  // Buffer#indexOf is node's memchr; Uint8Array#indexOf is a plain element loop (measured: the
  // newline search alone took ~40% of the chunk time with the latter).
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dirs = new LocalDirs();
  const hist = new Histograms();
  const r = newRec();
  const errors: ChunkError[] = [];
  let messages = 0, formats = 0, lines = 0, records = 0;
  let prevStart = 0, prevEnd = 0, prevDir = -1;
  for (let s = 0; s < b.length;) {
    let nl = b.indexOf(0x0a, s);
    const next = nl < 0 ? b.length : nl + 1;
    if (nl < 0) nl = b.length; else lines++;
    const e = nl > s && b[nl - 1] === 0x0d ? nl - 1 : nl;
    const kind = parseLine(b, s, e, opts.format, r);
    if (kind === LINE_MESSAGE) { messages++; s = next; continue; }
    records++;
    if (kind === LINE_ERROR) { errors.push({ line: lines + (nl < b.length ? 0 : 1), offset: s, reason: r.reason, text: lossy.decode(b.subarray(s, Math.min(e, s + 1000))) }); s = next; continue; }
    const ps = r.pathStart, pe = r.pathEnd;
    const slash = lastSlash(b, ps, pe);
    if ((slash <= ps && !r.isDir) || pe - ps > 0xffff) {
      const reason = pe - ps > 0xffff ? 'a path longer than 64 KiB' : 'a file directly in / (fs-scans has no row for /)';
      errors.push({ line: lines + (nl < b.length ? 0 : 1), offset: s, reason, text: lossy.decode(b.subarray(s, Math.min(e, s + 1000))) });
      s = next;
      continue;
    }
    formats |= 1 << r.format;
    if (r.isDir) {
      addDirectoryLine(dirs, b, ps, pe, opts);
      s = next;
      continue;
    }
    // Consecutive lines are often in one directory (inode order follows creation): compare with
    // the previous line's parent before hashing (the hash + probe was ~25% of a line's cost).
    let k: number;
    if (prevDir >= 0 && slash - ps === prevEnd - prevStart && sameBytes(b, ps, prevStart, slash - ps)) k = prevDir;
    else {
      k = directoryOf(dirs, b, ps, slash, opts);
      prevStart = ps; prevEnd = slash; prevDir = k;
    }
    dirs.files[k] = dirs.files[k]! + 1;
    const sum = dirs.size[k]! + r.alloc;
    if (sum > Number.MAX_SAFE_INTEGER) overflow();
    dirs.size[k] = sum;
    if (r.atime > dirs.atime[k]!) dirs.atime[k] = r.atime;
    const u = dirs.uid[k]!;
    if (u !== r.uid) dirs.uid[k] = u === NONE ? r.uid : MANY;
    const g = dirs.gid[k]!;
    if (g !== r.gid) dirs.gid[k] = g === NONE ? r.gid : MANY;
    hist.add(r.uid, opts.scanDate === null ? 9 : atimeBucket(opts.scanDate - r.atime), sizeBucket(r.alloc), r.alloc);
    s = next;
  }
  return { partial: toPartial(dirs, hist, messages, formats), errors, lines, records };
}

function toPartial(d: LocalDirs, hist: Histograms, messages: number, formats: number): DirPartial {
  const n = d.count;
  const nameEnd = d.keyEnd.slice(0, n);
  const histUids = new Float64Array(hist.byUid.size);
  const h = new Float64Array(hist.byUid.size * HIST_WIDTH);
  let i = 0;
  for (const [uid, v] of hist.byUid) {
    for (const x of v) if (x > Number.MAX_SAFE_INTEGER) overflow();
    histUids[i] = uid;
    h.set(v, i++ * HIST_WIDTH);
  }
  return {
    count: n, parent: d.parent.slice(0, n), nameStart: d.nameStart.slice(0, n), nameEnd, keys: d.keys.slice(0, d.keyUsed),
    files: d.files.slice(0, n), size: d.size.slice(0, n), dirLines: d.dirLines.slice(0, n), atime: d.atime.slice(0, n),
    uid: d.uid.slice(0, n), gid: d.gid.slice(0, n), own: d.own.slice(0, n), histUids, hist: h, messages, formats,
  };
}

/** The buffers of a partial, to transfer instead of copy. */
export function partialBuffers(p: DirPartial): ArrayBuffer[] {
  return [p.parent, p.nameStart, p.nameEnd, p.keys, p.files, p.size, p.dirLines, p.atime, p.uid, p.gid, p.own, p.histUids, p.hist].map((a) => a.buffer as ArrayBuffer);
}
