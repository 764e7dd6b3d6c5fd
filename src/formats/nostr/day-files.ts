/**
 * The per-day output files, written by the main thread in record order but compressed by the
 * workers. Each day's records collect in a pending segment; a full segment (1 MiB) is handed to a
 * worker as raw deflate ending in a sync flush, and the compressed segments are appended in order
 * between one gzip header and one trailer whose CRC32 the main thread keeps running. The result is
 * a single gzip member per day and run, byte-identical whatever -j is or how the input was chunked,
 * because segment cuts depend only on the sequence of records.
 *
 * A day file that already exists (an earlier run) is copied to the temporary file first and the
 * new events are appended as a second gzip member, which every gzip reader concatenates
 * (docs/decisions/0006-nostr-output-layout.md).
 */
import { appendFileSync, copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { EngineHandle } from '../../engine/run-types.js';
import type { OutputTransaction } from '../../engine/atomic.js';
import { dayKey } from './day.js';

/** Segment size: large enough that a sync flush (5 bytes) and a lost 32 KiB window cost < 0.5%. */
export const SEGMENT_BYTES = 1 << 20;
/** Pending bytes over all days before the largest segments are flushed early. */
const PENDING_BUDGET = 96 << 20;
const GZIP_HEADER = Uint8Array.of(0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03);
/** The empty final deflate block (BFINAL=1, fixed Huffman, end-of-block). */
const FINAL_BLOCK = Uint8Array.of(0x03, 0x00);

class Day {
  /** allocUnsafeSlow: not zero-filled, and its own ArrayBuffer, so it can be transferred as is. */
  pending: Buffer = Buffer.allocUnsafeSlow(64 << 10);
  length = 0;
  crc = 0;
  size = 0;
  events = 0;
  /** Writes of this day's compressed segments, chained so they land in order. */
  written: Promise<void> = Promise.resolve();
  constructor(readonly fileName: string, readonly tmpPath: string) {}

  /** Buffer.copy, not set(subarray()): no view object per record on the main thread's hot path. */
  append(bytes: Buffer, start: number, end: number): void {
    const n = end - start;
    if (this.length + n > this.pending.length) {
      const next = Buffer.allocUnsafeSlow(Math.max(this.pending.length * 2, this.length + n));
      this.pending.copy(next, 0, 0, this.length);
      this.pending = next;
    }
    bytes.copy(this.pending, this.length, start, end);
    this.length += n;
    this.events++;
  }

  /** Hands over the pending buffer itself (no copy) and starts a new one. */
  take(): { buffer: Buffer; length: number } {
    const taken = { buffer: this.pending, length: this.length };
    this.pending = Buffer.allocUnsafeSlow(Math.min(SEGMENT_BYTES + (64 << 10), Math.max(64 << 10, this.length)));
    this.length = 0;
    return taken;
  }
}

export class DayFiles {
  private readonly days = new Map<number, Day>();
  private pendingTotal = 0;
  private readonly inFlight: Promise<void>[] = [];

  constructor(private readonly dir: string, private readonly tx: OutputTransaction, private readonly maxInFlight: number) {}

  /** Name of the file a day number (days since 1970-01-01 UTC) is written to. */
  static fileName(dayNumber: number): string {
    return `${dayKey(dayNumber * 86400)}.pb.gz`;
  }

  /** Appends one length-delimited record to its day; may start compressing a full segment. */
  add(engine: EngineHandle, dayNumber: number, bytes: Buffer, start: number, end: number): void {
    const day = this.day(dayNumber);
    day.append(bytes, start, end);
    this.pendingTotal += end - start;
    if (day.length >= SEGMENT_BYTES) this.flush(engine, day);
    if (this.pendingTotal > PENDING_BUDGET) this.flushLargest(engine);
  }

  /** Waits until few enough segments are being compressed (backpressure for the reader). */
  async settle(limit = this.maxInFlight): Promise<void> {
    while (this.inFlight.length > limit) await this.inFlight.shift();
  }

  /** Flushes every day and writes the final block and trailer of each day's gzip member. */
  async finish(engine: EngineHandle): Promise<{ files: string[] }> {
    for (const day of this.days.values()) {
      if (day.length > 0) this.flush(engine, day);
      day.written = day.written.then(() => appendFileSync(day.tmpPath, Buffer.concat([FINAL_BLOCK, trailer(day.crc, day.size)])));
    }
    await Promise.all([...this.days.values()].map((d) => d.written));
    return { files: [...this.days.values()].map((d) => d.fileName) };
  }

  eventsPerFile(): Map<string, number> {
    return new Map([...this.days.values()].map((d) => [d.fileName, d.events]));
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
    this.pendingTotal -= day.length;
    const { buffer, length } = day.take();
    day.crc = crc32(buffer.subarray(0, length), day.crc);
    day.size = (day.size + length) % 2 ** 32;
    const compressed = engine.call<Uint8Array>('deflateSegment', { data: buffer, length }, [buffer.buffer as ArrayBuffer]);
    day.written = day.written.then(async () => appendFileSync(day.tmpPath, await compressed));
    this.inFlight.push(day.written);
  }

  /** Deterministic: depends only on the pending sizes, which depend only on the records so far. */
  private flushLargest(engine: EngineHandle): void {
    const bySize = [...this.days.entries()].filter(([, d]) => d.length > 0).sort((a, b) => b[1].length - a[1].length || a[0] - b[0]);
    for (const [, day] of bySize) {
      if (this.pendingTotal <= PENDING_BUDGET / 2) break;
      this.flush(engine, day);
    }
  }
}

function trailer(crc: number, size: number): Uint8Array {
  const t = new Uint8Array(8);
  const v = new DataView(t.buffer);
  v.setUint32(0, crc >>> 0, true);
  v.setUint32(4, size >>> 0, true);
  return t;
}
