import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { importScan } from '../../../src/formats/fsscan/import.js';
import { ErrorLog } from '../../../src/engine/error-log.js';
import { ThreadmillError } from '../../../src/engine/errors.js';
import { dirsOf, dumpDb, expectedDirs, generateScan, scanText } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tm-fsscan-'));
const cli = new URL('../../../src/cli.js', import.meta.url).pathname;
const BAD = ['<1> 5 1 0 s=12 a=1 u=7 g=7 p=-rw-r--r-- -- /gpfs/fs1/proj/no-atime', 'garbage line', '<1> 6 1 0 s=x a=1 u=7 g=7 p=-rw-r--r-- ac=2025-01-01 00:00:00 -- /gpfs/fs1/proj/q'];

const { records } = generateScan(7, 120, 3000);
const scan = scanText(records, 11, BAD);
const scanPath = join(dir, '20260115_csfs1_proj.list.list_all.log');
writeFileSync(scanPath, scan);

test('every directory matches an independent computation from whole paths (shuffled, odd names, missing parents)', async () => {
  const db = join(dir, 'j1.db');
  const errorLog = new ErrorLog();
  const s = await importScan({ inputs: [scanPath], db, threads: 1, errorLog });
  const want = expectedDirs(records, '/gpfs/fs1/proj');
  const got = dirsOf(db);
  assert.equal(got.size, want.size);
  for (const [path, w] of want) {
    const g = got.get(path);
    assert.ok(g, `missing ${path}`);
    const { depth, dir_id: _id, ...rest } = g;
    assert.deepEqual(rest, w, path);
    assert.equal(depth, path.split('/').length - 1, path);
  }
  assert.equal(s.rejected, 3);
  assert.equal(errorLog.count('parse_error'), 3);
  assert.equal(s.messages, 2);
  assert.equal(s.lines, records.length + 2 + 3);
  const withLine = new Set(records.filter((r) => r.isDir).map((r) => r.path.toString('utf8')));
  const created = [...want.keys()].filter((p) => !withLine.has(p)).length;
  assert.ok(created > 0, 'the generator leaves some directories without a line');
  assert.equal(s.created_directories, created);
  assert.equal(s.format, 'gpfs');
  assert.equal(s.filesystem, 'proj');
});

test('-j 1, -j 3 with small chunks, gzip and stdin give the same database', async () => {
  const one = join(dir, 'a.db');
  const many = join(dir, 'b.db');
  const gz = join(dir, 'c.db');
  await importScan({ inputs: [scanPath], db: one, threads: 1 });
  await importScan({ inputs: [scanPath], db: many, threads: 3, chunkSize: 1 << 16 });
  const gzPath = join(dir, '20260115_csfs1_proj.list.list_all.log.gz');
  writeFileSync(gzPath, gzipSync(scan));
  await importScan({ inputs: [gzPath], db: gz, threads: 2 });
  const viaStdin = join(dir, 'd.db');
  const r = spawnSync(process.execPath, [cli, 'fsscan', 'import', '-', '--db', viaStdin, '-j', '2', '--filesystem', 'proj', '--scan-date', '2026-01-15', '--quiet'], { input: scan });
  assert.equal(r.status, 0, r.stderr.toString());
  const base = dumpDb(one);
  assert.equal(dumpDb(many), base);
  // source_file differs by name only
  assert.equal(dumpDb(gz), base.replace('list_all.log"', 'list_all.log.gz"'));
  assert.equal(dumpDb(viaStdin), base.replace('"20260115_csfs1_proj.list.list_all.log"', '"-"'));
});

test('rejected lines go to --rejects with file, line and byte offset; --max-errors fails with a code and leaves no database', async () => {
  const db = join(dir, 'rej.db');
  const rejects = join(dir, 'rej.jsonl');
  const r = spawnSync(process.execPath, [cli, 'fsscan', 'import', scanPath, '--db', db, '--rejects', rejects, '--quiet'], {});
  assert.equal(r.status, 0, r.stderr.toString());
  const rows = readFileSync(rejects, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: number; offset: number; reason: string; text: string });
  assert.equal(rows.length, 3);
  const text = scan.toString('latin1').split('\n');
  for (const row of rows) {
    assert.equal(text[row.line - 1], row.text);
    assert.equal(scan.indexOf(Buffer.from(`${row.text}\n`)), row.offset);
  }
  assert.ok(rows.some((x) => /missing ac=/.test(x.reason)));
  assert.ok(rows.some((x) => /s= is not a number/.test(x.reason)));
  const db2 = join(dir, 'fail.db');
  await assert.rejects(importScan({ inputs: [scanPath], db: db2, errorLog: new ErrorLog({ maxErrors: 1 }) }), (e: ThreadmillError) => e.code === 'TOO_MANY_ERRORS');
  assert.equal(existsSync(db2), false);
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('threadmill-tmp')), []);
});

test('--db naming the input or a directory is refused before anything is read', async () => {
  await assert.rejects(importScan({ inputs: [scanPath], db: scanPath }), (e: ThreadmillError) => e.code === 'OUTPUT_IS_INPUT');
  await assert.rejects(importScan({ inputs: [scanPath], db: dir }), (e: ThreadmillError) => e.code === 'OUTPUT_IS_DIRECTORY');
  assert.equal(readFileSync(scanPath).equals(scan), true);
});

test('the file name gives filesystem and scan date; without them the run asks for --filesystem', async () => {
  await assert.rejects(importScan({ inputs: [join(dir, 'nope.log')], db: join(dir, 'x.db') }), (e: ThreadmillError) => e.code === 'FSSCAN_NO_FILESYSTEM' && e.exitCode === 2);
  const db = new Database(join(dir, 'j1.db'), { readonly: true });
  const m = db.prepare('SELECT source_file, scan_timestamp, filesystem, total_directories, total_files FROM scan_metadata').get() as Record<string, unknown>;
  const dirs = (db.prepare('SELECT COUNT(*) AS n FROM directories').get() as { n: number }).n;
  db.close();
  assert.deepEqual(m, { source_file: '20260115_csfs1_proj.list.list_all.log', scan_timestamp: '2026-01-15 00:00:00', filesystem: 'proj', total_directories: dirs, total_files: records.filter((r) => !r.isDir).length });
});

test('a file whose directories have no line is kept, its ancestors created and counted', async () => {
  const text = [
    '<0> 1 1 0 s=0 a=0 u=5 g=5 m=FAu p=drwxr-xr-x ac=2025-01-01 00:00:00 -- /s/root',
    '<0> 2 1 0 s=5000 a=8 u=5 g=5 m=FAu p=-rw-r--r-- ac=2025-02-01 00:00:00 -- /s/root/a/b/c.dat',
    '',
  ].join('\n');
  const p = join(dir, 'missing.log');
  writeFileSync(p, text);
  const db = join(dir, 'missing.db');
  const s = await importScan({ inputs: [p], db, filesystem: 'x', scanDate: '2025-03-01' });
  assert.equal(s.created_directories, 2);
  const got = dirsOf(db);
  assert.deepEqual([...got.keys()].sort(), ['/s/root', '/s/root/a', '/s/root/a/b']);
  assert.equal(got.get('/s/root')!.files_r, 1);
  assert.equal(got.get('/s/root')!.size_r, 8192n);
  assert.equal(got.get('/s/root')!.dirs_r, 2);
  assert.equal(got.get('/s/root/a')!.atime_r, '2025-02-01 00:00:00');
});
