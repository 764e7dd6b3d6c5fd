import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { DIRECTORY_LOCK_NAME, lockDirectory, lockFile, lockHolder } from '../../src/engine/lock.js';
import { ThreadmillError } from '../../src/engine/errors.js';
import { deadPid } from '../helpers/faults.js';

const root = mkdtempSync(join(tmpdir(), 'tm-lock-'));
const lockModule = new URL('../../src/engine/lock.js', import.meta.url).href;

function isLocked(err: unknown, pid: number): boolean {
  return err instanceof ThreadmillError && err.code === 'OUTPUT_LOCKED' && err.message.includes(`pid ${pid}`);
}

test('a second writer of a locked directory fails at once naming the holder pid, in this process and in another', () => {
  const dir = join(root, 'busy');
  const lock = lockDirectory(dir);
  try {
    assert.equal(lockHolder(join(dir, DIRECTORY_LOCK_NAME))?.pid, process.pid);
    assert.throws(() => lockDirectory(dir), (err) => isLocked(err, process.pid));
    const child = spawnSync(process.execPath, ['--input-type=module', '-e',
      `import { lockDirectory } from ${JSON.stringify(lockModule)};
       try { lockDirectory(${JSON.stringify(dir)}); console.log('TOOK'); } catch (e) { console.log(e.code + ' ' + e.message); }`], { encoding: 'utf8' });
    assert.match(child.stdout, new RegExp(`^OUTPUT_LOCKED .*pid ${process.pid}\\b`));
  } finally {
    lock.release();
  }
  assert.equal(existsSync(join(dir, DIRECTORY_LOCK_NAME)), false);
  lockDirectory(dir).release(); // free again after release
});

test('a stale lock of a dead process is taken over', () => {
  const dir = join(root, 'stale');
  const first = lockDirectory(dir);
  writeFileSync(join(dir, 'keep'), 'x'); // so release() does not remove the directory
  first.release();
  const dead = deadPid();
  writeFileSync(join(dir, DIRECTORY_LOCK_NAME), JSON.stringify({ pid: dead, host: lockHolderHost(), started: 'then', command: 'killed' }));
  const lock = lockDirectory(dir);
  assert.equal(JSON.parse(readFileSync(lock.lockPath, 'utf8')).pid, process.pid);
  lock.release();
});

test('a database lock lives beside the file; a lock from another host is never taken over', () => {
  const db = join(root, 'scan.db');
  const lock = lockFile(db);
  assert.equal(lock.lockPath, join(root, '.scan.db.threadmill-lock'));
  assert.throws(() => lockFile(db), (err) => isLocked(err, process.pid));
  lock.release();
  writeFileSync(join(root, '.scan.db.threadmill-lock'), JSON.stringify({ pid: deadPid(), host: 'elsewhere.example', started: 'then', command: '' }));
  assert.throws(() => lockFile(db), /on host elsewhere\.example/);
});

test('release removes the directories the lock created when the run wrote nothing', () => {
  const dir = join(root, 'new', 'deeper', 'out');
  lockDirectory(dir).release();
  assert.equal(existsSync(join(root, 'new')), false);
  const kept = lockDirectory(dir);
  writeFileSync(join(dir, 'index.db'), 'x');
  kept.release();
  assert.equal(existsSync(join(dir, 'index.db')), true);
});

function lockHolderHost(): string {
  const probe = lockDirectory(join(root, 'probe'));
  const host = lockHolder(probe.lockPath)?.host ?? '';
  probe.release();
  return host;
}
