/**
 * code index --shard I/N and code merge: the graph of one unsharded index (every table's rows),
 * calls resolved after the merge over the whole tree (a call into another shard's file resolves).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dumpDb, fixtureTree } from '../formats/code/helpers.js';
import { failedWith, partPaths, runCli, runShards, tempDir, type IndexFrom } from './helpers.js';

const dir = tempDir('code');

function indexed(root: string, db: string): Record<string, unknown[]> {
  const r = runCli(['code', 'index', root, '--db', db, '-q']);
  assert.equal(r.status, 0, r.stderr);
  return dumpDb(db);
}

async function sharded(root: string, n: number, from: IndexFrom, label: string): Promise<Record<string, unknown[]>> {
  const parts = join(dir, label);
  await runShards(n, (s) => ['code', 'index', root, '-j', '1', '--shard', s, '--db', join(parts, '{I}')], from);
  const db = join(dir, `${label}.db`);
  const r = runCli(['code', 'merge', ...partPaths(parts, n), '--db', db, '-q']);
  assert.equal(r.status, 0, r.stderr);
  return dumpDb(db);
}

test('code: N = 1, 2, 3, 7 and more shards than files merge to the unsharded graph', async () => {
  const { root } = fixtureTree();
  const whole = indexed(root, join(dir, 'whole.db'));
  assert.ok(whole.edges!.some((e) => (e as { resolved: number }).resolved === 1), 'the fixture has resolved calls');
  const from: IndexFrom[] = ['SLURM_ARRAY_TASK_ID', 'explicit', 'JOB_COMPLETION_INDEX', 'SLURM_ARRAY_TASK_ID'];
  for (const [k, n] of [1, 2, 3, 7].entries()) assert.deepEqual(await sharded(root, n, from[k]!, `n${n}`), whole, `N=${n}`);
  const tiny = join(dir, 'tiny');
  mkdirSync(tiny);
  writeFileSync(join(tiny, 'a.py'), 'from b import helper\n\ndef main():\n    return helper()\n');
  writeFileSync(join(tiny, 'b.py'), 'def helper():\n    return 1\n');
  const tinyWhole = indexed(tiny, join(dir, 'tiny-whole.db'));
  assert.ok(tinyWhole.edges!.some((e) => (e as { resolved: number }).resolved === 1), 'main → helper resolves across files');
  // Parts beside the tree, not in it: a finished part is a folder of files a later walk would see.
  assert.deepEqual(await sharded(tiny, 3, 'JOB_COMPLETION_INDEX', 'tiny-parts'), tinyWhole);
  const r = runCli(['code', 'merge', ...partPaths(join(dir, 'n3'), 3).slice(0, 2), '--db', join(dir, 'never.db')]);
  assert.ok(failedWith(r, 'PART_MISSING'), r.stderr);
});
