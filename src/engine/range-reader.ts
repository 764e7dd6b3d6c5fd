/**
 * A growing window over a seekable file, used by workers to read their own byte range plus the
 * look-behind and look-ahead the framing asks for. Reads with pread (readSync at a position):
 * workers never share a file position, and the main thread never touches the bytes.
 */
import { openSync, readSync, closeSync } from 'node:fs';

const openFiles = new Map<string, number>();

/** One descriptor per path per worker, kept for the life of the worker (chunks reuse it). */
export function fdFor(path: string): number {
  let fd = openFiles.get(path);
  if (fd === undefined) {
    fd = openSync(path, 'r');
    openFiles.set(path, fd);
  }
  return fd;
}

export function closeAllFiles(): void {
  for (const fd of openFiles.values()) closeSync(fd);
  openFiles.clear();
}

export class RangeReader {
  /** File offset of buf[0]. */
  readonly base: number;
  buf: Uint8Array;
  private readonly fd: number;
  private readonly size: number;

  constructor(path: string, base: number, initialEnd: number, size: number) {
    this.fd = fdFor(path);
    this.size = size;
    this.base = base;
    this.buf = new Uint8Array(0);
    this.extendTo(initialEnd);
  }

  /** True when the window reaches the end of the file. */
  get eof(): boolean {
    return this.base + this.buf.length >= this.size;
  }

  /** Grows the window to end at file offset `end` (clamped to the file size). */
  extendTo(end: number): void {
    const target = Math.min(end, this.size) - this.base;
    if (target <= this.buf.length) return;
    const next = new Uint8Array(target);
    next.set(this.buf);
    let filled = this.buf.length;
    while (filled < target) {
      const n = readSync(this.fd, next, filled, target - filled, this.base + filled);
      if (n === 0) break;
      filled += n;
    }
    this.buf = filled === target ? next : next.subarray(0, filled);
  }

  /** Doubles the look-ahead (at least `min` bytes more). */
  grow(min: number): void {
    this.extendTo(this.base + this.buf.length + Math.max(min, this.buf.length));
  }
}
