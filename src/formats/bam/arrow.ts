/**
 * Builds Arrow record batches from decoded BAM columns (main thread): wraps the workers' typed
 * arrays in Arrow Data without copying, adding only validity bitmaps.
 */
import {
  Dictionary, Field, Int32, Map_, RecordBatch, Schema, Struct, Uint16, Uint8, Utf8, makeData, vectorFromArray,
  type Data, type DataType, type Vector,
} from 'apache-arrow';
import type { BamColumns, TagColumn, TextColumn } from './decode.js';
import { samHeaderText, type BamHeader } from './header.js';

export interface BamSchemaOptions { sequence: boolean; quality: boolean; tags: boolean }

export interface BamArrow {
  schema: Schema;
  rnameDict: Vector<Utf8>;
  rnextDict: Vector<Utf8>;
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
    rnameDict: vectorFromArray(names, utf8()),
    rnextDict: vectorFromArray(['=', ...names], utf8()),
    options,
  };
}

/** Validity bitmap (LSB first) for rows where `valid(i)`, and the null count. */
function bitmap(n: number, valid: (i: number) => boolean): { bits: Uint8Array; nulls: number } {
  const bits = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    if (valid(i)) bits[i >> 3]! |= 1 << (i & 7);
    else nulls++;
  }
  return { bits, nulls };
}

function withNulls<T extends DataType>(props: Record<string, unknown> & { type: T; length: number }, n: number, valid: (i: number) => boolean): Data<T> {
  const { bits, nulls } = bitmap(n, valid);
  return makeData({ ...props, nullCount: nulls, nullBitmap: nulls > 0 ? bits : undefined } as never) as Data<T>;
}

/** A text column where an empty value stands for SAM `*` (null). */
function textData(t: TextColumn, n: number, nullable: boolean): Data<Utf8> {
  const props = { type: utf8(), length: n, valueOffsets: t.offsets, data: t.data };
  const o = t.offsets;
  return nullable ? withNulls(props, n, (i) => o[i + 1]! > o[i]!) : makeData(props);
}

function tagsData(t: TagColumn, n: number): Data {
  const entryCount = t.entries[n]!;
  const keyOffsets = new Int32Array(entryCount + 1);
  for (let i = 0; i <= entryCount; i++) keyOffsets[i] = 2 * i;
  const key = makeData({ type: utf8(), length: entryCount, valueOffsets: keyOffsets, data: t.keys });
  const value = makeData({ type: utf8(), length: entryCount, valueOffsets: t.values.offsets, data: t.values.data });
  const type = tagsType();
  const entries = makeData({ type: type.children[0]!.type, length: entryCount, children: [key, value] });
  return makeData({ type, length: n, valueOffsets: t.entries, child: entries });
}

function dictData(indices: Int32Array, dictionary: Vector<Utf8>, id: number, n: number): Data {
  const type = new Dictionary(utf8(), new Int32(), id);
  return withNulls({ type, length: n, data: indices, dictionary }, n, (i) => indices[i]! >= 0);
}

export function toRecordBatch(a: BamArrow, c: BamColumns): RecordBatch {
  const n = c.rows;
  const pos = c.pos;
  const pnext = c.pnext;
  const mapq = c.mapq;
  const children: Data[] = [
    textData(c.qname, n, false),
    makeData({ type: new Uint16(), length: n, data: c.flag }),
    dictData(c.refId, a.rnameDict, RNAME_ID, n),
    withNulls({ type: new Int32(), length: n, data: pos }, n, (i) => pos[i] !== 0),
    withNulls({ type: new Uint8(), length: n, data: mapq }, n, (i) => mapq[i] !== 255),
    textData(c.cigar, n, true),
    dictData(c.rnext, a.rnextDict, RNEXT_ID, n),
    withNulls({ type: new Int32(), length: n, data: pnext }, n, (i) => pnext[i] !== 0),
    makeData({ type: new Int32(), length: n, data: c.tlen }),
  ];
  if (a.options.sequence) children.push(textData(c.seq!, n, true));
  if (a.options.quality) children.push(textData(c.qual!, n, true));
  if (a.options.tags) children.push(tagsData(c.tags!, n));
  const struct = makeData({ type: new Struct(a.schema.fields), length: n, nullCount: 0, children });
  return new RecordBatch(a.schema, struct);
}
