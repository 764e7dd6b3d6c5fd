/**
 * Who owns a temporary or a lock on a file system that many machines share, and when that owner
 * is provably gone (issue 15: a shard starting on node B removed the unfinished parts of shards
 * still running on node A, because "pid not alive" was checked on B).
 *
 * - An owner is a *host token* — a hash of the host name, the boot id and the pid namespace, so
 *   two containers on one node, or two `unshare --pid` "hosts", differ — plus a pid.
 * - While a run lives, a heartbeat refreshes the mtime of each of its temporaries and locks.
 * - Another run may remove a temporary or take a lock over only when its owner is gone: same
 *   host token and the pid is dead, or (any host) the heartbeat is older than the lease
 *   (THREADMILL_LEASE_SECONDS, 600 by default). A live owner on another host is never judged by
 *   its pid, which means nothing here.
 *
 * The heartbeat runs in its own small worker thread, not on a timer of the main thread: a main
 * thread busy for minutes in one synchronous step (a SQLite bulk write) must not miss beats and
 * lose its outputs. The worker is unref'd, so it never keeps a process alive.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { Worker } from 'node:worker_threads';

/** True when `pid` is a live process on this host (EPERM: alive, owned by another user). */
export function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Seconds without a heartbeat after which an owner on another host is taken to be gone. */
export const LEASE_ENV = 'THREADMILL_LEASE_SECONDS';
export const DEFAULT_LEASE_SECONDS = 600;

function readOr(read: () => string, fallback: string): string {
  try {
    return read().trim();
  } catch {
    return fallback;
  }
}

/** This process's host, as precisely as the system says: name, boot and pid namespace. */
export const hostIdentity = {
  host: hostname(),
  boot: readOr(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'), ''),
  pidns: readOr(() => readlinkSync('/proc/self/ns/pid'), ''),
};

/**
 * 12 hex digits naming this host in file names. Where neither a boot id nor a pid namespace can
 * be read (not Linux), a random run id stands in: pids are then never trusted across processes,
 * only heartbeats.
 */
export const hostToken = createHash('sha256')
  .update(`${hostIdentity.host}\0${hostIdentity.boot || randomBytes(16).toString('hex')}\0${hostIdentity.pidns}`)
  .digest('hex').slice(0, 12);

/** Random id of this process's run: tells an earlier process with the same pid from this one. */
export const runId = randomBytes(6).toString('hex');

/** The lease in milliseconds (THREADMILL_LEASE_SECONDS; a positive number, fractions allowed). */
export function leaseMs(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env[LEASE_ENV]);
  return (Number.isFinite(s) && s > 0 ? s : DEFAULT_LEASE_SECONDS) * 1000;
}

export interface Owner {
  /** Host token (hostToken of the owner); null for names written before owners had one. */
  token: string | null;
  pid: number;
}

/**
 * True when `owner`, whose temporary or lock is at `path`, is provably gone. Names without a
 * token come from threadmill versions that ran on one host only, and are judged by their pid.
 */
export function ownerGone(owner: Owner, path: string, now = Date.now()): boolean {
  if (owner.token === null || owner.token === hostToken) {
    if (!pidAlive(owner.pid)) return true;
    if (owner.token === null) return false;
  }
  let mtime: number;
  try {
    mtime = statSync(path).mtimeMs;
  } catch {
    return false; // gone already: nothing to remove
  }
  return now - mtime > leaseMs();
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { utimesSync } = require('node:fs');
const paths = new Set();
parentPort.on('message', (m) => { if (m.add) paths.add(m.add); else paths.delete(m.remove); });
setInterval(() => {
  const now = new Date();
  for (const p of paths) { try { utimesSync(p, now, now); } catch { /* not created yet, or gone */ } }
}, workerData.intervalMs);
`;

let worker: Worker | null = null;

function beatWorker(): Worker {
  if (worker) return worker;
  // Four beats a lease at least; at most one a minute with the default lease.
  const intervalMs = Math.max(100, Math.min(60_000, Math.floor(leaseMs() / 4)));
  // execArgv []: a parent started with --input-type=module would make this CommonJS source ESM.
  worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { intervalMs }, name: 'threadmill-heartbeat' });
  // A heartbeat that cannot run must not fail the run it guards; its outputs then rely on the
  // lease being longer than the run's silence, which a warning says.
  worker.on('error', (err) => process.emitWarning(`threadmill: heartbeat stopped (${err.message}); temporaries and locks may be taken over by other hosts after ${leaseMs() / 1000} s`));
  worker.unref();
  return worker;
}

/** Keeps `path`'s mtime fresh while this process lives (until stopHeartbeat). */
export function startHeartbeat(path: string): void {
  beatWorker().postMessage({ add: path });
}

export function stopHeartbeat(path: string): void {
  worker?.postMessage({ remove: path });
}
