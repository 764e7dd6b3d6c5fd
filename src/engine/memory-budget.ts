/**
 * `--memory-limit`: the peak RSS a run may reach, and how much of it is left for the structures
 * that grow with the input (id sets, spill buffers) once the fixed costs are paid. DESIGN: "memory
 * is bounded by a budget, never by the number of records".
 *
 * The fixed costs were measured here (nostr convert of 1M events with a data budget of 64 KiB, so
 * everything spills; GNU time's peak RSS): 311 MB with one worker, 393 MB with two — V8 heaps,
 * the chunk window, scratch buffers and SQLite's, whatever the input size. The constants below
 * round those up. A limit below what the asked threads need runs fewer threads (fitThreads).
 */
import { totalmem } from 'node:os';
import { UsageError } from './errors.js';

const MiB = 1 << 20;
const BASE_BYTES = 240 * MiB;
const PER_THREAD_BYTES = 88 * MiB;
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

/** The most threads (≤ `wanted`, ≥ 1) whose fixed cost leaves MIN_DATA_BYTES of `limit` for data. */
export function fitThreads(limit: number, wanted: number): number {
  const fit = Math.floor((limit - BASE_BYTES - MIN_DATA_BYTES) / PER_THREAD_BYTES);
  return Math.max(1, Math.min(wanted, fit));
}

/** The smallest limit one thread can keep. */
export function minimumMemoryLimit(): number {
  return BASE_BYTES + PER_THREAD_BYTES + MIN_DATA_BYTES;
}
