/**
 * BAM and BGZF bytes built directly (no samtools): records with any content, including what
 * samtools would refuse to write, and BGZF blocks of a chosen size, so tests can put chunk and
 * block boundaries where they want.
 */
import { crc32, deflateRawSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';

export interface RawRecord {
  name: string | Uint8Array;
  refId?: number;
  pos?: number;
  flag?: number;
  /** [length, op code] pairs; op codes 0-8 are MIDNSHP=X. */
  cigar?: Array<[number, number]>;
  /** 4-bit base codes, one per base (0-15). */
  seq?: Uint8Array;
  /** Phred scores, one per base; null: absent (0xFF). */
  qual?: Uint8Array | null;
  /** Raw aux bytes. */
  aux?: Uint8Array;
}

export function bamHeader(refs: Array<[string, number]>, text = '@HD\tVN:1.6\n'): Buffer {
  const parts: Buffer[] = [Buffer.from('BAM\x01', 'latin1')];
  const t = Buffer.from(text);
  parts.push(u32(t.length), t, u32(refs.length));
  for (const [name, len] of refs) parts.push(u32(name.length + 1), Buffer.from(`${name}\0`), u32(len));
  return Buffer.concat(parts);
}

export function bamRecord(r: RawRecord): Buffer {
  const name = typeof r.name === 'string' ? Buffer.from(r.name) : Buffer.from(r.name);
  const cigar = r.cigar ?? [];
  const seq = r.seq ?? new Uint8Array(0);
  const lSeq = seq.length;
  const fixed = Buffer.alloc(32);
  fixed.writeInt32LE(r.refId ?? -1, 0);
  fixed.writeInt32LE(r.pos ?? -1, 4);
  fixed.writeUInt8(name.length + 1, 8);
  fixed.writeUInt8(255, 9);
  fixed.writeUInt16LE(4680, 10);
  fixed.writeUInt16LE(cigar.length, 12);
  fixed.writeUInt16LE(r.flag ?? 4, 14);
  fixed.writeInt32LE(lSeq, 16);
  fixed.writeInt32LE(-1, 20);
  fixed.writeInt32LE(-1, 24);
  fixed.writeInt32LE(0, 28);
  const cig = Buffer.alloc(4 * cigar.length);
  cigar.forEach(([len, op], i) => cig.writeUInt32LE(((len << 4) | op) >>> 0, 4 * i));
  const packed = Buffer.alloc((lSeq + 1) >> 1);
  for (let i = 0; i < lSeq; i++) packed[i >> 1]! |= (seq[i]! & 15) << (i & 1 ? 0 : 4);
  const qual = r.qual === null || r.qual === undefined ? Buffer.alloc(lSeq, 0xff) : Buffer.from(r.qual);
  const body = Buffer.concat([fixed, name, Buffer.from([0]), cig, packed, qual, Buffer.from(r.aux ?? [])]);
  return Buffer.concat([u32(body.length), body]);
}

/** A `TG:B:C` aux field holding `bytes` (any bytes at all). */
export function byteArrayTag(tag: string, bytes: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(`${tag}BC`, 'latin1'), u32(bytes.length), Buffer.from(bytes)]);
}

/** A `TG:Z` aux field with these raw value bytes (NUL added). */
export function stringTag(tag: string, value: Uint8Array | string): Buffer {
  return Buffer.concat([Buffer.from(`${tag}Z`, 'latin1'), Buffer.from(value), Buffer.from([0])]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

const EOF_BLOCK = Buffer.from('1f8b08040000000000ff0600424302001b0003000000000000000000', 'hex');

/** BGZF with blocks of `blockData` decompressed bytes each (default 65280, as bgzip), and the EOF block. */
export function bgzf(data: Uint8Array, blockData = 65280): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += blockData) {
    const piece = data.subarray(at, Math.min(data.length, at + blockData));
    const cdata = deflateRawSync(piece, { level: 1 });
    const head = Buffer.from([0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 0xff, 6, 0, 0x42, 0x43, 2, 0, 0, 0]);
    head.writeUInt16LE(head.length + cdata.length + 8 - 1, 16);
    const tail = Buffer.alloc(8);
    tail.writeUInt32LE(crc32(piece), 0);
    tail.writeUInt32LE(piece.length, 4);
    parts.push(head, cdata, tail);
  }
  parts.push(EOF_BLOCK);
  return Buffer.concat(parts);
}

export function writeBam(path: string, header: Buffer, records: Buffer[], blockData?: number): string {
  writeFileSync(path, bgzf(Buffer.concat([header, ...records]), blockData));
  return path;
}

/** A small deterministic generator. */
export function lcg(seed: number): (n: number) => number {
  let x = seed >>> 0;
  return (n) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
}
