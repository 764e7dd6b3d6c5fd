/**
 * The manifest of a part (`--shard I/N`): what run it belongs to and which share it holds, so
 * that `merge` can refuse parts of different runs before writing anything. It holds no times,
 * pids or host names: running the same shard twice writes the same manifest.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { ThreadmillError } from './errors.js';
import type { Shard } from './shard.js';
import type { ShareCoverage } from './share-plan.js';

export const MANIFEST_KIND = 'threadmill-part';
export const MANIFEST_VERSION = 1;
const MIB = 1 << 20;

/** Who an input is, without reading all of it: a changed file changes one of these in practice. */
export interface InputIdentity {
  /** Absolute path (shards run on several machines over one shared file system). */
  path: string;
  size: number;
  mtimeMs: number;
  /** sha256 (hex) of the first MiB and of the last MiB. */
  head: string;
  tail: string;
}

export interface PartManifest {
  kind: typeof MANIFEST_KIND;
  version: number;
  /** e.g. `fastq`. */
  format: string;
  /** e.g. `stats`; merge picks its combiner from it. */
  command: string;
  /** Options that change the output (not -j, progress or paths of the part itself). */
  options: Record<string, unknown>;
  inputs: InputIdentity[];
  shard: Shard;
  /** Per input: the byte range this shard covered (engine-planned shares; absent for file lists). */
  share?: ShareCoverage[] | null;
  /** Format-specific facts the merge needs (counts, names of files in the part). */
  data?: Record<string, unknown>;
}

function sha256Of(fd: number, pos: number, len: number): string {
  const buf = Buffer.alloc(len);
  let n = 0;
  while (n < len) {
    const got = readSync(fd, buf, n, len - n, pos + n);
    if (got === 0) break;
    n += got;
  }
  return createHash('sha256').update(buf.subarray(0, n)).digest('hex');
}

/** Size, mtime and hashes of the first and last MiB of a file input. */
export function inputIdentity(path: string): InputIdentity {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'INPUT_NOT_FOUND' : 'INPUT_UNREADABLE';
    throw new ThreadmillError(code, `cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    const head = sha256Of(fd, 0, Math.min(MIB, st.size));
    const tail = sha256Of(fd, Math.max(0, st.size - MIB), Math.min(MIB, st.size));
    return { path: resolve(path), size: st.size, mtimeMs: st.mtimeMs, head, tail };
  } finally {
    closeSync(fd);
  }
}

export function makeManifest(fields: Omit<PartManifest, 'kind' | 'version' | 'inputs'> & { inputs: readonly string[] }): PartManifest {
  return { kind: MANIFEST_KIND, version: MANIFEST_VERSION, ...fields, inputs: fields.inputs.map(inputIdentity) };
}

/** JSON with object keys sorted, so equal content compares equal as text. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

/**
 * How `b` differs from `a` as parts of one run (null when they belong together): the first
 * difference, said for a person.
 */
export function runDifference(a: PartManifest, b: PartManifest): string | null {
  if (a.format !== b.format || a.command !== b.command) return `it is a part of \`${b.format} ${b.command}\`, not \`${a.format} ${a.command}\``;
  if (a.shard.count !== b.shard.count) return `it is one of ${b.shard.count} shards, not ${a.shard.count}`;
  if (stableJson(a.options) !== stableJson(b.options)) {
    const keys = [...new Set([...Object.keys(a.options), ...Object.keys(b.options)])].sort();
    const k = keys.find((key) => stableJson(a.options[key]) !== stableJson(b.options[key]));
    return `it was made with different options (${k}: ${stableJson(b.options[k ?? ''])} instead of ${stableJson(a.options[k ?? ''])})`;
  }
  if (a.inputs.length !== b.inputs.length) return `it was made from ${b.inputs.length} input(s), not ${a.inputs.length}`;
  for (const [i, x] of a.inputs.entries()) {
    const y = b.inputs[i]!;
    if (x.path !== y.path) return `its input ${i + 1} is ${y.path}, not ${x.path}`;
    for (const f of ['size', 'mtimeMs', 'head', 'tail'] as const) {
      if (x[f] !== y[f]) return `its input ${y.path} differs (${f === 'head' ? 'first MiB' : f === 'tail' ? 'last MiB' : f}: ${String(y[f])} instead of ${String(x[f])}): the file changed between shards`;
    }
  }
  return null;
}
