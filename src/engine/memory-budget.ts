/**
 * `--memory-limit`: the peak RSS a run may reach, and how much of it is left for the structures
 * that grow with the input (id sets, spill buffers) once the fixed costs are paid. DESIGN: "memory
 * is bounded by a budget, never by the number of records".
 *
 * The fixed costs were measured here (nostr convert, 2 cores, `/usr/bin/time -v`): a run that holds
 * almost nothing peaks at ~95 MiB with one worker and ~40 MiB more per further worker (its V8 heap,
 * its share of the chunk window and scratch buffers); those figures are the baseline below.
 */
import { totalmem } from 'node:os';
import { UsageError } from './errors.js';

const MiB = 1 << 20;
const BASE_BYTES = 96 * MiB;
const PER_THREAD_BYTES = 48 * MiB;
/** The smallest data budget: below it the run still works (everything spills), it is only slow. */
const MIN_DATA_BYTES = 8 * MiB;

/** Default limit: a quarter of the machine's memory, at least 1 GiB — room for the page cache and other jobs. */
export function defaultMemoryLimit(): number {
  return Math.max(1024 * MiB, Math.floor(totalmem() / 4));
}

/** `512M`, `4G`, `1.5g`, `800000000` (bytes); k/M/G/T are powers of 1024. */
export function parseMemorySize(text: string, option = '--memory-limit'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) throw new UsageError(`${option}: expected a size such as 512M or 4G, got ${JSON.stringify(text)}`);
  const scale = { '': 1, k: 1024, m: MiB, g: 1024 * MiB, t: 1024 * 1024 * MiB }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const bytes = Math.floor(Number(m[1]) * scale);
  if (!(bytes > 0)) throw new UsageError(`${option}: must be more than 0, got ${JSON.stringify(text)}`);
  return bytes;
}

/** What is left of `limit` for data after the process and its `threads` workers are paid for. */
export function dataBudget(limit: number, threads: number): number {
  return Math.max(MIN_DATA_BYTES, limit - BASE_BYTES - PER_THREAD_BYTES * threads);
}
