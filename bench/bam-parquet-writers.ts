/**
 * Decision 0004 (Parquet writer): writes the same BAM-derived table with parquet-wasm,
 * hyparquet-writer and @dsnp/parquetjs and reports time and size. The table is the first
 * `--rows` records of a BAM as `bam convert` decodes them; tags are left out for the two
 * JavaScript writers (they have no Arrow map type), so the comparison is on flat columns, with
 * parquet-wasm's time with tags reported too.
 *
 *   node dist/bench/bam-parquet-writers.js <in.bam> [--rows 200000]
 */
import { readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC, type Table } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { parquetWriteBuffer } from 'hyparquet-writer';
import parquetjs from '@dsnp/parquetjs';
import { convertBam } from '../src/formats/bam/convert.js';
import { ParquetWriter } from '../src/sinks/parquet.js';

const FLAT = ['qname', 'flag', 'rname', 'pos', 'mapq', 'cigar', 'rnext', 'pnext', 'tlen', 'seq', 'qual'] as const;
const INTS = new Set(['flag', 'pos', 'mapq', 'pnext', 'tlen']);

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : dflt;
}

function time<T>(fn: () => T): [T, number] {
  const t = performance.now();
  const r = fn();
  return [r, (performance.now() - t) / 1000];
}

async function timeAsync<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await fn();
  return [r, (performance.now() - t) / 1000];
}

function columnsOf(t: Table): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const name of FLAT) out[name] = Array.from(t.getChild(name)!.toArray() as ArrayLike<unknown>, (v) => v ?? null);
  return out;
}

async function main(): Promise<void> {
  const input = process.argv[2];
  if (!input) throw new Error('usage: bam-parquet-writers <in.bam> [--rows N]');
  const rows = Number(arg('--rows', '200000'));
  const dir = tmpdir();
  const ipc = join(dir, 'pq-bench.arrow');
  await convertBam({ input, output: ipc, limit: rows, threads: 2 });
  const full = tableFromIPC(readFileSync(ipc));
  const flat = full.select([...FLAT]);
  const lines: string[] = [`rows: ${full.numRows}`, '', '| writer | columns | seconds | MB |', '|---|---|---:|---:|'];
  const row = (w: string, c: string, s: number, path: string): void => {
    lines.push(`| ${w} | ${c} | ${s.toFixed(2)} | ${(statSync(path).size / 1e6).toFixed(1)} |`);
  };

  // Warm-up: instantiate the WASM module and JIT outside the timings.
  const warm = new ParquetWriter(join(dir, 'pq-warm.parquet'), full.schema, { compression: 'zstd' });
  await warm.write(full.batches[0]!.slice(0, 1000));
  await warm.close();
  for (const [compression, label] of [['zstd', 'zstd'], ['snappy', 'snappy']] as const) {
    for (const [t, cols] of [[flat, 'flat'], [full, 'flat + tags map']] as const) {
      const out = join(dir, `pq-wasm-${compression}.parquet`);
      const [, s] = await timeAsync(async () => {
        const w = new ParquetWriter(out, t.schema, { rowGroupSize: 100_000, compression });
        for (const b of t.batches) await w.write(b);
        await w.close();
      });
      row(`parquet-wasm 0.8 (${label})`, cols, s, out);
    }
  }

  const data = columnsOf(flat);
  const hyOut = join(dir, 'pq-hy.parquet');
  const [buf, sHy] = time(() => parquetWriteBuffer({
    columnData: FLAT.map((name) => ({ name, data: data[name] as never, type: INTS.has(name) ? 'INT32' as const : 'STRING' as const, nullable: true })),
    rowGroupSize: 100_000,
  }));
  (await import('node:fs')).writeFileSync(hyOut, new Uint8Array(buf));
  row('hyparquet-writer 0.17 (snappy)', 'flat', sHy, hyOut);

  const pjOut = join(dir, 'pq-pj.parquet');
  const schema = new parquetjs.ParquetSchema(Object.fromEntries(FLAT.map((n) => [n, { type: INTS.has(n) ? 'INT32' : 'UTF8', optional: true, compression: 'SNAPPY' }])) as never);
  const [, sPj] = await timeAsync(async () => {
    const w = await parquetjs.ParquetWriter.openFile(schema, pjOut, { rowGroupSize: 100_000 } as never);
    const n = full.numRows;
    for (let i = 0; i < n; i++) {
      const rec: Record<string, unknown> = {};
      for (const name of FLAT) {
        const v = data[name]![i];
        if (v !== null) rec[name] = v;
      }
      await w.appendRow(rec);
    }
    await w.close();
  });
  row('@dsnp/parquetjs 1.8 (snappy)', 'flat', sPj, pjOut);

  // Read back each file with parquet-wasm to be sure all three wrote the rows.
  for (const p of [hyOut, pjOut]) if (tableFromIPC(pw.readParquet(readFileSync(p)).intoIPCStream()).numRows !== full.numRows) throw new Error(`${p}: wrong row count`);
  for (const p of [ipc, hyOut, pjOut, join(dir, 'pq-warm.parquet')]) rmSync(p, { force: true });
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
