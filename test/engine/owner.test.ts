/**
 * Ownership across hosts sharing one file system: a temporary or lock of another host is judged
 * by its heartbeat (mtime) against the lease, never by its pid; one of this host by its pid.
 * (The same with real pid and UTS namespaces: test/scale-out/multi-host.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OutputTransaction, recoverDirectory } from '../../src/engine/atomic.js';
import { lockDirectory } from '../../src/engine/lock.js';
import { hostToken, leaseMs, LEASE_ENV } from '../../src/engine/owner.js';
import { deadPid } from '../helpers/faults.js';

// Read when the heartbeat starts (its period is a quarter of the lease) and at every check.
process.env[LEASE_ENV] = '1.2';
const root = mkdtempSync(join(tmpdir(), 'tm-owner-'));
const OTHER = 'abcdefabcdef';
const ago = (ms: number): Date => new Date(Date.now() - ms);

test('the lease comes from THREADMILL_LEASE_SECONDS, 600 s by default', () => {
  assert.equal(leaseMs({}), 600_000);
  assert.equal(leaseMs({ [LEASE_ENV]: '2.5' }), 2500);
  assert.equal(leaseMs({ [LEASE_ENV]: 'soon' }), 600_000);
  assert.match(hostToken, /^[0-9a-f]{12}$/);
});

test("another host's temporary is kept while its heartbeat is fresh, whatever its pid; removed past the lease", () => {
  const dir = join(root, 'temps');
  const dead = deadPid();
  const mine = `.a.arrow.threadmill-tmp-${dead}-1@${hostToken}`;
  const fresh = `.b.arrow.threadmill-tmp-${dead}-1@${OTHER}`;
  const old = `.c.arrow.threadmill-tmp-${dead}-1@${OTHER}`;
  const oldDir = `.part.threadmill-tmp-${dead}-2@${OTHER}-old`;
  mkdirSync(dir);
  for (const n of [mine, fresh, old]) writeFileSync(join(dir, n), 'half');
  mkdirSync(join(dir, oldDir));
  utimesSync(join(dir, old), ago(5000), ago(5000));
  utimesSync(join(dir, oldDir), ago(5000), ago(5000));
  assert.deepEqual(recoverDirectory(dir), { rolledForward: 0, removed: 3 });
  assert.deepEqual(readdirSync(dir), [fresh], 'only the live other host\'s temporary stays');
});

test("a lock of another host refuses a writer while its heartbeat is fresh, and is taken over past the lease", () => {
  const dir = join(root, 'locked');
  const first = lockDirectory(dir);
  writeFileSync(join(dir, 'keep'), '');
  const lockPath = first.lockPath;
  first.release();
  writeFileSync(lockPath, JSON.stringify({ pid: process.pid, host: 'node-a', token: OTHER, run: 'r', started: 'then', command: 'convert' }));
  assert.throws(() => lockDirectory(dir), (err: Error & { code?: string }) => err.code === 'OUTPUT_LOCKED' && /on host node-a/.test(err.message) && /1\.2 s after its last heartbeat/.test(err.message));
  utimesSync(lockPath, ago(5000), ago(5000));
  const lock = lockDirectory(dir);
  lock.release();
  assert.equal(existsSync(lockPath), false);
});

test('a live run keeps the mtime of its lock and temporaries fresh (heartbeat), and stops when they are done', async () => {
  const dir = join(root, 'beat');
  const lock = lockDirectory(dir);
  const tx = new OutputTransaction();
  const tmp = tx.tempFor(join(dir, 'out.bin'));
  writeFileSync(tmp, 'x');
  utimesSync(lock.lockPath, ago(60_000), ago(60_000));
  utimesSync(tmp, ago(60_000), ago(60_000));
  await sleep(900);
  for (const p of [lock.lockPath, tmp]) assert.ok(Date.now() - statSync(p).mtimeMs < 1000, `${p} was touched`);
  tx.commit();
  lock.release();
  const out = join(dir, 'out.bin');
  utimesSync(out, ago(60_000), ago(60_000));
  await sleep(700);
  assert.ok(Date.now() - statSync(out).mtimeMs > 50_000, 'a committed output is no longer touched');
});
