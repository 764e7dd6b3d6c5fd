/**
 * The Parquet merger: pieces encoded as the workers do (encodeParquetPiece, called directly
 * here) → one file that parquet-wasm and hyparquet both read back equal to the input batches.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dictionary, Field, Int32, RecordBatchStreamWriter, Schema, Uint16, Utf8, tableFromIPC, vectorFromArray, makeData, RecordBatch, Struct, type Data } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { ParquetMerger } from '../../src/sinks/parquet-merge.js';
import { encodeParquetPiece } from '../../src/sinks/parquet-piece.js';
import { ThriftReader, ThriftWriter } from '../../src/sinks/thrift-compact.js';

const schema = new Schema([
  new Field('n', new Int32(), false),
  new Field('name', new Utf8(), true),
  new Field('ref', new Dictionary(new Utf8(), new Int32()), true),
  new Field('q', new Uint16(), false),
], new Map([['note', 'kept in the footer']]));

function batch(from: number, rows: number): RecordBatch {
  const n = Int32Array.from({ length: rows }, (_, i) => from + i);
  const children: Data[] = [
    vectorFromArray(Array.from(n), new Int32()).data[0]!,
    vectorFromArray(Array.from(n, (v) => (v % 7 === 0 ? null : `row-${v}`)), new Utf8()).data[0]!,
    vectorFromArray(Array.from(n, (v) => (v % 5 === 0 ? null : `chr${v % 3}`)), new Dictionary(new Utf8(), new Int32())).data[0]!,
    vectorFromArray(Array.from(n, (v) => v % 65536), new Uint16()).data[0]!,
  ];
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children }));
}

function piece(b: RecordBatch, compression: 'zstd' | 'snappy'): Uint8Array {
  const ipc = RecordBatchStreamWriter.writeAll([b]).toUint8Array(true);
  return encodeParquetPiece({ ipc, options: { rowGroupSize: 1000, compression } }).value as Uint8Array;
}

const plain = (v: unknown): unknown => (typeof v === 'bigint' ? Number(v) : v);

for (const compression of ['snappy', 'zstd'] as const) {
  test(`several pieces merge into one Parquet file read back equal (${compression})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-pqmerge-'));
    try {
      const sizes = [1000, 1000, 37, 0, 500];
      const batches: RecordBatch[] = [];
      let at = 0;
      for (const s of sizes) {
        batches.push(batch(at, s));
        at += s;
      }
      const out = join(dir, 'm.parquet');
      const m = new ParquetMerger(out);
      for (const b of batches) m.append(piece(b, compression));
      m.finish();
      const bytes = readFileSync(out);

      const t = tableFromIPC(pw.readParquet(bytes).intoIPCStream());
      assert.equal(t.numRows, at);
      assert.equal(t.schema.metadata.get('note'), 'kept in the footer');
      const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
      const md = parquetMetadata(ab);
      assert.equal(Number(md.num_rows), at);
      assert.deepEqual(md.row_groups.map((g) => Number(g.num_rows)), sizes.filter((s) => s > 0));
      assert.ok(md.key_value_metadata?.some((kv) => kv.key === 'ARROW:schema'));
      const hyp = compression === 'snappy' ? await parquetReadObjects({ file: ab }) : null;
      let row = 0;
      for (const b of batches) {
        for (let i = 0; i < b.numRows; i++, row++) {
          for (const f of schema.fields) {
            const want = b.getChild(f.name)!.get(i) as unknown;
            assert.deepEqual(plain(t.getChild(f.name)!.get(row)), want, `parquet-wasm ${f.name} row ${row}`);
            if (hyp) assert.deepEqual(plain(hyp[row]![f.name]), want, `hyparquet ${f.name} row ${row}`);
          }
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('the thrift transcoder writes an unchanged footer back byte for byte', () => {
  const p = piece(batch(0, 300), 'zstd');
  const len = new DataView(p.buffer, p.byteOffset + p.length - 8, 4).getUint32(0, true);
  const footer = p.subarray(p.length - 8 - len, p.length - 8);
  const w = new ThriftWriter();
  w.writeStruct(new ThriftReader(footer).readStruct());
  assert.deepEqual(w.bytes(), footer);
});

test('pieces with different schemas are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-pqmerge-'));
  try {
    const m = new ParquetMerger(join(dir, 'x.parquet'));
    m.append(piece(batch(0, 10), 'snappy'));
    const other = new Schema([new Field('x', new Int32(), false)]);
    const b = new RecordBatch(other, makeData({ type: new Struct(other.fields), length: 1, nullCount: 0, children: [vectorFromArray([1], new Int32()).data[0]!] }));
    assert.throws(() => m.append(piece(b, 'snappy')), /different schemas/);
    m.abort();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
