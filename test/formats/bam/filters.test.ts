/**
 * samtools view's record filters (-f/-F/-G, -q as --min-mapq) on `bam convert` and `bam stats`,
 * checked against samtools itself, and `bam stats --json` against `samtools flagstat -O json`
 * and `samtools idxstats`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tableFromIPC } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { FLAG_COLUMNS } from '../../../src/formats/bam/column-names.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { assertSameLines, generateSam, readArrow, samToBam, samtools, skipNoSamtools, tableToSam, tempDir } from './helpers.js';

const cli = fileURLToPath(new URL('../../../src/cli.js', import.meta.url));

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** [threadmill options, samtools view options]. */
const CASES: Array<[string[], string[]]> = [
  [['-f', '1'], ['-f', '1']],
  [['-F', '4'], ['-F', '4']],
  [['-F', '0x900'], ['-F', '0x900']],
  [['-f', 'PAIRED,READ1'], ['-f', 'PAIRED,READ1']],
  [['-G', '0x41'], ['-G', '0x41']],
  [['--min-mapq', '30'], ['-q', '30']],
  [['-f', '2', '-F', '0x400', '--min-mapq', '1'], ['-f', '2', '-F', '0x400', '-q', '1']],
  [['-F', 'UNMAP,SECONDARY', '-G', '0x81'], ['-F', 'UNMAP,SECONDARY', '-G', '0x81']],
];

test('bam convert and bam stats -f/-F/-G/--min-mapq keep exactly the records samtools view keeps, for any -j', { skip: skipNoSamtools }, () => {
  const dir = tempDir();
  const bam = samToBam(generateSam({ records: 3000, seed: 22, readLength: 30 }), join(dir, 'in.bam'));
  for (const [k, [ours, theirs]] of CASES.entries()) {
    const expected = samtools(['view', ...theirs, bam]).replace(/\n$/, '').split('\n').filter((l) => l !== '');
    assert.ok(expected.length > 50 && expected.length < 2950, `case ${k}: the filter should keep some records and drop others (${expected.length})`);
    const outs = ['1', '2'].map((j) => {
      const out = join(dir, `f${k}-j${j}.arrow`);
      const r = run(['bam', 'convert', bam, ...ours, '-j', j, '--chunk-size', '65536', '--batch-size', '700', '--quiet', '-o', out]);
      assert.equal(r.status, 0, r.stderr);
      return out;
    });
    assert.ok(readFileSync(outs[0]!).equals(readFileSync(outs[1]!)), `case ${k}: -j 1 and -j 2 differ`);
    assertSameLines(tableToSam(readArrow(outs[0]!)), expected, `case ${k} (${ours.join(' ')})`);
    const s = run(['bam', 'stats', bam, ...ours, '--json']);
    assert.equal(s.status, 0, s.stderr);
    const j = JSON.parse(s.stdout) as { qc_passed: { in_total: number }; qc_failed: { in_total: number } };
    assert.equal(j.qc_passed.in_total + j.qc_failed.in_total, Number(samtools(['view', '-c', ...theirs, bam]).trim()), `case ${k}: stats count`);
  }
  const bad = run(['bam', 'convert', bam, '-f', 'NOPE', '-o', join(dir, 'x.arrow')]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /-f: "NOPE" is not a flag number or name/);
});

test('bam stats --json: labelled snake_case flagstat counters equal samtools flagstat -O json, references equal idxstats', { skip: skipNoSamtools }, () => {
  const dir = tempDir();
  const bam = samToBam(generateSam({ records: 2000, seed: 23, readLength: 30 }), join(dir, 'in.bam'));
  const s = run(['bam', 'stats', bam, '--json']);
  assert.equal(s.status, 0, s.stderr);
  const ours = JSON.parse(s.stdout) as { qc_passed: Record<string, number>; qc_failed: Record<string, number>; references: Array<{ name: string; length: number; mapped: number; unmapped: number }> };
  const theirs = JSON.parse(samtools(['flagstat', '-O', 'json', bam])) as Record<string, Record<string, number | null>>;
  const key = (k: string): string => (k === 'total' ? 'in_total' : k.toLowerCase().replace(/>=/g, ' ').replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, ''));
  for (const [side, ourSide] of [['QC-passed reads', ours.qc_passed], ['QC-failed reads', ours.qc_failed]] as const) {
    const want = Object.fromEntries(Object.entries(theirs[side]!).filter(([k]) => !k.endsWith('%')).map(([k, v]) => [key(k), v]));
    assert.deepEqual(ourSide, want, side);
  }
  assert.ok(Object.keys(ours.qc_passed).every((k) => /^[a-z0-9_]+$/.test(k)), 'snake_case keys');
  // samtools idxstats needs an index; a sorted copy has the same counts.
  const sorted = join(dir, 'sorted.bam');
  samtools(['sort', '-o', sorted, bam]);
  samtools(['index', sorted]);
  const idx = samtools(['idxstats', sorted]).trim().split('\n').map((l) => l.split('\t'));
  assert.deepEqual(ours.references.map((r) => [r.name, String(r.length), String(r.mapped), String(r.unmapped)]), idx);
});

test('SAM text on stdin and CRAM are refused with BAM_BAD_MAGIC and the samtools command that converts them (SAM files are read: sam-input.test.ts)', { skip: skipNoSamtools }, () => {
  const dir = tempDir();
  const sam = join(dir, 'in.sam');
  writeFileSync(sam, generateSam({ records: 20, seed: 3, readLength: 20, refs: 1 }));
  for (const input of [readFileSync(sam), gzipSync(readFileSync(sam))]) {
    const piped = spawnSync(process.execPath, [cli, 'bam', 'stats', '-'], { input, encoding: 'utf8' });
    assert.equal(piped.status, 1);
    assert.match(piped.stderr, /BAM_BAD_MAGIC.*it is SAM text, which threadmill reads from a file .* not from stdin.*samtools view -u/);
  }
  // A reference covering what the generator writes (chr1, 10 Mbp) for the CRAM encoder.
  const fa = join(dir, 'ref.fa');
  writeFileSync(fa, `>chr1\n${'ACGT'.repeat(2_500_000)}\n`);
  const cram = join(dir, 'in.cram');
  samtools(['view', '-C', '-T', fa, '-o', cram, sam]);
  const r = run(['bam', 'convert', cram, '-o', join(dir, 'y.arrow')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /BAM_BAD_MAGIC.*it is CRAM.*samtools view -b -T ref\.fa/);
});

test('bam convert --columns and --flag-columns: only the named columns, one boolean per flag bit equal to samtools\' flag, same bytes for any -j, Parquet too', { skip: skipNoSamtools }, () => {
  const dir = tempDir();
  const bam = samToBam(generateSam({ records: 1500, seed: 24, readLength: 30 }), join(dir, 'in.bam'));
  const sam = samtools(['view', bam]).trim().split('\n').map((l) => l.split('\t'));
  const args = ['--columns', 'qname,pos,flag', '--flag-columns', '--chunk-size', '65536', '--batch-size', '400', '--quiet'];
  for (const ext of ['arrow', 'parquet']) {
    const outs = ['1', '2'].map((j) => {
      const out = join(dir, `c-j${j}.${ext}`);
      const r = run(['bam', 'convert', bam, ...args, '-j', j, '-o', out]);
      assert.equal(r.status, 0, r.stderr);
      return out;
    });
    assert.ok(readFileSync(outs[0]!).equals(readFileSync(outs[1]!)), `${ext}: -j 1 and -j 2 differ`);
    const t = ext === 'arrow' ? readArrow(outs[0]!) : tableFromIPC(pw.readParquet(readFileSync(outs[0]!)).intoIPCStream());
    assert.deepEqual(t.schema.fields.map((f) => f.name), ['qname', 'flag', ...FLAG_COLUMNS, 'pos'], ext);
    assert.equal(t.numRows, sam.length);
    for (const [i, row] of [...t].entries()) {
      const r = row.toJSON() as Record<string, unknown>;
      const flag = Number(sam[i]![1]);
      assert.equal(r.qname, sam[i]![0]);
      assert.equal(r.pos ?? 0, Number(sam[i]![3]));
      FLAG_COLUMNS.forEach((name, b) => assert.equal(r[name], (flag & (1 << b)) !== 0, `${ext} row ${i} ${name}`));
    }
  }
  const bad = run(['bam', 'convert', bam, '--columns', 'qname,nope', '-o', join(dir, 'x.arrow')]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--columns: unknown column "nope"/);
});

test('--shard refuses filters and column choices, which part manifests do not record', () => {
  for (const args of [['stats', '-F', '4'], ['convert', '--flag-columns', '-o', 'x'], ['convert', '--columns', 'qname', '-o', 'x']]) {
    const r = run(['bam', args[0]!, 'in.bam', ...args.slice(1), '--shard', '1/2']);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, /--shard cannot be combined with/);
  }
});
