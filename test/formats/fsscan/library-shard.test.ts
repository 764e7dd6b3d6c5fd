/**
 * Shard and merge from the library API, without the CLI (issue 16): runShard and mergeParts with
 * fsscanFormat give the database of one importScan; nothing is printed, record errors reach the
 * hooks, and the merge's result is the summary `fsscan merge --json` prints.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandOf, fsscanFormat, importScan, mergeParts, runShard, type LocatedError } from '../../../src/index.js';
import { dumpDb, generateScan, scanText } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tm-fsscan-lib-'));
const scan = join(dir, '20260115_srv_proj.list.list_all.log');
writeFileSync(scan, scanText(generateScan(3, 80, 1500).records, 2, ['not a scan line']));

test('runShard + mergeParts with fsscanFormat: the database of one importScan, record errors through the hooks', async () => {
  const whole = join(dir, 'whole.db');
  const w = await importScan({ inputs: [scan], db: whole, threads: 1, chunkSize: 1 << 16 });
  const spec = commandOf(fsscanFormat, 'import');
  const rejected: LocatedError[] = [];
  const parts: string[] = [];
  for (const i of [0, 1, 2]) {
    const s = await runShard('fsscan', spec, [scan], { db: join(dir, 'parts', '{I}'), threads: 1, chunkSize: 1 << 16, maxErrors: 5 }, `${i}/3`, { onRecordError: (e) => rejected.push(e) });
    assert.equal(s.part, join(dir, 'parts', String(i)));
    parts.push(s.part);
  }
  assert.deepEqual(rejected.map((e) => e.reason), ['not a GPFS, Lustre or find record']);
  const merged = join(dir, 'merged.db');
  const m = await mergeParts(fsscanFormat, parts, { output: merged });
  assert.equal(dumpDb(merged), dumpDb(whole));
  const summary = m.report!.summary as { db: string; parts: number; records: number; rejected: number; lines: number };
  assert.deepEqual([summary.db, summary.parts, summary.records, summary.rejected, summary.lines], [merged, 3, w.records, 1, w.lines]);
});
