/**
 * Length-delimited `ProtoEvent` records (proto/nostr.proto, identical to Proton Beam's schema).
 *
 * Hand-written rather than generated (protobufjs) because the writer runs once per event in every
 * worker: it computes each field's size up front and writes straight into one growing buffer, with no
 * intermediate message objects, no per-field allocations and no reflection. The three hex fields are
 * ASCII of known length, so only content and tag values need a UTF-8 length. Output is canonical
 * proto3: fields in number order, zero/empty scalars omitted, as prost (Proton Beam) writes them.
 */
import type { NostrEvent } from './event.js';

// Wire tags: (field number << 3) | wire type (0 = varint, 2 = length-delimited).
const TAG_ID = 0x0a;
const TAG_PUBKEY = 0x12;
const TAG_CREATED_AT = 0x18;
const TAG_KIND = 0x20;
const TAG_TAGS = 0x2a;
const TAG_CONTENT = 0x32;
const TAG_SIG = 0x3a;
const TAG_TAG_VALUE = 0x0a;

/** A growable byte buffer that records are appended to. */
export class ByteSink {
  private buf: Buffer;
  private len = 0;

  constructor(initialCapacity = 1 << 16) {
    // allocUnsafeSlow: the memory is ours alone (not Buffer's shared pool), so it can be transferred.
    this.buf = Buffer.allocUnsafeSlow(Math.max(16, initialCapacity));
  }

  get length(): number {
    return this.len;
  }

  /** A view of the bytes written so far; valid until the next write or reset. */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  /** A copy of the bytes in an exactly-sized ArrayBuffer of its own (transferable), then reset. */
  take(): Uint8Array {
    const out = new Uint8Array(this.len);
    out.set(this.buf.subarray(0, this.len));
    this.len = 0;
    return out;
  }

  reset(): void {
    this.len = 0;
  }

  /** Makes room for `n` more bytes and returns the buffer and the write position. */
  reserve(n: number): Buffer {
    const need = this.len + n;
    if (need > this.buf.length) this.grow(need);
    return this.buf;
  }

  /** Moves the write position after bytes written through {@link reserve}. */
  advance(n: number): void {
    this.len += n;
  }

  private grow(need: number): void {
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = Buffer.allocUnsafeSlow(cap);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
}

/** Appends one event as a varint length followed by its ProtoEvent message. */
export function writeDelimitedEvent(out: ByteSink, ev: NostrEvent): void {
  const sizes = tagSizes(ev.tags);
  const contentLen = Buffer.byteLength(ev.content, 'utf8');
  const msgLen = messageSize(ev, sizes, contentLen);
  const buf = out.reserve(varintSize(msgLen) + msgLen);
  let pos = writeVarint(buf, out.length, msgLen);
  pos = writeAscii(buf, pos, TAG_ID, ev.id);
  pos = writeAscii(buf, pos, TAG_PUBKEY, ev.pubkey);
  if (ev.created_at !== 0) {
    buf[pos++] = TAG_CREATED_AT;
    pos = writeVarint(buf, pos, ev.created_at);
  }
  if (ev.kind !== 0) {
    buf[pos++] = TAG_KIND;
    pos = writeInt32(buf, pos, ev.kind);
  }
  pos = writeTags(buf, pos, ev.tags, sizes);
  if (contentLen !== 0) pos = writeString(buf, pos, TAG_CONTENT, ev.content, contentLen);
  pos = writeAscii(buf, pos, TAG_SIG, ev.sig);
  // Sizes come from our own UTF-8 count; a lone surrogate (checkLine rejects them) would break it.
  if (pos !== out.length + varintSize(msgLen) + msgLen) throw new Error('ProtoEvent size mismatch: a string is not well-formed UTF-16');
  out.advance(pos - out.length);
}

/** Per tag: its message size, then the UTF-8 length of each value (flattened, in order). */
interface TagSizes { tagLens: number[]; valueLens: number[] }

function tagSizes(tags: string[][]): TagSizes {
  const tagLens: number[] = [];
  const valueLens: number[] = [];
  for (const tag of tags) {
    let size = 0;
    for (const value of tag) {
      const n = utf8Length(value);
      valueLens.push(n);
      size += 1 + varintSize(n) + n;
    }
    tagLens.push(size);
  }
  return { tagLens, valueLens };
}

function messageSize(ev: NostrEvent, sizes: TagSizes, contentLen: number): number {
  let size = asciiFieldSize(ev.id) + asciiFieldSize(ev.pubkey) + asciiFieldSize(ev.sig);
  if (ev.created_at !== 0) size += 1 + varintSize(ev.created_at);
  if (ev.kind !== 0) size += 1 + int32Size(ev.kind);
  for (const n of sizes.tagLens) size += 1 + varintSize(n) + n;
  if (contentLen !== 0) size += 1 + varintSize(contentLen) + contentLen;
  return size;
}

function asciiFieldSize(s: string): number {
  return s.length === 0 ? 0 : 1 + varintSize(s.length) + s.length;
}

function writeAscii(buf: Buffer, pos: number, tag: number, s: string): number {
  if (s.length === 0) return pos;
  buf[pos++] = tag;
  pos = writeVarint(buf, pos, s.length);
  return pos + buf.write(s, pos, s.length, 'latin1');
}

function writeString(buf: Buffer, pos: number, tag: number, s: string, byteLen: number): number {
  buf[pos++] = tag;
  pos = writeVarint(buf, pos, byteLen);
  return pos + buf.write(s, pos, byteLen, 'utf8');
}

function writeTags(buf: Buffer, pos: number, tags: string[][], sizes: TagSizes): number {
  let v = 0;
  for (let t = 0; t < tags.length; t++) {
    buf[pos++] = TAG_TAGS;
    pos = writeVarint(buf, pos, sizes.tagLens[t] as number);
    for (const value of tags[t] as string[]) {
      // proto3 writes every element of a repeated field, empty strings included.
      const n = sizes.valueLens[v++] as number;
      buf[pos++] = TAG_TAG_VALUE;
      pos = writeVarint(buf, pos, n);
      if (n !== 0) pos += buf.write(value, pos, n, 'utf8');
    }
  }
  return pos;
}

/** UTF-8 length; a JS loop beats a native call for the short strings tags are made of. */
function utf8Length(s: string): number {
  if (s.length > 64) return Buffer.byteLength(s, 'utf8');
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff) {
      i++; // a surrogate pair: 2 UTF-16 units → 4 bytes
      n += 2;
    } else n += 2;
  }
  return n;
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Negative int32 values are sign-extended to 64 bits on the wire, so they always take 10 bytes. */
function int32Size(n: number): number {
  return n < 0 ? 10 : varintSize(n);
}

/** Writes a non-negative safe integer as a varint (division, since bit ops stop at 32 bits). */
function writeVarint(buf: Buffer | Uint8Array, pos: number, n: number): number {
  while (n >= 128) {
    buf[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

function writeInt32(buf: Buffer, pos: number, n: number): number {
  if (n >= 0) return writeVarint(buf, pos, n);
  // Two's complement over 64 bits: the low 32 bits, then 0xffffffff in the high half.
  let lo = n >>> 0;
  for (let i = 0; i < 4; i++) {
    buf[pos++] = (lo & 0x7f) | 0x80;
    lo >>>= 7;
  }
  buf[pos++] = (lo & 0x0f) | 0x70 | 0x80; // 4 low bits left + 3 high bits set
  for (let i = 0; i < 4; i++) buf[pos++] = 0xff;
  buf[pos++] = 0x01;
  return pos;
}

// ---------------------------------------------------------------------------------------------------
// Reading

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A corrupt or truncated stream of delimited events. */
export class ProtoDecodeError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at byte offset ${offset}`);
    this.name = 'ProtoDecodeError';
  }
}

/**
 * Yields the events of a stream of varint-delimited ProtoEvents. Throws {@link ProtoDecodeError},
 * naming the byte offset, on truncated or corrupt data. Unknown fields are skipped, as proto3 asks.
 */
export function* readDelimitedEvents(buf: Uint8Array): Generator<NostrEvent> {
  let pos = 0;
  while (pos < buf.length) {
    const r = new Reader(buf, pos, buf.length);
    const len = r.varint('record length');
    const start = r.pos;
    if (len > buf.length - start) {
      throw new ProtoDecodeError(`truncated record: length ${len} but only ${buf.length - start} bytes left`, pos);
    }
    yield decodeEvent(new Reader(buf, start, start + len));
    pos = start + len;
  }
}

/** Decodes one ProtoEvent message (without its length prefix). */
export function decodeEvent(r: Reader): NostrEvent {
  const ev: NostrEvent = { id: '', pubkey: '', created_at: 0, kind: 0, tags: [], content: '', sig: '' };
  while (r.pos < r.end) {
    const at = r.pos;
    const key = r.varint('field key');
    switch (key) {
      case TAG_ID: ev.id = r.string(); break;
      case TAG_PUBKEY: ev.pubkey = r.string(); break;
      case TAG_CREATED_AT: ev.created_at = r.varint('created_at'); break;
      case TAG_KIND: ev.kind = r.int32(); break;
      case TAG_TAGS: ev.tags.push(decodeTag(r.sub())); break;
      case TAG_CONTENT: ev.content = r.string(); break;
      case TAG_SIG: ev.sig = r.string(); break;
      default: r.skip(key, at);
    }
  }
  return ev;
}

function decodeTag(r: Reader): string[] {
  const values: string[] = [];
  while (r.pos < r.end) {
    const at = r.pos;
    const key = r.varint('field key');
    if (key === TAG_TAG_VALUE) values.push(r.string());
    else r.skip(key, at);
  }
  return values;
}

/** A cursor over `buf[pos, end)` that throws with the absolute offset on malformed input. */
export class Reader {
  constructor(readonly buf: Uint8Array, public pos: number, readonly end: number) {}

  /** A varint as a safe integer (protobuf allows up to 10 bytes / 64 bits). */
  varint(what: string): number {
    const start = this.pos;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoDecodeError(`truncated varint (${what})`, start);
      const b = this.buf[this.pos++] as number;
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (!Number.isSafeInteger(result)) throw new ProtoDecodeError(`${what} does not fit a safe integer`, start);
        return result;
      }
      scale *= 128;
    }
    throw new ProtoDecodeError(`varint longer than 10 bytes (${what})`, start);
  }

  /** An int32 field: the low 32 bits of the (possibly sign-extended) varint, as signed. */
  int32(): number {
    const start = this.pos;
    let lo = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoDecodeError('truncated varint (kind)', start);
      const b = this.buf[this.pos++] as number;
      if (shift < 32) lo |= (b & 0x7f) << shift;
      shift += 7;
      if (b < 0x80) return lo | 0;
    }
    throw new ProtoDecodeError('varint longer than 10 bytes (kind)', start);
  }

  /** The bounds of a length-delimited field, checked against the enclosing message. */
  private span(): [number, number] {
    const at = this.pos;
    const len = this.varint('field length');
    if (len > this.end - this.pos) throw new ProtoDecodeError(`field length ${len} runs past the end of its message`, at);
    const start = this.pos;
    this.pos += len;
    return [start, this.pos];
  }

  string(): string {
    const [start, end] = this.span();
    try {
      return utf8.decode(this.buf.subarray(start, end));
    } catch {
      throw new ProtoDecodeError('string field is not valid UTF-8', start);
    }
  }

  sub(): Reader {
    const [start, end] = this.span();
    return new Reader(this.buf, start, end);
  }

  /** Skips an unknown field by its wire type. */
  skip(key: number, at: number): void {
    const wireType = key & 7;
    if (key >>> 3 === 0) throw new ProtoDecodeError('invalid field number 0', at);
    if (wireType === 0) this.varint('unknown field');
    else if (wireType === 2) this.span();
    else if (wireType === 1) this.fixed(8, at);
    else if (wireType === 5) this.fixed(4, at);
    else throw new ProtoDecodeError(`unsupported wire type ${wireType}`, at);
  }

  private fixed(n: number, at: number): void {
    if (this.end - this.pos < n) throw new ProtoDecodeError('truncated fixed-width field', at);
    this.pos += n;
  }
}
