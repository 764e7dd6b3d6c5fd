/**
 * How users feed FASTQ (#18): several inputs into one table, interleaved pairs with a mate column
 * and the name check, one `stats --json` shape, and a record cut short that fails the run unless
 * --allow-truncated. seqkit, where present, is the second opinion on the totals and the cut file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { tableFromIPC } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { convertFastq } from '../../../src/formats/fastq/convert.js';
import { haveTool, syntheticFastq } from './helpers.js';

const cli = fileURLToPath(new URL('../../../src/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'threadmill-fq-inputs-'));
const CHUNK = ['--chunk-size', '65536'];

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
}

const a = file('a.fq', syntheticFastq(3000, 1));
const b = file('b.fq', syntheticFastq(2000, 2));
const ab = file('ab.fq', readFileSync(a, 'utf8') + readFileSync(b, 'utf8'));

const rows = (path: string): string[] => [...tableFromIPC(readFileSync(path))].map((r) => JSON.stringify(r.toJSON()));

test('fastq stats --json is always {files: [...], total}, the total equal to the stats of the concatenation', () => {
  const one = JSON.parse(run(['fastq', 'stats', '--json', '-q', a]).stdout) as { files: Array<{ file: string; num_seqs: number }>; total: { num_seqs: number } };
  assert.equal(one.files.length, 1);
  assert.equal(one.files[0]!.file, a);
  assert.equal(one.total.num_seqs, 3000);
  const two = JSON.parse(run(['fastq', 'stats', '--json', '-q', a, b]).stdout) as { files: Array<{ num_seqs: number }>; total: Record<string, unknown> };
  assert.deepEqual(two.files.map((f) => f.num_seqs), [3000, 2000]);
  const cat = JSON.parse(run(['fastq', 'stats', '--json', '-q', ab]).stdout) as { files: Array<Record<string, unknown>> };
  assert.deepEqual({ ...two.total, file: '' }, { ...cat.files[0], file: '' }, 'total = one file holding both');
  if (haveTool('seqkit')) {
    const sk = spawnSync('seqkit', ['stats', '-a', '-T', ab], { encoding: 'utf8' }).stdout.split('\n')[1]!.split('\t');
    assert.equal(Number(sk[3]), two.total.num_seqs, 'seqkit num_seqs of the concatenation');
    assert.equal(Number(sk[4]), two.total.sum_len, 'seqkit sum_len of the concatenation');
  }
});

test('fastq convert with several inputs: the rows of their concatenation, in order, the same bytes for -j 1 and -j 3', () => {
  for (const j of ['1', '3']) assert.equal(run(['fastq', 'convert', a, b, ...CHUNK, '-j', j, '-q', '-o', join(dir, `ab-j${j}.arrow`)]).status, 0);
  assert.ok(readFileSync(join(dir, 'ab-j1.arrow')).equals(readFileSync(join(dir, 'ab-j3.arrow'))), '-j 1 and -j 3 differ');
  assert.equal(run(['fastq', 'convert', ab, '-q', '-o', join(dir, 'cat.arrow')]).status, 0);
  assert.deepEqual(rows(join(dir, 'ab-j3.arrow')), rows(join(dir, 'cat.arrow')));
  const s = JSON.parse(run(['fastq', 'convert', a, b, '--json', '-q', '-o', join(dir, 'ab.parquet')]).stdout) as { inputs: string[]; written: number };
  assert.deepEqual(s.inputs, [a, b]);
  assert.equal(s.written, 5000);
});

/** Pairs r{i}/1, r{i}/2 interleaved; `bad` renames the mate 2 of that pair. */
function interleaved(pairs: number, bad = -1): string {
  let out = '';
  for (let i = 0; i < pairs; i++) {
    const seq = 'ACGT'.repeat(1 + (i % 30));
    const q = 'I'.repeat(seq.length);
    out += `@r${i}/1 x\n${seq}\n+\n${q}\n@${i === bad ? 'other' : `r${i}`}/2\n${seq}\n+\n${q}\n`;
  }
  return out;
}

test('fastq convert --interleaved: a mate column 1, 2, …, the same bytes for any -j; a pair whose names differ, or a lone mate, fails', () => {
  const good = file('pairs.fq', interleaved(4000));
  for (const j of ['1', '3']) {
    const r = run(['fastq', 'convert', '--interleaved', good, ...CHUNK, '-j', j, '-q', '-o', join(dir, `pairs-j${j}.arrow`)]);
    assert.equal(r.status, 0, r.stderr);
  }
  const bytes = readFileSync(join(dir, 'pairs-j1.arrow'));
  assert.ok(bytes.equals(readFileSync(join(dir, 'pairs-j3.arrow'))), '-j 1 and -j 3 differ');
  const t = tableFromIPC(bytes);
  assert.equal(t.numRows, 8000);
  assert.ok(t.batches.length > 1, 'pairs must straddle chunks for this test');
  const mate = t.getChild('mate')!.toArray() as Uint8Array;
  const ids = t.getChild('id')!.toArray() as string[];
  for (let i = 0; i < 8000; i++) assert.equal(mate[i], (i % 2) + 1, `row ${i}`);
  assert.equal(ids[7999], 'r3999/2');
  // A mismatch in the middle, at a chunk's start or inside one: the record is named.
  for (const badPair of [1, 2500]) {
    const r = run(['fastq', 'convert', '--interleaved', file(`bad${badPair}.fq`, interleaved(4000, badPair)), ...CHUNK, '-j', '2', '-o', join(dir, 'bad.arrow')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`FASTQ_PAIR_MISMATCH.*record ${2 * badPair + 2} names a different read`));
  }
  const lone = run(['fastq', 'convert', '--interleaved', file('odd.fq', interleaved(10) + '@r10/1\nA\n+\nI\n'), '-o', join(dir, 'odd.arrow')]);
  assert.equal(lone.status, 1);
  assert.match(lone.stderr, /FASTQ_PAIR_MISMATCH.*record 21 is a mate 1 without a mate 2/);
});

test('a record cut short fails fastq stats and convert (file, record, byte) unless --allow-truncated', async () => {
  const body = syntheticFastq(1000, 5);
  const cut = file('cut.fq', body.slice(0, body.length - 7));
  for (const cmd of [['stats'], ['convert', '-o', join(dir, 'cut.arrow')]]) {
    const r = run(['fastq', ...cmd, cut]);
    assert.equal(r.status, 1, cmd[0]);
    assert.match(r.stderr, new RegExp(`FASTQ_TRUNCATED.*cut\\.fq: record 1000 \\(line 3997, byte \\d+\\).*--allow-truncated`));
  }
  const kept = run(['fastq', 'convert', '--allow-truncated', cut, '-o', join(dir, 'cut.arrow')]);
  assert.equal(kept.status, 0, kept.stderr);
  assert.match(kept.stderr, /kept the 999 records before it/);
  assert.equal(tableFromIPC(readFileSync(join(dir, 'cut.arrow'))).numRows, 999);
  await assert.rejects(convertFastq({ input: cut, output: join(dir, 'lib.arrow') }), { code: 'FASTQ_TRUNCATED' });
  if (haveTool('seqkit')) assert.notEqual(spawnSync('seqkit', ['seq', cut]).status, 0, 'seqkit also refuses the cut file');
});

test('fastq convert --quality-scores: quality as list<uint8> of Phred scores (Phred+33 and +64), Arrow and Parquet, same bytes for any -j', async () => {
  const body = syntheticFastq(1500, 9);
  const fq = file('scores.fq', body);
  const quals = body.split('\n').filter((_, i) => i % 4 === 3);
  for (const ext of ['arrow', 'parquet']) {
    for (const j of ['1', '3']) assert.equal(run(['fastq', 'convert', '--quality-scores', fq, ...CHUNK, '-j', j, '-q', '-o', join(dir, `s-j${j}.${ext}`)]).status, 0);
    assert.ok(readFileSync(join(dir, `s-j1.${ext}`)).equals(readFileSync(join(dir, `s-j3.${ext}`))), `${ext}: -j 1 and -j 3 differ`);
  }
  const t = tableFromIPC(readFileSync(join(dir, 's-j1.arrow')));
  assert.equal(String(t.schema.fields[3]!.type), 'List<Uint8>');
  const col = t.getChild('quality')!;
  for (let i = 0; i < quals.length; i++) assert.deepEqual([...(col.get(i) as Iterable<number>)], [...quals[i]!].map((c) => c.charCodeAt(0) - 33), `row ${i}`);
  const pq = tableFromIPC(pw.readParquet(readFileSync(join(dir, 's-j1.parquet'))).intoIPCStream());
  assert.deepEqual([...(pq.getChild('quality')!.get(7) as Iterable<number>)], [...quals[7]!].map((c) => c.charCodeAt(0) - 33));
  // Phred+64 input: the same scores from the other offset.
  const shifted = body.split('\n').map((l, i) => (i % 4 === 3 ? [...l].map((c) => String.fromCharCode(c.charCodeAt(0) + 31)).join('') : l)).join('\n');
  const s = await convertFastq({ input: file('s64.fq', shifted), output: join(dir, 's64.arrow'), phred: 64, qualityScores: true });
  assert.equal(s.written, 1500);
  const q64 = tableFromIPC(readFileSync(join(dir, 's64.arrow'))).getChild('quality')!;
  for (let i = 0; i < quals.length; i += 97) assert.deepEqual([...(q64.get(i) as Iterable<number>)], [...quals[i]!].map((c) => c.charCodeAt(0) - 33), `phred 64 row ${i}`);
});
