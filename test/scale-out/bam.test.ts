/**
 * bam stats|convert --shard I/N and bam merge: the counters of one unsharded run; the same rows in
 * the same order (the batch layout differs: batches restart at each share, see docs/scale-out.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { readFileSync } from 'node:fs';
import { bamHeader, bamRecord, lcg, writeBam } from '../formats/bam/raw.js';
import { failedWith, partContent, partPaths, runCli, runShards, tempDir, type IndexFrom } from './helpers.js';

const dir = tempDir('bam');
const CHUNK = ['--chunk-size', '65536'];

function makeBam(path: string, records: number): string {
  const next = lcg(records);
  const recs = Array.from({ length: records }, (_, i) => {
    const len = 40 + next(80);
    const flag = [0, 16, 4, 99, 147, 1024, 512, 256][next(8)]!;
    const unmapped = (flag & 4) !== 0;
    return bamRecord({
      name: `read${i}`, refId: unmapped ? -1 : next(3), pos: unmapped ? -1 : next(50_000), flag, cigar: unmapped ? [] : [[len, 0]],
      seq: Uint8Array.from({ length: len }, () => [1, 2, 4, 8][next(4)]!), qual: Uint8Array.from({ length: len }, () => next(41)),
    });
  });
  // Small BGZF blocks: many blocks per 64 KiB chunk, so shares start inside runs of blocks.
  return writeBam(path, bamHeader([['chr1', 100_000], ['chr2', 60_000], ['chr3', 30_000]]), recs, 9000);
}

const bam = makeBam(join(dir, 'reads.bam'), 8000);

function stdoutOf(args: string[]): string {
  const r = runCli(args);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

async function shardedStats(input: string, n: number, from: IndexFrom, label: string): Promise<string> {
  const parts = join(dir, label);
  await runShards(n, (s) => ['bam', 'stats', input, ...CHUNK, '-j', '1', '--shard', s, '-o', join(parts, '{I}')], from);
  return stdoutOf(['bam', 'merge', ...partPaths(parts, n)]);
}

test('bam stats: N = 1, 2, 3, 7 and more shards than records merge to the unsharded counts', async () => {
  const whole = stdoutOf(['bam', 'stats', bam, ...CHUNK]);
  const total = /^(\d+) \+ (\d+) in total/.exec(whole);
  assert.equal(Number(total?.[1]) + Number(total?.[2]), 8000, whole);
  const from: IndexFrom[] = ['SLURM_ARRAY_TASK_ID', 'JOB_COMPLETION_INDEX', 'explicit', 'SLURM_ARRAY_TASK_ID'];
  for (const [k, n] of [1, 2, 3, 7].entries()) assert.equal(await shardedStats(bam, n, from[k]!, `stats-${n}`), whole, `N=${n}`);
  const tiny = makeBam(join(dir, 'tiny.bam'), 2);
  assert.equal(await shardedStats(tiny, 3, 'JOB_COMPLETION_INDEX', 'tiny'), stdoutOf(['bam', 'stats', tiny]));
  const before = partContent(join(dir, 'stats-3', '2'));
  stdoutOf(['bam', 'stats', bam, ...CHUNK, '--shard', '2/3', '-o', join(dir, 'stats-3', '2'), '-q']);
  assert.deepEqual(partContent(join(dir, 'stats-3', '2')), before, 'a shard run twice writes the same part');
});

/** Every column of an Arrow IPC file as plain values, row by row. */
function rows(path: string): string {
  const t = tableFromIPC(readFileSync(path));
  return JSON.stringify(t.toArray().map((r) => r.toJSON()), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
}

test('bam convert: merged IPC has the rows of the unsharded file in order; a missing part is refused', async () => {
  const full = join(dir, 'full.arrow');
  stdoutOf(['bam', 'convert', bam, ...CHUNK, '--batch-size', '1000', '-o', full, '-q']);
  const parts = join(dir, 'conv');
  await runShards(3, (s) => ['bam', 'convert', bam, ...CHUNK, '-j', '1', '--batch-size', '1000', '--shard', s, '-o', join(parts, '{I}.arrow')], 'SLURM_ARRAY_TASK_ID');
  const merged = join(dir, 'merged.arrow');
  const all = partPaths(parts, 3, '.arrow');
  stdoutOf(['bam', 'merge', ...all, '-o', merged, '-q']);
  assert.equal(rows(merged), rows(full));
  const r = runCli(['bam', 'merge', all[0]!, all[1]!, '-o', join(dir, 'never.arrow')]);
  assert.ok(failedWith(r, 'PART_MISSING') && r.stderr.includes('shard(s) 2 of 3'), r.stderr);
  assert.ok(!existsSync(join(dir, 'never.arrow')));
  const mixed = runCli(['bam', 'merge', all[0]!, all[1]!, join(dir, 'stats-3', '2'), '-o', join(dir, 'never.arrow')]);
  assert.ok(failedWith(mixed, 'PART_MISMATCH'), mixed.stderr);
});

test('bam convert: empty shards add no batch, so merging them gives the unsharded bytes', async () => {
  const tiny = makeBam(join(dir, 'tiny-conv.bam'), 3);
  const full = join(dir, 'tiny-full.arrow');
  stdoutOf(['bam', 'convert', tiny, '-o', full, '-q']);
  const parts = join(dir, 'tiny-conv');
  await runShards(3, (s) => ['bam', 'convert', tiny, ...CHUNK, '-j', '1', '--shard', s, '-o', join(parts, '{I}.arrow')], 'JOB_COMPLETION_INDEX');
  const merged = join(dir, 'tiny-merged.arrow');
  stdoutOf(['bam', 'merge', ...partPaths(parts, 3, '.arrow'), '-o', merged, '-q']);
  assert.ok(readFileSync(merged).equals(readFileSync(full)), 'merged bytes differ from the unsharded file');
});
