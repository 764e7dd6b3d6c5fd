/**
 * The largest chunk the engine builds. A chunk is whole records, so one record longer than this
 * (or data with no record boundary at all) cannot be handed to a task: the run stops with a
 * located RECORD_TOO_LARGE instead of growing one buffer until V8 refuses it (issue 8: a 2 GiB
 * FASTQ line died with `Invalid typed array length`). 1 GiB keeps every offset of a chunk — and
 * of a chunk plus the joined lines of its wrapped records — inside Int32, which the task indexes
 * and Arrow's Utf8 offsets use. THREADMILL_MAX_CHUNK_BYTES lowers it (memory caps, tests).
 */
import { ThreadmillError } from './errors.js';

export const DEFAULT_MAX_CHUNK_BYTES = 1 << 30;

/** Read at each call, so a test (or a caller) can set the variable before a run; workers inherit it. */
export function maxChunkBytes(): number {
  const v = Number(process.env.THREADMILL_MAX_CHUNK_BYTES);
  return Number.isSafeInteger(v) && v > 0 ? Math.min(v, DEFAULT_MAX_CHUNK_BYTES) : DEFAULT_MAX_CHUNK_BYTES;
}

/**
 * No record boundary within `max` bytes after `offset` (of the input's decompressed data). `input`
 * null: thrown in a worker, whose errors the pool already prefixes with the input's name.
 */
export function recordTooLarge(input: string | null, offset: number, max: number): ThreadmillError {
  const name = input === null ? '' : `${input === '-' ? 'stdin' : input}: `;
  return new ThreadmillError('RECORD_TOO_LARGE', `${name}no record boundary within ${max} bytes after byte ${offset}: a record longer than that, or data that is not in this format; a record must fit in one chunk (THREADMILL_MAX_CHUNK_BYTES, at most ${DEFAULT_MAX_CHUNK_BYTES})`);
}

/** An input read as one chunk (a format's choice, e.g. wrapped FASTQ) that is larger than the limit. */
export function chunkTooLarge(input: string, max: number): ThreadmillError {
  const name = input === '-' ? 'stdin' : input;
  return new ThreadmillError('INPUT_TOO_LARGE', `${name} is read as one chunk (its records cannot be split between workers) and is larger than the ${max}-byte chunk limit`);
}
