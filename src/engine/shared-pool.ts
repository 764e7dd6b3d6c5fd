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

interface Entry { sab: SharedArrayBuffer; header: Int32Array; capacity: number }

/**
 * Owned by one worker: only that worker takes buffers, while the main thread only flips them
 * from in use to released, so a load followed by one compare-exchange cannot race.
 */
export class SharedOutputPool {
  private readonly entries: Entry[] = [];
  constructor(private readonly minBytes = 4 << 20, private readonly keep = 32) {}

  /**
   * A view of `length` bytes (at an 8-byte aligned offset) in the smallest released buffer that
   * fits, or in a new one, marked in use. Best fit, because one pool serves columns of very
   * different sizes and first fit handed large buffers to small columns.
   */
  take(length: number): Uint8Array {
    let best: Entry | null = null;
    for (const e of this.entries) {
      if (e.capacity >= length && (best === null || e.capacity < best.capacity) && Atomics.load(e.header, 0) === RELEASED) best = e;
    }
    if (best !== null && Atomics.compareExchange(best.header, 0, RELEASED, IN_USE) === RELEASED) return new Uint8Array(best.sab, HEADER, length);
    const sab = new SharedArrayBuffer(HEADER + Math.max(length, this.minBytes));
    const header = new Int32Array(sab, 0, 2);
    header[1] = MAGIC;
    this.entries.push({ sab, header, capacity: sab.byteLength - HEADER });
    // Past `keep`, the oldest leaves the pool (a buffer never released is left to the GC).
    if (this.entries.length > this.keep) this.entries.shift();
    return new Uint8Array(sab, HEADER, length);
  }

  /** Forgets every buffer (a phase that made them is over): the ones still in use go when their users drop them. */
  clear(): void {
    this.entries.length = 0;
  }
}

/**
 * Lets the worker that made `view`'s buffer reuse it (from the main thread, or from that worker
 * when it outgrew the buffer). No effect on views of other buffers.
 */
export function releaseShared(view: ArrayBufferView): void {
  const sab = view.buffer;
  if (!(sab instanceof SharedArrayBuffer) || view.byteOffset < HEADER || sab.byteLength < HEADER) return;
  const header = new Int32Array(sab, 0, 2);
  if (header[1] === MAGIC) Atomics.store(header, 0, RELEASED);
}
