/**
 * What a new user trips on (issue 19): names from the cluster's passwd/group files or none, a scan
 * date guessed (with a warning) when the file name lacks it, query tables that fit the terminal,
 * and an empty answer that says so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli } from '../../helpers/faults.js';

const dir = mkdtempSync(join(tmpdir(), 'tm-fsscan-use-'));
const scan = join(dir, 'scan.log');
const lines = ['<0> 1 1 0 s=0 a=0 u=4001 g=5001 m=FAu p=drwxr-xr-x ac=2025-01-01 00:00:00 -- /s/root'];
for (let d = 0; d < 6; d++) {
  lines.push(`<0> ${10 + d} 1 0 s=0 a=0 u=${4001 + (d % 2)} g=5001 m=FAu p=drwxr-xr-x ac=2025-01-01 00:00:00 -- /s/root/a-rather-long-directory-name-${d}`);
  for (let f = 0; f < 3; f++) lines.push(`<0> ${100 + d * 3 + f} 1 0 s=${(d + 1) * 1e6} a=${(d + 1) * 1000} u=${4001 + (d % 2)} g=5001 m=FAu p=-rw-r--r-- ac=2025-02-0${f + 1} 00:00:00 -- /s/root/a-rather-long-directory-name-${d}/f${f}`);
}
writeFileSync(scan, `${lines.join('\n')}\n`);
const passwd = join(dir, 'passwd');
writeFileSync(passwd, 'alice:x:4001:5001:Alice Liddell,,,:/home/alice:/bin/bash\nbob:x:4002:5001::/home/bob:/bin/sh\n');
const group = join(dir, 'group');
writeFileSync(group, 'wonderland:x:5001:alice,bob\n');
const names = (db: string): unknown => {
  const d = new Database(db, { readonly: true });
  try {
    return { users: d.prepare('SELECT uid, username, full_name FROM user_info ORDER BY uid').all(), groups: d.prepare('SELECT gid, groupname FROM group_info').all() };
  } finally {
    d.close();
  }
};
const common = ['--filesystem', 'fs', '--scan-date', '2025-03-01', '-q'];

test('--passwd/--group name owners from the cluster\'s files; --no-names stores none; a missing file is named', () => {
  const db = join(dir, 'named.db');
  assert.equal(runCli(['fsscan', 'import', scan, '--db', db, '--passwd', passwd, '--group', group, ...common]).status, 0);
  assert.deepEqual(names(db), { users: [{ uid: 4001, username: 'alice', full_name: 'Alice Liddell' }, { uid: 4002, username: 'bob', full_name: null }], groups: [{ gid: 5001, groupname: 'wonderland' }] });
  const bare = join(dir, 'bare.db');
  assert.equal(runCli(['fsscan', 'import', scan, '--db', bare, '--no-names', ...common]).status, 0);
  assert.deepEqual(names(bare), { users: [{ uid: 4001, username: null, full_name: null }, { uid: 4002, username: null, full_name: null }], groups: [{ gid: 5001, groupname: null }] });
  const q = runCli(['fsscan', 'query', '--db', db, '--min-size', '0', '--group-by', 'owner', '--json']);
  assert.deepEqual((JSON.parse(q.stdout) as { name: string }[]).map((r) => r.name).sort(), ['alice', 'bob']);
  const missing = runCli(['fsscan', 'import', scan, '--db', join(dir, 'm.db'), '--passwd', join(dir, 'nope'), ...common]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /error \[INPUT_NOT_FOUND\]: --passwd .*nope: no such file/);
  assert.equal(runCli(['fsscan', 'import', scan, '--db', join(dir, 'm.db'), '--passwd', passwd, '--no-names', ...common]).status, 2);
});

test('a file name without a date: the scan date is guessed from the file\'s mtime, with a warning', () => {
  utimesSync(scan, new Date(2025, 5, 7, 12), new Date(2025, 5, 7, 12));
  const db = join(dir, 'guess.db');
  const r = runCli(['fsscan', 'import', scan, '--db', db, '--filesystem', 'fs']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /warning: no scan date in "scan\.log".*guessed 2025-06-07/);
  const d = new Database(db, { readonly: true });
  assert.equal((d.prepare('SELECT scan_timestamp AS t FROM scan_metadata').get() as { t: string }).t, '2025-06-07 00:00:00');
  d.close();
});

test('query tables fit the terminal (--wide shows every column); an empty answer says so', () => {
  const db = join(dir, 'named.db');
  const env = (columns: number): NodeJS.ProcessEnv => ({ ...process.env, COLUMNS: String(columns) });
  const full = runCli(['fsscan', 'query', '--db', db, '--min-size', '0', '--wide'], { env: env(50) });
  assert.deepEqual(full.stdout.split('\n')[0]!.split(/\s+/), ['path', 'depth', 'size', 'files', 'dirs', 'size_nr', 'files_nr', 'last_access', 'owner', 'group']);
  assert.equal(full.stdout.trim().split('\n').length, 8);
  for (const columns of [50, 70, 100]) {
    const r = runCli(['fsscan', 'query', '--db', db, '--min-size', '0'], { env: env(columns) });
    const out = r.stdout.trimEnd().split('\n');
    assert.equal(out.length, 8);
    for (const l of out) assert.ok(l.length <= columns, `${columns} columns: ${JSON.stringify(l)}`);
    assert.match(out[0]!, /^path\s.*\bsize\b.*\blast_access\s+owner/, 'the main columns stay');
  }
  const narrow = runCli(['fsscan', 'query', '--db', db, '--min-size', '0'], { env: env(50) }).stdout;
  assert.match(narrow, /…[\w-]*directory-name-5\s/, 'paths are shortened from the left');
  const none = runCli(['fsscan', 'query', '--db', db]);
  assert.equal(none.status, 0);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /^threadmill: no directory matched \(--min-size is 1GiB unless given/);
});

test('merge takes --passwd/--group too: the merged database names owners as one import with them does', () => {
  const parts = [0, 1].map((i) => join(dir, `part${i}`));
  for (const [i, part] of parts.entries()) assert.equal(runCli(['fsscan', 'import', scan, '--db', part, '--shard', `${i}/2`, ...common]).status, 0);
  const merged = join(dir, 'merged.db');
  const r = runCli(['fsscan', 'merge', ...parts, '--db', merged, '--passwd', passwd, '--group', group, '-q']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(names(merged), names(join(dir, 'named.db')));
});
