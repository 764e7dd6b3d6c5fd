/**
 * `fastq convert --paired R1 R2` (#18): one table in pair order with a mate column, the same rows
 * as `--interleaved` on the interleaved file (seqtk mergepe's, where seqtk is installed), the same
 * bytes for any -j, checked by a second reader (DuckDB for Parquet); names checked, a shorter file
 * or a rejected record fails the run and leaves no output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { tableFromIPC } from 'apache-arrow';
import { convertFastq } from '../../../src/formats/fastq/convert.js';
import { haveTool, rng } from './helpers.js';

const cli = fileURLToPath(new URL('../../../src/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'threadmill-fq-paired-'));
const CHUNK = ['--chunk-size', '65536'];

function run(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 26, input });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
}

interface Mates { r1: string[]; r2: string[] }

/**
 * `pairs` records per mate; R1 reads are short and R2 reads long, so the two files' 64 KiB chunks
 * end at different records. R1 titles end in /1 and carry a comment, R2's end in /2.
 */
function mates(pairs: number, seed: number): Mates {
  const r = rng(seed);
  const rec = (title: string, len: number): string => {
    let seq = '';
    let q = '';
    for (let k = 0; k < len; k++) {
      seq += 'ACGT'[Math.floor(r() * 4)];
      q += String.fromCharCode(33 + Math.floor(r() * 41));
    }
    return `@${title}\n${seq}\n+\n${q}\n`;
  };
  const out: Mates = { r1: [], r2: [] };
  for (let i = 0; i < pairs; i++) {
    out.r1.push(rec(`read${i}/1 1:N:0:ACGT`, 20 + Math.floor(r() * 40)));
    out.r2.push(rec(`read${i}/2`, 80 + Math.floor(r() * 120)));
  }
  return out;
}

const m = mates(3000, 33);
const r1 = file('R1.fq', m.r1.join(''));
const r2 = file('R2.fq', m.r2.join(''));
const interleaved = file('inter.fq', m.r1.map((x, i) => x + m.r2[i]).join(''));

const rowsOf = (bytes: Buffer): string[] => [...tableFromIPC(bytes)].map((x) => JSON.stringify(x.toJSON()));

test('fastq convert --paired R1 R2: rows in pair order with mate 1, 2 — the rows of --interleaved — the same bytes for any -j', async (t) => {
  for (const ext of ['arrow', 'parquet']) {
    for (const j of ['1', '3']) {
      const r = run(['fastq', 'convert', '--paired', r1, r2, ...CHUNK, '-j', j, '-q', '-o', join(dir, `p-j${j}.${ext}`)]);
      assert.equal(r.status, 0, r.stderr);
    }
    assert.ok(readFileSync(join(dir, `p-j1.${ext}`)).equals(readFileSync(join(dir, `p-j3.${ext}`))), `${ext}: -j 1 and -j 3 differ`);
  }
  assert.equal(run(['fastq', 'convert', '--interleaved', interleaved, '-q', '-o', join(dir, 'inter.arrow')]).status, 0);
  const paired = rowsOf(readFileSync(join(dir, 'p-j1.arrow')));
  assert.equal(paired.length, 6000);
  assert.deepEqual(paired, rowsOf(readFileSync(join(dir, 'inter.arrow'))));
  assert.ok(tableFromIPC(readFileSync(join(dir, 'p-j1.arrow'))).batches.length > 2, 'the files must span several chunks for this test');
  assert.deepEqual(JSON.parse(paired[1]!), { id: 'read0/2', description: '', sequence: m.r2[0]!.split('\n')[1], quality: m.r2[0]!.split('\n')[3], mate: 2 });

  if (haveTool('seqtk')) {
    // seqtk mergepe interleaves the same way (R1 k, R2 k); its output converted with --interleaved gives the same rows.
    const merged = spawnSync('seqtk', ['mergepe', r1, r2], { maxBuffer: 1 << 26 });
    assert.equal(merged.status, 0);
    assert.ok(merged.stdout.equals(readFileSync(interleaved)), 'seqtk mergepe interleaves otherwise');
  } else t.diagnostic('skipped the seqtk mergepe comparison: seqtk is not installed (apt-get install seqtk)');

  // Parquet through a second reader: DuckDB sees the rows in order, mate alternating, ids agreeing.
  let duck: typeof import('@duckdb/node-api') | null = null;
  try {
    duck = await import('@duckdb/node-api');
  } catch (e) {
    t.diagnostic(`skipped the DuckDB check: @duckdb/node-api does not load here (${(e as Error).message.split('\n')[0]})`);
  }
  if (duck) {
    const conn = await (await duck.DuckDBInstance.create(':memory:')).connect();
    const q = await conn.runAndReadAll(`SELECT id, mate, sequence FROM read_parquet('${join(dir, 'p-j3.parquet')}')`);
    const got = q.getRowObjectsJS() as Array<{ id: string; mate: number; sequence: string }>;
    assert.equal(got.length, 6000);
    got.forEach((row, i) => {
      const want = JSON.parse(paired[i]!) as { id: string; mate: number; sequence: string };
      assert.deepEqual([row.id, Number(row.mate), row.sequence], [want.id, want.mate, want.sequence], `row ${i}`);
    });
  }
});

test('fastq convert --paired: R2 from stdin, --limit, --quality-scores keep the pair order', () => {
  const viaStdin = run(['fastq', 'convert', '--paired', r1, '-', ...CHUNK, '-q', '-o', join(dir, 'stdin.arrow')], m.r2.join(''));
  assert.equal(viaStdin.status, 0, viaStdin.stderr);
  assert.deepEqual(rowsOf(readFileSync(join(dir, 'stdin.arrow'))), rowsOf(readFileSync(join(dir, 'p-j1.arrow'))));
  assert.equal(run(['fastq', 'convert', '--paired', r1, r2, '--limit', '7', '-q', '-o', join(dir, 'lim.arrow')]).status, 0);
  assert.deepEqual(rowsOf(readFileSync(join(dir, 'lim.arrow'))), rowsOf(readFileSync(join(dir, 'p-j1.arrow'))).slice(0, 7));
  assert.equal(run(['fastq', 'convert', '--paired', '--quality-scores', r1, r2, ...CHUNK, '-q', '-o', join(dir, 'qs.arrow')]).status, 0);
  const t = tableFromIPC(readFileSync(join(dir, 'qs.arrow')));
  const q = m.r2[2999]!.split('\n')[3]!;
  assert.deepEqual([...(t.get(5999)!.quality as { toArray(): Uint8Array }).toArray()], [...q].map((c) => c.charCodeAt(0) - 33));
});

test('fastq convert --paired R1 R2 R1 R2: several pairs (lanes) one after the other; --limit stops across them', () => {
  const lane2 = mates(700, 34);
  const l2r1 = file('L2_R1.fq', lane2.r1.join(''));
  const l2r2 = file('L2_R2.fq', lane2.r2.join(''));
  const lane2Inter = file('L2_inter.fq', lane2.r1.map((x, i) => x + lane2.r2[i]).join(''));
  for (const j of ['1', '3']) assert.equal(run(['fastq', 'convert', '--paired', r1, r2, l2r1, l2r2, ...CHUNK, '-j', j, '-q', '-o', join(dir, `lanes-j${j}.parquet`)]).status, 0);
  assert.ok(readFileSync(join(dir, 'lanes-j1.parquet')).equals(readFileSync(join(dir, 'lanes-j3.parquet'))), '-j 1 and -j 3 differ');
  const r = run(['fastq', 'convert', '--paired', r1, r2, l2r1, l2r2, ...CHUNK, '-q', '--json', '-o', join(dir, 'lanes.arrow')]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { written: number }).written, 7400);
  assert.equal(run(['fastq', 'convert', interleaved, lane2Inter, '--interleaved', '-q', '-o', join(dir, 'lanes-inter.arrow')]).status, 0);
  assert.deepEqual(rowsOf(readFileSync(join(dir, 'lanes.arrow'))), rowsOf(readFileSync(join(dir, 'lanes-inter.arrow'))));
  assert.equal(run(['fastq', 'convert', '--paired', r1, r2, l2r1, l2r2, '--limit', '6100', '-q', '-o', join(dir, 'lanes-lim.arrow')]).status, 0);
  assert.deepEqual(rowsOf(readFileSync(join(dir, 'lanes-lim.arrow'))), rowsOf(readFileSync(join(dir, 'lanes.arrow'))).slice(0, 6100));
});

test('fastq convert --paired: names that differ, a file that ends first, a rejected record fail (FASTQ_PAIR_MISMATCH) with no output', async () => {
  const out = join(dir, 'bad.parquet');
  const convert = (a: string, b: string): Promise<unknown> => convertFastq({ input: a, inputs: [a, b], paired: true, output: out, chunkSize: 65536, threads: 2 });
  const renamed = (k: number): string => file(`R2-${k}.fq`, m.r2.map((x, i) => (i === k ? x.replace(`@read${k}/2`, '@other/2') : x)).join(''));
  // The first record, and one far in (past several chunks): the record number and both files are named.
  for (const k of [0, 2211]) {
    await assert.rejects(convert(r1, renamed(k)), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'FASTQ_PAIR_MISMATCH');
      assert.match(e.message, new RegExp(`record ${k + 1} names "read${k}/1" in .*R1\\.fq but "other/2" in .*R2-${k}\\.fq`));
      return true;
    });
    assert.equal(existsSync(out), false);
  }
  const short = file('R2-short.fq', m.r2.slice(0, 2500).join(''));
  for (const [a, b] of [[r1, short], [short, r1]] as const) {
    await assert.rejects(convert(a, b), { code: 'FASTQ_PAIR_MISMATCH', message: /R2-short\.fq ends after 2500 records but .*R1\.fq has more \(its record 2501 has no mate\)/ });
    assert.equal(existsSync(out), false);
  }
  // The CLI: exit 1, the code and the file on stderr.
  const broken = file('R2-broken.fq', m.r2.map((x, i) => (i === 1500 ? x.replace('\n+\n', '\n-\n') : x)).join(''));
  const r = run(['fastq', 'convert', '--paired', r1, broken, ...CHUNK, '-o', out]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /FASTQ_PAIR_MISMATCH.*R2-broken\.fq: record 1501 is rejected .*shift every later pair/);
  assert.equal(existsSync(out), false);
});

test('fastq convert --paired: usage errors (an odd number of inputs, --interleaved, --shard, two stdins)', () => {
  const out = join(dir, 'u.arrow');
  for (const [args, why] of [
    [['--paired', r1], /--paired takes pairs of inputs, R1 R2 \[R1 R2 …\] \(got 1\)/],
    [['--paired', r1, r2, r1], /--paired takes pairs of inputs/],
    [['--paired', '--interleaved', r1, r2], /--paired and --interleaved exclude each other/],
    [['--paired', r1, r2, '--shard', '1/2'], /--paired cannot be combined with --shard/],
    [['--paired', '-', '-'], /stdin \(-\) can be only one of the inputs/],
  ] as const) {
    const r = run(['fastq', 'convert', ...args, '-o', out]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, why);
  }
});
