/**
 * Parquet written by the workers (format-agnostic). Each record batch is encoded into a complete
 * small Parquet file ("piece", one row group) by a worker side call; this thread only copies each
 * piece's column chunks into the output, in order, and writes one footer at the end. So Parquet
 * encoding (the costly part: dictionary, levels, zstd) scales with the workers instead of running
 * on the main thread. See docs/decisions/0004-parquet-writer.md.
 *
 * Page indexes (arrow-rs always writes an offset index) and bloom filters sit outside the column
 * chunks and hold absolute offsets; they are optional in Parquet, so the merged footer drops them
 * instead of relocating them.
 */
import { writeSync } from 'node:fs';
import { closeOutputSync, openOutputSync } from '../engine/atomic.js';
import { RecordBatchStreamWriter, type RecordBatch } from 'apache-arrow';
import type { ParquetOptions } from './parquet.js';
import { T, ThriftReader, ThriftWriter, field, type TList, type TStruct } from './thrift-compact.js';
import type { EngineHandle } from '../engine/run-types.js';
import { ENCODE_CALL, type EncodeArg } from './parquet-call.js';

const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]); // "PAR1"

function isMagic(b: Uint8Array, at: number): boolean {
  return b[at] === 0x50 && b[at + 1] === 0x41 && b[at + 2] === 0x52 && b[at + 3] === 0x31;
}

function i64(s: TStruct, id: number): bigint | undefined {
  const f = field(s, id);
  return f ? (f.value as bigint) : undefined;
}

function shiftI64(s: TStruct, id: number, by: bigint): void {
  const f = field(s, id);
  if (f) f.value = (f.value as bigint) + by;
}

function drop(s: TStruct, ids: number[]): void {
  s.fields = s.fields.filter((f) => !ids.includes(f.id));
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

function encodeValue(type: number, v: import('./thrift-compact.js').TValue): Uint8Array {
  const w = new ThriftWriter();
  w.writeValue(type, v);
  return w.bytes().slice();
}

// FileMetaData / RowGroup / ColumnChunk / ColumnMetaData field ids (parquet.thrift).
const FMD = { SCHEMA: 2, NUM_ROWS: 3, ROW_GROUPS: 4 };
const RG = { COLUMNS: 1, FILE_OFFSET: 5, ORDINAL: 7 };
const CC = { FILE_OFFSET: 2, META: 3, OFFSET_INDEX: [4, 5], COLUMN_INDEX: [6, 7] };
const CMD = { COMPRESSED: 7, DATA_PAGE: 9, INDEX_PAGE: 10, DICTIONARY_PAGE: 11, BLOOM: [14, 15] };

/** Appends the row groups of Parquet pieces, in order, into one file. */
export class ParquetMerger {
  private readonly fd: number;
  private offset = 0;
  private first: TStruct | null = null;
  private schema: Uint8Array | null = null;
  private rows = 0n;
  private readonly rowGroups: TStruct[] = [];
  private closed = false;

  constructor(path: string) {
    this.fd = openOutputSync(path);
    this.write(MAGIC);
  }

  private write(b: Uint8Array): void {
    let done = 0;
    while (done < b.length) done += writeSync(this.fd, b, done, b.length - done);
    this.offset += b.length;
  }

  /** Copies one piece's column chunks and keeps its row groups' metadata, offsets shifted. */
  append(piece: Uint8Array): void {
    const n = piece.length;
    if (n < 12 || !isMagic(piece, 0) || !isMagic(piece, n - 4)) throw new Error('parquet merge: piece is not a Parquet file');
    const footerLength = new DataView(piece.buffer, piece.byteOffset + n - 8, 4).getUint32(0, true);
    if (footerLength > n - 12) throw new Error('parquet merge: bad footer length');
    const meta = new ThriftReader(piece.subarray(n - 8 - footerLength, n - 8)).readStruct();
    const schemaField = field(meta, FMD.SCHEMA);
    if (!schemaField) throw new Error('parquet merge: footer without schema');
    const schema = encodeValue(schemaField.type, schemaField.value);
    if (this.first === null) {
      this.first = meta;
      this.schema = schema;
    } else if (!bytesEqual(schema, this.schema!)) throw new Error('parquet merge: pieces have different schemas');

    const groups = ((field(meta, FMD.ROW_GROUPS)?.value as TList | undefined)?.items ?? []) as TStruct[];
    // The data region is [4, end): the column chunks; page indexes and the footer follow it.
    let end = 4n;
    for (const rg of groups) {
      for (const cc of (field(rg, RG.COLUMNS)!.value as TList).items as TStruct[]) {
        const md = field(cc, CC.META)?.value as TStruct | undefined;
        if (!md) throw new Error('parquet merge: column chunk without metadata');
        const start = i64(md, CMD.DICTIONARY_PAGE) ?? i64(md, CMD.DATA_PAGE)!;
        if (start < 4n) throw new Error('parquet merge: column chunk before the header');
        const stop = start + i64(md, CMD.COMPRESSED)!;
        if (stop > end) end = stop;
      }
    }
    if (end > BigInt(n - 8 - footerLength)) throw new Error('parquet merge: column chunks overlap the footer');
    const shift = BigInt(this.offset) - 4n;
    for (const rg of groups) {
      shiftI64(rg, RG.FILE_OFFSET, shift);
      const ordinal = field(rg, RG.ORDINAL);
      if (ordinal) ordinal.value = this.rowGroups.length;
      for (const cc of (field(rg, RG.COLUMNS)!.value as TList).items as TStruct[]) {
        shiftI64(cc, CC.FILE_OFFSET, shift);
        drop(cc, [...CC.OFFSET_INDEX, ...CC.COLUMN_INDEX]);
        const md = field(cc, CC.META)!.value as TStruct;
        shiftI64(md, CMD.DATA_PAGE, shift);
        shiftI64(md, CMD.INDEX_PAGE, shift);
        shiftI64(md, CMD.DICTIONARY_PAGE, shift);
        drop(md, CMD.BLOOM);
      }
      this.rowGroups.push(rg);
    }
    this.rows += i64(meta, FMD.NUM_ROWS) ?? 0n;
    this.write(piece.subarray(4, Number(end)));
  }

  /** Writes the footer (the first piece's, with every row group and the total row count) and closes. */
  finish(): void {
    if (this.closed) return;
    if (!this.first) throw new Error('parquet merge: no pieces');
    const meta = this.first;
    meta.fields = meta.fields.map((f) => {
      if (f.id === FMD.NUM_ROWS) return { ...f, value: this.rows };
      if (f.id === FMD.ROW_GROUPS) return { ...f, value: { elem: T.STRUCT, items: this.rowGroups } };
      return f;
    });
    const w = new ThriftWriter();
    w.writeStruct(meta);
    const footer = w.bytes();
    const tail = new Uint8Array(8);
    new DataView(tail.buffer).setUint32(0, footer.length, true);
    tail.set(MAGIC, 4);
    this.write(footer);
    this.write(tail);
    this.closed = true;
    closeOutputSync(this.fd);
  }

  /** Stops without finishing the file (the caller removes it). */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    closeOutputSync(this.fd);
  }
}

/**
 * Main-thread side: hands each batch to a worker (as Arrow IPC, transferred) and appends the
 * encoded pieces in batch order. At most `maxInFlight` encodings are pending; write() waits for
 * the oldest past that, which holds back the reader (backpressure), as nostr convert's writer queue does.
 */
export class ParquetPieceWriter {
  private readonly merger: ParquetMerger;
  private readonly inFlight: Promise<Uint8Array>[] = [];
  rows = 0;

  constructor(path: string, readonly options: ParquetOptions, private readonly maxInFlight: number) {
    this.merger = new ParquetMerger(path);
  }

  /** Serializes the batch now (the caller may reuse its buffers after this returns). */
  async write(batch: RecordBatch, engine: EngineHandle): Promise<void> {
    const ipc = RecordBatchStreamWriter.writeAll([batch]).toUint8Array(true);
    await this.writePiece(engine.call<Uint8Array>(ENCODE_CALL, { ipc, options: this.options } satisfies EncodeArg, [ipc.buffer as ArrayBuffer]), batch.numRows);
  }

  /** A piece some worker is encoding (any side call that returns a one-row-group Parquet file). */
  async writePiece(piece: Promise<Uint8Array>, rows: number): Promise<void> {
    // A failed run abandons these; keep the rejection from being reported as unhandled.
    piece.catch(() => {});
    this.inFlight.push(piece);
    this.rows += rows;
    while (this.inFlight.length > this.maxInFlight) this.merger.append(await this.inFlight.shift()!);
  }

  /** Appends every pending piece (their encoding needs the workers: before a run's pool closes). */
  async drain(): Promise<void> {
    while (this.inFlight.length > 0) this.merger.append(await this.inFlight.shift()!);
  }

  /** Appends every pending piece and writes the footer; must run while the workers are up. */
  async close(): Promise<void> {
    while (this.inFlight.length > 0) this.merger.append(await this.inFlight.shift()!);
    this.merger.finish();
  }

  abort(): void {
    this.merger.abort();
  }
}
