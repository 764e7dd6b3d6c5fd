/**
 * fsscan import --shard I/N and fsscan merge: the database of one unsharded import (every table's
 * rows; import_timestamp aside), the tree and recursive roll-up built after the merge.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dumpDb, generateScan, scanText } from '../formats/fsscan/helpers.js';
import { failedWith, partPaths, runCli, runShards, tempDir, type IndexFrom } from './helpers.js';

const dir = tempDir('fsscan');
const CHUNK = ['--chunk-size', '65536'];
const scan = join(dir, '20260115_srv_proj.list.list_all.log');
writeFileSync(scan, scanText(generateScan(5, 300, 6000).records, 3, ['not a scan line']));

function imported(input: string, db: string): string {
  const r = runCli(['fsscan', 'import', input, ...CHUNK, '--db', db, '-q']);
  assert.equal(r.status, 0, r.stderr);
  return dumpDb(db);
}

async function sharded(input: string, n: number, from: IndexFrom, label: string): Promise<string> {
  const parts = join(dir, label);
  await runShards(n, (s) => ['fsscan', 'import', input, ...CHUNK, '-j', '1', '--shard', s, '--db', join(parts, '{I}')], from);
  const db = join(dir, `${label}.db`);
  const r = runCli(['fsscan', 'merge', ...partPaths(parts, n), '--db', db, '-q']);
  assert.equal(r.status, 0, r.stderr);
  return dumpDb(db);
}

test('fsscan: N = 1, 2, 3, 7 and more shards than lines merge to the unsharded database', async () => {
  const whole = imported(scan, join(dir, 'whole.db'));
  assert.match(whole, /dir_id/);
  const from: IndexFrom[] = ['JOB_COMPLETION_INDEX', 'explicit', 'SLURM_ARRAY_TASK_ID', 'JOB_COMPLETION_INDEX'];
  for (const [k, n] of [1, 2, 3, 7].entries()) assert.equal(await sharded(scan, n, from[k]!, `n${n}`), whole, `N=${n}`);
  const tiny = join(dir, '20260115_srv_tiny.list.list_all.log');
  writeFileSync(tiny, scanText(generateScan(2, 2, 3).records, 1));
  assert.equal(await sharded(tiny, 4, 'SLURM_ARRAY_TASK_ID', 'tiny'), imported(tiny, join(dir, 'tiny-whole.db')));
  const r = runCli(['fsscan', 'merge', ...partPaths(join(dir, 'n3'), 3).slice(1), '--db', join(dir, 'never.db')]);
  assert.ok(failedWith(r, 'PART_MISSING'), r.stderr);
  assert.ok(!existsSync(join(dir, 'never.db')));
});
