/**
 * One day's `.pb.gz`: a single gzip member of length-delimited ProtoEvents, cut into segments of
 * SEGMENT_BYTES that are compressed one by one as raw deflate ending in a sync flush (pigz's
 * method), so the member never needs the whole day in memory. Segment cuts depend only on the
 * sequence of kept records, so the file's bytes do not depend on -j or on how the input was read.
 *
 * A day file that already exists (an earlier run) is copied first and the new events become a
 * second gzip member (docs/decisions/0006-nostr-output-layout.md). The file is only created when a
 * first event is kept.
 */
import { closeSync, copyFileSync, openSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { deflateSegment } from './segment-deflate.js';

/** Large enough that a sync flush (5 bytes) and a lost 32 KiB window cost < 0.5%. */
export const SEGMENT_BYTES = 1 << 20;
const GZIP_HEADER = Uint8Array.of(0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03);
/** The empty final deflate block (BFINAL=1, fixed Huffman, end-of-block). */
const FINAL_BLOCK = Uint8Array.of(0x03, 0x00);

export class DayWriter {
  private fd = -1;
  private segment = Buffer.allocUnsafe(SEGMENT_BYTES * 2);
  private length = 0;
  private crc = 0;
  private size = 0;

  constructor(private readonly path: string, private readonly existing: string | null, private readonly level: number) {}

  /** Appends one length-delimited record (bytes [start, end) of `buf`). */
  add(buf: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (this.length + n > this.segment.length) this.grow(this.length + n);
    this.segment.set(buf.subarray(start, end), this.length);
    this.length += n;
    if (this.length >= SEGMENT_BYTES) this.flush();
  }

  /** Writes the last segment, the final block and the trailer; nothing when no record was added. */
  finish(): void {
    if (this.fd < 0 && this.length === 0) return;
    if (this.length > 0) this.flush();
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.crc >>> 0, 0);
    trailer.writeUInt32LE(this.size >>> 0, 4);
    writeSync(this.fd, Buffer.concat([FINAL_BLOCK, trailer]));
    closeSync(this.fd);
    this.fd = -1;
  }

  private flush(): void {
    if (this.fd < 0) {
      if (this.existing !== null) copyFileSync(this.existing, this.path);
      this.fd = openSync(this.path, this.existing !== null ? 'a' : 'w');
      writeSync(this.fd, GZIP_HEADER);
    }
    const data = this.segment.subarray(0, this.length);
    writeSync(this.fd, deflateSegment(data, this.level));
    this.crc = crc32(data, this.crc);
    this.size = (this.size + this.length) % 2 ** 32;
    this.length = 0;
  }

  private grow(need: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(need, this.segment.length * 2));
    bigger.set(this.segment.subarray(0, this.length));
    this.segment = bigger;
  }
}
