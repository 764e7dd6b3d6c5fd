/**
 * `--shard I/N`: which share of the planned input one process does. A share is a byte range of
 * the inputs taken together (sizes on disk: compressed offsets for BGZF, where blocks are the
 * unit), balanced by bytes and computed from nothing but the input sizes and N. The engine then
 * plans the share into chunks exactly as it plans a whole file, and a worker for [a, b) already
 * processes exactly the records that start in [a, b): shares, like chunks, meet at the same
 * record boundary, so no record is lost or doubled between shards.
 */
import { UsageError } from './errors.js';

export interface Shard {
  /** 0-based share index, I. */
  index: number;
  /** Number of shares, N. */
  count: number;
}

/** A byte range [start, end) of one input; empty when start === end. */
export interface ByteRange { start: number; end: number }

/**
 * Where `--shard auto/N` finds I, in this order. N never comes from the scheduler: a resubmitted
 * subset of a Slurm array changes SLURM_ARRAY_TASK_COUNT, so it cannot be trusted.
 */
export const SHARD_INDEX_VARIABLES = ['SLURM_ARRAY_TASK_ID', 'JOB_COMPLETION_INDEX', 'AWS_BATCH_JOB_ARRAY_INDEX'] as const;

function whole(text: string): number {
  return /^\d{1,9}$/.test(text) ? Number(text) : NaN;
}

/** Parses `I/N` or `auto/N` (I from the scheduler's environment); a UsageError (exit 2) when wrong. */
export function parseShard(spec: string, env: NodeJS.ProcessEnv = process.env): Shard {
  const m = /^([^/]+)\/([^/]+)$/.exec(spec.trim());
  if (!m) throw new UsageError(`--shard must be I/N or auto/N (e.g. 3/16), got ${JSON.stringify(spec)}`);
  const count = whole(m[2]!);
  if (!(count >= 1)) throw new UsageError(`--shard ${spec}: N must be a positive integer`);
  let index: number;
  let from = '';
  if (m[1] === 'auto') {
    const name = SHARD_INDEX_VARIABLES.find((v) => env[v] !== undefined && env[v] !== '');
    if (!name) throw new UsageError(`--shard auto/${count}: none of ${SHARD_INDEX_VARIABLES.join(', ')} is set; give the index explicitly (--shard I/${count})`);
    index = whole(env[name]!);
    from = ` (from ${name}=${JSON.stringify(env[name])})`;
  } else index = whole(m[1]!);
  if (!(index >= 0)) throw new UsageError(`--shard ${spec}: I must be a non-negative integer${from}`);
  if (index >= count) throw new UsageError(`--shard ${spec}: I = ${index}${from} must be below N = ${count} (indices run 0…${count - 1})`);
  return { index, count };
}

/** floor(i * total / n) without the rounding a double would bring past 2^53 / n. */
function cut(i: number, total: number, n: number): number {
  return Number((BigInt(i) * BigInt(total)) / BigInt(n));
}

/**
 * The share of each input, in input order. The inputs are cut into units on a grid (`grid[i]`
 * bytes: the run's chunk size, so a share is a run of whole chunks of the unsharded plan and each
 * chunk's output is the same bytes as in an unsharded run; 1 for inputs whose chunks are not a
 * fixed grid), laid end to end, and each unit goes to the share that holds its first byte
 * (share I = [floor(I·T/N), floor((I+1)·T/N)) of the T bytes in all). Inputs with nothing in the
 * share get an empty range at their end, so planners emit nothing.
 */
export function shareRanges(sizes: readonly number[], shard: Shard, grid: readonly number[] = []): ByteRange[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  const lo = cut(shard.index, total, shard.count);
  const hi = cut(shard.index + 1, total, shard.count);
  const ranges: ByteRange[] = [];
  let base = 0;
  for (const [i, size] of sizes.entries()) {
    const g = Math.max(1, grid[i] ?? 1);
    // First unit whose global start is >= x: units start at base + k·g.
    const unitAt = (x: number): number => Math.min(size, Math.max(0, Math.ceil((x - base) / g) * g));
    const start = unitAt(lo);
    const end = hi >= total ? size : unitAt(hi);
    ranges.push(end > start ? { start, end } : { start: size, end: size });
    base += size;
  }
  return ranges;
}

/** The share of a list of items (e.g. files to index) balanced by their sizes: indices into `sizes`. */
export function shareOfList(sizes: readonly number[], shard: Shard): number[] {
  // An item belongs to the share holding its first byte (empty items: their position), so each
  // item falls in exactly one share whatever N is.
  const total = sizes.reduce((a, b) => a + b, 0);
  const lo = cut(shard.index, total, shard.count);
  const hi = cut(shard.index + 1, total, shard.count);
  const last = shard.index === shard.count - 1;
  const mine: number[] = [];
  let base = 0;
  for (const [i, size] of sizes.entries()) {
    if ((base >= lo && base < hi) || (last && base >= hi)) mine.push(i);
    base += size;
  }
  return mine;
}

/** `{I}` and `{N}` in a part path become the shard's index and count (handy with auto/N). */
export function expandPartPath(path: string, shard: Shard): string {
  return path.replaceAll('{I}', String(shard.index)).replaceAll('{N}', String(shard.count));
}
