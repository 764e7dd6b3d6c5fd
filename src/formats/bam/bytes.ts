/** Growable byte and int buffers for building columns in a worker without per-record objects. */
import { SharedOutputPool, releaseShared } from '../../engine/shared-pool.js';

/**
 * Where column memory comes from. `pooled`: shared buffers that the main thread hands back once
 * the batch is written (no transfer, no zero-filled fresh pages per chunk, nothing for either
 * heap's GC to free); `heap`: plain arrays, for callers that keep the columns.
 */
export interface ColumnMemory {
  readonly shared: boolean;
  bytes(n: number): Uint8Array;
  free(v: ArrayBufferView): void;
}

export const heapMemory: ColumnMemory = { shared: false, bytes: (n) => new Uint8Array(n), free: () => {} };

export function pooledMemory(pool: SharedOutputPool): ColumnMemory {
  return { shared: true, bytes: (n) => pool.take(n), free: releaseShared };
}

export const int32s = (m: ColumnMemory, n: number): Int32Array => {
  const b = m.bytes(4 * n);
  return new Int32Array(b.buffer, b.byteOffset, n);
};
export const uint16s = (m: ColumnMemory, n: number): Uint16Array => {
  const b = m.bytes(2 * n);
  return new Uint16Array(b.buffer, b.byteOffset, n);
};

export class Bytes {
  buf: Uint8Array;
  len = 0;
  constructor(capacity: number, private readonly mem: ColumnMemory = heapMemory) {
    this.buf = mem.bytes(Math.max(64, capacity));
  }
  private dv: DataView | null = null;
  /** Makes room for `extra` more bytes; returns the (possibly new) buffer. */
  reserve(extra: number): Uint8Array {
    const need = this.len + extra;
    if (need > this.buf.length) {
      const next = this.mem.bytes(Math.max(need, this.buf.length * 2));
      next.set(this.buf.subarray(0, this.len));
      this.mem.free(this.buf);
      this.buf = next;
      this.dv = null;
    }
    return this.buf;
  }
  /** A DataView of the current buffer (call after reserve()). */
  view(): DataView {
    this.dv ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    return this.dv;
  }
  push(byte: number): void {
    this.reserve(1)[this.len++] = byte;
  }
  append(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    const b = this.reserve(n);
    // Short copies (tag keys, names) byte by byte: src is often a Buffer, whose subarray()
    // builds a new Buffer object each time (measured 5% of a worker's time).
    if (n < 32) {
      for (let i = 0; i < n; i++) b[this.len + i] = src[start + i]!;
    } else {
      b.set(src.subarray(start, end), this.len);
    }
    this.len += n;
  }
  /** Writes a decimal integer (|v| < 2^53). */
  int(v: number): void {
    const b = this.reserve(21);
    if (v < 0) {
      b[this.len++] = 0x2d;
      v = -v;
    }
    if (v < 10) {
      b[this.len++] = 0x30 + v;
      return;
    }
    let digits = 1;
    for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
    let p = this.len + digits;
    this.len = p;
    do {
      const q = Math.floor(v / 10);
      b[--p] = 0x30 + (v - q * 10);
      v = q;
    } while (v > 0);
  }
  ascii(s: string): void {
    const b = this.reserve(s.length);
    for (let i = 0; i < s.length; i++) b[this.len++] = s.charCodeAt(i);
  }
  /**
   * The bytes, as a view whose ArrayBuffer can be transferred. Copied to an exact size only when
   * more than a quarter of the buffer would travel unused (copies were 12% of a worker's time).
   */
  take(): Uint8Array {
    return fit(this.mem, this.buf, this.len);
  }
}

/** A view when it uses most of the buffer or the buffer is shared (returned, not moved), else an exact copy. */
export function fit<T extends Uint8Array | Uint16Array | Int32Array>(mem: ColumnMemory, a: T, n: number): T {
  return (mem.shared || n * 4 >= a.length * 3 ? a.subarray(0, n) : a.slice(0, n)) as T;
}

export class Ints {
  buf: Int32Array;
  len = 0;
  constructor(capacity: number, private readonly mem: ColumnMemory = heapMemory) {
    this.buf = int32s(mem, Math.max(16, capacity));
  }
  push(v: number): void {
    if (this.len === this.buf.length) {
      const next = int32s(this.mem, this.buf.length * 2);
      next.set(this.buf);
      this.mem.free(this.buf);
      this.buf = next;
    }
    this.buf[this.len++] = v;
  }
  take(): Int32Array {
    return fit(this.mem, this.buf, this.len);
  }
}

/** C printf("%g") for a double: 6 significant digits, trailing zeros dropped (as htslib prints floats). */
export function formatG(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const [mant, expText] = x.toExponential(5).split('e') as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const m = stripZeros(mant);
    const sign = exp < 0 ? '-' : '+';
    const e = Math.abs(exp);
    return `${m}e${sign}${e < 10 ? '0' : ''}${e}`;
  }
  return stripZeros(x.toFixed(5 - exp));
}

function stripZeros(s: string): string {
  if (!s.includes('.')) return s;
  return s.replace(/0+$/, '').replace(/\.$/, '');
}
