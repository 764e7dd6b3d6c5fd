/**
 * `bam convert|stats in.bam REGION…` against `samtools view in.bam REGION…` on random regions of
 * a sorted, indexed file (.bai and .csi): the same records in the same order (region by region,
 * a record in two regions twice; with -M once, in file order), including reads whose CIGAR spans
 * many index windows, mapped reads without a CIGAR, unmapped reads placed at a position, and `*`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { assertSameLines, readArrow, samtools, skipNoSamtools, tableToSam, tempDir } from './helpers.js';
import { parseRegion, POS_MAX } from '../../../src/formats/bam/region.js';

const cli = fileURLToPath(new URL('../../../src/cli.js', import.meta.url));

function run(args: string[], input?: Buffer): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, input });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const REFS: Array<[string, number]> = [['chrA', 300_000], ['chrB', 200_000], ['chrC', 50_000], ['chrD', 120_000]];

/** Sorted-to-be SAM with the record shapes that test the overlap rule; chrC gets no reads. */
function regionSam(records: number, seed: number): string {
  let x = seed;
  const rnd = (n: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  const lines = ['@HD\tVN:1.6\tSO:unsorted', ...REFS.map(([n, l]) => `@SQ\tSN:${n}\tLN:${l}`)];
  const placed = [0, 1, 3];
  for (let i = 0; i < records; i++) {
    const kind = rnd(20);
    const [ref, len] = REFS[placed[rnd(3)]!]!;
    const pos = 1 + rnd(len - 30_000);
    let flag = rnd(2) ? 0 : 16;
    let cigar: string;
    if (kind < 2) cigar = '*'; // mapped, no CIGAR: one base long
    else if (kind < 4) {
      flag = 4 | 1 | 32; // unmapped, placed beside its mate
      cigar = '*';
    } else {
      const shapes = [`60M`, `20S40M`, `30M${1 + rnd(25_000)}N30M`, `10M5D50M`, `25M3I32M`, `5H60M`, `30=2X28=`, `60M${rnd(2) ? '' : '2000N'}`];
      cigar = shapes[rnd(shapes.length)]!;
    }
    const qlen = cigar === '*' ? 60 : [...cigar.matchAll(/(\d+)([MIS=X])/g)].reduce((n, m) => n + Number(m[1]), 0);
    const seq = Array.from({ length: qlen }, () => 'ACGT'[rnd(4)]).join('');
    const unplaced = kind >= 17;
    lines.push([`q${i}`, unplaced ? 4 : flag, unplaced ? '*' : ref, unplaced ? 0 : pos, unplaced || flag & 4 ? 0 : rnd(60), unplaced ? '*' : cigar, '*', 0, 0, seq, '*', `NM:i:${rnd(5)}`].join('\t'));
  }
  return `${lines.join('\n')}\n`;
}

/** Random region strings in samtools' syntaxes (commas, k suffix, open ends, whole references). */
function randomRegions(n: number, seed: number): string[] {
  let x = seed;
  const rnd = (k: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % k;
  };
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const [ref, len] = REFS[rnd(REFS.length)]!;
    const beg = 1 + rnd(len);
    const end = Math.min(len, beg + rnd(rnd(4) === 0 ? 60_000 : 3000));
    const forms = [`${ref}:${beg}-${end}`, `${ref}:${beg.toLocaleString('en-US')}-${end.toLocaleString('en-US')}`, `${ref}:${beg}`, `${ref}:-${end}`, `${ref}:${beg}-`, ref, `{${ref}}:${beg}-${end}`, `${ref}:${Math.max(1, Math.floor(beg / 1000))}k-${Math.floor(end / 1000) + 1}k`];
    out.push(forms[rnd(10) < 6 ? 0 : rnd(forms.length)]!);
  }
  return out;
}

function setup(): { dir: string; bam: string } {
  const dir = tempDir();
  const bam = join(dir, 'in.bam');
  samtools(['view', '--no-PG', '-b', '-o', join(dir, 'u.bam'), '-'], regionSam(12_000, 7));
  samtools(['sort', '--no-PG', '-o', bam, join(dir, 'u.bam')]);
  samtools(['index', bam]);
  samtools(['index', '-c', '-m', '12', '-o', join(dir, 'in.csi'), bam]);
  return { dir, bam };
}

const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

test('bam convert REGION… selects what samtools view prints: region by region, -M once in file order, .bai and .csi, any -j', { skip: skipNoSamtools }, () => {
  const { dir, bam } = setup();
  const regions = [...randomRegions(40, 3), '*', 'chrC', 'chrA:5000-9000', 'chrA:8000-12000'];
  const convert = (name: string, extra: string[]): string => {
    const out = join(dir, name);
    const r = run(['bam', 'convert', bam, ...regions, ...extra, '--chunk-size', '4096', '--batch-size', '900', '--quiet', '-o', out]);
    assert.equal(r.status, 0, r.stderr);
    return out;
  };
  const inOrder = convert('order-j2.arrow', ['-j', '2']);
  const expected = lines(samtools(['view', bam, ...regions]));
  assert.ok(expected.length > 1000, `the regions should select many records (${expected.length})`);
  assertSameLines(tableToSam(readArrow(inOrder)), expected, 'regions in order');
  assert.ok(readFileSync(inOrder).equals(readFileSync(convert('order-j1.arrow', ['-j', '1']))), '-j 1 and -j 2 differ');
  const merged = convert('merged-j3.arrow', ['-M', '-j', '3']);
  const expectedMerged = lines(samtools(['view', '-M', bam, ...regions]));
  assert.ok(expectedMerged.length < expected.length, 'overlapping regions: -M should print fewer records');
  assertSameLines(tableToSam(readArrow(merged)), expectedMerged, 'regions with -M');
  const csi = convert('merged-csi.arrow', ['-M', '-j', '2', '--index', join(dir, 'in.csi')]);
  assert.ok(readFileSync(merged).equals(readFileSync(csi)), 'the .csi index gives other bytes than the .bai');
  // Filters apply to the records the regions select, as in samtools view.
  const filtered = convert('filtered.arrow', ['-F', '0x14', '--min-mapq', '20']);
  assertSameLines(tableToSam(readArrow(filtered)), lines(samtools(['view', '-F', '0x14', '-q', '20', bam, ...regions])), 'regions with -F and -q');
});

test('bam convert --regions-file BED selects what samtools view --region-file prints (each record once, file order)', { skip: skipNoSamtools }, () => {
  const { dir, bam } = setup();
  let x = 17;
  const rnd = (k: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % k;
  };
  const bed = ['track name=targets', '# a comment'];
  for (let i = 0; i < 60; i++) {
    const [ref, len] = REFS[rnd(REFS.length)]!;
    const beg = rnd(len);
    bed.push(`${ref}\t${beg}\t${Math.min(len, beg + 1 + rnd(rnd(5) === 0 ? 40_000 : 2000))}`);
  }
  bed.push('chrUn\t10\t20');
  const bedPath = join(dir, 'targets.bed');
  writeFileSync(bedPath, `${bed.join('\n')}\n`);
  const out = join(dir, 'bed.arrow');
  const r = run(['bam', 'convert', bam, '--regions-file', bedPath, '-j', '2', '--chunk-size', '4096', '-o', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /skipped the regions on 1 reference\(s\) the BAM header has not \(chrUn\)/);
  const expected = lines(spawnSync('samtools', ['view', '--region-file', bedPath, bam], { encoding: 'utf8' }).stdout);
  assert.ok(expected.length > 500, `the BED should select many records (${expected.length})`);
  assertSameLines(tableToSam(readArrow(out)), expected, '--regions-file');
});

test('bam stats REGION… counts what samtools view REGION… | samtools flagstat counts', { skip: skipNoSamtools }, () => {
  const { dir, bam } = setup();
  const regions = randomRegions(15, 11);
  const s = run(['bam', 'stats', bam, ...regions, '--json', '-j', '2', '--chunk-size', '4096']);
  assert.equal(s.status, 0, s.stderr);
  const ours = JSON.parse(s.stdout) as { qc_passed: Record<string, number>; references: Array<{ name: string; mapped: number; unmapped: number }> };
  samtools(['view', '-b', '-o', join(dir, 'sel.bam'), bam, ...regions]);
  const theirs = JSON.parse(samtools(['flagstat', '-O', 'json', join(dir, 'sel.bam')])) as { 'QC-passed reads': Record<string, number> };
  assert.ok(ours.qc_passed.in_total! > 100);
  assert.equal(ours.qc_passed.in_total, theirs['QC-passed reads'].total);
  assert.equal(ours.qc_passed.mapped, theirs['QC-passed reads'].mapped);
  assert.equal(ours.qc_passed.secondary, theirs['QC-passed reads'].secondary);
  // `.` reads from the first record and `*` the unplaced ones, each a slice at a time.
  for (const special of [['.'], ['*'], ['*', 'chrB:1000-90000', '*']]) {
    const r = run(['bam', 'stats', bam, ...special, '--json', '-j', '2', '--chunk-size', '4096']);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { qc_passed: { in_total: number } };
    assert.equal(j.qc_passed.in_total, Number(samtools(['view', '-c', bam, ...special]).trim()), special.join(' '));
  }
});

test('region strings parse as htslib parses them', () => {
  const ids = new Map([['chr1', 0], ['chr1:5-6', 1], ['HLA-A*01:01', 2]]);
  const span = (t: string): [number, number] => {
    const r = parseRegion(t, ids);
    assert.equal(r.kind, 'span');
    return r.kind === 'span' ? [r.beg, r.end] : [0, 0];
  };
  assert.deepEqual(span('chr1:1,000-2k'), [999, 2000]);
  assert.deepEqual(span('chr1:1.5k-2.25k'), [1499, 2250]);
  assert.deepEqual(span('chr1:-100'), [0, 100]);
  assert.deepEqual(span('chr1:100'), [99, POS_MAX]);
  assert.deepEqual(span('chr1:100-'), [99, POS_MAX]);
  assert.deepEqual(span('chr1:0-100'), [0, 100]);
  assert.deepEqual(span('chr1'), [0, POS_MAX]);
  assert.deepEqual(span('HLA-A*01:01'), [0, POS_MAX]);
  assert.deepEqual(span('HLA-A*01:01:10-20'), [9, 20]);
  assert.deepEqual(span('{chr1:5-6}'), [0, POS_MAX]);
  assert.deepEqual(span('{chr1}:5-6'), [4, 6]);
  assert.equal(parseRegion('*', ids).kind, 'unplaced');
  assert.equal(parseRegion('.', ids).kind, 'all');
  assert.deepEqual(span('chr1:5-6:7'), [6, POS_MAX]);
  assert.throws(() => parseRegion('chr1:5-6', ids), /ambiguous; write \{chr1:5-6\} or \{chr1\}:5-6/);
  assert.throws(() => parseRegion('chr2:5-6', ids), /no reference named "chr2"/);
  assert.throws(() => parseRegion('chr1:x', ids), /unexpected "x"/);
  assert.throws(() => parseRegion('chr1:20-10', ids), /end is before the start/);
  assert.throws(() => parseRegion('chrX:1-10', ids), /no reference named "chrX"/);
});

test('bad region runs are usage errors with a message: unknown reference, stdin, no index, --shard', { skip: skipNoSamtools }, () => {
  const { dir, bam } = setup();
  const out = join(dir, 'x.arrow');
  const unknown = run(['bam', 'convert', bam, 'chrZ:1-10', '-o', out]);
  assert.equal(unknown.status, 2, unknown.stderr);
  assert.match(unknown.stderr, /region "chrZ:1-10": no reference named "chrZ"/);
  const stdin = run(['bam', 'stats', '-', 'chrA'], readFileSync(bam));
  assert.equal(stdin.status, 2);
  assert.match(stdin.stderr, /regions need an indexed BAM file, not stdin/);
  samtools(['view', '-b', '-o', join(dir, 'plain.bam'), bam]);
  const noIndex = run(['bam', 'stats', join(dir, 'plain.bam'), 'chrA']);
  assert.equal(noIndex.status, 2);
  assert.match(noIndex.stderr, /regions need an index and none was found .*samtools index/);
  const shard = run(['bam', 'convert', bam, 'chrA', '--shard', '1/2', '-o', join(dir, 'part')]);
  assert.equal(shard.status, 2);
  assert.match(shard.stderr, /--shard cannot be combined with regions/);
});
