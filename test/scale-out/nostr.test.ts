/**
 * nostr convert --shard I/N and nostr merge: the same events per day file in the same order and
 * the same index rows as one unsharded convert, with duplicates across shards dropped in input
 * order, and merging into a DIR that already holds events working like a second convert.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { makeEvents, toJsonl } from '../formats/nostr/fixtures.js';
import { failedWith, nostrContents, partPaths, runCli, runShards, tempDir, type IndexFrom } from './helpers.js';

const dir = tempDir('nostr');
const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };
const OPTS = ['--chunk-size', '65536', '--no-validate-signatures', '-j', '1'];
const events = makeEvents(420, 3);
const lines = toJsonl(events).split('\n').filter(Boolean);
// Duplicates far apart (so in other shards) and a bad line: 0-299, 150-419, 0-49, one parse error.
const input = join(dir, 'events.jsonl');
writeFileSync(input, [...lines.slice(0, 300), '{"broken"', ...lines.slice(150), ...lines.slice(0, 50)].join('\n') + '\n');

function ok(args: string[]): void {
  const r = runCli([...args, '-q'], { env });
  assert.equal(r.status, 0, r.stderr);
}

async function sharded(source: string, n: number, from: IndexFrom, label: string, into?: string): Promise<string> {
  const parts = join(dir, label);
  process.env.SOURCE_DATE_EPOCH = env.SOURCE_DATE_EPOCH;
  await runShards(n, (s) => ['nostr', 'convert', source, ...OPTS, '--shard', s, '-o', join(parts, '{I}')], from);
  const out = into ?? join(dir, `${label}-merged`);
  ok(['nostr', 'merge', ...partPaths(parts, n), '-o', out]);
  return out;
}

test('nostr: N = 1, 2, 3, 7 and more shards than events merge to the unsharded day files and index', async () => {
  const full = join(dir, 'full');
  ok(['nostr', 'convert', input, ...OPTS, '-o', full]);
  const whole = nostrContents(full);
  assert.equal(whole.rows.length, 420);
  const from: IndexFrom[] = ['explicit', 'SLURM_ARRAY_TASK_ID', 'JOB_COMPLETION_INDEX', 'SLURM_ARRAY_TASK_ID'];
  for (const [k, n] of [1, 2, 3, 7].entries()) assert.deepEqual(nostrContents(await sharded(input, n, from[k]!, `n${n}`)), whole, `N=${n}`);
  const tiny = join(dir, 'tiny.jsonl');
  writeFileSync(tiny, `${lines.slice(0, 2).join('\n')}\n`);
  const tinyFull = join(dir, 'tiny-full');
  ok(['nostr', 'convert', tiny, ...OPTS, '-o', tinyFull]);
  assert.deepEqual(nostrContents(await sharded(tiny, 4, 'JOB_COMPLETION_INDEX', 'tiny')), nostrContents(tinyFull));
});

test('nostr merge into a DIR that already holds events adds only new ones, like a second convert', () => {
  const first = join(dir, 'first.jsonl');
  writeFileSync(first, `${lines.slice(100, 200).join('\n')}\n`);
  const again = join(dir, 'again');
  ok(['nostr', 'convert', first, ...OPTS, '-o', again]);
  const merged = join(dir, 'again-merged');
  cpSync(again, merged, { recursive: true });
  ok(['nostr', 'convert', input, ...OPTS, '-o', again]);
  ok(['nostr', 'merge', ...partPaths(join(dir, 'n3'), 3), '-o', merged]);
  assert.deepEqual(nostrContents(merged), nostrContents(again));
});

test('nostr merge refuses parts made with other options or a missing part, and writes nothing', () => {
  const other = join(dir, 'other');
  ok(['nostr', 'convert', input, '--chunk-size', '65536', '-j', '1', '--shard', '1/3', '-o', other]);
  const parts = partPaths(join(dir, 'n3'), 3);
  const out = join(dir, 'never');
  const mixed = runCli(['nostr', 'merge', parts[0]!, other, parts[2]!, '-o', out], { env });
  assert.ok(failedWith(mixed, 'PART_MISMATCH') && mixed.stderr.includes('validateSignatures'), mixed.stderr);
  assert.ok(failedWith(runCli(['nostr', 'merge', parts[0]!, parts[2]!, '-o', out], { env }), 'PART_MISSING'));
  assert.ok(!existsSync(out));
});

test('nostr merge names a part\'s day file whose last record is cut short (PB_CORRUPT), and writes nothing', () => {
  const parts = join(dir, 'cut');
  cpSync(join(dir, 'n3'), parts, { recursive: true });
  const day = readdirSync(join(parts, '1')).find((n) => n.endsWith('.pb.gz'))!;
  const raw = gunzipSync(readFileSync(join(parts, '1', day)));
  writeFileSync(join(parts, '1', day), gzipSync(raw.subarray(0, raw.length - 1)));
  const out = join(dir, 'cut-merged');
  const r = runCli(['nostr', 'merge', ...partPaths(parts, 3), '-o', out], { env });
  assert.ok(failedWith(r, 'PB_CORRUPT') && r.stderr.includes(join(parts, '1', day)), r.stderr);
  assert.ok(!existsSync(out) || !readdirSync(out).some((n) => n.endsWith('.pb.gz')), 'no day file written');
});
