/**
 * Reads one BGZF job in a worker: the blocks whose compressed start lies in [start, end), inflated
 * here (in parallel across workers, unlike plain gzip), plus the last byte of the block before
 * (look-behind) and as many blocks after as the framing needs (look-ahead). The result is framed
 * exactly like a plain file, in decompressed coordinates.
 */
import { blockSizeAt, findBlockStart, inflateBlock, BgzfError } from './bgzf.js';
import { RangeReader } from './range-reader.js';
import type { BgzfJob, ChunkPlacement } from './protocol.js';
import type { Framing } from './plugin.js';

/** BGZF blocks are at most 64 KiB compressed; a scan this far back always finds the previous one. */
const MAX_BLOCK = 65536;

class BlockWalker {
  readonly reader: RangeReader;
  truncatedAt: number | undefined;
  constructor(private readonly job: BgzfJob) {
    const scanFrom = Math.max(0, job.start - MAX_BLOCK);
    this.reader = new RangeReader(job.path, scanFrom, job.end + 4 * MAX_BLOCK, job.size);
  }

  /** Compressed size of the block at file offset `pos`, reading more when needed; -1 at end of data. */
  sizeAt(pos: number): number {
    if (pos >= this.job.size || this.truncatedAt !== undefined) return -1;
    const r = this.reader;
    if (pos + 18 > r.base + r.buf.length) r.extendTo(pos + 4 * MAX_BLOCK);
    const size = blockSizeAt(r.buf, pos - r.base);
    if (size < 0 && pos + 18 <= this.job.size) throw new BgzfError('BGZF_CORRUPT', `no BGZF block header at compressed offset ${pos} of ${this.job.input}`, pos);
    if (size < 0 || pos + size > this.job.size) return this.truncated(pos);
    if (pos + size > r.base + r.buf.length) r.extendTo(pos + size + 4 * MAX_BLOCK);
    return size;
  }

  private truncated(pos: number): number {
    if (!this.job.allowTruncated) {
      throw new BgzfError('BGZF_TRUNCATED', `${this.job.input} ends inside the BGZF block at compressed offset ${pos} (file truncated?); --allow-truncated keeps the records before it`, pos);
    }
    this.truncatedAt = pos;
    return -1;
  }

  isizeAt(pos: number, size: number): number {
    const b = this.reader.buf;
    const at = pos - this.reader.base + size - 4;
    return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
  }

  inflate(pos: number, dst?: Uint8Array): Uint8Array {
    return inflateBlock(this.reader.buf, pos - this.reader.base, this.reader.base, dst);
  }

  /** First block start at or after `job.start - MAX_BLOCK`, verified by the chain of headers. */
  firstScanBlock(): number {
    const r = this.reader;
    if (r.base === 0) return 0;
    for (;;) {
      const found = findBlockStart(r.buf, 0, r.eof);
      if (found >= 0) return r.base + found;
      r.grow(MAX_BLOCK);
    }
  }
}

/** The worker's decompressed window, kept between chunks; a task that transfers it away detaches it (byteLength 0) and a new one is made. */
let pooledWindow: Uint8Array | null = null;

/**
 * Decompressed window: [look-behind byte][own blocks][look-ahead blocks...], one buffer grown by
 * doubling. Re-joining the parts on every look-ahead block was 22% of a BAM worker's time on
 * short reads and 42% on long ones.
 */
class InflatedWindow {
  private store: Uint8Array;
  length = 0;
  /**
   * Sized for a typical 3–4× BGZF ratio, so most chunks never grow, and reused by the worker's
   * next chunk (as RangeReader does): a fresh zero-filled 17 MiB per chunk made `bam stats -j 1`
   * 4.6–4.8 s instead of 3.8–4.1 s on the 2M-record benchmark file.
   */
  constructor(compressedBytes: number) {
    const want = 4 * compressedBytes + (1 << 20);
    if (!pooledWindow || pooledWindow.byteLength < want) pooledWindow = Buffer.allocUnsafeSlow(want);
    this.store = pooledWindow;
  }
  push(part: Uint8Array): void {
    this.room(part.length).set(part);
    this.length += part.length;
  }
  /** Inflates the block at `pos` straight into the window (in place with the native inflate). */
  inflate(walker: BlockWalker, pos: number, size: number): void {
    // ISIZE past 64 KiB is corrupt (inflateBlock says so); do not grow the window for it.
    this.length += walker.inflate(pos, this.room(Math.min(walker.isizeAt(pos, size), 1 << 16) + 1)).length;
  }
  private room(n: number): Uint8Array {
    if (this.length + n > this.store.length) {
      const next = Buffer.allocUnsafeSlow(Math.max(this.store.length * 2, this.length + n));
      next.set(this.store.subarray(0, this.length));
      this.store = next;
      pooledWindow = next;
    }
    return this.store.subarray(this.length);
  }
  get buf(): Uint8Array {
    return this.store.subarray(0, this.length);
  }
}

/**
 * One chunk's decompressed window and the walk over the blocks after it. Every block inflated is
 * remembered with its compressed start, so a sequential re-read (resyncBgzf) can tell where any
 * later chunk's own blocks begin in the same window.
 */
class ChunkWindow {
  readonly walker: BlockWalker;
  readonly window: InflatedWindow;
  /** Compressed offset of the next block to inflate. */
  pos: number;
  lookBehind = 0;
  /** Window offset where the blocks after the job's range begin. */
  ownEnd = 0;
  /** Compressed start and window offset of each block inflated from the range on. */
  readonly blocks: Array<{ at: number; offset: number }> = [];

  constructor(readonly job: BgzfJob, private readonly framing: Framing) {
    this.walker = new BlockWalker(job);
    this.window = new InflatedWindow(job.end - job.start);
    let pos = this.walker.firstScanBlock();
    let prev = -1;
    // The look-behind byte comes from the last non-empty block before the range (ISIZE, the last
    // four bytes of a block, says which are empty without inflating them).
    while (pos < job.start) {
      const size = this.walker.sizeAt(pos);
      if (size < 0) break;
      if (this.walker.isizeAt(pos, size) > 0) prev = pos;
      pos += size;
    }
    this.pos = pos;
    if (prev >= 0 && job.start > 0) {
      const last = this.walker.inflate(prev);
      if (last.length > 0) {
        this.window.push(last.subarray(last.length - 1));
        this.lookBehind = 1;
      }
    }
    while (this.pos < job.end && this.more()) { /* the range's own blocks */ }
    this.ownEnd = this.window.length;
  }

  get eof(): boolean {
    return this.pos >= this.job.size || this.walker.truncatedAt !== undefined;
  }

  /** Inflates the next block into the window; false at the end of the data. */
  more(): boolean {
    const size = this.walker.sizeAt(this.pos);
    if (size < 0) return false;
    this.blocks.push({ at: this.pos, offset: this.window.length });
    this.window.inflate(this.walker, this.pos, size);
    this.pos += size;
    return true;
  }

  /**
   * Inflates until the window has at least `target` bytes; false if the data ends first. Growth
   * is what the caller asks, which is geometric (see boundary).
   */
  fill(target: number): boolean {
    while (this.window.length < target) if (!this.more()) return false;
    return true;
  }

  /** The framing's first record start at or after window offset `from`, inflating as needed. */
  boundary(from: number): number {
    for (;;) {
      const r = this.framing.recordStart(this.window.buf, from, this.eof);
      if (r >= 0) return r;
      // Double what lies past `from` before asking again. One block at a time cost a full
      // rescan per 64 KiB block inside a record longer than the range: quadratic (a 12.7 MB
      // file with one such record took 6.5 min; now seconds).
      if (!this.fill(this.window.length + Math.max(1 << 16, this.window.length - from))) return this.framing.recordStart(this.window.buf, from, true);
    }
  }

  /**
   * Whether the framing proves that no record starts in window [from, to) (Framing.noRecordStartIn),
   * given LOOK_PAST bytes after `to` to judge the last candidates. Such a chunk is empty whatever
   * the framing would find past it: the first start at or after `from` is then the first at or
   * after `to`, which is where the previous chunk ends and the next one starts.
   */
  provesEmpty(from: number, to: number): boolean {
    if (!this.framing.noRecordStartIn || to <= from) return false;
    this.fill(to + LOOK_PAST);
    return this.framing.noRecordStartIn(this.window.buf, from, to);
  }

  /** Where this chunk's records start, exactly as every worker computes it. */
  start(): number {
    if (this.job.start === 0) return this.boundary(0);
    return this.lookBehind === 0 && this.ownEnd === 0 ? 0 : this.boundary(this.lookBehind);
  }

  /** Window offset of the first block at or after compressed offset `at` (inflating up to it). */
  blockOffsetFrom(at: number): number {
    for (;;) {
      const b = this.blocks.find((x) => x.at >= at);
      if (b) return b.offset;
      if (!this.more()) return this.window.length;
    }
  }
}

/** Bytes read past a range to judge its last record candidates (a BAM record's fixed part and name fit). */
const LOOK_PAST = 4096;

export function readBgzfChunk(job: BgzfJob, framing: Framing): { bytes: Uint8Array; placement: ChunkPlacement } {
  const c = new ChunkWindow(job, framing);
  // Inside a record longer than the range: empty, without reading to that record's end.
  const empty = job.start > 0 && c.lookBehind > 0 && c.provesEmpty(c.lookBehind, c.ownEnd);
  const s = empty ? c.ownEnd : c.start();
  const e = empty ? s : Math.max(s, c.boundary(c.ownEnd));
  const placement: ChunkPlacement = { bytes: e - s, offset: s - c.lookBehind, blockBytes: c.ownEnd - c.lookBehind };
  if (c.walker.truncatedAt !== undefined) placement.truncatedAt = c.walker.truncatedAt;
  return { bytes: c.window.buf.subarray(s, e), placement };
}

/**
 * The length of the record at a true record start `p` of `buf`: > 0 the length, -1 when bytes
 * past the buffer are needed, 0 when the bytes there cannot be a record (the walk stops).
 */
export type RecordLength = (buf: Uint8Array, p: number) => number;

/** What resyncBgzf read: the chunk's bytes walked in order, and the chunk whose start it reached. */
export interface Resync { bytes: Uint8Array; placement: ChunkPlacement; resumeChunk: number }

/**
 * A sequential re-read from chunk `job`'s start, for when the chunk's last record ran past its
 * end: a content framing was fooled (bytes inside one long record that look like records), so
 * the chunks after it started at offsets no sequential reader reaches. Rebuilds the chunk as
 * readBgzfChunk does, then walks records one by one (`recordLength`) across the following
 * chunks' ranges (`chunkSize` bytes each, as planned) until the walk lands exactly on the start
 * some later chunk's worker chose; that chunk and those after it are right again. Returns the
 * bytes from this chunk's start to there (to the end of the data if the walk never lands) and
 * the index offset of the chunk to resume at (Infinity: none). Cost: one chunk re-inflated plus
 * the bytes walked, only when a chunk ended inside a record.
 */
export function resyncBgzf(job: BgzfJob, chunkSize: number, framing: Framing, recordLength: RecordLength): Resync {
  const c = new ChunkWindow(job, framing);
  const s = c.start();
  let p = s;
  const done = (end: number, resumeChunk: number): Resync => {
    const placement: ChunkPlacement = { bytes: end - s, offset: s - c.lookBehind, blockBytes: c.ownEnd - c.lookBehind };
    if (c.walker.truncatedAt !== undefined) placement.truncatedAt = c.walker.truncatedAt;
    return { bytes: c.window.buf.subarray(s, end), placement, resumeChunk };
  };
  for (let k = 1; ; k++) {
    const rangeStart = job.start + k * chunkSize;
    if (rangeStart >= job.size) {
      // No later chunk: walk to the end of the data.
      while (c.fill(c.window.length + (1 << 20))) { /* all of it */ }
      return done(c.window.length, Infinity);
    }
    const from = c.blockOffsetFrom(rangeStart);
    // A chunk proved empty cannot be landed on (its worker returned nothing): go on to the next.
    if (c.provesEmpty(from, c.blockOffsetFrom(rangeStart + chunkSize))) continue;
    const next = c.boundary(from);
    while (p < next) {
      const len = recordLength(c.window.buf, p);
      if (len > 0) {
        p += len;
        continue;
      }
      // Cut short or not a record: hand over everything; the format reports it with its location.
      if (len === 0 || !c.fill(Math.max(c.window.length + (1 << 16), 2 * c.window.length - p))) {
        while (c.fill(c.window.length + (1 << 20))) { /* the rest, so the report sees it */ }
        return done(c.window.length, Infinity);
      }
    }
    if (p === next) return done(next, k);
  }
}
