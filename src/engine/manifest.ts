/**
 * The manifest of a part (`--shard I/N`): what run it belongs to and which share it holds, so
 * that `merge` can refuse parts of different runs before writing anything. It holds no times,
 * pids or host names: running the same shard twice writes the same manifest.
 *
 * A run is: the threadmill version, the format and command, every option that changes the output
 * as its normalised value (defaults spelled out, so `--compression zstd` and no flag agree), N,
 * and the inputs by content — size, mtime and the hashes of a few MiB spread over the file — never
 * by path: one file mounted at /data on one node and /mnt/data on another is one input.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { ThreadmillError } from './errors.js';
import type { Shard } from './shard.js';
import type { ShareCoverage } from './share-plan.js';
import { threadmillVersion } from './version.js';
import { DEFAULT_CHUNK_SIZE } from './run.js';

export const MANIFEST_KIND = 'threadmill-part';
/** 2: inputs by content (no path), threadmill version, normalised options. */
export const MANIFEST_VERSION = 2;
const MIB = 1 << 20;
/** MiB hashed per input: first, last, and evenly between (a changed file changes one in practice). */
const SAMPLES = 5;

/** Who an input is, without reading all of it and without its path. */
export interface InputIdentity {
  /** The file's base name, for messages only (never compared). */
  name: string;
  size: number;
  mtimeMs: number;
  /** sha256 (hex, 16 digits) of SAMPLES MiB at evenly spread offsets, first and last included. */
  samples: string[];
}

export interface PartManifest {
  kind: typeof MANIFEST_KIND;
  version: number;
  /** The threadmill that wrote the part (package.json's version). */
  threadmill: string;
  /** e.g. `fastq`. */
  format: string;
  /** e.g. `stats`; merge picks its combiner from it. */
  command: string;
  /** Options that change the output (not -j, progress or paths of the part itself). */
  options: Record<string, unknown>;
  inputs: InputIdentity[];
  /**
   * The shards this part holds: `index` … `index + span − 1` of `count`. A shard's part has span 1
   * (absent); a merged part (`merge --partial`) holds a consecutive range of them.
   */
  shard: Shard & { span?: number };
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

/** Offsets of the sampled MiB of a file of `size` bytes. */
export function sampleOffsets(size: number): number[] {
  if (size <= MIB) return [0];
  const span = size - MIB;
  return Array.from({ length: SAMPLES }, (_, i) => Math.floor((span * i) / (SAMPLES - 1)));
}

/** Size, mtime and hashes of SAMPLES spread-out MiB of a file input. */
export function inputIdentity(path: string): InputIdentity {
  // stdin or a pipe cannot be read by every shard (and opening a FIFO here would block or consume it).
  if (path === '-' || (existsSync(path) && !statSync(path).isFile())) {
    throw new ThreadmillError('SHARD_UNSEEKABLE', `--shard: ${path === '-' ? 'stdin' : path} is a stream; every shard must read the same input, so give a file`, { exitCode: 2 });
  }
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'INPUT_NOT_FOUND' : 'INPUT_UNREADABLE';
    throw new ThreadmillError(code, `cannot read ${path}: ${(err as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    const samples = sampleOffsets(st.size).map((at) => sha256Of(fd, at, Math.min(MIB, st.size)).slice(0, 16));
    return { name: basename(path), size: st.size, mtimeMs: st.mtimeMs, samples };
  } finally {
    closeSync(fd);
  }
}

export function makeManifest(fields: Omit<PartManifest, 'kind' | 'version' | 'threadmill' | 'inputs'> & { inputs: readonly string[] }): PartManifest {
  return { kind: MANIFEST_KIND, version: MANIFEST_VERSION, threadmill: threadmillVersion(), ...fields, inputs: fields.inputs.map(inputIdentity) };
}

/** The chunk size a run uses for `--chunk-size n` (or none): what a manifest records. */
export function normalChunkSize(n: number | undefined): number {
  return Math.max(1 << 16, n ?? DEFAULT_CHUNK_SIZE);
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
  if (a.threadmill !== b.threadmill) return `it was written by threadmill ${b.threadmill}, not ${a.threadmill} (run every shard with one version)`;
  if (a.shard.count !== b.shard.count) return `it is one of ${b.shard.count} shards, not ${a.shard.count}`;
  if (stableJson(a.options) !== stableJson(b.options)) {
    const keys = [...new Set([...Object.keys(a.options), ...Object.keys(b.options)])].sort();
    const k = keys.find((key) => stableJson(a.options[key]) !== stableJson(b.options[key]));
    return `it was made with different options (${k}: ${stableJson(b.options[k ?? ''])} instead of ${stableJson(a.options[k ?? ''])})`;
  }
  if (a.inputs.length !== b.inputs.length) return `it was made from ${b.inputs.length} input(s), not ${a.inputs.length}`;
  for (const [i, x] of a.inputs.entries()) {
    const y = b.inputs[i]!;
    if (x.size !== y.size || x.mtimeMs !== y.mtimeMs) {
      return `its input ${i + 1} (${y.name}) differs (${x.size !== y.size ? `size ${y.size} instead of ${x.size}` : `mtime ${new Date(y.mtimeMs).toISOString()} instead of ${new Date(x.mtimeMs).toISOString()}`}): another file, or the file changed between shards`;
    }
    const at = x.samples.findIndex((h, k) => h !== y.samples[k]);
    if (at >= 0 || x.samples.length !== y.samples.length) {
      return `its input ${i + 1} (${y.name}) differs (content at offset ${sampleOffsets(y.size)[Math.max(0, at)]}): another file, or the file changed between shards`;
    }
  }
  return null;
}
