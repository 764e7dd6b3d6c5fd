/**
 * Byte records grouped by a numeric partition key, in arrival order within each partition, held in
 * memory up to a budget and written to spill files past it. DESIGN ("at scale: budgets, not input
 * sizes"): a structure that grows with the input is partitioned and spills to disk, so a run's
 * memory is set by `--memory-limit`, never by the number of records, and no array needs more than
 * 2^32 elements (a partition is read back as a stream of pieces, never as one array).
 *
 * The main thread only moves *segments* (a chunk's records of one partition, contiguous in the
 * chunk's shared buffer, grouped by the worker), never single records: its cost is per chunk and
 * partition, not per record. A spill writes every held segment into one new file, partition after
 * partition, so a partition's data is a list of extents in order (spills happen in arrival order,
 * and what is still in memory is newer than every extent).
 */
import { open, unlink } from 'node:fs/promises';
import { openSync, readSync, closeSync } from 'node:fs';

/** A range of a spill file, or bytes still in (shared) memory. */
export type SpillPiece = { path: string; offset: number; length: number } | Uint8Array;

/** A chunk's shared buffer, freed (`free`) once no held segment points into it. */
export interface HeldBuffer { bytes: Uint8Array; refs: number; free: () => void }

/**
 * Memory a held buffer costs: its whole backing buffer, not the bytes of its segments. Counting
 * segment bytes let 31 MB of 76-byte index rows pin ~600 MB of 4 MiB chunk buffers (measured:
 * 672 MB peak RSS under --memory-limit 400M).
 */
function costOf(buf: HeldBuffer): number {
  return buf.bytes.buffer.byteLength;
}

interface Partition { key: number; count: number; extents: SpillPiece[]; held: { buf: HeldBuffer; start: number; end: number }[] }

/** Staging buffer of a spill write: one copy, then one large sequential write. */
const STAGE_BYTES = 4 << 20;

export class PartitionSpill {
  private readonly parts = new Map<number, Partition>();
  private heldBytes = 0;
  private files: string[] = [];
  private spills = 0;
  private stage: Buffer | null = null;
  /** Bytes written to spill files so far (for the summary and the benchmark). */
  spilledBytes = 0;

  /** `tempPath(n)`: where the n-th spill file goes (a temporary of the output, removed at the end). */
  constructor(private readonly budget: number, private readonly tempPath: (n: number) => string) {}

  /** Registers a chunk's shared buffer before its segments are added; `free` runs when all are gone. */
  hold(bytes: Uint8Array, free: () => void): HeldBuffer {
    return { bytes, refs: 0, free };
  }

  /** Appends `count` records, bytes [start, end) of `buf`, to partition `key`. */
  add(key: number, buf: HeldBuffer, start: number, end: number, count: number): void {
    let p = this.parts.get(key);
    if (!p) {
      p = { key, count: 0, extents: [], held: [] };
      this.parts.set(key, p);
    }
    p.held.push({ buf, start, end });
    if (buf.refs++ === 0) this.heldBytes += costOf(buf);
    p.count += count;
  }

  /** Frees a buffer that no segment was added from (a chunk with no records). */
  seal(buf: HeldBuffer): void {
    if (buf.refs === 0) buf.free();
  }

  get overBudget(): boolean {
    return this.heldBytes > this.budget;
  }

  /** Bytes of the buffers held in memory. */
  get memoryBytes(): number {
    return this.heldBytes;
  }

  /** Writes every held segment to a new spill file and frees the chunk buffers behind them. */
  async spill(): Promise<void> {
    if (this.heldBytes === 0) return;
    const path = this.tempPath(this.spills++);
    this.files.push(path);
    const fh = await open(path, 'w');
    const stage = (this.stage ??= Buffer.allocUnsafe(STAGE_BYTES));
    let staged = 0;
    let offset = 0;
    const drain = async (): Promise<void> => {
      if (staged > 0) await fh.write(stage, 0, staged);
      staged = 0;
    };
    try {
      for (const p of [...this.parts.values()].sort((a, b) => a.key - b.key)) {
        if (p.held.length === 0) continue;
        const start = offset;
        for (const s of p.held) {
          const seg = s.buf.bytes.subarray(s.start, s.end);
          if (seg.length > STAGE_BYTES - staged) await drain();
          if (seg.length > STAGE_BYTES) await fh.write(seg);
          else {
            stage.set(seg, staged);
            staged += seg.length;
          }
          offset += seg.length;
        }
        p.extents.push({ path, offset: start, length: offset - start });
        this.dropHeld(p);
      }
      await drain();
    } finally {
      await fh.close();
    }
    this.spilledBytes += offset;
  }

  /** Partition keys, ascending. */
  keys(): number[] {
    return [...this.parts.keys()].sort((a, b) => a - b);
  }

  count(key: number): number {
    return this.parts.get(key)?.count ?? 0;
  }

  /** The partition's data in arrival order: spilled extents, then views of what is in memory. */
  pieces(key: number): SpillPiece[] {
    const p = this.parts.get(key);
    if (!p) return [];
    return [...p.extents, ...p.held.map((s) => s.buf.bytes.subarray(s.start, s.end))];
  }

  /** After a partition was consumed: lets its chunk buffers go. */
  release(key: number): void {
    const p = this.parts.get(key);
    if (p) this.dropHeld(p);
  }

  /** Removes the spill files (after the run, or when it fails). */
  async removeFiles(): Promise<void> {
    await Promise.all(this.files.map((f) => unlink(f).catch(() => {})));
    this.files = [];
  }

  private dropHeld(p: Partition): void {
    for (const s of p.held) {
      if (--s.buf.refs > 0) continue;
      this.heldBytes -= costOf(s.buf);
      s.buf.free();
    }
    p.held = [];
  }
}

/**
 * Reads a partition's pieces in order and calls `onRecord(buf, start, end)` for each record, where
 * `recordEnd(buf, start, limit)` says where the record starting at `start` ends (-1: past `limit`).
 * Pieces hold whole records; a spilled extent is read in blocks of `blockBytes` (grown for a record
 * longer than that), so memory stays bounded whatever the partition's size. Runs in workers.
 */
export function forEachSpilledRecord(pieces: readonly SpillPiece[], recordEnd: (buf: Uint8Array, start: number, limit: number) => number, onRecord: (buf: Uint8Array, start: number, end: number) => void, blockBytes = 8 << 20): void {
  let block = new Uint8Array(0);
  for (const piece of pieces) {
    if (piece instanceof Uint8Array) {
      walk(piece, 0, piece.length, recordEnd, onRecord, true);
      continue;
    }
    const fd = openSync(piece.path, 'r');
    try {
      let pos = piece.offset;
      const end = piece.offset + piece.length;
      let carry = 0;
      while (pos < end || carry > 0) {
        if (block.length < blockBytes) block = new Uint8Array(blockBytes);
        const want = Math.min(block.length - carry, end - pos);
        const got = want > 0 ? readSync(fd, block, carry, want, pos) : 0;
        if (want > 0 && got === 0) throw new Error(`${piece.path}: spill file ends at ${pos}, expected ${end} bytes`);
        pos += got;
        const filled = carry + got;
        const used = walk(block, 0, filled, recordEnd, onRecord, pos >= end);
        carry = filled - used;
        if (carry > 0) {
          if (pos >= end) throw new Error(`${piece.path}: a record runs past the end of its spill extent`);
          if (used === 0) { // one record longer than the block: grow it
            const bigger = new Uint8Array(block.length * 2);
            bigger.set(block.subarray(0, carry));
            block = bigger;
            blockBytes = bigger.length;
          } else block.copyWithin(0, used, filled);
        }
      }
    } finally {
      closeSync(fd);
    }
  }
}

/** Calls onRecord for the whole records in [from, limit); returns where the first incomplete one starts. */
function walk(buf: Uint8Array, from: number, limit: number, recordEnd: (buf: Uint8Array, start: number, limit: number) => number, onRecord: (buf: Uint8Array, start: number, end: number) => void, last: boolean): number {
  let at = from;
  while (at < limit) {
    const end = recordEnd(buf, at, limit);
    if (end < 0) {
      if (last) throw new Error('a spilled record runs past the end of its piece');
      return at;
    }
    onRecord(buf, at, end);
    at = end;
  }
  return at;
}
