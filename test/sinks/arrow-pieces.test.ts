/**
 * The IPC writer over pieces: batches laid out by apache-arrow's own assembler, then cut into
 * arbitrary pieces, must read back equal to the input with apache-arrow (file format) and with
 * arrow-rs (parquet-wasm, the stream inside the file); and the one-buffer stream must too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dictionary, Field, Int32, List, RecordBatch, Schema, Struct, Table, Uint8, Utf8, makeData, tableFromIPC, vectorFromArray, type Data } from 'apache-arrow';
import { VectorAssembler } from 'apache-arrow/visitor/vectorassembler';
import * as pw from 'parquet-wasm';
import { ArrowIpcFileWriter, ipcStreamBytes, ipcStreamHead, type PieceBatch, type PieceDictionary } from '../../src/sinks/arrow-pieces.js';

const dictType = (): Dictionary<Utf8, Int32> => new Dictionary(new Utf8(), new Int32(), 0);
const listType = (): List<Utf8> => new List(new Field('item', new Utf8(), true));
const schema = new Schema([
  new Field('n', new Int32(), false),
  new Field('name', new Utf8(), true),
  new Field('ref', dictType(), true),
  new Field('q', new Uint8(), true),
  new Field('list', listType(), true),
], new Map([['note', 'schema metadata survives']]));
const refs = vectorFromArray(['chr1', 'chr2', 'chrM'], new Utf8());
const dictionaries: PieceDictionary[] = [{ id: 0, values: refs }];

function batch(from: number, rows: number): RecordBatch {
  const n = Array.from({ length: rows }, (_, i) => from + i);
  const dict = vectorFromArray(n.map((v) => (v % 5 === 0 ? null : ['chr1', 'chr2', 'chrM'][v % 3]!)), dictType()).data[0]!;
  // Indices into the one dictionary every batch of a file shares.
  const indices = Int32Array.from(n, (v) => v % 3);
  const children: Data[] = [
    vectorFromArray(n, new Int32()).data[0]!,
    vectorFromArray(n.map((v) => (v % 7 === 0 ? null : `row-${v}`.repeat(v % 4))), new Utf8()).data[0]!,
    makeData({ type: dictType(), length: rows, nullCount: dict.nullCount, nullBitmap: dict.nullBitmap, data: indices, dictionary: refs }),
    vectorFromArray(n.map((v) => (v % 3 === 0 ? null : v % 256)), new Uint8()).data[0]!,
    vectorFromArray(n.map((v) => (v % 11 === 0 ? null : Array.from({ length: v % 4 }, (_, k) => `${v}.${k}`))), listType()).data[0]!,
  ];
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children }));
}

/** apache-arrow's layout of the batch, with every buffer cut into pieces at pseudo-random points. */
function toPieces(b: RecordBatch, seed: number): PieceBatch {
  const a = VectorAssembler.assemble(b);
  let s = seed;
  const buffers = a.buffers.map((buf) => {
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    const pieces: Uint8Array[] = [];
    for (let at = 0; at < bytes.length;) {
      s = (s * 1103515245 + 12345) >>> 0;
      const step = 1 + (s % 97);
      pieces.push(bytes.subarray(at, at + step));
      at += step;
    }
    return { pieces, byteLength: bytes.length };
  });
  return { length: b.numRows, nodes: a.nodes.map((n) => ({ length: Number(n.length), nullCount: Number(n.nullCount) })), buffers };
}

function rows(t: Table): unknown[] {
  return t.toArray().map((r) => JSON.stringify(r));
}

test('a file written from pieces reads back equal with apache-arrow and arrow-rs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-pieces-'));
  try {
    const batches = [batch(0, 1000), batch(1000, 1), batch(1001, 0), batch(1001, 777)];
    const path = join(dir, 'p.arrow');
    const w = await ArrowIpcFileWriter.open(path, schema, dictionaries, { maxInFlight: 1 });
    let written = 0;
    for (const [i, b] of batches.entries()) await w.write(toPieces(b, i + 1), () => written++);
    await w.close();
    assert.equal(written, batches.length, 'every write reported as done');
    const bytes = readFileSync(path);
    const expected = batches.flatMap((b) => rows(new Table(b)));
    const streamed = batches.flatMap((b) => rows(tableFromIPC(ipcStreamBytes(ipcStreamHead(schema, dictionaries), toPieces(b, 9)))));
    assert.deepEqual(streamed, expected);
    const file = tableFromIPC(bytes);
    assert.equal(file.batches.length, batches.length);
    assert.equal(file.schema.metadata.get('note'), 'schema metadata survives');
    assert.deepEqual(rows(file), expected);
    assert.equal(file.numRows, 1778);
    assert.equal(JSON.stringify(file.get(14)?.toJSON()), JSON.stringify({ n: 14, name: null, ref: 'chrM', q: 14, list: ['14.0', '14.1'] }));
    const rs = pw.Table.fromIPCStream(bytes.subarray(8));
    assert.deepEqual(rows(tableFromIPC(rs.intoIPCStream())), expected);

    // Stream format: no magic and no footer, the same batches.
    const streamPath = join(dir, 'p.arrows');
    const s = await ArrowIpcFileWriter.open(streamPath, schema, dictionaries, { stream: true });
    for (const [i, b] of batches.entries()) await s.write(toPieces(b, i + 5));
    await s.close();
    const streamBytes = readFileSync(streamPath);
    assert.notEqual(streamBytes.subarray(0, 6).toString(), 'ARROW1');
    assert.deepEqual(rows(tableFromIPC(streamBytes)), expected);
    assert.deepEqual(rows(tableFromIPC(pw.Table.fromIPCStream(streamBytes).intoIPCStream())), expected);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
