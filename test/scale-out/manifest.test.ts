/**
 * What a part's manifest says about its run (issue 15): the threadmill version, every option that
 * changes the output as its normalised value (so a default spelled out is the same run, and a
 * different codec is not), and the input by content — the same file at another path is accepted,
 * another file of the same size and mtime is not. And the small merge defects found on a cluster.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, linkSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleOffsets } from '../../src/engine/manifest.js';
import { threadmillVersion } from '../../src/engine/version.js';
import { syntheticFastq } from '../formats/fastq/helpers.js';
import { bamHeader, bamRecord, lcg, writeBam } from '../formats/bam/raw.js';
import { fixtureTree, dumpDb } from '../formats/code/helpers.js';
import { failedWith, partPaths, runCli, tempDir } from './helpers.js';

const dir = tempDir('manifest');
const fq = join(dir, 'reads.fq');
writeFileSync(fq, syntheticFastq(3000, 5));
const CHUNK = ['--chunk-size', '65536', '-j', '1', '-q'];

function ok(args: string[]): string {
  const r = runCli(args);
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const manifestOf = (part: string): { threadmill: string; options: Record<string, unknown>; inputs: { name: string; samples: string[] }[] } =>
  JSON.parse(readFileSync(join(part, 'manifest.json'), 'utf8'));

function tinyBam(path: string, records: number): string {
  const next = lcg(records);
  const recs = Array.from({ length: records }, (_, i) => bamRecord({
    name: `r${i}`, refId: next(2), pos: next(9000), flag: [0, 16, 99, 147][next(4)]!, cigar: [[50, 0]],
    seq: Uint8Array.from({ length: 50 }, () => [1, 2, 4, 8][next(4)]!), qual: Uint8Array.from({ length: 50 }, () => next(41)),
  }));
  return writeBam(path, bamHeader([['chr1', 10_000], ['chr2', 5_000]]), recs, 9000);
}
const bam = tinyBam(join(dir, 'reads.bam'), 3000);

test('sampled MiB: first, last and evenly between; one for a small file', () => {
  assert.deepEqual(sampleOffsets(1000), [0]);
  const mib = 1 << 20;
  assert.deepEqual(sampleOffsets(5 * mib), [0, mib, 2 * mib, 3 * mib, 4 * mib]);
});

test('fastq convert: --compression is in the manifest, normalised (snappy and zstd parts are not merged; zstd spelled out is the default)', () => {
  const parts = join(dir, 'codec');
  ok(['fastq', 'convert', fq, ...CHUNK, '--shard', '0/2', '-o', join(parts, '{I}.parquet'), '--compression', 'snappy']);
  ok(['fastq', 'convert', fq, ...CHUNK, '--shard', '1/2', '-o', join(parts, '{I}.parquet')]);
  assert.equal(manifestOf(join(parts, '1.parquet')).options.compression, 'zstd');
  assert.equal(manifestOf(join(parts, '1.parquet')).threadmill, threadmillVersion());
  const mixed = runCli(['fastq', 'merge', ...partPaths(parts, 2, '.parquet'), '-o', join(dir, 'mixed.parquet')]);
  assert.ok(failedWith(mixed, 'PART_MISMATCH') && mixed.stderr.includes('compression: "zstd" instead of "snappy"'), mixed.stderr);
  ok(['fastq', 'convert', fq, ...CHUNK, '--shard', '0/2', '-o', join(parts, '{I}.parquet'), '--compression', 'zstd']);
  ok(['fastq', 'merge', ...partPaths(parts, 2, '.parquet'), '-o', join(dir, 'codec.parquet'), '-q']);
  ok(['fastq', 'convert', fq, '-j', '1', '--chunk-size', '65536', '-o', join(dir, 'codec-whole.parquet'), '-q']);
  assert.ok(readFileSync(join(dir, 'codec.parquet')).equals(readFileSync(join(dir, 'codec-whole.parquet'))));
});

test('bam convert: --compression zstd spelled out in one shard and left to its default in the other merge', () => {
  const parts = join(dir, 'bamcodec');
  ok(['bam', 'convert', bam, ...CHUNK, '--shard', '0/2', '-o', join(parts, '{I}.parquet'), '--compression', 'zstd']);
  ok(['bam', 'convert', bam, ...CHUNK, '--shard', '1/2', '-o', join(parts, '{I}.parquet')]);
  ok(['bam', 'merge', ...partPaths(parts, 2, '.parquet'), '-o', join(dir, 'bam.parquet'), '-q']);
  assert.equal(manifestOf(join(parts, '0.parquet')).options.chunkSize, 65536);
});

test('bam merge --json prints stats exactly as bam stats --json does (same key order)', () => {
  const parts = join(dir, 'bamstats');
  for (const s of ['0/2', '1/2']) ok(['bam', 'stats', bam, ...CHUNK, '--shard', s, '-o', join(parts, '{I}')]);
  const merged = ok(['bam', 'merge', ...partPaths(parts, 2), '--json']);
  assert.equal(merged, ok(['bam', 'stats', bam, '-j', '1', '--json']));
});

test('a truncated stats file in a part is PART_INVALID naming it (fastq and bam)', () => {
  for (const [format, args] of [['fastq', ['fastq', 'stats', fq]], ['bam', ['bam', 'stats', bam]]] as const) {
    const parts = join(dir, `cut-${format}`);
    for (const s of ['0/2', '1/2']) ok([...args, ...CHUNK, '--shard', s, '-o', join(parts, '{I}')]);
    const stats = join(parts, '1', 'stats.json');
    writeFileSync(stats, readFileSync(stats).subarray(0, 20));
    const r = runCli([format, 'merge', ...partPaths(parts, 2)]);
    assert.ok(failedWith(r, 'PART_INVALID') && r.stderr.includes(stats), r.stderr);
    assert.equal(r.stdout, '');
  }
});

test('the input is identified by content: the same file at another path is accepted, another file of the same size and mtime is not', () => {
  const parts = join(dir, 'paths');
  const elsewhere = join(dir, 'mnt', 'reads.fq');
  mkdirSync(join(dir, 'mnt'));
  linkSync(fq, elsewhere); // another mount of the same file: same content, same mtime, another path
  utimesSync(fq, 1_700_000_000, 1_700_000_000); // whole seconds, so the forged copy below can carry it exactly
  ok(['fastq', 'stats', fq, ...CHUNK, '--shard', '0/2', '-o', join(parts, '{I}')]);
  ok(['fastq', 'stats', elsewhere, ...CHUNK, '--shard', '1/2', '-o', join(parts, '{I}')]);
  assert.deepEqual(JSON.parse(ok(['fastq', 'merge', ...partPaths(parts, 2), '--json'])), JSON.parse(ok(['fastq', 'stats', fq, '--json'])));
  assert.equal(JSON.stringify(manifestOf(join(parts, '0')).inputs).includes(dir), false, 'inputs are identified without their path');
  const forged = join(dir, 'forged.fq');
  copyFileSync(fq, forged);
  const bytes = readFileSync(forged);
  bytes[bytes.length >> 1] = bytes[bytes.length >> 1] === 0x41 ? 0x43 : 0x41; // a base in the middle
  writeFileSync(forged, bytes);
  utimesSync(forged, 1_700_000_000, 1_700_000_000);
  assert.equal(statSync(forged).mtimeMs, statSync(fq).mtimeMs);
  ok(['fastq', 'stats', forged, ...CHUNK, '--shard', '1/2', '-o', join(dir, 'forged-part')]);
  const r = runCli(['fastq', 'merge', join(parts, '0'), join(dir, 'forged-part')]);
  assert.ok(failedWith(r, 'PART_MISMATCH') && /forged\.fq\) differs \(content at offset/.test(r.stderr), r.stderr);
});

test('parts written by another threadmill version are refused', () => {
  const parts = join(dir, 'paths');
  const m = manifestOf(join(parts, '1'));
  writeFileSync(join(parts, '1', 'manifest.json'), JSON.stringify({ ...m, threadmill: '0.0.1-other' }));
  const r = runCli(['fastq', 'merge', ...partPaths(parts, 2)]);
  assert.ok(failedWith(r, 'PART_MISMATCH') && r.stderr.includes('threadmill 0.0.1-other'), r.stderr);
});

test('code merge run twice into the same graph (a requeued merge job) succeeds and writes the same graph', () => {
  const { root } = fixtureTree();
  const parts = join(dir, 'code');
  for (const s of ['0/2', '1/2']) ok(['code', 'index', root, '-j', '1', '--shard', s, '--db', join(parts, '{I}'), '-q']);
  const db = join(dir, 'code.db');
  ok(['code', 'merge', ...partPaths(parts, 2), '--db', db, '-q']);
  const first = dumpDb(db);
  ok(['code', 'merge', ...partPaths(parts, 2), '--db', db, '-q']);
  assert.deepEqual(dumpDb(db), first);
  const notGraph = join(dir, 'notes.db');
  writeFileSync(notGraph, 'my notes');
  const r = runCli(['code', 'merge', ...partPaths(parts, 2), '--db', notGraph]);
  assert.ok(r.status === 2 && r.stderr.includes('OUTPUT_EXISTS'), r.stderr);
  assert.equal(readFileSync(notGraph, 'utf8'), 'my notes');
});
