/**
 * Output paths checked before a run starts, so a wrong path costs nothing: the input given as
 * the output (it would be replaced while being read), a directory where a file goes, a file
 * where a directory goes, a parent that is a file, an unwritable directory, a path under /proc
 * (Node's recursive mkdir loops there forever, ignoring SIGTERM), `-` for a format that cannot
 * stream. Each is a ThreadmillError with a stable code naming the path:
 *
 *   OUTPUT_IS_INPUT       exit 2  the output is one of the inputs (same device and inode, through links)
 *   OUTPUT_IS_DIRECTORY   exit 2  a file output names a directory
 *   OUTPUT_NOT_DIRECTORY  exit 2  a directory output, or a parent of any output, is a file
 *   OUTPUT_UNSUPPORTED    exit 2  under /proc, or `-` where the format cannot stream
 *   OUTPUT_UNWRITABLE     exit 1  the directory that would hold the output is not writable
 *
 * How the checked path is then written (atomic, or write-through for FIFOs and devices) is
 * atomic.ts's business; locks for outputs updated in place are lock.ts's.
 */
import { accessSync, constants, fstatSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { ThreadmillError } from './errors.js';
import { followLinks, resolveOutputPath } from './atomic.js';

export interface OutputCheck {
  /** The option that named the path, for messages: `-o`, `--rejects`, `--db`. */
  option: string;
  /** Input paths of the run (`-` is stdin); the output must be none of them. */
  inputs: readonly string[];
  /** Whether `-` (stdout) is accepted: only where the format streams (Arrow IPC stream, JSON lines). */
  stdout?: boolean;
  /** Other outputs of the same run (e.g. -o when checking --rejects); they must differ too. */
  outputs?: readonly string[];
}

/** Checks a file output (-o FILE, --rejects FILE, --db FILE). Returns the path unchanged. */
export function checkFileOutput(path: string, check: OutputCheck): string {
  const what = `${check.option} ${path}`;
  if (path === '-') {
    if (!check.stdout) throw new ThreadmillError('OUTPUT_UNSUPPORTED', `${what}: stdout cannot take this output here (the format cannot stream, or stdout already carries the data or the --json summary)`, { exitCode: 2 });
    return path;
  }
  if (path === '') throw new ThreadmillError('OUTPUT_UNSUPPORTED', `${check.option}: empty path`, { exitCode: 2 });
  for (const output of check.outputs ?? []) {
    if (output !== '-' && followLinks(resolve(output)) === followLinks(resolve(path))) {
      throw new ThreadmillError('OUTPUT_IS_INPUT', `${what} is also another output of this run (${output})`, { exitCode: 2 });
    }
  }
  const st = statOf(path, what);
  if (st && isStreamTarget(path)) {
    refuseSame(st, check, what);
    return path; // FIFO, device, socket, /dev/stdout: written through; its "directory" is not ours to check
  }
  refuseProc(path, what);
  if (st?.isDirectory()) throw new ThreadmillError('OUTPUT_IS_DIRECTORY', `${what} is a directory; give a file name`, { exitCode: 2 });
  if (st) refuseSame(st, check, what);
  checkParent(dirname(followLinks(resolve(path))), what);
  return path;
}

/**
 * True for `-` and an existing FIFO, character device or socket: written through, and where the
 * name carries no format extension, pipelines write their streaming format (Arrow IPC stream).
 */
export function isStreamTarget(path: string): boolean {
  return resolveOutputPath(path).writeThrough;
}

/** Checks a directory output (-o DIR). Returns the path unchanged; lockDirectory() creates it. */
export function checkDirectoryOutput(dir: string, check: OutputCheck): string {
  const what = `${check.option} ${dir}`;
  if (dir === '-' || dir === '') throw new ThreadmillError('OUTPUT_UNSUPPORTED', `${what}: an output directory is needed here`, { exitCode: 2 });
  refuseProc(dir, what);
  const st = statOf(dir, what);
  if (st && !st.isDirectory()) throw new ThreadmillError('OUTPUT_NOT_DIRECTORY', `${what} is not a directory`, { exitCode: 2 });
  if (st) writable(resolve(dir), what);
  else checkParent(dirname(resolve(dir)), what);
  return dir;
}

/** The nearest existing ancestor must be a writable directory (missing ones are created). */
function checkParent(dir: string, what: string): void {
  let d = dir;
  for (;;) {
    const st = statOf(d, what);
    if (st) {
      if (!st.isDirectory()) throw new ThreadmillError('OUTPUT_NOT_DIRECTORY', `${what}: ${d} is not a directory`, { exitCode: 2 });
      writable(d, what);
      return;
    }
    const up = dirname(d);
    if (up === d) return;
    d = up;
  }
}

function writable(dir: string, what: string): void {
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new ThreadmillError('OUTPUT_UNWRITABLE', `${what}: cannot write in ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
}

/** Lexically under /proc (or a symlink into it): refused; see the header comment. */
function refuseProc(path: string, what: string): void {
  for (const p of [resolve(path), followLinks(resolve(path))]) {
    if (p === '/proc' || p.startsWith(`/proc${sep}`)) throw new ThreadmillError('OUTPUT_UNSUPPORTED', `${what}: cannot write outputs under /proc`, { exitCode: 2 });
  }
}

function refuseSame(st: Stats, check: OutputCheck, what: string): void {
  for (const input of check.inputs) {
    const other = input === '-' ? fstatOrNull(0) : statOrNull(input);
    if (other && other.isFile() && other.dev === st.dev && other.ino === st.ino) {
      throw new ThreadmillError('OUTPUT_IS_INPUT', `${what} is the input ${input === '-' ? '(stdin)' : input}; writing it would destroy what is being read`, { exitCode: 2 });
    }
  }
  for (const output of check.outputs ?? []) {
    const other = output === '-' ? null : statOrNull(output);
    if (other?.isFile() && other.dev === st.dev && other.ino === st.ino) {
      throw new ThreadmillError('OUTPUT_IS_INPUT', `${what} is also another output of this run (${output})`, { exitCode: 2 });
    }
  }
}

function statOf(path: string, what: string): Stats | null {
  try {
    return statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ENOTDIR') throw new ThreadmillError('OUTPUT_NOT_DIRECTORY', `${what}: a parent of it is a file, not a directory`, { exitCode: 2 });
    if (code === 'EACCES') throw new ThreadmillError('OUTPUT_UNWRITABLE', `${what}: permission denied`, { cause: err });
    if (code === 'ELOOP') throw new ThreadmillError('OUTPUT_UNSUPPORTED', `${what}: too many levels of symbolic links`, { exitCode: 2 });
    throw new ThreadmillError('OUTPUT_UNWRITABLE', `${what}: ${(err as Error).message}`, { cause: err });
  }
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function fstatOrNull(fd: number): Stats | null {
  try {
    return fstatSync(fd);
  } catch {
    return null;
  }
}
