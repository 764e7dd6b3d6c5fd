/**
 * Every Arrow IPC (file and stream; uncompressed, lz4, zstd) and Parquet output of `bam convert`
 * and `fastq convert` opened by three independent readers: apache-arrow (JS), polars
 * (nodejs-polars, Rust arrow2/polars-arrow) and DuckDB (@duckdb/node-api). Each must see the row
 * count the summary reports and the values samtools (BAM) or the input text (FASTQ) holds. polars
 * once refused the BAM Arrow files: a null rname slot kept key -1 under the validity bitmap, which
 * pyarrow and apache-arrow accept but polars checks. A reader that cannot load here is skipped
 * with a message, never passed silently.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { compressionRegistry } from 'apache-arrow/ipc/compression/registry';
import { CompressionType } from 'apache-arrow/fb/compression-type';
import { decompress as zstdDecompress } from 'fzstd';
import { decompressFrameSync } from 'lz4-napi';
import * as pw from 'parquet-wasm';
import { convertBam } from '../../src/formats/bam/convert.js';
import { convertFastq } from '../../src/formats/fastq/convert.js';
import { generateSam, samToBam, samtoolsLines, skipNoSamtools, tempDir } from './bam/helpers.js';
import { syntheticFastq } from './fastq/helpers.js';

// apache-arrow (JS) reads compressed bodies through codecs the caller registers.
compressionRegistry.set(CompressionType.ZSTD, { decode: (b) => zstdDecompress(b) });
compressionRegistry.set(CompressionType.LZ4_FRAME, { decode: (b) => decompressFrameSync(Buffer.from(b.buffer, b.byteOffset, b.byteLength)) });

type Row = Record<string, unknown>;
interface Reader { name: string; ipc: boolean; read(path: string, stream: boolean): Promise<Row[]> }

interface Output { file: string; stream: boolean; parquet: boolean; compression?: 'lz4' | 'zstd' | 'snappy' | 'none' }
const OUTPUTS: Output[] = [
  { file: 'out.arrow', stream: false, parquet: false },
  { file: 'out-lz4.arrow', stream: false, parquet: false, compression: 'lz4' },
  { file: 'out-zstd.arrow', stream: false, parquet: false, compression: 'zstd' },
  { file: 'out.arrows', stream: true, parquet: false },
  { file: 'out-lz4.arrows', stream: true, parquet: false, compression: 'lz4' },
  { file: 'out-zstd.arrows', stream: true, parquet: false, compression: 'zstd' },
  { file: 'out.parquet', stream: false, parquet: true },
  { file: 'out-snappy.parquet', stream: false, parquet: true, compression: 'snappy' },
];

/** apache-arrow; Parquet through arrow-rs (parquet-wasm) into an IPC stream, as JS has no Parquet reader of its own in Arrow. */
const arrowJs: Reader = {
  name: 'apache-arrow',
  ipc: true,
  async read(path) {
    const bytes = readFileSync(path);
    const ipc = path.endsWith('.parquet') ? pw.readParquet(bytes).intoIPCStream() : bytes;
    return [...tableFromIPC(ipc)].map((r) => ({ ...(r as unknown as Row) }));
  },
};

/** polars' native build for this platform is an optional package (npm skips it on Node < 22). */
async function loadPolars(): Promise<Reader | string> {
  try {
    const pl = (await import('nodejs-polars')).default;
    return {
      name: 'polars',
      ipc: true,
      async read(path, stream) {
        // Bytes, not a path: nodejs-polars 0.25.2 fails on any IPC file named by path (InvalidFooter, its own files too).
        const bytes = readFileSync(path);
        const df = path.endsWith('.parquet') ? pl.readParquet(bytes) : stream ? pl.readIPCStream(bytes) : pl.readIPC(bytes);
        return df.toRecords() as Row[];
      },
    };
  } catch (e) {
    return `nodejs-polars does not load here (${(e as Error).message.split('\n')[0]}): its native package needs Node >= 22 on linux-x64`;
  }
}

/** DuckDB reads Parquet itself; Arrow IPC needs its community `arrow` extension, when installable. */
async function loadDuckDb(): Promise<{ reader: Reader; ipcSkip: string | false } | string> {
  try {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    let ipcSkip: string | false = false;
    try {
      await conn.run('INSTALL arrow FROM community; LOAD arrow;');
    } catch (e) {
      ipcSkip = `DuckDB's arrow extension is not installable here (${(e as Error).message.split('\n')[0]})`;
    }
    return {
      ipcSkip,
      reader: {
        name: 'duckdb',
        ipc: !ipcSkip,
        async read(path) {
          const fn = path.endsWith('.parquet') ? 'read_parquet' : 'read_arrow';
          const r = await conn.runAndReadAll(`SELECT * FROM ${fn}('${path.replaceAll("'", "''")}')`);
          return r.getRowObjectsJS() as Row[];
        },
      },
    };
  } catch (e) {
    return `@duckdb/node-api does not load here (${(e as Error).message.split('\n')[0]})`;
  }
}

async function readers(t: { diagnostic(m: string): void }): Promise<Reader[]> {
  const out = [arrowJs];
  const pl = await loadPolars();
  if (typeof pl === 'string') t.diagnostic(`skipped: ${pl}`);
  else out.push(pl);
  const duck = await loadDuckDb();
  if (typeof duck === 'string') t.diagnostic(`skipped: ${duck}`);
  else {
    if (duck.ipcSkip) t.diagnostic(`skipped for Arrow IPC: ${duck.ipcSkip}`);
    out.push(duck.reader);
  }
  return out;
}

const text = (v: unknown, none: string): string => (v === null || v === undefined ? none : String(v));

/** A BAM row as the first 11 fields `samtools view` prints (nulls as SAM writes them). */
function samFields(r: Row): string {
  return [
    r.qname, r.flag, text(r.rname, '*'), text(r.pos, '0'), text(r.mapq, '255'), text(r.cigar, '*'),
    text(r.rnext, '*'), text(r.pnext, '0'), r.tlen, text(r.seq, '*'), text(r.qual, '*'),
  ].map(String).join('\t');
}

async function checkAll(t: { diagnostic(m: string): void }, dir: string, expected: string[], row: (r: Row) => string, written: (o: Output) => Promise<number>): Promise<void> {
  const all = await readers(t);
  for (const o of OUTPUTS) {
    const n = await written(o);
    assert.equal(n, expected.length, `${o.file}: summary says ${n} rows`);
    for (const reader of all) {
      if (!o.parquet && !reader.ipc) continue;
      const rows = await reader.read(join(dir, o.file), o.stream);
      assert.equal(rows.length, n, `${reader.name} ${o.file}: ${rows.length} rows, the summary says ${n}`);
      const got = rows.map(row);
      for (let i = 0; i < got.length; i++) assert.equal(got[i], expected[i], `${reader.name} ${o.file} row ${i + 1}`);
    }
  }
}

test('bam convert: every Arrow and Parquet output opens in apache-arrow, polars and DuckDB with samtools view values', { skip: skipNoSamtools }, async (t) => {
  const dir = tempDir();
  // Unmapped rows with rname and rnext `*` (null dictionary keys) in every batch.
  const bam = samToBam(generateSam({ records: 700, seed: 18, readLength: 40 }), join(dir, 'in.bam'));
  const expected = samtoolsLines(bam).map((l) => l.split('\t').slice(0, 11).join('\t'));
  assert.ok(expected.some((l) => l.split('\t')[2] === '*') && expected.some((l) => l.split('\t')[6] === '*'), 'fixture has no null rname/rnext');
  await checkAll(t, dir, expected, samFields, async (o) => {
    const r = await convertBam({ input: bam, output: join(dir, o.file), threads: 2, batchSize: 256, compression: o.compression });
    return r.written;
  });
});

test('fastq convert: every Arrow and Parquet output opens in apache-arrow, polars and DuckDB with the input values', async (t) => {
  const dir = tempDir();
  const fq = join(dir, 'in.fq');
  const body = syntheticFastq(500, 18);
  writeFileSync(fq, body);
  const lines = body.split('\n');
  const expected: string[] = [];
  for (let i = 0; i + 3 < lines.length; i += 4) {
    const title = lines[i]!.slice(1);
    const sp = title.indexOf(' ');
    expected.push([sp < 0 ? title : title.slice(0, sp), sp < 0 ? '' : title.slice(sp + 1), lines[i + 1], lines[i + 3]].join('\t'));
  }
  const row = (r: Row): string => [r.id, r.description, r.sequence, r.quality].map((v) => text(v, '')).join('\t');
  await checkAll(t, dir, expected, row, async (o) => {
    const r = await convertFastq({ input: fq, output: join(dir, o.file), threads: 2, batchSize: 128, compression: o.compression });
    return r.written;
  });
});
