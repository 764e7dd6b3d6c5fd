/**
 * Crash-safe outputs. Every output is written under a hidden temporary name beside its final
 * path (same file system, so rename is atomic) and renamed into place only by commit(). A run
 * with several outputs writes a journal first, so a crash in the middle of the renames is rolled
 * forward by the next run or reader (recoverDirectory); abort() and stale-temp cleanup remove the
 * rest.
 *
 * What a path names decides how it is written (issue 8: renaming over `/dev/stdout` replaced the
 * device with a regular file):
 * - a regular file, or a path that does not exist yet: temporary + rename (atomic);
 * - a symlink: followed, so the rename replaces the file it points to and the link stays;
 * - a FIFO, character device (a terminal) or socket, `-` (stdout) and `/dev/stdout`, `/dev/fd/N`
 *   (even when the shell redirected them to a file): written through directly. Nothing can be renamed there, so a failed run may leave part of its bytes
 *   in the pipe; the reader sees the non-zero exit status instead.
 * Validate paths before a run with output-target.ts; this module only writes.
 *
 * A temporary's name says who owns it: `.<name>.threadmill-tmp-<pid>-<n>@<host token>`, and its
 * mtime is kept fresh by a heartbeat while the run lives (owner.ts). Other runs, on this host or
 * another one sharing the file system, remove it only when that owner is provably gone.
 */
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync, existsSync, fsyncSync, openSync, closeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InterruptedError, ThreadmillError } from './errors.js';
import { faultPoint } from './fault-points.js';
import { hostToken, ownerGone, startHeartbeat, stopHeartbeat } from './owner.js';

const TMP_MARK = '.threadmill-tmp-';
const JOURNAL_PREFIX = '.threadmill-journal-';
/** What `-` as an output path writes to. */
export const STDOUT_PATH = '/dev/stdout';
const STD_STREAM = /^\/(dev\/(stdout|stderr|fd\/\d+)|proc\/self\/fd\/\d+)$/;
let counter = 0;

/** Transactions not yet committed or aborted; removed at exit or on a closed stdout (abortAllOutputs). */
const live = new Set<OutputTransaction>();
/**
 * Transactions of the current run that were aborted: a failure is reported (fatal.ts) after the
 * caller has rolled its outputs back, and a full disk names the outputs that were being written.
 */
const aborted: OutputTransaction[] = [];
let exitHookInstalled = false;
let stopSignal: AbortSignal | null = null;

/** From now on, a commit after `signal` fired throws INTERRUPTED (the CLI passes its SIGINT/SIGTERM signal). */
export function stopCommitsOn(signal: AbortSignal): void {
  stopSignal = signal;
}

export class OutputTransaction {
  private readonly renames: { tmp: string; final: string; last: boolean }[] = [];
  private readonly createdDirs: { dir: string; first: string }[] = [];
  private readonly recovered = new Set<string>();
  private done = false;

  constructor() {
    // A transaction begun when none is open starts another run: the earlier failures are not its.
    if (live.size === 0) aborted.length = 0;
    live.add(this);
    installExitHook();
  }

  /**
   * Where to write the output `finalPath`: a temporary path that appears at `finalPath` on
   * commit(), or the path itself for a FIFO/device (write-through, see above). `last`: renamed
   * after every other output (an index naming the other files must never appear before them).
   */
  tempFor(finalPath: string, options: { last?: boolean } = {}): string {
    const target = resolveOutputPath(finalPath);
    if (target.writeThrough) return target.path;
    const dir = dirname(target.path);
    const first = mkdirSync(dir, { recursive: true });
    if (first !== undefined) this.createdDirs.push({ dir, first });
    // Every output's directory, not only nostr's: temporaries of killed runs never pile up.
    if (!this.recovered.has(dir)) {
      this.recovered.add(dir);
      recoverDirectory(dir);
    }
    const tmp = join(dir, `.${basename(target.path)}${TMP_MARK}${process.pid}-${++counter}@${hostToken}`);
    this.renames.push({ tmp, final: target.path, last: options.last ?? false });
    startHeartbeat(tmp);
    return tmp;
  }

  /**
   * Renames every temporary into place; with several outputs, through a journal in `journalDir`.
   * After an interrupt (stopCommitsOn) nothing is committed: a run told to stop as its last chunk
   * finished must not leave a complete-looking output and then exit 130.
   */
  commit(journalDir?: string): void {
    if (this.done) return;
    if (stopSignal?.aborted) throw new InterruptedError(String(stopSignal.reason));
    const ordered = [...this.renames.filter((r) => !r.last), ...this.renames.filter((r) => r.last)];
    const list = ordered.filter((r) => existsSync(r.tmp)).map(({ tmp, final }) => ({ tmp, final }));
    let journal: string | null = null;
    if (list.length > 1 && journalDir) {
      journal = join(journalDir, `${JOURNAL_PREFIX}${process.pid}-${Date.now()}@${hostToken}.json`);
      writeDurably(journal, JSON.stringify(list));
    }
    for (const r of list) {
      // THREADMILL_FAULT=kill-at-rename:N kills the process just before its N-th rename (test/helpers/faults.ts).
      faultPoint('rename');
      // A reader may have rolled our journal forward already (recoverDirectory): then it is in place.
      renameUnlessDone(r.tmp, r.final, journal !== null);
    }
    if (journal) rmSync(journal, { force: true });
    this.finish();
  }

  private finish(): void {
    for (const r of this.renames) stopHeartbeat(r.tmp);
    this.done = true;
    live.delete(this);
  }

  /** Removes every temporary (and directories it created that stayed empty); final paths keep what they held. */
  abort(): void {
    if (this.done) return;
    for (const r of this.renames) rmSync(r.tmp, { force: true, recursive: true });
    for (const c of this.createdDirs.reverse()) removeEmptyDirs(c.dir, c.first);
    this.finish();
    aborted.push(this);
  }

  /** Final paths of the outputs begun, as [temporary, final] pairs. */
  outputs(): [string, string][] {
    return this.renames.map((r) => [r.tmp, r.final]);
  }
}

/**
 * Outputs of the current run not committed: those of open transactions and of aborted ones, as
 * [temporary, final] pairs. For naming what a failure (a full disk) hit, after the failed run
 * rolled its outputs back.
 */
export function uncommittedOutputs(): [string, string][] {
  return [...live, ...aborted].flatMap((tx) => tx.outputs());
}

/**
 * Aborts every transaction of this process that is still open. For exits that skip the normal
 * error path (a closed stdout, process.exit from a signal handler): no temporary stays behind.
 */
export function abortAllOutputs(): void {
  for (const tx of [...live]) tx.abort();
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', abortAllOutputs);
}

/** How an output path is written: its real location, and whether it is written through. */
export function resolveOutputPath(path: string): { path: string; writeThrough: boolean } {
  if (path === '-') return { path: STDOUT_PATH, writeThrough: true };
  // The process's own streams, even when redirected to a regular file: the shell opened that
  // file for us (`> out`), and renaming over it would detach what the shell holds.
  if (STD_STREAM.test(resolve(path))) return { path, writeThrough: true };
  const st = statOrNull(path);
  if (st && !st.isFile() && !st.isDirectory()) return { path, writeThrough: true };
  return { path: followLinks(resolve(path)), writeThrough: false };
}

/**
 * Opens an output path that tempFor() returned, for writing. `/dev/stdout` (what `-` becomes) is
 * fd 1 itself: opening the path fails with ENXIO when stdout is a socket (a Node parent's pipe).
 */
export function openOutputSync(path: string): number {
  return path === STDOUT_PATH ? blockingStdout() : openSync(path, 'w');
}

/**
 * fd 1, blocking. libuv makes a pipe or socket non-blocking once process.stdout exists, and raw
 * writes to it then fail with EAGAIN whenever the reader is slower than the writer (seen with a
 * Node parent reading `-o -`). Node sets terminals blocking itself; files are always blocking.
 */
function blockingStdout(): number {
  const handle = (process.stdout as unknown as { _handle?: { setBlocking?: (blocking: boolean) => number } })._handle;
  handle?.setBlocking?.(true);
  return 1;
}

/** Closes what openOutputSync opened (never stdout itself: the process still reports on it). */
export function closeOutputSync(fd: number): void {
  if (fd !== 1) closeSync(fd);
}

/** The path a chain of symlinks ends at (which may not exist yet: a dangling link names the file to create). */
export function followLinks(path: string): string {
  let p = path;
  for (let hops = 0; hops < 40; hops++) {
    let link: string;
    try {
      if (!lstatSync(p).isSymbolicLink()) return p;
      link = readlinkSync(p);
    } catch {
      return p;
    }
    p = resolve(dirname(p), link);
  }
  throw new ThreadmillError('OUTPUT_UNSUPPORTED', `${path}: too many levels of symbolic links`, { exitCode: 2 });
}

function statOrNull(path: string): ReturnType<typeof statSync> | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function renameUnlessDone(tmp: string, final: string, journaled: boolean): void {
  try {
    renameSync(tmp, final);
  } catch (err) {
    if (!(journaled && (err as NodeJS.ErrnoException).code === 'ENOENT' && existsSync(final))) throw err;
  }
}

function writeDurably(path: string, text: string): void {
  writeFileSync(path, text);
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export { pidAlive } from './owner.js';

/** Removes `dir` and its parents up to `first` (what mkdir -p made), each only while empty. */
export function removeEmptyDirs(dir: string, first: string | undefined): void {
  if (first === undefined) return;
  for (let d = dir; d.length >= first.length; d = dirname(d)) {
    try {
      rmdirSync(d);
    } catch {
      return; // not empty (something was written there) or already gone
    }
    if (d === first) return;
  }
}

/**
 * Finishes the renames of a run that crashed while committing, then removes temporaries left by
 * runs that are no longer alive. Call before reading or writing `dir`. A reader without write
 * access still gets a clear error when a commit is pending (it would otherwise read a mix).
 */
export function recoverDirectory(dir: string): { rolledForward: number; removed: number } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return { rolledForward: 0, removed: 0 };
  let rolledForward = 0;
  let removed = 0;
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(JOURNAL_PREFIX)) continue;
    rolledForward += rollForward(join(dir, name));
  }
  for (const name of readdirSync(dir)) {
    const at = name.indexOf(TMP_MARK);
    if (at < 0) continue;
    if (!ownerGone(temporaryOwner(name.slice(at + TMP_MARK.length)), join(dir, name))) continue;
    try {
      rmSync(join(dir, name), { force: true, recursive: true });
      removed++;
    } catch {
      /* a read-only reader cannot clean up; the next writer will */
    }
  }
  return { rolledForward, removed };
}

function rollForward(journal: string): number {
  let list: { tmp: string; final: string }[];
  try {
    list = JSON.parse(readFileSync(journal, 'utf8')) as { tmp: string; final: string }[];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0; // its writer just finished
    throw new ThreadmillError('OUTPUT_RECOVERY_FAILED', `cannot read the commit journal ${journal}: ${(err as Error).message}`, { cause: err });
  }
  let n = 0;
  try {
    for (const r of list) {
      if (!existsSync(r.tmp)) continue;
      try {
        renameSync(r.tmp, r.final);
        n++;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // renamed by its writer meanwhile
      }
    }
    rmSync(journal, { force: true });
  } catch (err) {
    throw new ThreadmillError('OUTPUT_RECOVERY_FAILED', `${dirname(journal)} has an unfinished commit (${basename(journal)}) that could not be finished: ${(err as Error).message}; run any threadmill command on it with write access`, { cause: err });
  }
  return n;
}

/** `<pid>-<n>@<token>[-old]` (or `<pid>-<n>` from before tokens) → the owner. */
function temporaryOwner(tail: string): { token: string | null; pid: number } {
  const m = /^(\d+)-\d+(?:@([0-9a-f]{12}))?/.exec(tail);
  return { pid: m ? Number(m[1]) : 0, token: m?.[2] ?? null };
}

/** The output a temporary of tempFor() stands for, or null when `path` is not one. */
export function finalPathOfTemporary(path: string): string | null {
  const name = basename(path);
  const at = name.indexOf(TMP_MARK);
  return name.startsWith('.') && at > 1 ? join(dirname(path), name.slice(1, at)) : null;
}

/** True for names that belong to an unfinished run (readers skip them). */
export function isTemporaryName(name: string): boolean {
  return name.includes(TMP_MARK) || name.startsWith(JOURNAL_PREFIX);
}
