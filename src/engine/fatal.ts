/**
 * What a failed run reports, decided in one place for every command and format (decision 0028):
 * a full disk is DISK_FULL naming the output it hit, whatever layer saw it first (a write in a
 * worker, SQLite, an Arrow or Parquet sink, a rename); any other ThreadmillError stands; anything
 * else is INTERNAL, a bug. The CLI's error policy (cli/common.ts action) and runChunks call it.
 */
import { dirname, relative } from 'node:path';
import { finalPathOfTemporary, uncommittedOutputs } from './atomic.js';
import { InterruptedError, ThreadmillError } from './errors.js';
import { changedInput, type InputInfo } from './source.js';

/** System codes of a full disk: no space, a quota, SQLite's "database or disk is full". */
const FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);
/** The same, in messages that crossed a boundary without their code (a worker, a native library). */
const FULL_MESSAGE = /\bENOSPC\b|\bEDQUOT\b|no space left on device|quota exceeded|database or disk is full/i;

/** The ThreadmillError a failure is reported as: DISK_FULL for a full disk, `fallback` for an error without a code. */
export function asFatal(err: unknown, fallback: 'INTERNAL' | 'RUN_FAILED' = 'INTERNAL'): ThreadmillError {
  if (err instanceof ThreadmillError && err.code === 'DISK_FULL') return err;
  const full = diskFullCause(err);
  if (full) return new ThreadmillError('DISK_FULL', `no space left on the device of ${whereWritten(full)}: ${systemText(full)}; no output was replaced`, { cause: err });
  if (err instanceof ThreadmillError) return err;
  return new ThreadmillError(fallback, err instanceof Error ? err.message : String(err), { cause: err });
}

/** The first error in `err`'s cause chain (at most `depth` deep) that `test` accepts, or null. */
export function causeWhere(err: unknown, test: (e: Error & { code?: unknown }) => boolean, depth = 8): Error | null {
  for (let e = err, d = 0; e instanceof Error && d < depth; e = e.cause, d++) if (test(e)) return e;
  return null;
}

/** The error in `err`'s cause chain that says the disk is full, or null. */
export function diskFullCause(err: unknown): Error | null {
  return causeWhere(err, (e) => (typeof e.code === 'string' && FULL_CODES.has(e.code)) || FULL_MESSAGE.test(e.message));
}

/**
 * The output a full disk hit: the final path of the temporary the system error names, else the
 * outputs the run had not committed (one path, their directory when they share one, or a list).
 */
function whereWritten(full: Error): string {
  const path = (full as { path?: unknown }).path;
  if (typeof path === 'string') return finalPathOfTemporary(path) ?? path;
  const finals = [...new Set(uncommittedOutputs().map(([, final]) => final))];
  if (finals.length === 0) return 'an output (the current directory or the temporary directory)';
  if (finals.length === 1) return finals[0]!;
  const dirs = [...new Set(finals.map((f) => dirname(f)))];
  if (dirs.length === 1) return `${dirs[0]} (${finals.length} outputs: ${finals.slice(0, 3).map((f) => relative(dirs[0]!, f)).join(', ')}${finals.length > 3 ? ', …' : ''})`;
  return `${finals.slice(0, 3).join(', ')}${finals.length > 3 ? ` and ${finals.length - 3} more` : ''}`;
}

function systemText(full: Error): string {
  const code = (full as { code?: unknown }).code;
  if (code === 'SQLITE_FULL' || /database or disk is full/i.test(full.message)) return 'SQLite: database or disk is full';
  if (code === 'EDQUOT' || /quota/i.test(full.message)) return 'EDQUOT: disk quota exceeded';
  return 'ENOSPC';
}

/**
 * What a failed runChunks throws: an interrupt as it is; INPUT_CHANGED when an input changed
 * meanwhile (that explains a cut record or a bad block best); else asFatal, RUN_FAILED for an
 * error without a code.
 */
export function runFailure(err: unknown, inputs: readonly InputInfo[]): ThreadmillError {
  if (err instanceof InterruptedError) return err;
  return changedInput(inputs, err) ?? asFatal(err, 'RUN_FAILED');
}
