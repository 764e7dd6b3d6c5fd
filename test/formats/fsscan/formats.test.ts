import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { formatOfLine, LINE_ERROR, LINE_MESSAGE, LINE_RECORD, newRec, parseLine } from '../../../src/formats/fsscan/parse.js';
import { importScan } from '../../../src/formats/fsscan/import.js';
import { naiveText } from '../../../src/formats/fsscan/time.js';
import { filesystemFromName, scanDateFromName } from '../../../src/formats/fsscan/names.js';
import type { ThreadmillError } from '../../../src/engine/errors.js';
import { dirsOf } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tm-fsscan-fmt-'));
const cli = new URL('../../../src/cli.js', import.meta.url).pathname;

function parse(line: string): { kind: number; rec: ReturnType<typeof newRec>; path: string } {
  const b = Buffer.from(line);
  const rec = newRec();
  const kind = parseLine(b, 0, b.length, null, rec);
  return { kind, rec, path: b.subarray(rec.pathStart, rec.pathEnd).toString() };
}

test('GPFS: the issue example, path with " -- " and spaces, in-inode and sparse sizes, unsigned uids', () => {
  const p = parse('<3> 152775 2 0 s=3169 a=0 u=4294967294 g=100 m=FAu p=-rwxr-x--- ac=2025-07-13 23:13:56 mt=2024-08-30 23:13:56 cr=2024-08-30 23:13:56 nl=1 -- /gpfs/csfs1/proj/a -- b/run 01/x.dat');
  assert.equal(p.kind, LINE_RECORD);
  assert.equal(p.path, '/gpfs/csfs1/proj/a -- b/run 01/x.dat');
  assert.deepEqual([p.rec.isDir, p.rec.alloc, p.rec.uid, p.rec.gid, naiveText(p.rec.atime)], [false, 3169, 4294967294, 100, '2025-07-13 23:13:56']);
  assert.equal(parse('<0> 1 1 0 s=5000 a=0 u=1 g=1 p=-rw-r--r-- ac=2025-01-01 00:00:00 -- /a/b').rec.alloc, 0, 'a=0 above 4096 bytes stays 0');
  assert.equal(parse('<0> 1 1 0 s=1099511627776 a=64 u=1 g=1 p=-rw-r--r-- ac=2025-01-01 00:00:00 -- /a/b').rec.alloc, 65536, 'sparse: allocated, not size');
  assert.equal(parse('1 1 0 s=0 a=0 u=1 g=1 p=drwxr-xr-x ac=2025-01-01 00:00:00 -- /a/b').rec.isDir, true, 'no <thread> prefix');
  assert.equal(parse('[E] error message').kind, LINE_MESSAGE);
  assert.equal(parse('').kind, LINE_MESSAGE);
  for (const [line, reason] of [
    ['37390 999490048 0   -- /gpfs/gpfsmgmt/fil2', /missing s= a= u= g= p= ac=/],
    ['<0> 1 1 0 s=1 a=1 u=1 g=1 p=-rw ac=2025-13-01 00:00:00 -- /a/b', /ac= is not/],
    ['<0> 1 1 0 s=1 a=1 u=1 g=1 p=-rw ac=2025-01-01 00:00:00 /a/b', /no " -- "/],
    ['<0> 1 1 0 s=1 a=1 u=1 g=1 p=-rw ac=2025-01-01 00:00:00 -- a/b', /not absolute/],
    ['<0> 1 1 0 s=1x a=1 u=1 g=1 p=-rw ac=2025-01-01 00:00:00 -- /a/b', /s= is not a number/],
  ] as const) {
    const p2 = parse(line);
    assert.equal(p2.kind, LINE_ERROR, line);
    assert.match(p2.rec.reason, reason, line);
  }
});

test('Lustre and find lines: 512-byte blocks, type letters, epoch times as local naive times (TZ honoured like Python)', () => {
  const l = parse('0x24001959d:0x1f:0x0 s=16384 b=32 u=38057 g=68122 p=1 type=d perm=0750 a=1769700762 m=1739055225 c=1739055225 -- /glade/x');
  assert.deepEqual([l.kind, l.rec.isDir, l.rec.alloc, l.rec.uid, l.path], [LINE_RECORD, true, 16384, 38057, '/glade/x']);
  const f = parse('l s=12 b=0 u=5 g=6 a=1700000000.5000000000 -- /home/u/link');
  assert.deepEqual([f.kind, f.rec.isDir, f.rec.alloc, f.rec.gid], [LINE_RECORD, false, 0, 6]);
  assert.equal(formatOfLine(Buffer.from('0x1:0x2:0x0 s=1 -- /a'), 0, 20), 'lustre');
  assert.equal(formatOfLine(Buffer.from('f s=1 b=0 -- /a'), 0, 15), 'find');
  assert.equal(formatOfLine(Buffer.from('<1> 2'), 0, 5), 'gpfs');
  const scan = join(dir, 'find.txt');
  writeFileSync(scan, 'd s=4096 b=8 u=7 g=7 a=1700000000.1 -- /h/u\nf s=100 b=8 u=7 g=7 a=1704067200.0 -- /h/u/x\n');
  for (const [tz, want] of [['UTC', '2024-01-01 00:00:00'], ['Etc/GMT+7', '2023-12-31 17:00:00']] as const) {
    const db = join(dir, `find-${tz.replace('/', '_')}.db`);
    const r = spawnSync(process.execPath, [cli, 'fsscan', 'import', scan, '--db', db, '--filesystem', 'h', '--scan-date', '2024-02-01', '--quiet'], { env: { ...process.env, TZ: tz } });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.equal(dirsOf(db).get('/h/u')!.atime_nr, want, tz);
    assert.equal(dirsOf(db).get('/h/u')!.size_nr, 4096n);
  }
});

test('mixed formats fail with a code; --format reads one and rejects the rest', async () => {
  const p = join(dir, 'mixed.log');
  writeFileSync(p, '<0> 1 1 0 s=1 a=1 u=1 g=1 p=-rw ac=2025-01-01 00:00:00 -- /a/b/c\nf s=1 b=2 u=1 g=1 a=0 -- /a/b/d\n');
  await assert.rejects(importScan({ inputs: [p], db: join(dir, 'm.db'), filesystem: 'a', scanDate: '2025-01-01' }), (e: ThreadmillError) => e.code === 'FSSCAN_MIXED_FORMATS');
  assert.equal(existsSync(join(dir, 'm.db')), false);
  const s = await importScan({ inputs: [p], db: join(dir, 'm2.db'), filesystem: 'a', format: 'gpfs', scanDate: '2025-01-01' });
  assert.deepEqual([s.files, s.rejected], [1, 1]);
});

test('--unescape-percent decodes %XX; without it paths are stored as written', async () => {
  const p = join(dir, 'pct.log');
  writeFileSync(p, '<0> 1 1 0 s=0 a=0 u=1 g=1 p=drwx ac=2025-01-01 00:00:00 -- /r/top\n<0> 2 1 0 s=10 a=0 u=1 g=1 p=-rw ac=2025-01-01 00:00:00 -- /r/top/my%20dir/f\n');
  await importScan({ inputs: [p], db: join(dir, 'p1.db'), filesystem: 'r', scanDate: '2025-01-01' });
  await importScan({ inputs: [p], db: join(dir, 'p2.db'), filesystem: 'r', scanDate: '2025-01-01', unescapePercent: true });
  assert.ok(dirsOf(join(dir, 'p1.db')).has('/r/top/my%20dir'));
  assert.ok(dirsOf(join(dir, 'p2.db')).has('/r/top/my dir'));
});

test('file names give the file system and the scan date as fs-scans derives them', () => {
  assert.equal(filesystemFromName('/x/20260111_csfs1_asp.list.list_all.log'), 'asp');
  assert.equal(filesystemFromName('20260204_desc1_glade_p_archive.lfs-scan'), 'glade_p_archive');
  assert.equal(filesystemFromName('scan.log'), null);
  assert.equal(naiveText(scanDateFromName('20260111_csfs1_asp.list.list_all.log.gz')!), '2026-01-11 00:00:00');
  assert.equal(scanDateFromName('20261341_x_y.list'), null);
});

const corpus = new URL('../../../../../shared/corpora/fsscan/', import.meta.url).pathname;
test('corpus: hpc-usage-queries test_minimal gives the numbers worked out by hand', { skip: existsSync(corpus) ? false : `no corpus at ${corpus}` }, async () => {
  const src = join(corpus, 'hpc-usage-queries/20260115_test_minimal.list.list_all.log');
  const db = join(dir, 'minimal.db');
  const s = await importScan({ inputs: [src], db, threads: 2 });
  assert.deepEqual([s.filesystem, s.scan_date, s.lines, s.messages, s.rejected, s.files, s.directories, s.created_directories], ['minimal', '2026-01-15', 9, 1, 0, 5, 3, 0]);
  const d = dirsOf(db);
  // user1: 8 + 16 + 1032 KiB; user2: 8 + 520 KiB (a= in KiB)
  assert.deepEqual([d.get('/gpfs/test/user1')!.size_r, d.get('/gpfs/test/user2')!.size_r, d.get('/gpfs/test')!.size_r], [1081344n, 540672n, 1622016n]);
  assert.deepEqual([d.get('/gpfs/test')!.uid, d.get('/gpfs/test/user1')!.uid, d.get('/gpfs/test')!.dirs_nr], [null, 1000, 2]);
  assert.equal(d.get('/gpfs/test')!.atime_r, '2025-12-01 10:00:00');
  const h = new Database(db, { readonly: true });
  // ages at 2026-01-15: 44, 228, 745 days (user1); 60, 1110 days (user2)
  assert.deepEqual(h.prepare('SELECT owner_uid, bucket_index, file_count FROM access_histogram ORDER BY 1, 2').raw().all(), [[1000, 1, 1], [1000, 3, 1], [1000, 5, 1], [2000, 1, 1], [2000, 6, 1]]);
  assert.deepEqual(h.prepare('SELECT owner_uid, bucket_index FROM size_histogram ORDER BY 1, 2').raw().all(), [[1000, 1], [1000, 2], [1000, 4], [2000, 1], [2000, 3]]);
  assert.deepEqual(h.prepare('SELECT name, depth, parent_id FROM directories ORDER BY dir_id').raw().all(), [['test', 2, null], ['user1', 3, 0], ['user2', 3, 0]]);
  h.close();
  const ibm = join(corpus, 'gpfsug-tools/pol.list.files');
  const rej = join(dir, 'ibm.jsonl');
  const r = spawnSync(process.execPath, [cli, 'fsscan', 'import', ibm, '--db', join(dir, 'ibm.db'), '--filesystem', 'gpfsmgmt', '--rejects', rej, '--quiet', '--json']);
  assert.equal(r.status, 0, r.stderr.toString());
  assert.equal((JSON.parse(r.stdout.toString()) as { rejected: number }).rejected, 1);
  assert.match(readFileSync(rej, 'utf8'), /"line":1,.*missing s= a= u= g= p= ac=/);
});
