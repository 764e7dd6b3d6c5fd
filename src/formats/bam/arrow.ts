/**
 * The Arrow schema of `bam convert` and its record batches as IPC pieces: the workers' value
 * arrays are written as they are, next to the joined offsets and validity bitmaps that
 * assemble.ts builds (on the main thread, or in a worker from 5 threads). Work here is per
 * chunk, not per row. See
 * src/sinks/arrow-pieces.ts.
 */
import { Bool, Dictionary, Field, Float32, Int16, Int32, Int64, Int8, List, Map_, Schema, Struct, Uint16, Uint32, Uint8, Utf8, vectorFromArray, type DataType, type Vector } from 'apache-arrow';
import type { TagSpec } from './typed-tags.js';
import { pieceBuffer, type PieceBatch, type PieceBuffer, type PieceDictionary, type PieceNode } from '../../sinks/arrow-pieces.js';
import type { BamColumns, TextColumn } from './decode.js';
import type { RowSpan } from './batch.js';
import type { BatchAssembly, Bits } from './assemble.js';
import { samHeaderText, type BamHeader } from './header.js';
import { FLAG_COLUMNS } from './column-names.js';
import { auxSize } from './framing.js';

export interface BamSchemaOptions {
  sequence: boolean;
  quality: boolean;
  tags: boolean;
  /** `--columns`: the fixed SAM columns to write (null: all of them); seq, qual, tags follow the three flags above. */
  columns?: readonly string[] | null;
  /** `--flag-columns`: one boolean column per flag bit, after `flag`. */
  flagColumns?: boolean;
  /** `--tag`: `tags` is a struct of these typed fields instead of the map (typed-tags.ts). */
  typedTags?: TagSpec[] | null;
}


/** Is fixed column `name` written? */
export function writes(options: BamSchemaOptions, name: string): boolean {
  return !options.columns || options.columns.includes(name);
}

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

/** The Arrow type of a B array's elements, by subtype letter. */
function elementType(sub: string): DataType {
  switch (sub) {
    case 'c': return new Int8();
    case 'C': return new Uint8();
    case 's': return new Int16();
    case 'S': return new Uint16();
    case 'i': return new Int32();
    case 'I': return new Uint32();
    default: return new Float32();
  }
}

function typedTagsType(specs: TagSpec[]): Struct {
  const typeOf = (s: TagSpec): DataType => {
    if (s.kind === 'int') return new Int64();
    if (s.kind === 'float') return new Float32();
    if (s.kind === 'list') return new List(new Field('item', elementType(s.sub!), false));
    return utf8();
  };
  return new Struct(specs.map((s) => new Field(s.name, typeOf(s), true)));
}

/** The output schema; the SAM header text and the reference list go into its metadata. */
export function bamSchema(header: BamHeader, options: BamSchemaOptions): BamArrow {
  const fixed: Array<[string, DataType, boolean]> = [
    ['qname', utf8(), false],
    ['flag', new Uint16(), false],
    ['rname', new Dictionary(utf8(), new Int32(), RNAME_ID), true],
    ['pos', new Int32(), true],
    ['mapq', new Uint8(), true],
    ['cigar', utf8(), true],
    ['rnext', new Dictionary(utf8(), new Int32(), RNEXT_ID), true],
    ['pnext', new Int32(), true],
    ['tlen', new Int32(), false],
  ];
  const fields: Field[] = [];
  for (const [name, type, nullable] of fixed) {
    if (writes(options, name)) fields.push(new Field(name, type, nullable));
    if (name === 'flag' && options.flagColumns) for (const f of FLAG_COLUMNS) fields.push(new Field(f, new Bool(), false));
  }
  if (options.sequence) fields.push(new Field('seq', utf8(), true));
  if (options.quality) fields.push(new Field('qual', utf8(), true));
  if (options.tags) fields.push(new Field('tags', tagsType(), false));
  else if (options.typedTags && options.typedTags.length > 0) fields.push(new Field('tags', typedTagsType(options.typedTags), false));
  const metadata = new Map([
    ['sam_header', samHeaderText(header)],
    ['sam_references', JSON.stringify(header.references)],
    ['threadmill', JSON.stringify({ format: 'bam', tags: options.typedTags?.length ? 'struct: one typed field per --tag (i → int64, f → float32, Z/H/A → utf8), null when the record has not the tag' : 'map<utf8,utf8>: key = tag, value = TYPE:VALUE as in SAM text' })],
  ]);
  const names = header.references.map((r) => r.name);
  return {
    schema: new Schema(fields, metadata),
    // A dictionary only for a column written: readers refuse one no field names.
    dictionaries: [
      ...(writes(options, 'rname') ? [{ id: RNAME_ID, values: vectorFromArray(names, utf8()) as Vector }] : []),
      ...(writes(options, 'rnext') ? [{ id: RNEXT_ID, values: vectorFromArray(['=', ...names], utf8()) as Vector }] : []),
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
  node(length: number, validity: Bits | null, ...buffers: PieceBuffer[]): void {
    const nulls = validity?.nulls ?? 0;
    this.nodes.push({ length, nullCount: nulls });
    // A node without nulls gets an empty validity buffer, as apache-arrow writes it.
    this.buffers.push(nulls > 0 ? pieceBuffer(validity!.bits) : NONE, ...buffers);
  }
}

const NONE: PieceBuffer = { pieces: [], byteLength: 0 };

/** The rows of a fixed-width column, as views of the chunks' arrays. */
function values(spans: RowSpan[], pick: (c: BamColumns) => Uint8Array | Uint16Array | Int32Array): PieceBuffer {
  return pieceBuffer(...spans.map((r) => pick(r.cols).subarray(r.from, r.to)));
}

/** The bytes of rows [from, to) of a text column, per span. */
function textData(spans: RowSpan[], pick: (c: BamColumns) => TextColumn): PieceBuffer {
  return pieceBuffer(...spans.map((r) => {
    const t = pick(r.cols);
    return t.data.subarray(t.offsets[r.from]!, t.offsets[r.to]!);
  }));
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

/** map<utf8, utf8>: the map, its entries struct, then the key and value columns. */
function addTags(l: BatchLayout, spans: RowSpan[], m: BatchAssembly, n: number): void {
  const entries = m.tagEntries!;
  const count = entries[n]!;
  const entrySpans = spans.map((r) => ({ t: r.cols.tags!, from: r.cols.tags!.entries[r.from]!, to: r.cols.tags!.entries[r.to]! }));
  l.node(n, null, pieceBuffer(entries));
  l.node(count, null);
  l.node(count, null, pieceBuffer(evenOffsets(count + 1)), pieceBuffer(...entrySpans.map((s) => s.t.keys.subarray(2 * s.from, 2 * s.to))));
  const valueData = entrySpans.map((s) => s.t.values.data.subarray(s.t.values.offsets[s.from]!, s.t.values.offsets[s.to]!));
  l.node(count, null, pieceBuffer(m.tagValueOffsets!), pieceBuffer(...valueData));
}

/** struct<…>: the struct node (never null), then each field's validity and values. */
function addTypedTags(l: BatchLayout, spans: RowSpan[], m: BatchAssembly, n: number, specs: TagSpec[]): void {
  l.node(n, null);
  specs.forEach((spec, k) => {
    const a = m.typedTags![k]!;
    const col = (r: RowSpan) => r.cols.typedTags![k]!;
    if (spec.kind === 'int') l.node(n, a.bits, pieceBuffer(...spans.map((r) => col(r).ints!.subarray(2 * r.from, 2 * r.to))));
    else if (spec.kind === 'float') l.node(n, a.bits, pieceBuffer(...spans.map((r) => col(r).floats!.subarray(r.from, r.to))));
    else if (spec.kind === 'text' || spec.kind === 'any') l.node(n, a.bits, pieceBuffer(a.offsets!), pieceBuffer(...spans.map((r) => col(r).text!.data.subarray(col(r).text!.offsets[r.from]!, col(r).text!.offsets[r.to]!))));
    else {
      // list<x>: offsets in elements, then the elements (BAM's little-endian bytes) as the child.
      const size = auxSize(spec.sub!.charCodeAt(0));
      l.node(n, a.bits, pieceBuffer(a.offsets!));
      l.node(a.offsets![n]!, null, pieceBuffer(...spans.map((r) => col(r).text!.data.subarray(size * col(r).text!.offsets[r.from]!, size * col(r).text!.offsets[r.to]!))));
    }
  });
}

/**
 * One record batch from row spans of chunk columns and their assembly: views of the columns,
 * not copies.
 */
export function toPieceBatch(options: BamSchemaOptions, spans: RowSpan[], m: BatchAssembly): PieceBatch {
  const n = m.rows;
  const l = new BatchLayout();
  const w = (name: string): boolean => writes(options, name);
  if (w('qname')) l.node(n, null, pieceBuffer(m.qname), textData(spans, (c) => c.qname));
  if (w('flag')) l.node(n, null, values(spans, (c) => c.flag));
  if (options.flagColumns) for (const bits of m.flagBits!) l.node(n, null, pieceBuffer(bits));
  if (w('rname')) l.node(n, m.refId, m.refIdKeys ? pieceBuffer(m.refIdKeys) : values(spans, (c) => c.refId));
  if (w('pos')) l.node(n, m.pos, values(spans, (c) => c.pos));
  if (w('mapq')) l.node(n, m.mapq, values(spans, (c) => c.mapq));
  if (w('cigar')) l.node(n, m.cigar.bits, pieceBuffer(m.cigar.offsets), textData(spans, (c) => c.cigar));
  if (w('rnext')) l.node(n, m.rnext, m.rnextKeys ? pieceBuffer(m.rnextKeys) : values(spans, (c) => c.rnext));
  if (w('pnext')) l.node(n, m.pnext, values(spans, (c) => c.pnext));
  if (w('tlen')) l.node(n, null, values(spans, (c) => c.tlen));
  if (options.sequence) l.node(n, m.seq!.bits, pieceBuffer(m.seq!.offsets), textData(spans, (c) => c.seq!));
  if (options.quality) l.node(n, m.qual!.bits, pieceBuffer(m.qual!.offsets), textData(spans, (c) => c.qual!));
  if (options.tags) addTags(l, spans, m, n);
  else if (m.typedTags && options.typedTags) addTypedTags(l, spans, m, n, options.typedTags);
  return { length: n, nodes: l.nodes, buffers: l.buffers };
}
