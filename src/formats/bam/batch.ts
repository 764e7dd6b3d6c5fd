/**
 * Main-thread side of `bam convert`: queues the columns that workers return and cuts them into
 * record batches of exactly `batchSize` rows, whatever the chunk sizes were, so the output bytes
 * depend only on the input and the options (not on -j or chunking). Only typed-array copies and
 * slices happen here; no per-record objects.
 */
import type { BamColumns, TagColumn, TextColumn } from './decode.js';

type Fixed = Uint8Array | Uint16Array | Int32Array;

/**
 * Buffers reused from batch to batch for the joined columns. Fresh 12 MB allocations per column
 * cost 40-60 ms each in page faults (measured: joining the seq column ran at ~250 MB/s); reused
 * memory joins at memcpy speed. A batch built from them is valid until the next one is taken,
 * which is fine because the sinks serialize a batch before write() returns.
 */
export class Scratch {
  private readonly pools = { u8: [] as Uint8Array[], u16: [] as Uint16Array[], i32: [] as Int32Array[] };
  private next = { u8: 0, u16: 0, i32: 0 };
  reset(): void {
    this.next = { u8: 0, u16: 0, i32: 0 };
  }
  u8 = (n: number): Uint8Array => this.take('u8', n, (m) => new Uint8Array(m));
  u16 = (n: number): Uint16Array => this.take('u16', n, (m) => new Uint16Array(m));
  i32 = (n: number): Int32Array => this.take('i32', n, (m) => new Int32Array(m));
  private take<K extends 'u8' | 'u16' | 'i32'>(kind: K, n: number, make: (m: number) => (typeof this.pools)[K][number]): (typeof this.pools)[K][number] {
    const pool = this.pools[kind];
    const slot = this.next[kind]++;
    let buf = pool[slot];
    if (!buf || buf.length < n) {
      buf = make(Math.max(n, Math.ceil((buf?.length ?? 0) * 1.25)));
      pool[slot] = buf;
    }
    return buf.subarray(0, n) as (typeof this.pools)[K][number];
  }
}

const fresh = {
  u8: (n: number): Uint8Array => new Uint8Array(n),
  u16: (n: number): Uint16Array => new Uint16Array(n),
  i32: (n: number): Int32Array => new Int32Array(n),
};
type Alloc = Pick<Scratch, 'u8' | 'u16' | 'i32'>;

function concatFixed<T extends Fixed>(parts: T[], make: (n: number) => T): T {
  if (parts.length === 1) return parts[0]!;
  const out = make(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Rows [a, b) of a text column, offsets rebased to 0. */
export function sliceText(t: TextColumn, a: number, b: number): TextColumn {
  const base = t.offsets[a]!;
  const offsets = base === 0 ? t.offsets.subarray(a, b + 1) : t.offsets.slice(a, b + 1).map((o) => o - base);
  return { offsets, data: t.data.subarray(base, t.offsets[b]!) };
}

function addTo(a: Int32Array, from: number, to: number, v: number): void {
  for (let i = from; i < to; i++) a[i]! += v;
}

export function concatText(parts: TextColumn[], alloc: Alloc = fresh): TextColumn {
  if (parts.length === 1) return parts[0]!;
  const rows = parts.reduce((n, p) => n + p.offsets.length - 1, 0);
  const offsets = alloc.i32(rows + 1);
  offsets[0] = 0;
  const data = alloc.u8(parts.reduce((n, p) => n + p.data.length, 0));
  let row = 0;
  let at = 0;
  for (const p of parts) {
    const n = p.offsets.length - 1;
    offsets.set(p.offsets.subarray(1), row + 1);
    if (at !== 0) addTo(offsets, row + 1, row + n + 1, at);
    data.set(p.data, at);
    row += n;
    at += p.data.length;
  }
  return { offsets, data };
}

function sliceTags(t: TagColumn, a: number, b: number): TagColumn {
  const e0 = t.entries[a]!;
  const e1 = t.entries[b]!;
  const entries = e0 === 0 ? t.entries.subarray(a, b + 1) : t.entries.slice(a, b + 1).map((e) => e - e0);
  return { entries, keys: t.keys.subarray(2 * e0, 2 * e1), values: sliceText(t.values, e0, e1) };
}

/** Joins offset arrays (each starting at 0), shifting each by the running total. */
function concatOffsets(parts: Int32Array[], alloc: Alloc): Int32Array {
  const out = alloc.i32(parts.reduce((n, p) => n + p.length - 1, 0) + 1);
  out[0] = 0;
  let row = 0;
  let base = 0;
  for (const p of parts) {
    const n = p.length - 1;
    for (let i = 1; i <= n; i++) out[row + i] = p[i]! + base;
    row += n;
    base += p[n]!;
  }
  return out;
}

function concatTags(parts: TagColumn[], alloc: Alloc): TagColumn {
  if (parts.length === 1) return parts[0]!;
  const entries = concatOffsets(parts.map((p) => p.entries), alloc);
  return { entries, keys: concatFixed(parts.map((p) => p.keys), alloc.u8), values: concatText(parts.map((p) => p.values), alloc) };
}

/** Rows [a, b) of a chunk's columns (views where possible). */
export function sliceColumns(c: BamColumns, a: number, b: number): BamColumns {
  if (a === 0 && b === c.rows) return c;
  return {
    rows: b - a,
    qname: sliceText(c.qname, a, b),
    flag: c.flag.subarray(a, b),
    refId: c.refId.subarray(a, b),
    pos: c.pos.subarray(a, b),
    mapq: c.mapq.subarray(a, b),
    cigar: sliceText(c.cigar, a, b),
    rnext: c.rnext.subarray(a, b),
    pnext: c.pnext.subarray(a, b),
    tlen: c.tlen.subarray(a, b),
    seq: c.seq && sliceText(c.seq, a, b),
    qual: c.qual && sliceText(c.qual, a, b),
    tags: c.tags && sliceTags(c.tags, a, b),
    maxRef: c.maxRef,
  };
}

export function concatColumns(parts: BamColumns[], alloc: Alloc = fresh): BamColumns {
  if (parts.length === 1) return parts[0]!;
  const first = parts[0]!;
  const text = (pick: (c: BamColumns) => TextColumn): TextColumn => concatText(parts.map(pick), alloc);
  return {
    rows: parts.reduce((n, p) => n + p.rows, 0),
    qname: text((p) => p.qname),
    flag: concatFixed(parts.map((p) => p.flag), alloc.u16),
    refId: concatFixed(parts.map((p) => p.refId), alloc.i32),
    pos: concatFixed(parts.map((p) => p.pos), alloc.i32),
    mapq: concatFixed(parts.map((p) => p.mapq), alloc.u8),
    cigar: text((p) => p.cigar),
    rnext: concatFixed(parts.map((p) => p.rnext), alloc.i32),
    pnext: concatFixed(parts.map((p) => p.pnext), alloc.i32),
    tlen: concatFixed(parts.map((p) => p.tlen), alloc.i32),
    seq: first.seq && text((p) => p.seq!),
    qual: first.qual && text((p) => p.qual!),
    tags: first.tags && concatTags(parts.map((p) => p.tags!), alloc),
    maxRef: Math.max(...parts.map((p) => p.maxRef)),
  };
}

/** Collects chunk columns and releases them in batches of exactly `size` rows (the last may be short). */
export class RowBatcher {
  private parts: BamColumns[] = [];
  private pending = 0;
  private readonly scratch = new Scratch();
  constructor(private readonly size: number) {}

  push(c: BamColumns): void {
    if (c.rows === 0) return;
    this.parts.push(c);
    this.pending += c.rows;
  }

  /** Full batches now available; each is valid until the next one is taken (shared buffers). */
  *full(): Generator<BamColumns> {
    while (this.pending >= this.size) yield this.take(this.size);
  }

  /** Whatever is left (at the end of the run). */
  rest(): BamColumns | null {
    return this.pending > 0 ? this.take(this.pending) : null;
  }

  private take(n: number): BamColumns {
    const out: BamColumns[] = [];
    let need = n;
    while (need > 0) {
      const head = this.parts[0]!;
      if (head.rows <= need) {
        out.push(head);
        this.parts.shift();
        need -= head.rows;
      } else {
        out.push(sliceColumns(head, 0, need));
        this.parts[0] = sliceColumns(head, need, head.rows);
        need = 0;
      }
    }
    this.pending -= n;
    this.scratch.reset();
    return concatColumns(out, this.scratch);
  }
}
