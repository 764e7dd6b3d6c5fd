/**
 * Exclusive locks on outputs that a run updates in place (a directory of day files, a SQLite or
 * other database). Two writers of one output at once interleave their commits and lose data
 * (two `nostr convert` runs into one directory lost ~40% of the events, issue 8), so the second
 * one must fail at once, naming the holder.
 *
 * A lock is a small file created whole under a unique name and then hard-linked to the lock's
 * name: link(2) fails with EEXIST when the name exists, atomically on local file systems, NFSv3+
 * and Lustre (O_EXCL create is atomic there too, but a reader could see the file still empty).
 * Inside the directory for a directory, beside the file for a database. It holds the owner's host
 * token (owner.ts: host name, boot id, pid namespace), pid, run id, host name, start time and
 * command line, and a heartbeat keeps its mtime fresh while the owner lives. It is taken over only
 * when its owner is provably gone (owner.ts): same host token and the pid dead, or the heartbeat
 * older than the lease. A lock of this host that names this pid but another run id was left by an
 * earlier process with the same pid (pid reuse in containers), so it is stale too.
 * Node has no flock(2), and flock over NFS is not reliable anyway.
 */
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { ThreadmillError } from './errors.js';
import { removeEmptyDirs } from './atomic.js';
import { hostToken, leaseMs, ownerGone, runId, startHeartbeat, stopHeartbeat } from './owner.js';

/** Name of the lock file inside a locked directory. Readers of the directory skip it. */
export const DIRECTORY_LOCK_NAME = '.threadmill-lock';
const FILE_LOCK_SUFFIX = '.threadmill-lock';

/** What a lock file holds. */
export interface LockOwner { pid: number; host: string; started: string; command: string; token: string | null; run: string }

/** A held lock. release() is idempotent and also runs at process exit. */
export interface OutputLock {
  /** The locked output (directory or file), absolute. */
  readonly target: string;
  /** The lock file. */
  readonly lockPath: string;
  /** Removes the lock file; a directory lockDirectory created and that is still empty is removed too. */
  release(): void;
}

/**
 * Locks the output directory `dir` for writing, creating it (and missing parents) when absent.
 * Throws ThreadmillError OUTPUT_LOCKED (exit 1) naming the holder's pid when another live process
 * holds it (also another lock in this same process). If the run fails, release() removes the
 * directories this call created as long as they are empty, so a failed run leaves none behind.
 * Validate the path first (output-target.ts): mkdir under /proc loops forever.
 */
export function lockDirectory(dir: string): OutputLock {
  const target = resolve(dir);
  const firstCreated = mkdirSync(target, { recursive: true });
  try {
    return acquire(target, join(target, DIRECTORY_LOCK_NAME), firstCreated);
  } catch (err) {
    removeEmptyDirs(target, firstCreated);
    throw err;
  }
}

/**
 * Locks the output file `path` (a database) with a lock file beside it, `.<name>.threadmill-lock`.
 * The file itself need not exist; its directory must. Same errors as lockDirectory.
 */
export function lockFile(path: string): OutputLock {
  const target = resolve(path);
  return acquire(target, join(dirname(target), `.${basename(target)}${FILE_LOCK_SUFFIX}`), undefined);
}

/** Who holds the lock file at `lockPath` now, or null when nobody (or it cannot be read). */
export function lockHolder(lockPath: string): LockOwner | null {
  const text = readText(lockPath);
  return text === null ? null : parseOwner(text);
}

const held = new Set<string>();
let exitHookInstalled = false;
let staleCounter = 0;
/** Stands for the token of a pre-token lock written on another host: judged by its heartbeat only. */
const OTHER_HOST = 'other-host';

function acquire(target: string, lockPath: string, firstCreated: string | undefined): OutputLock {
  const me: LockOwner = { pid: process.pid, host: hostname(), token: hostToken, run: runId, started: new Date().toISOString(), command: process.argv.slice(1).join(' ') };
  // Two rounds: the second follows the removal of a stale lock; a third would mean a race with
  // another process taking over the same stale lock, which then holds it.
  for (let round = 0; round < 3; round++) {
    if (tryCreate(lockPath, `${JSON.stringify(me)}\n`)) return heldLock(target, lockPath, firstCreated);
    const text = readText(lockPath);
    if (text === null) continue; // released between our create and read: try again
    const owner = parseOwner(text);
    if (owner && !lockStale(owner, lockPath)) throw lockedError(target, owner);
    removeStale(lockPath, text);
  }
  throw lockedError(target, lockHolder(lockPath));
}

/** A lock whose owner is provably gone (owner.ts), or an earlier run of this host with our pid. */
function lockStale(owner: LockOwner, lockPath: string): boolean {
  if (held.has(lockPath)) return false;
  // Locks written before host tokens: judged by host name and pid, as they were then.
  const token = owner.token ?? (owner.host === hostname() ? null : OTHER_HOST);
  if ((token === hostToken || token === null) && owner.pid === process.pid) return owner.run !== runId;
  return ownerGone({ token, pid: owner.pid }, lockPath);
}

/** Creates the lock file with its whole content at once (link fails if the name exists), so no reader sees it empty. */
function tryCreate(lockPath: string, text: string): boolean {
  const tmp = `${lockPath}.new-${process.pid}-${++staleCounter}@${hostToken}-${runId}`;
  try {
    writeFileSync(tmp, text, { mode: 0o644 });
    linkSync(tmp, lockPath);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new ThreadmillError('OUTPUT_UNWRITABLE', `cannot create the lock file ${lockPath}: ${(err as Error).message}`, { cause: err });
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Removes a stale lock without ever removing a live one: another process may have replaced the
 * stale file between our read and now, so move it aside first and look at what we moved.
 */
function removeStale(lockPath: string, staleText: string): void {
  const aside = `${lockPath}.stale-${process.pid}-${++staleCounter}@${hostToken}-${runId}`;
  try {
    renameSync(lockPath, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (readText(aside) !== staleText) {
    // We moved a fresh lock of a live process: put it back unless yet another one took its place.
    try {
      linkSync(aside, lockPath);
    } catch {
      /* the place was taken again; that process holds the lock now */
    }
  }
  rmSync(aside, { force: true });
}

function heldLock(target: string, lockPath: string, firstCreated: string | undefined): OutputLock {
  held.add(lockPath);
  startHeartbeat(lockPath);
  installExitHook();
  let released = false;
  return {
    target,
    lockPath,
    release(): void {
      if (released) return;
      released = true;
      held.delete(lockPath);
      stopHeartbeat(lockPath);
      rmSync(lockPath, { force: true });
      removeEmptyDirs(target, firstCreated);
    },
  };
}

/** Locks are files; a process that exits normally (even on an uncaught error) removes its own. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const path of held) rmSync(path, { force: true });
  });
}

function lockedError(target: string, owner: LockOwner | null): ThreadmillError {
  const here = owner !== null && (owner.token === hostToken || (owner.token === null && owner.host === hostname()));
  const who = owner
    ? `pid ${owner.pid}${here ? '' : ` on host ${owner.host}`}, since ${owner.started}${owner.command ? `: ${owner.command}` : ''}`
    : 'a process that left an unreadable lock file';
  const lease = here ? '' : ` (if that host is gone, the lock is taken over ${leaseMs() / 1000} s after its last heartbeat)`;
  return new ThreadmillError('OUTPUT_LOCKED', `${target} is being written by another threadmill run (${who}); wait for it to finish, or stop it${lease}`);
}

function parseOwner(text: string): LockOwner | null {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o.pid !== 'number' || !Number.isSafeInteger(o.pid) || o.pid <= 0) return null;
    return {
      pid: o.pid, host: String(o.host ?? ''), started: String(o.started ?? ''), command: String(o.command ?? ''),
      token: typeof o.token === 'string' ? o.token : null, run: String(o.run ?? ''),
    };
  } catch {
    return null; // a half-written lock of a process killed inside tryCreate: stale
  }
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}
