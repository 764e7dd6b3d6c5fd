/**
 * The Parquet layout `bam convert` chooses for speed (decision 0034), seen by DuckDB, a reader
 * independent of the writer: high-cardinality columns without a dictionary, the repetitive ones
 * with one, and column-chunk min/max statistics kept so readers can still skip row groups.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { convertBam } from '../../../src/formats/bam/convert.js';
import { generateSam, samToBam, skipNoSamtools, tempDir } from './helpers.js';

interface ChunkMeta { row_group_id: bigint; path_in_schema: string; dictionary_page_offset: bigint | null; stats_min_value: string | null; stats_max_value: string | null }

async function duckdb(): Promise<{ all(sql: string): Promise<Record<string, unknown>[]> } | null> {
  try {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const conn = await (await DuckDBInstance.create(':memory:')).connect();
    return { all: async (sql) => (await conn.runAndReadAll(sql)).getRowObjects() as Record<string, unknown>[] };
  } catch {
    return null;
  }
}

test('Parquet: dictionaries only where values repeat, chunk statistics equal the data', { skip: skipNoSamtools }, async (t) => {
  const db = await duckdb();
  if (!db) {
    t.skip('@duckdb/node-api does not load here');
    return;
  }
  const dir = tempDir();
  const bam = samToBam(generateSam({ records: 1_500, seed: 3 }), join(dir, 'l.bam'));
  const out = join(dir, 'l.parquet');
  await convertBam({ input: bam, output: out, threads: 2, batchSize: 1_000 });
  const meta = (await db.all(`SELECT row_group_id, path_in_schema, dictionary_page_offset, stats_min_value, stats_max_value FROM parquet_metadata('${out}')`)) as unknown as ChunkMeta[];
  const chunk = (rg: number, column: string): ChunkMeta => {
    const c = meta.find((m) => Number(m.row_group_id) === rg && m.path_in_schema === column);
    assert.ok(c, `no column chunk ${column} in row group ${rg}`);
    return c;
  };
  assert.equal(new Set(meta.map((m) => Number(m.row_group_id))).size, 2);
  for (const rg of [0, 1]) {
    for (const plain of ['qname', 'pos', 'seq', 'qual']) assert.equal(chunk(rg, plain).dictionary_page_offset, null, `${plain} has a dictionary`);
    assert.notEqual(chunk(rg, 'rname').dictionary_page_offset, null, 'rname lost its dictionary');
    const [range] = await db.all(`SELECT min(pos)::VARCHAR AS lo, max(pos)::VARCHAR AS hi FROM (SELECT pos, (row_number() OVER () - 1) // 1000 AS g FROM read_parquet('${out}')) WHERE g = ${rg}`);
    assert.equal(chunk(rg, 'pos').stats_min_value, range!.lo, `row group ${rg}: min(pos) statistic`);
    assert.equal(chunk(rg, 'pos').stats_max_value, range!.hi, `row group ${rg}: max(pos) statistic`);
  }
});
