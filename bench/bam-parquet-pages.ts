/**
 * Decision 0034: how much of parquet-wasm's time on BAM's text columns (qname, cigar, seq, qual)
 * an own page encoder could save. Times, in CPU seconds per row group, parquet-wasm with the
 * properties `bam convert` uses against a sketch of the own encoder's inner loop: PLAIN
 * BYTE_ARRAY values (u32 length + bytes) copied straight from the Arrow offsets and data into
 * 1 MiB pages, each compressed with zstd level 1 (@bokuweb/zstd-wasm, as IPC compression uses).
 * The sketch writes no page headers, levels or footer: it bounds the gain, it is not a writer.
 *
 *   node dist/bench/bam-parquet-pages.js <in.bam> [--rows 100000]
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC, tableToIPC, type Table } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import * as zstd from '@bokuweb/zstd-wasm';
import { convertBam } from '../src/formats/bam/convert.js';
import { writerProperties } from '../src/sinks/parquet.js';

const TEXT = ['qname', 'cigar', 'seq', 'qual'] as const;
const PAGE = 1 << 20;
const REPEAT = 3;

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : dflt;
}

/** CPU seconds (user + sys) per call of `fn`, after one warm-up call; and its last result. */
function cpu<T>(fn: () => T): [T, number] {
  let r = fn();
  const start = process.cpuUsage();
  for (let i = 0; i < REPEAT; i++) r = fn();
  const used = process.cpuUsage(start);
  return [r, (used.user + used.system) / 1e6 / REPEAT];
}

/** The sketch: PLAIN pages of one text column, zstd-compressed; returns the compressed bytes. */
function plainPages(offsets: Int32Array, data: Uint8Array): number {
  const page = new Uint8Array(PAGE + 4);
  const view = new DataView(page.buffer);
  let at = 0;
  let total = 0;
  const flush = (): void => {
    total += zstd.compress(page.subarray(0, at), 1).length;
    at = 0;
  };
  for (let i = 0; i + 1 < offsets.length; i++) {
    const from = offsets[i]!;
    const n = offsets[i + 1]! - from;
    if (at > 0 && at + 4 + n > PAGE) flush();
    if (4 + n > PAGE) throw new Error('value larger than a page: the sketch does not split values');
    view.setUint32(at, n, true);
    page.set(data.subarray(from, from + n), at + 4);
    at += 4 + n;
  }
  if (at > 0) flush();
  return total;
}

function sketch(t: Table): number {
  let total = 0;
  for (const name of TEXT) {
    for (const d of t.getChild(name)!.data) total += plainPages(d.valueOffsets as Int32Array, d.values as Uint8Array);
  }
  return total;
}

async function main(): Promise<void> {
  const input = process.argv[2];
  if (!input) throw new Error('usage: bam-parquet-pages <in.bam> [--rows N]');
  const rows = Number(arg('--rows', '100000'));
  await zstd.init();
  const ipcPath = join(tmpdir(), `pq-pages-${process.pid}.arrow`);
  await convertBam({ input, output: ipcPath, limit: rows, threads: 1, batchSize: rows });
  const text = tableFromIPC(readFileSync(ipcPath)).select([...TEXT]);
  rmSync(ipcPath, { force: true });
  const ipc = tableToIPC(text, 'stream');
  const options = { rowGroupSize: rows, compression: 'zstd' as const, plainColumns: TEXT };
  const [wasmBytes, wasmSeconds] = cpu(() => pw.writeParquet(pw.Table.fromIPCStream(ipc), writerProperties(options)).length);
  const [ownBytes, ownSeconds] = cpu(() => sketch(text));
  process.stdout.write([
    `rows: ${text.numRows}, columns: ${TEXT.join(', ')}`,
    '',
    '| encoder | CPU s per row group | MB |',
    '|---|---:|---:|',
    `| parquet-wasm 0.8 (bam convert's properties, zstd) | ${wasmSeconds.toFixed(3)} | ${(wasmBytes / 1e6).toFixed(2)} |`,
    `| PLAIN pages + zstd-wasm level 1 (sketch) | ${ownSeconds.toFixed(3)} | ${(ownBytes / 1e6).toFixed(2)} |`,
    '',
  ].join('\n'));
}

await main();
