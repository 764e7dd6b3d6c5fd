/**
 * `bam convert --tag TAG:TYPE`: `tags` as a struct of typed fields, each equal to the value
 * `samtools view` prints (int64, float32, utf8), null where the record has not the tag; the same
 * bytes for any -j; Parquet read back by parquet-wasm and DuckDB; a tag of another type is a
 * record error, a bad --tag a usage error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { tableFromIPC, type Table } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { generateSam, readArrow, samToBam, samtools, skipNoSamtools, tempDir } from './helpers.js';

const cli = fileURLToPath(new URL('../../../src/cli.js', import.meta.url));

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const TAGS = ['NM:i', 'AS:i', 'RG:Z', 'XF:f', 'XA:A', 'ML:B:C'];

/** samtools' tag text of every record: tag → [type, value]. */
function samtoolsTags(bam: string): Array<Map<string, [string, string]>> {
  return samtools(['view', bam]).trim().split('\n').map((l) => new Map(l.split('\t').slice(11).map((f) => [f.slice(0, 2), [f[3]!, f.slice(5)] as [string, string]])));
}

function checkAgainstSamtools(t: Table, expected: Array<Map<string, [string, string]>>, what: string): void {
  assert.equal(t.numRows, expected.length, what);
  assert.equal(String(t.schema.fields.find((f) => f.name === 'tags')!.type), 'Struct<{NM:Int64, AS:Int64, RG:Utf8, XF:Float32, XA:Utf8, ML:List<Uint8>}>');
  let floats = 0;
  for (let i = 0; i < t.numRows; i++) {
    const tags = (t.get(i)!.toJSON() as { tags: { toJSON(): Record<string, unknown> } }).tags.toJSON();
    const want = expected[i]!;
    for (const spec of TAGS) {
      const name = spec.slice(0, 2);
      const got = tags[name];
      const w = want.get(name);
      if (!w) {
        assert.equal(got, null, `${what} row ${i} ${name}: should be null`);
        continue;
      }
      if (spec.endsWith(':B:C')) assert.deepEqual(Array.from(got as Iterable<number>), w[1].split(',').slice(1).map(Number), `${what} row ${i} ML`);
      else if (spec.endsWith(':i')) assert.equal(BigInt(got as bigint), BigInt(w[1]), `${what} row ${i} ${name}`);
      else if (spec.endsWith(':f')) {
        floats++;
        // samtools prints the float32 with %g (6 digits).
        assert.ok(Math.abs((got as number) - Number(w[1])) <= 1e-5 * Math.max(1, Math.abs(Number(w[1]))), `${what} row ${i} XF ${got} vs ${w[1]}`);
      } else assert.equal(got, w[1], `${what} row ${i} ${name}`);
    }
  }
  assert.ok(floats > 100, 'the data should have many XF:f tags');
}

test('bam convert --tag: typed struct fields equal to samtools view, same bytes for any -j, Parquet read by DuckDB', { skip: skipNoSamtools }, async () => {
  const dir = tempDir();
  const bam = samToBam(generateSam({ records: 2500, seed: 31, readLength: 30 }), join(dir, 'in.bam'));
  const expected = samtoolsTags(bam);
  const tagArgs = TAGS.flatMap((t) => ['--tag', t]);
  const outs = ['1', '3'].map((j) => {
    const out = join(dir, `t-j${j}.arrow`);
    const r = run(['bam', 'convert', bam, ...tagArgs, '-j', j, '--chunk-size', '65536', '--batch-size', '700', '--quiet', '-o', out]);
    assert.equal(r.status, 0, r.stderr);
    return out;
  });
  assert.ok(readFileSync(outs[0]!).equals(readFileSync(outs[1]!)), '-j 1 and -j 3 differ');
  checkAgainstSamtools(readArrow(outs[0]!), expected, 'arrow');
  const pq = join(dir, 't.parquet');
  const r = run(['bam', 'convert', bam, ...tagArgs, '-j', '2', '--batch-size', '700', '--quiet', '-o', pq]);
  assert.equal(r.status, 0, r.stderr);
  checkAgainstSamtools(tableFromIPC(pw.readParquet(readFileSync(pq)).intoIPCStream()), expected, 'parquet');
  let duck: typeof import('@duckdb/node-api') | null = null;
  try {
    duck = await import('@duckdb/node-api');
  } catch {
    duck = null; // readers.test.ts says why DuckDB is missing
  }
  if (duck) {
    const conn = await (await duck.DuckDBInstance.create(':memory:')).connect();
    const rows = (await conn.runAndReadAll(`SELECT sum(tags.NM) AS nm, count(tags.XF) AS xf, sum(list_sum(tags.ML)) AS ml FROM read_parquet('${pq}')`)).getRowObjectsJS() as Array<{ nm: bigint; xf: bigint; ml: bigint }>;
    const nm = expected.reduce((n, m) => n + Number(m.get('NM')?.[1] ?? 0), 0);
    const xf = expected.filter((m) => m.has('XF')).length;
    assert.equal(Number(rows[0]!.nm), nm);
    assert.equal(Number(rows[0]!.xf), xf);
    const ml = expected.reduce((n, m) => n + (m.get('ML')?.[1].split(',').slice(1).reduce((a, v) => a + Number(v), 0) ?? 0), 0);
    assert.equal(Number(rows[0]!.ml), ml);
  }
});

test('--tag of another type than the record\'s is a record error; a bad --tag is a usage error', { skip: skipNoSamtools }, () => {
  const dir = tempDir();
  const bam = samToBam(generateSam({ records: 300, seed: 32, readLength: 20 }), join(dir, 'in.bam'));
  const wrong = run(['bam', 'convert', bam, '--tag', 'XF:i', '-o', join(dir, 'x.arrow')]);
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /BAM_BAD_RECORD.*tag XF has type f, not the i asked with --tag or found by --tags auto/);
  const skipped = run(['bam', 'convert', bam, '--tag', 'XF:i', '--rejects', join(dir, 'r.jsonl'), '--json', '-o', join(dir, 'y.arrow')]);
  assert.equal(skipped.status, 0, skipped.stderr);
  const withXf = samtoolsTags(bam).filter((m) => m.has('XF')).length;
  assert.equal(JSON.parse(skipped.stdout).rejected_by_category.invalid_tag_type, withXf);
  const list = run(['bam', 'convert', bam, '--tag', 'ML:B:c', '-o', join(dir, 'l.arrow')]);
  assert.equal(list.status, 1);
  assert.match(list.stderr, /tag ML has type B:C, not the B:c asked with --tag or found by --tags auto/);
  for (const bad of ['NM', 'ML:B', 'N:i', 'NM:q']) {
    const r = run(['bam', 'convert', bam, '--tag', bad, '-o', join(dir, 'z.arrow')]);
    assert.equal(r.status, 2, bad);
    assert.match(r.stderr, /--tag/);
  }
});

test('--tags auto types every tag of the first records: the bytes of the same --tag list; mixed kinds widen to SAM text; stdin refused', { skip: skipNoSamtools }, () => {
  const dir = tempDir();
  const bam = samToBam(generateSam({ records: 800, seed: 33, readLength: 20 }), join(dir, 'in.bam'));
  const auto = join(dir, 'auto.arrow');
  const r = run(['bam', 'convert', bam, '--tags', 'auto', '--quiet', '-o', auto]);
  assert.equal(r.status, 0, r.stderr);
  const struct = readArrow(auto).schema.fields.find((f) => f.name === 'tags')!.type as { children: Array<{ name: string; type: unknown }> };
  const kinds: Record<string, string> = { Int64: 'i', Float32: 'f', Utf8: 'Z', 'List<Uint8>': 'B:C' };
  const names = struct.children.map((c) => `${c.name}:${kinds[String(c.type)]}`);
  assert.deepEqual([...names].sort(), ['AS:i', 'ML:B:C', 'NM:i', 'RG:Z', 'XA:Z', 'XF:f']);
  const named = join(dir, 'named.arrow');
  assert.equal(run(['bam', 'convert', bam, ...names.flatMap((n) => ['--tag', n]), '--quiet', '-o', named]).status, 0);
  assert.ok(readFileSync(auto).equals(readFileSync(named)), '--tags auto and the same --tag list differ');
  const mixed = join(dir, 'mixed.sam');
  writeFileSync(mixed, '@SQ\tSN:c1\tLN:1000\nr1\t0\tc1\t5\t10\t3M\t*\t0\t0\tACG\t*\tXX:i:5\tYY:Z:a\nr2\t0\tc1\t6\t10\t3M\t*\t0\t0\tACG\t*\tXX:Z:five\tZZ:B:s,-1,2\n');
  const m = run(['bam', 'convert', mixed, '--tags', 'auto', '--quiet', '-o', join(dir, 'mixed.arrow')]);
  assert.equal(m.status, 0, m.stderr);
  const rows = [...readArrow(join(dir, 'mixed.arrow'))].map((row) => (row.toJSON() as { tags: { toJSON(): Record<string, unknown> } }).tags.toJSON());
  assert.deepEqual(rows.map((t) => [t.XX, t.YY, t.ZZ === null ? null : Array.from(t.ZZ as Iterable<number>)]), [['i:5', 'a', null], ['Z:five', null, [-1, 2]]]);
  // A tag first seen after the sample is not written, and the run says how many values that was.
  const late = join(dir, 'late.sam');
  writeFileSync(late, '@SQ\tSN:c1\tLN:1000\nr1\t0\tc1\t5\t10\t3M\t*\t0\t0\tACG\t*\tXX:i:5\nr2\t0\tc1\t6\t10\t3M\t*\t0\t0\tACG\t*\tXX:i:6\tWW:Z:new\n');
  const w = run(['bam', 'convert', late, '--tags', 'auto', '--tags-sample', '1', '-o', join(dir, 'late.arrow')]);
  assert.equal(w.status, 0, w.stderr);
  assert.match(w.stderr, /1 tag values were not written: their tags were not in the first records --tags auto looked at/);
  const stdin = spawnSync(process.execPath, [cli, 'bam', 'convert', '-', '--tags', 'auto', '-o', join(dir, 's.arrow')], { input: readFileSync(bam), encoding: 'utf8' });
  assert.equal(stdin.status, 2);
  assert.match(stdin.stderr, /--tags auto .* needs a file, not stdin/);
});
