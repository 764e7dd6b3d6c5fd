/**
 * Arrow IPC body compression (--compression lz4|zstd): the worker's compressed bodies, written by
 * the pieces writer, read back equal to the uncompressed batches with apache-arrow (its decoders
 * registered: fzstd for zstd, lz4-napi for LZ4 frames); buffers that do not shrink are stored
 * with length −1; batches resolved out of order are placed in order. Then both pipelines: bam and
 * fastq convert, -j 1 == -j 2 bytes, equal rows to the uncompressed output, and codecs a format has
 * not are usage errors. arrow-rs (parquet-wasm 0.8) is built without IPC compression ("requires the
 * zstd feature"), so it cannot be the second reader here (decision 0026).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Field, Int32, RecordBatch, Schema, Struct, Table, Uint8, Utf8, makeData, tableFromIPC, vectorFromArray, type Data } from 'apache-arrow';
import { compressionRegistry } from 'apache-arrow/ipc/compression/registry';
import { CompressionType } from 'apache-arrow/fb/compression-type';
import { decompress as zstdDecompress } from 'fzstd';
import { decompressFrameSync } from 'lz4-napi';
import { ArrowIpcFileWriter, piecesOf, type CompressedBatch, type IpcBatch, type IpcCodec, type PieceBatch } from '../../src/sinks/arrow-pieces.js';
import { compressIpcBuffers } from '../../src/sinks/ipc-compression.js';
import type { CompressedBody } from '../../src/sinks/ipc-compression-call.js';
import { convertBam } from '../../src/formats/bam/convert.js';
import { convertFastq } from '../../src/formats/fastq/convert.js';
import { bamHeader, bamRecord, lcg, stringTag, writeBam } from '../formats/bam/raw.js';

compressionRegistry.set(CompressionType.ZSTD, { decode: (b) => zstdDecompress(b) });
compressionRegistry.set(CompressionType.LZ4_FRAME, { decode: (b) => decompressFrameSync(Buffer.from(b.buffer, b.byteOffset, b.byteLength)) });

const CODECS: IpcCodec[] = ['lz4', 'zstd'];
const rowsOf = (t: Table): string[] => t.toArray().map((r) => JSON.stringify(r));
const withDir = async (f: (dir: string) => Promise<void>): Promise<void> => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-ipcz-'));
  try {
    await f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

const schema = new Schema([new Field('n', new Int32(), false), new Field('text', new Utf8(), true), new Field('noise', new Uint8(), false)]);

/** Repetitive text (compresses), nulls, and random bytes (does not compress: stored as is). */
function batch(from: number, rows: number): RecordBatch {
  const rnd = lcg(from + 1);
  const children: Data[] = [
    vectorFromArray(Array.from({ length: rows }, (_, i) => from + i), new Int32()).data[0]!,
    vectorFromArray(Array.from({ length: rows }, (_, i) => (i % 9 === 0 ? null : `read-${(from + i) % 50}`)), new Utf8()).data[0]!,
    vectorFromArray(Array.from({ length: rows }, () => rnd(256)), new Uint8()).data[0]!,
  ];
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children }));
}

/** What a worker does for one batch (the side call, run here). */
async function compressed(codec: IpcCodec, b: PieceBatch): Promise<CompressedBatch> {
  const r = await compressIpcBuffers({ codec, batches: [b.buffers.map((x) => x.pieces.filter((p) => p.byteLength > 0))] });
  const [body] = r.value as CompressedBody[];
  return { length: b.length, nodes: b.nodes, codec, body: body!.body, lengths: body!.lengths };
}

async function writeFile(path: string, batches: Array<IpcBatch | Promise<IpcBatch>>, stream = false): Promise<Buffer> {
  const w = await ArrowIpcFileWriter.open(path, schema, [], { stream, maxInFlight: 2 });
  for (const b of batches) await w.write(b);
  await w.close();
  return readFileSync(path);
}

test('compressed batches read back equal to the uncompressed ones; incompressible buffers are stored with length -1', async () => {
  await withDir(async (dir) => {
    const plain = [batch(0, 3000), batch(3000, 1), batch(3001, 0), batch(3001, 1200)];
    const expected = plain.flatMap((b) => rowsOf(new Table(b)));
    const uncompressed = await writeFile(join(dir, 'plain.arrow'), plain.map(piecesOf));
    for (const codec of CODECS) {
      const batches = await Promise.all(plain.map((b) => compressed(codec, piecesOf(b))));
      const first = batches[0]!;
      // Buffers: [struct validity?] n validity, n values, text validity, offsets, data, noise validity, noise values.
      const prefixes = first.lengths.map((len, i) => {
        const at = first.lengths.slice(0, i).reduce((a, l) => a + ((l + 7) & ~7), 0);
        return len === 0 ? null : Number(new DataView(first.body.buffer, first.body.byteOffset + at).getBigInt64(0, true));
      });
      assert.ok(prefixes.includes(-1), `${codec}: the random noise column should be stored uncompressed (-1): ${prefixes.join(' ')}`);
      assert.ok(prefixes.some((p) => p !== null && p > 0), `${codec}: some buffer should be compressed`);
      const bytes = await writeFile(join(dir, `${codec}.arrow`), batches);
      assert.ok(bytes.length < uncompressed.length, `${codec}: ${bytes.length} bytes, uncompressed ${uncompressed.length}`);
      const t = tableFromIPC(bytes);
      assert.equal(t.batches.length, plain.length);
      assert.deepEqual(rowsOf(t), expected, codec);
      assert.deepEqual(rowsOf(tableFromIPC(await writeFile(join(dir, `${codec}.arrows`), batches, true))), expected, `${codec} stream`);
    }
  });
});

test('batches that resolve out of order are placed in write order (same bytes as in order)', async () => {
  await withDir(async (dir) => {
    const batches = await Promise.all([batch(0, 500), batch(500, 700), batch(1200, 300)].map((b) => compressed('zstd', piecesOf(b))));
    const inOrder = await writeFile(join(dir, 'a.arrow'), batches);
    const later = (b: CompressedBatch, ms: number): Promise<IpcBatch> => new Promise((resolve) => setTimeout(() => resolve(b), ms));
    // The first resolves last; all are queued before any is ready.
    const w = await ArrowIpcFileWriter.open(join(dir, 'b.arrow'), schema, [], { maxInFlight: 8 });
    await Promise.all([w.write(later(batches[0]!, 60)), w.write(later(batches[1]!, 5)), w.write(batches[2]!)]);
    await w.close();
    assert.ok(readFileSync(join(dir, 'b.arrow')).equals(inOrder), 'out-of-order resolution changed the bytes');
  });
});

test('an LZ4 buffer is a standard frame (the lz4 tool decodes it)', { skip: spawnSync('lz4', ['--version']).status === 0 ? false : 'lz4 not installed' }, async () => {
  const text = Buffer.from('ACGTACGTTTGA'.repeat(500));
  const c = await compressed('lz4', { length: 0, nodes: [], buffers: [{ pieces: [text.subarray(0, 1000), text.subarray(1000)], byteLength: text.length }] });
  const view = new DataView(c.body.buffer, c.body.byteOffset);
  assert.equal(Number(view.getBigInt64(0, true)), text.length);
  const frame = c.body.subarray(8, c.lengths[0]!);
  const r = spawnSync('lz4', ['-d', '-c'], { input: frame });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.ok(r.stdout.equals(text));
});

/** A BAM with names, sequences, qualities (some absent), CIGARs and a Z tag, written without samtools. */
function makeBam(path: string, records: number): string {
  const rnd = lcg(11);
  const recs = Array.from({ length: records }, (_, i) => {
    const len = 40 + rnd(80);
    return bamRecord({
      name: `q${i}:${rnd(100000)}`, refId: i % 7 === 0 ? -1 : rnd(2), pos: rnd(100000), flag: i % 7 === 0 ? 4 : 0,
      cigar: i % 7 === 0 ? [] : [[len, 0]], seq: Uint8Array.from({ length: len }, () => [1, 2, 4, 8][rnd(4)]!),
      qual: i % 5 === 0 ? null : Uint8Array.from({ length: len }, () => 20 + rnd(20)), aux: stringTag('RG', `rg${i % 3}`),
    });
  });
  return writeBam(path, bamHeader([['chr1', 200000], ['chr2', 200000]]), recs, 2000);
}

test('bam convert --compression lz4|zstd: -j 1 and -j 2 write the same bytes, rows equal to the uncompressed file', async () => {
  await withDir(async (dir) => {
    const bam = makeBam(join(dir, 'in.bam'), 2000);
    const opts = { input: bam, chunkSize: 4 << 10, batchSize: 450 };
    await convertBam({ ...opts, output: join(dir, 'plain.arrow'), threads: 1 });
    const plain = readFileSync(join(dir, 'plain.arrow'));
    const expected = rowsOf(tableFromIPC(plain));
    assert.equal(expected.length, 2000);
    for (const codec of CODECS) {
      const r1 = await convertBam({ ...opts, output: join(dir, `${codec}1.arrow`), threads: 1, compression: codec });
      const r2 = await convertBam({ ...opts, output: join(dir, `${codec}2.arrows`), threads: 2, compression: codec });
      assert.ok(r2.stats.chunks > 3 && r1.batches === 5, `chunks ${r2.stats.chunks}, batches ${r1.batches}`);
      const one = readFileSync(join(dir, `${codec}1.arrow`));
      // The stream format is the file format without magic, padding and footer: compare that part.
      const two = readFileSync(join(dir, `${codec}2.arrows`));
      assert.ok(one.subarray(8, 8 + two.length).equals(two), `${codec}: -j 1 and -j 2 differ`);
      assert.ok(one.length < plain.length * 0.8, `${codec}: ${one.length} bytes, uncompressed ${plain.length}`);
      assert.deepEqual(rowsOf(tableFromIPC(one)), expected, codec);
    }
    await assert.rejects(convertBam({ ...opts, output: join(dir, 'x.arrow'), compression: 'snappy' }), { code: 'USAGE', exitCode: 2 });
    await assert.rejects(convertBam({ ...opts, output: join(dir, 'x.parquet'), compression: 'lz4' }), { code: 'USAGE', exitCode: 2 });
  });
});

test('fastq convert --compression lz4|zstd: -j 1 and -j 2 write the same bytes, rows equal to the uncompressed file', async () => {
  await withDir(async (dir) => {
    const rnd = lcg(5);
    let fq = '';
    for (let i = 0; i < 1500; i++) {
      const len = 30 + rnd(60);
      const seq = Array.from({ length: len }, () => 'ACGT'[rnd(4)]).join('');
      const qual = Array.from({ length: len }, () => String.fromCharCode(35 + rnd(40))).join('');
      fq += `@r${i}${i % 3 ? ` lane ${i % 4}` : ''}\n${seq}\n+\n${qual}\n`;
    }
    const input = join(dir, 'in.fq');
    writeFileSync(input, fq);
    // Batches of 200 rows: a chunk holds several, so a worker compresses a chunk's batches at once.
    const opts = { input, chunkSize: 16 << 10, batchSize: 200 };
    await convertFastq({ ...opts, output: join(dir, 'plain.arrow'), threads: 1 });
    const expected = rowsOf(tableFromIPC(readFileSync(join(dir, 'plain.arrow'))));
    assert.equal(expected.length, 1500);
    for (const codec of CODECS) {
      await convertFastq({ ...opts, output: join(dir, `${codec}1.arrow`), threads: 1, compression: codec });
      await convertFastq({ ...opts, output: join(dir, `${codec}2.arrow`), threads: 2, compression: codec });
      const one = readFileSync(join(dir, `${codec}1.arrow`));
      assert.ok(one.equals(readFileSync(join(dir, `${codec}2.arrow`))), `${codec}: -j 1 and -j 2 differ`);
      const t = tableFromIPC(one);
      assert.ok(t.batches.length > 8, `${t.batches.length} batches`);
      assert.deepEqual(rowsOf(t), expected, codec);
    }
    await assert.rejects(convertFastq({ ...opts, output: join(dir, 'x.arrows'), compression: 'snappy' }), { code: 'USAGE', exitCode: 2 });
    await assert.rejects(convertFastq({ ...opts, output: join(dir, 'x.parquet'), compression: 'lz4' }), { code: 'USAGE', exitCode: 2 });
  });
});
