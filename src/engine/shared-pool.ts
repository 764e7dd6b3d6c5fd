/**
 * Shared output buffers that workers recycle once the main thread says it is done with them.
 *
 * A worker that hands the main thread a SharedArrayBuffer (so slices of it can travel on to other
 * workers without copies) cannot rely on garbage collection to free it: worker heaps stay tiny,
 * so GC rarely runs, and measured here the unreclaimed buffers grew to ~300 MB per worker on a
 * 600 MB input. Instead each buffer carries an 8-byte header whose first word the main thread sets
 * with Atomics when it releases the buffer; the worker then reuses it for a later chunk.
 */
const HEADER = 8;
const IN_USE = 0;
const RELEASED = 1;
const MAGIC = 0x74686d6c; // "thml": marks buffers made by this pool

export class SharedOutputPool {
  private readonly buffers: SharedArrayBuffer[] = [];
  constructor(private readonly minBytes = 4 << 20, private readonly keep = 32) {}

  /** A view of `length` bytes in a released (or new) shared buffer, marked in use. */
  take(length: number): Uint8Array {
    for (const sab of this.buffers) {
      const header = new Int32Array(sab, 0, 2);
      if (sab.byteLength - HEADER >= length && Atomics.compareExchange(header, 0, RELEASED, IN_USE) === RELEASED) return new Uint8Array(sab, HEADER, length);
    }
    const sab = new SharedArrayBuffer(HEADER + Math.max(length, this.minBytes));
    const header = new Int32Array(sab, 0, 2);
    header[1] = MAGIC;
    this.buffers.push(sab);
    if (this.buffers.length > this.keep) this.buffers.shift();
    return new Uint8Array(sab, HEADER, length);
  }
}

/** Main thread: lets the worker that made `view`'s buffer reuse it. No effect on other buffers. */
export function releaseShared(view: Uint8Array): void {
  const sab = view.buffer;
  if (!(sab instanceof SharedArrayBuffer) || view.byteOffset !== HEADER) return;
  const header = new Int32Array(sab, 0, 2);
  if (header[1] === MAGIC) Atomics.store(header, 0, RELEASED);
}
