/**
 * The per-day output files, written in record order but never copied or compressed by the main
 * thread. Workers put each chunk's encoded events in a SharedArrayBuffer; a day's pending segment
 * is a list of slices of those buffers (adjacent records merge into one slice), so the main thread
 * does O(1) work per event. A full segment (1 MiB) goes to a worker, which gathers its slices and
 * compresses them as raw deflate ending in a sync flush (pigz's method); the main thread appends
 * the compressed segments in order between one gzip header and one trailer, combining the segments'
 * CRC-32s (computed by the workers) with crc32Combine. One gzip member per day and run, byte-identical whatever -j is or
 * however the input was chunked, because segment cuts depend only on the sequence of records.
 *
 * Measured before this design: copying each event into per-day buffers on the main thread cost
 * ~5 µs an event here (page faults on fresh memory), capping a run near 200k events/s.
 *
 * A day file that already exists (an earlier run) is copied to the temporary file first and the
 * new events are appended as a second gzip member (docs/decisions/0006-nostr-output-layout.md).
 */
import { appendFileSync, copyFileSync, existsSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32Combine } from '../../engine/crc32-combine.js';
import type { EngineHandle } from '../../engine/run-types.js';
import type { OutputTransaction } from '../../engine/atomic.js';
import { dayKey } from './day.js';
import { releaseShared } from '../../engine/shared-pool.js';

/** Segment size: large enough that a sync flush (5 bytes) and a lost 32 KiB window cost < 0.5%. */
export const SEGMENT_BYTES = 1 << 20;
/** Pending bytes over all days before the largest segments are flushed early. */
const PENDING_BUDGET = 96 << 20;
export interface DayBudgets { pending: number; retained: number }
/**
 * Chunk buffers kept alive by pending slices. Past this, slow days' slices are copied into buffers
 * of their own so old chunks can be freed: memory stays bounded and segment cuts do not change.
 */
const RETAINED_BUDGET = 384 << 20;
const DEFAULT_BUDGETS: DayBudgets = { pending: PENDING_BUDGET, retained: RETAINED_BUDGET };
const GZIP_HEADER = Uint8Array.of(0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03);
/** The empty final deflate block (BFINAL=1, fixed Huffman, end-of-block). */
const FINAL_BLOCK = Uint8Array.of(0x03, 0x00);

/**
 * A chunk's shared buffer of encoded events: how many pending slices and segments being compressed
 * still point into it, and whether all its records were added. When all three say done, the
 * buffer is released for its worker to reuse (engine/shared-pool.ts).
 */
export interface SharedChunk { bytes: Uint8Array; slices: number; compressing: number; sealed: boolean }


/** What a worker receives to compress one segment: views of shared memory, in order. */
export interface SegmentParts { parts: Uint8Array[] }
/** What comes back: the raw deflate bytes and the CRC-32 and length of the uncompressed segment. */
export interface CompressedSegment { deflated: Uint8Array; crc: number; length: number }

class Day {
  /**
   * Pending slices as parallel arrays, not an object per slice: when days interleave every event
   * is its own slice, and per-event objects were the main thread's largest GC cost.
   */
  chunks: SharedChunk[] = [];
  starts: number[] = [];
  ends: number[] = [];
  length = 0;
  crc = 0;
  size = 0;
  events = 0;
  /** Writes of this day's compressed segments, chained so they land in order. */
  written: Promise<void> = Promise.resolve();
  constructor(readonly fileName: string, readonly tmpPath: string) {}

  append(chunk: SharedChunk, start: number, end: number): void {
    const last = this.chunks.length - 1;
    if (last >= 0 && this.chunks[last] === chunk && this.ends[last] === start) this.ends[last] = end;
    else {
      this.chunks.push(chunk);
      this.starts.push(start);
      this.ends.push(end);
      chunk.slices++;
    }
    this.length += end - start;
    this.events++;
  }

  /** Views of the pending bytes, in order. */
  parts(): Uint8Array[] {
    return this.chunks.map((c, i) => c.bytes.subarray(this.starts[i]!, this.ends[i]!));
  }

  clear(): void {
    this.chunks = [];
    this.starts = [];
    this.ends = [];
    this.length = 0;
  }
}

export class DayFiles {
  private readonly days = new Map<number, Day>();
  private pendingTotal = 0;
  private retained = new Set<SharedChunk>();
  private retainedBytes = 0;
  private readonly inFlight: Promise<void>[] = [];

  constructor(private readonly dir: string, private readonly tx: OutputTransaction, private readonly maxInFlight: number, private readonly budgets: DayBudgets = DEFAULT_BUDGETS) {}

  /** Name of the file a day number (days since 1970-01-01 UTC) is written to. */
  static fileName(dayNumber: number): string {
    return `${dayKey(dayNumber * 86400)}.pb.gz`;
  }

  /** Registers a chunk's shared buffer before its records are added. */
  share(bytes: Uint8Array): SharedChunk {
    return { bytes, slices: 0, compressing: 0, sealed: false };
  }

  /** Appends one length-delimited record to its day; may start compressing a full segment. */
  add(engine: EngineHandle, dayNumber: number, chunk: SharedChunk, start: number, end: number): void {
    const day = this.day(dayNumber);
    if (chunk.slices === 0 && !this.retained.has(chunk)) {
      this.retained.add(chunk);
      this.retainedBytes += chunk.bytes.length;
    }
    day.append(chunk, start, end);
    this.pendingTotal += end - start;
    if (day.length >= SEGMENT_BYTES) this.flush(engine, day);
    if (this.pendingTotal > this.budgets.pending) this.flushLargest(engine);
  }

  /** Called after each chunk's records: releases what nothing points into, compacts when too much is kept. */
  afterChunk(chunk: SharedChunk): void {
    chunk.sealed = true;
    releaseIfDone(chunk);
    this.release();
    if (this.retainedBytes > this.budgets.retained) this.compact();
  }

  /** Waits until few enough segments are being compressed (backpressure for the reader). */
  async settle(limit = this.maxInFlight): Promise<void> {
    while (this.inFlight.length > limit) await this.inFlight.shift();
  }

  /** Flushes every day and writes the final block and trailer of each day's gzip member. */
  async finish(engine: EngineHandle): Promise<void> {
    for (const day of this.days.values()) {
      if (day.length > 0) this.flush(engine, day);
      day.written = day.written.then(() => appendFile(day.tmpPath, Buffer.concat([FINAL_BLOCK, trailer(day.crc, day.size)])));
    }
    await Promise.all([...this.days.values()].map((d) => d.written));
  }

  /** After a failure: waits for writes already under way, so none lands after the temporaries are removed. */
  async quiesce(): Promise<void> {
    await Promise.allSettled([...this.days.values()].map((d) => d.written));
  }

  get filesWritten(): number {
    return this.days.size;
  }

  private day(dayNumber: number): Day {
    let day = this.days.get(dayNumber);
    if (!day) {
      const fileName = DayFiles.fileName(dayNumber);
      const finalPath = join(this.dir, fileName);
      const tmp = this.tx.tempFor(finalPath);
      if (existsSync(finalPath)) copyFileSync(finalPath, tmp);
      appendFileSync(tmp, GZIP_HEADER);
      day = new Day(fileName, tmp);
      this.days.set(dayNumber, day);
    }
    return day;
  }

  private flush(engine: EngineHandle, day: Day): void {
    const parts = day.parts();
    const chunks = day.chunks;
    for (const c of chunks) {
      c.slices--;
      c.compressing++;
    }
    day.size = (day.size + day.length) % 2 ** 32;
    this.pendingTotal -= day.length;
    day.clear();
    const compressed = engine.call<CompressedSegment>('deflateSegment', { parts } satisfies SegmentParts);
    void compressed.then(() => {
      for (const c of chunks) {
        c.compressing--;
        releaseIfDone(c);
      }
    }, () => {});
    day.written = day.written.then(async () => {
      const seg = await compressed;
      day.crc = crc32Combine(day.crc, seg.crc, seg.length);
      await appendFile(day.tmpPath, seg.deflated);
    });
    // A failed run abandons these chains; mark them handled (finish() and settle() still see errors).
    day.written.catch(() => {});
    this.inFlight.push(day.written);
  }

  /** Deterministic: depends only on the pending sizes, which depend only on the records so far. */
  private flushLargest(engine: EngineHandle): void {
    const bySize = [...this.days.entries()].filter(([, d]) => d.length > 0).sort((a, b) => b[1].length - a[1].length || a[0] - b[0]);
    for (const [, day] of bySize) {
      if (this.pendingTotal <= this.budgets.pending / 2) break;
      this.flush(engine, day);
    }
  }

  private release(): void {
    for (const c of this.retained) {
      if (c.slices > 0) continue;
      this.retained.delete(c);
      this.retainedBytes -= c.bytes.length;
    }
  }

  /** Copies every pending slice into one buffer per day, so no old chunk stays alive for them. */
  private compact(): void {
    for (const day of this.days.values()) {
      if (day.chunks.length === 0) continue;
      const own = new Uint8Array(new SharedArrayBuffer(day.length));
      let at = 0;
      for (const part of day.parts()) {
        own.set(part, at);
        at += part.length;
      }
      for (const c of day.chunks) {
        c.slices--;
        releaseIfDone(c);
      }
      const length = day.length;
      day.clear();
      day.length = length;
      const chunk: SharedChunk = { bytes: own, slices: 1, compressing: 0, sealed: true };
      day.chunks.push(chunk);
      day.starts.push(0);
      day.ends.push(length);
    }
    this.release();
    for (const day of this.days.values()) {
      for (const c of day.chunks) {
        if (this.retained.has(c)) continue;
        this.retained.add(c);
        this.retainedBytes += c.bytes.length;
      }
    }
  }
}

function releaseIfDone(c: SharedChunk): void {
  if (c.sealed && c.slices === 0 && c.compressing === 0) releaseShared(c.bytes);
}

function trailer(crc: number, size: number): Uint8Array {
  const t = new Uint8Array(8);
  const v = new DataView(t.buffer);
  v.setUint32(0, crc >>> 0, true);
  v.setUint32(4, size >>> 0, true);
  return t;
}
