/**
 * A generic Thrift compact-protocol reader and writer: a struct becomes an ordered list of
 * (field id, wire type, value) without any schema, so a Parquet footer can be decoded, have a few
 * known fields changed, and be written back with every other field (statistics, logical types,
 * fields newer than this code) kept exactly as the writer produced them. Schema-aware libraries
 * (hyparquet) convert values on the way in and back, which is not guaranteed to round-trip.
 */

/** Compact-protocol wire types. */
export const T = { TRUE: 1, FALSE: 2, BYTE: 3, I16: 4, I32: 5, I64: 6, DOUBLE: 7, BINARY: 8, LIST: 9, SET: 10, MAP: 11, STRUCT: 12 } as const;

export interface TField { id: number; type: number; value: TValue }
export interface TStruct { fields: TField[] }
export interface TList { elem: number; items: TValue[] }
export interface TMap { key: number; val: number; entries: [TValue, TValue][] }
/** I16/I32/BYTE: number; I64: bigint; DOUBLE: number; BINARY: Uint8Array. */
export type TValue = boolean | number | bigint | Uint8Array | TList | TMap | TStruct;

export class ThriftReader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  private byte(): number {
    if (this.pos >= this.buf.length) throw new Error('thrift: unexpected end of data');
    return this.buf[this.pos++]!;
  }

  private varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new Error('thrift: varint too long');
    }
  }

  private zigzag(): bigint {
    const v = this.varint();
    return (v >> 1n) ^ -(v & 1n);
  }

  readStruct(): TStruct {
    const fields: TField[] = [];
    let last = 0;
    for (;;) {
      const head = this.byte();
      if (head === 0) return { fields };
      const type = head & 0x0f;
      const delta = head >> 4;
      const id = delta === 0 ? Number(this.zigzag()) : last + delta;
      last = id;
      const value = type === T.TRUE || type === T.FALSE ? type === T.TRUE : this.readValue(type);
      fields.push({ id, type, value });
    }
  }

  readValue(type: number): TValue {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        // Only inside lists/sets/maps (fields carry booleans in their header): one byte, 1 = true.
        return this.byte() === T.TRUE;
      case T.BYTE: {
        const b = this.byte();
        return b > 127 ? b - 256 : b;
      }
      case T.I16:
      case T.I32:
        return Number(this.zigzag());
      case T.I64:
        return this.zigzag();
      case T.DOUBLE: {
        if (this.pos + 8 > this.buf.length) throw new Error('thrift: unexpected end of data');
        const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
        this.pos += 8;
        return v;
      }
      case T.BINARY: {
        const n = Number(this.varint());
        if (this.pos + n > this.buf.length) throw new Error('thrift: unexpected end of data');
        const v = this.buf.slice(this.pos, this.pos + n);
        this.pos += n;
        return v;
      }
      case T.LIST:
      case T.SET: {
        const head = this.byte();
        const elem = head & 0x0f;
        const n = (head >> 4) === 15 ? Number(this.varint()) : head >> 4;
        const items: TValue[] = [];
        for (let i = 0; i < n; i++) items.push(this.readValue(elem));
        return { elem, items };
      }
      case T.MAP: {
        const n = Number(this.varint());
        const kv = n > 0 ? this.byte() : 0;
        const key = kv >> 4;
        const val = kv & 0x0f;
        const entries: [TValue, TValue][] = [];
        for (let i = 0; i < n; i++) entries.push([this.readValue(key), this.readValue(val)]);
        return { key, val, entries };
      }
      case T.STRUCT:
        return this.readStruct();
      default:
        throw new Error(`thrift: unknown compact type ${type}`);
    }
  }
}

export class ThriftWriter {
  private buf = new Uint8Array(1 << 12);
  length = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.length++] = b & 0xff;
  }

  private varint(v: bigint): void {
    while (v >= 0x80n) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
  }

  private zigzag(v: bigint): void {
    this.varint(v >= 0n ? v << 1n : ((-v) << 1n) - 1n);
  }

  writeStruct(s: TStruct): void {
    let last = 0;
    for (const f of s.fields) {
      const type = f.type === T.TRUE || f.type === T.FALSE ? (f.value ? T.TRUE : T.FALSE) : f.type;
      const delta = f.id - last;
      if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
      else {
        this.byte(type);
        this.zigzag(BigInt(f.id));
      }
      last = f.id;
      if (type !== T.TRUE && type !== T.FALSE) this.writeValue(type, f.value);
    }
    this.byte(0);
  }

  writeValue(type: number, v: TValue): void {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        this.byte(v ? T.TRUE : T.FALSE);
        return;
      case T.BYTE:
        this.byte(v as number);
        return;
      case T.I16:
      case T.I32:
        this.zigzag(BigInt(v as number));
        return;
      case T.I64:
        this.zigzag(v as bigint);
        return;
      case T.DOUBLE: {
        this.ensure(8);
        new DataView(this.buf.buffer, this.length, 8).setFloat64(0, v as number, true);
        this.length += 8;
        return;
      }
      case T.BINARY: {
        const b = v as Uint8Array;
        this.varint(BigInt(b.length));
        this.ensure(b.length);
        this.buf.set(b, this.length);
        this.length += b.length;
        return;
      }
      case T.LIST:
      case T.SET: {
        const l = v as TList;
        if (l.items.length < 15) this.byte((l.items.length << 4) | l.elem);
        else {
          this.byte(0xf0 | l.elem);
          this.varint(BigInt(l.items.length));
        }
        for (const item of l.items) this.writeValue(l.elem, item);
        return;
      }
      case T.MAP: {
        const m = v as TMap;
        this.varint(BigInt(m.entries.length));
        if (m.entries.length > 0) this.byte((m.key << 4) | m.val);
        for (const [k, val] of m.entries) {
          this.writeValue(m.key, k);
          this.writeValue(m.val, val);
        }
        return;
      }
      case T.STRUCT:
        this.writeStruct(v as TStruct);
        return;
      default:
        throw new Error(`thrift: unknown compact type ${type}`);
    }
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** The field with this id, if present. */
export function field(s: TStruct, id: number): TField | undefined {
  return s.fields.find((f) => f.id === id);
}
