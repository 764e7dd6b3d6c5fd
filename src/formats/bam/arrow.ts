/**
 * The Arrow schema of `bam convert` and its record batches as IPC pieces (main thread): the
 * workers' value arrays are written as they are; only the joined offsets and the validity
 * bitmaps (a few bytes per row) are built here. See src/sinks/arrow-pieces.ts.
 */
import { Dictionary, Field, Int32, Map_, Schema, Struct, Uint16, Uint8, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import { pieceBuffer, type PieceBatch, type PieceBuffer, type PieceDictionary, type PieceNode } from '../../sinks/arrow-pieces.js';
import type { BamColumns, TextColumn } from './decode.js';
import type { RowRange } from './batch.js';
import { samHeaderText, type BamHeader } from './header.js';

export interface BamSchemaOptions { sequence: boolean; quality: boolean; tags: boolean }

export interface BamArrow {
  schema: Schema;
  dictionaries: PieceDictionary[];
  options: BamSchemaOptions;
}

const utf8 = (): Utf8 => new Utf8();
const RNAME_ID = 0;
const RNEXT_ID = 1;

function tagsType(): Map_<Utf8, Utf8> {
  const entries = new Field('entries', new Struct([new Field('key', utf8(), false), new Field('value', utf8(), true)]), false);
  return new Map_(entries, false);
}

/** The output schema; the SAM header text and the reference list go into its metadata. */
export function bamSchema(header: BamHeader, options: BamSchemaOptions): BamArrow {
  const fields: Field[] = [
    new Field('qname', utf8(), false),
    new Field('flag', new Uint16(), false),
    new Field('rname', new Dictionary(utf8(), new Int32(), RNAME_ID), true),
    new Field('pos', new Int32(), true),
    new Field('mapq', new Uint8(), true),
    new Field('cigar', utf8(), true),
    new Field('rnext', new Dictionary(utf8(), new Int32(), RNEXT_ID), true),
    new Field('pnext', new Int32(), true),
    new Field('tlen', new Int32(), false),
  ];
  if (options.sequence) fields.push(new Field('seq', utf8(), true));
  if (options.quality) fields.push(new Field('qual', utf8(), true));
  if (options.tags) fields.push(new Field('tags', tagsType(), false));
  const metadata = new Map([
    ['sam_header', samHeaderText(header)],
    ['sam_references', JSON.stringify(header.references)],
    ['threadmill', JSON.stringify({ format: 'bam', tags: 'map<utf8,utf8>: key = tag, value = TYPE:VALUE as in SAM text' })],
  ]);
  const names = header.references.map((r) => r.name);
  return {
    schema: new Schema(fields, metadata),
    dictionaries: [
      { id: RNAME_ID, values: vectorFromArray(names, utf8()) as Vector },
      { id: RNEXT_ID, values: vectorFromArray(['=', ...names], utf8()) as Vector },
    ],
    options,
  };
}

/**
 * Accumulates the nodes and buffers of one batch in Arrow's depth-first order (the order
 * apache-arrow's VectorAssembler uses: validity, then offsets or values, then children).
 */
class BatchLayout {
  readonly nodes: PieceNode[] = [];
  readonly buffers: PieceBuffer[] = [];
  node(length: number, nullCount: number, validity: Uint8Array, ...buffers: PieceBuffer[]): void {
    this.nodes.push({ length, nullCount });
    // A node without nulls gets an empty validity buffer, as apache-arrow writes it.
    this.buffers.push(nullCount > 0 ? pieceBuffer(validity) : NONE, ...buffers);
  }
}

const NONE: PieceBuffer = { pieces: [], byteLength: 0 };
const rowsOf = (ranges: RowRange[]): number => ranges.reduce((n, r) => n + r.to - r.from, 0);

/** The rows of a fixed-width column, as views of the chunks' arrays. */
function values(ranges: RowRange[], pick: (c: BamColumns) => Uint8Array | Uint16Array | Int32Array): PieceBuffer {
  return pieceBuffer(...ranges.map((r) => pick(r.cols).subarray(r.from, r.to)));
}

interface Joined { offsets: Int32Array; data: PieceBuffer; bits: Uint8Array; nulls: number }

/**
 * Offsets of a text column joined across ranges (rebased to 0), its data as pieces, and its
 * validity: an empty value stands for SAM `*`, a null.
 */
function joinText(ranges: RowRange[], pick: (c: BamColumns) => TextColumn, n: number): Joined {
  const offsets = new Int32Array(n + 1);
  const bits = new Uint8Array((n + 7) >> 3);
  const pieces: Uint8Array[] = [];
  let nulls = 0;
  let row = 0;
  let at = 0;
  for (const r of ranges) {
    const t = pick(r.cols);
    const base = t.offsets[r.from]!;
    const shift = at - base;
    let prev = base;
    for (let i = r.from + 1; i <= r.to; i++, row++) {
      const o = t.offsets[i]!;
      offsets[row + 1] = o + shift;
      if (o > prev) bits[row >> 3]! |= 1 << (row & 7);
      else nulls++;
      prev = o;
    }
    pieces.push(t.data.subarray(base, prev));
    at += prev - base;
  }
  return { offsets, data: pieceBuffer(...pieces), bits, nulls };
}

/** Offsets joined across ranges (rebased to 0), for list-like columns. */
function joinOffsets(parts: Array<{ offsets: Int32Array; from: number; to: number }>, n: number): Int32Array {
  const out = new Int32Array(n + 1);
  let row = 0;
  let at = 0;
  for (const p of parts) {
    const shift = at - p.offsets[p.from]!;
    for (let i = p.from + 1; i <= p.to; i++) out[++row] = p.offsets[i]! + shift;
    at = out[row]!;
  }
  return out;
}

/**
 * Validity bitmaps (LSB first) and null counts, one monomorphic loop per rule: a shared loop
 * calling a per-column closure was 5% of the main thread's time.
 */
interface Bits { bits: Uint8Array; nulls: number }

function bitsNonZero(ranges: RowRange[], pick: (c: BamColumns) => Int32Array, n: number): Bits {
  const bits = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  let row = 0;
  for (const r of ranges) {
    const a = pick(r.cols);
    for (let i = r.from; i < r.to; i++, row++) {
      if (a[i] !== 0) bits[row >> 3]! |= 1 << (row & 7);
      else nulls++;
    }
  }
  return { bits, nulls };
}

function bitsNonNegative(ranges: RowRange[], pick: (c: BamColumns) => Int32Array, n: number): Bits {
  const bits = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  let row = 0;
  for (const r of ranges) {
    const a = pick(r.cols);
    for (let i = r.from; i < r.to; i++, row++) {
      if (a[i]! >= 0) bits[row >> 3]! |= 1 << (row & 7);
      else nulls++;
    }
  }
  return { bits, nulls };
}

function bitsNot255(ranges: RowRange[], pick: (c: BamColumns) => Uint8Array, n: number): Bits {
  const bits = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  let row = 0;
  for (const r of ranges) {
    const a = pick(r.cols);
    for (let i = r.from; i < r.to; i++, row++) {
      if (a[i] !== 255) bits[row >> 3]! |= 1 << (row & 7);
      else nulls++;
    }
  }
  return { bits, nulls };
}

/** 0, 2, 4, ...: the offsets of the two-letter keys, shared by all batches (read-only). */
let evens = new Int32Array(0);
function evenOffsets(n: number): Int32Array {
  if (evens.length < n) {
    evens = new Int32Array(Math.max(n, evens.length * 2));
    for (let i = 0; i < evens.length; i++) evens[i] = 2 * i;
  }
  return evens.subarray(0, n);
}

function addText(l: BatchLayout, ranges: RowRange[], pick: (c: BamColumns) => TextColumn, n: number, nullable: boolean): void {
  const t = joinText(ranges, pick, n);
  l.node(n, nullable ? t.nulls : 0, t.bits, pieceBuffer(t.offsets), t.data);
}

function addWithNulls(l: BatchLayout, n: number, b: Bits, data: PieceBuffer): void {
  l.node(n, b.nulls, b.bits, data);
}

/** map<utf8, utf8>: the map, its entries struct, then the key and value columns. */
function addTags(l: BatchLayout, ranges: RowRange[], n: number): void {
  const tags = ranges.map((r) => ({ t: r.cols.tags!, from: r.from, to: r.to }));
  const entries = joinOffsets(tags.map((p) => ({ offsets: p.t.entries, from: p.from, to: p.to })), n);
  const count = entries[n]!;
  const spans = tags.map((p) => ({ from: p.t.entries[p.from]!, to: p.t.entries[p.to]!, t: p.t }));
  l.node(n, 0, NONE_BITS, pieceBuffer(entries));
  l.node(count, 0, NONE_BITS);
  l.node(count, 0, NONE_BITS, pieceBuffer(evenOffsets(count + 1)), pieceBuffer(...spans.map((s) => s.t.keys.subarray(2 * s.from, 2 * s.to))));
  const valueOffsets = joinOffsets(spans.map((s) => ({ offsets: s.t.values.offsets, from: s.from, to: s.to })), count);
  const valueData = spans.map((s) => s.t.values.data.subarray(s.t.values.offsets[s.from]!, s.t.values.offsets[s.to]!));
  l.node(count, 0, NONE_BITS, pieceBuffer(valueOffsets), pieceBuffer(...valueData));
}

const NONE_BITS = new Uint8Array(0);

/** One record batch from row ranges of chunk columns; views of the columns, not copies. */
export function toPieceBatch(a: BamArrow, ranges: RowRange[]): PieceBatch {
  const n = rowsOf(ranges);
  const l = new BatchLayout();
  addText(l, ranges, (c) => c.qname, n, false);
  l.node(n, 0, NONE_BITS, values(ranges, (c) => c.flag));
  addWithNulls(l, n, bitsNonNegative(ranges, (c) => c.refId, n), values(ranges, (c) => c.refId));
  addWithNulls(l, n, bitsNonZero(ranges, (c) => c.pos, n), values(ranges, (c) => c.pos));
  addWithNulls(l, n, bitsNot255(ranges, (c) => c.mapq, n), values(ranges, (c) => c.mapq));
  addText(l, ranges, (c) => c.cigar, n, true);
  addWithNulls(l, n, bitsNonNegative(ranges, (c) => c.rnext, n), values(ranges, (c) => c.rnext));
  addWithNulls(l, n, bitsNonZero(ranges, (c) => c.pnext, n), values(ranges, (c) => c.pnext));
  l.node(n, 0, NONE_BITS, values(ranges, (c) => c.tlen));
  if (a.options.sequence) addText(l, ranges, (c) => c.seq!, n, true);
  if (a.options.quality) addText(l, ranges, (c) => c.qual!, n, true);
  if (a.options.tags) addTags(l, ranges, n);
  return { length: n, nodes: l.nodes, buffers: l.buffers };
}
