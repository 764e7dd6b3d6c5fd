import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { importScan } from '../../../src/formats/fsscan/import.js';
import { parseDateArg, parseSize, ScanDb } from '../../../src/formats/fsscan/query.js';
import { expectedDirs, generateScan, scanText, type GenFile } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tm-fsscan-q-'));
const cli = new URL('../../../src/cli.js', import.meta.url).pathname;
const { records } = generateScan(21, 60, 800);
// a 14-level chain, deeper than the anc_d columns reach: scopes there use the recursive walk
let deep = '/gpfs/fs1/proj';
for (let i = 0; i < 14; i++) {
  deep += `/l${i}`;
  records.push({ path: Buffer.from(deep), isDir: true, s: 0, a: 0, uid: 1, gid: 1, atime: '2020-01-01 00:00:00' });
  records.push({ path: Buffer.from(`${deep}/f`), isDir: false, s: 2048, a: 2, uid: 77, gid: 7, atime: '2019-06-01 00:00:00' } satisfies GenFile);
}
const scan = join(dir, '20260115_csfs1_proj.list.list_all.log');
writeFileSync(scan, scanText(records, 2));
const db = join(dir, 'q.db');
const want = expectedDirs(records, '/gpfs/fs1/proj');

function query(...args: string[]): Record<string, unknown>[] {
  const r = spawnSync(process.execPath, [cli, 'fsscan', 'query', '--db', db, '--json', ...args]);
  assert.equal(r.status, 0, r.stderr.toString());
  return JSON.parse(r.stdout.toString()) as Record<string, unknown>[];
}

test('setup', async () => {
  await importScan({ inputs: [scan], db, threads: 2 });
});

test('filters and sorts give the model\'s directories', () => {
  const rows = query('--min-size', '0', '-n', '0', '-d', '5', '--owner', '4294967294', '--sort-by', 'files');
  const expected = [...want].filter(([p, w]) => p.split('/').length - 1 >= 5 && w.uid === 4294967294).map(([p]) => p).sort();
  assert.deepEqual(rows.map((r) => r.path).sort(), expected);
  for (let i = 1; i < rows.length; i++) assert.ok((rows[i - 1]!.files_r as number) >= (rows[i]!.files_r as number));
  const big = query('--min-size', '1GiB', '-n', '0');
  assert.deepEqual(big.map((r) => r.path).sort(), [...want].filter(([, w]) => w.size_r >= 2n ** 30n).map(([p]) => p).sort());
  const leaves = query('--min-size', '0', '-n', '0', '--leaves-only', '--accessed-before', '2024-06-01');
  assert.deepEqual(leaves.map((r) => r.path).sort(), [...want].filter(([, w]) => w.dirs_nr === 0 && w.atime_r !== null && String(w.atime_r) < '2024-06-01 00:00:00').map(([p]) => p).sort());
});

test('path prefixes and exclusions, by anc_d column and by recursive walk past level 9', () => {
  const deepScope = '/gpfs/fs1/proj/l0/l1/l2/l3/l4/l5/l6/l7/l8/l9';
  const under = (p: string, s: string): boolean => p === s || p.startsWith(`${s}/`);
  for (const scope of ['/gpfs/fs1/proj/l0', deepScope]) {
    const rows = query('--min-size', '0', '-n', '0', '-P', scope, '--sort-by', 'path');
    assert.deepEqual(rows.map((r) => r.path), [...want.keys()].filter((p) => under(p, scope)).sort((a, b) => a.length - b.length));
  }
  const ex = query('--min-size', '0', '-n', '0', '-P', '/gpfs/fs1/proj/l0', '-E', deepScope);
  assert.deepEqual(ex.map((r) => r.path).sort(), [...want.keys()].filter((p) => under(p, '/gpfs/fs1/proj/l0') && !under(p, deepScope)).sort());
});

test('--group-by owner equals the per-owner sums; histograms hold every file', () => {
  const rows = query('--group-by', 'owner', '-n', '0');
  const sums = new Map<number, bigint>();
  for (const w of want.values()) if (w.uid !== null && w.uid >= 0) sums.set(w.uid, (sums.get(w.uid) ?? 0n) + w.size_nr);
  assert.deepEqual(rows.map((r) => [r.id, BigInt(r.size as number)]).sort((a, b) => Number(a[0]) - Number(b[0])), [...sums].sort((a, b) => a[0] - b[0]));
  const s = new ScanDb(db);
  const h = s.histogram('size');
  assert.equal(h.reduce((n, r) => n + r.files, 0), records.filter((r) => !r.isDir).length);
  assert.equal(s.histogram('access', '77').reduce((n, r) => n + r.files, 0), 14);
  assert.equal(s.summary().total_directories, want.size);
  s.close();
});

test('sizes and dates parse as fs-scans parses them', () => {
  assert.deepEqual([parseSize('1GiB'), parseSize('500MB'), parseSize('2T'), parseSize('0')], [2 ** 30, 5e8, 2 * 2 ** 40, 0]);
  assert.equal(parseDateArg('2024-01-15'), '2024-01-15 00:00:00');
  const now = Date.UTC(2026, 2, 31, 12) / 1000;
  process.env.TZ = 'UTC';
  assert.equal(parseDateArg('3yrs', now), '2023-03-31 12:00:00');
  assert.equal(parseDateArg('2mo', now), '2026-01-28 12:00:00');
});
