/**
 * Parts: what a shard writes (a directory: the format's files plus manifest.json), and the checks
 * `merge` makes before it writes anything.
 *
 * A part appears atomically: it is filled under a temporary name beside its final path, the
 * manifest is written last, then the directory is renamed into place. A shard killed with -9
 * leaves only a temporary (removed by the next writer in that directory) or the previous complete
 * part; a retried shard replaces its part with identical content.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { OutputTransaction, isTemporaryName, recoverDirectory, resolveOutputPath } from './atomic.js';
import { ThreadmillError, type ErrorCode } from './errors.js';
import { MANIFEST_KIND, MANIFEST_VERSION, runDifference, stableJson, type PartManifest } from './manifest.js';

export const MANIFEST_FILE = 'manifest.json';

export interface Part {
  /** The path as given to merge (for messages). */
  path: string;
  manifest: PartManifest;
}

/**
 * Writes the part at `path`: `fill` puts the format's files into the (temporary) directory it is
 * given, `complete` may then add what the run learned (share, counts) to the manifest; then the
 * manifest is written, then the directory renamed into place.
 */
export async function writePart(path: string, manifest: PartManifest, fill: (dir: string) => Promise<void> | void, complete?: (manifest: PartManifest) => void): Promise<void> {
  const target = resolveOutputPath(path).path;
  recoverDirectory(dirname(target));
  const tx = new OutputTransaction();
  const tmp = tx.tempFor(target);
  let old: string | null = null;
  try {
    mkdirSync(tmp);
    await fill(tmp);
    complete?.(manifest);
    writeFileSync(join(tmp, MANIFEST_FILE), `${stableJson(manifest)}\n`);
    if (existsSync(target)) {
      // A directory cannot be renamed over a non-empty one: the old part steps aside under a
      // temporary name (so a crash here leaves it to cleanup, and merge reports the part missing).
      old = join(dirname(target), `.${basename(target)}${basename(tmp).slice(basename(target).length + 1)}-old`);
      renameSync(target, old);
    }
    tx.commit();
  } catch (err) {
    tx.abort();
    if (old && !existsSync(target)) renameSync(old, target);
    throw err;
  }
  if (old) rmSync(old, { recursive: true, force: true });
}

function partError(code: Extract<ErrorCode, `PART_${string}`>, message: string): ThreadmillError {
  return new ThreadmillError(code, `${message}; nothing was written`);
}

/** Reads one part's manifest; PART_INVALID when it is not a complete part. */
export function readPart(path: string): Part {
  if (isTemporaryName(basename(path))) throw partError('PART_INVALID', `${path} is the temporary of an unfinished shard (killed or still running), not a part`);
  let text: string;
  try {
    text = readFileSync(join(path, MANIFEST_FILE), 'utf8');
  } catch {
    // A part named but absent is a shard that never finished (or was never run): the same
    // answer as an index missing from the list, so scripts need one check.
    if (!existsSync(path)) throw partError('PART_MISSING', `${path} does not exist (a shard that did not run or did not finish; rerun it)`);
    throw partError('PART_INVALID', `${path} has no ${MANIFEST_FILE} (not a part, or a shard that did not finish)`);
  }
  let manifest: PartManifest;
  try {
    manifest = JSON.parse(text) as PartManifest;
  } catch {
    throw partError('PART_INVALID', `${path}/${MANIFEST_FILE} is not valid JSON`);
  }
  if (manifest?.kind !== MANIFEST_KIND) throw partError('PART_INVALID', `${path}/${MANIFEST_FILE} is not a threadmill part manifest`);
  if (manifest.version !== MANIFEST_VERSION) throw partError('PART_MISMATCH', `${path} was written by another threadmill (part manifest version ${String(manifest.version)}, this one reads ${MANIFEST_VERSION}); rerun its shards with this version`);
  return { path, manifest };
}

/** How many shards a part holds (1 for a shard's own part, more for a merged part). */
export function shardSpan(m: PartManifest): number {
  return m.shard.span ?? 1;
}

function shardsOf(p: Part): string {
  const { index, count } = p.manifest.shard;
  const span = shardSpan(p.manifest);
  return span === 1 ? `shard ${index}/${count}` : `shards ${index}…${index + span - 1} of ${count}`;
}

/**
 * Reads and checks the parts given to `<format> merge`: one format (and command, when given), one
 * run (same options, same inputs, same N), every index 0…N−1 exactly once (held by a shard's part
 * or inside a merged part's range), shares that tile each input. Returns them in index order; a
 * coded ThreadmillError otherwise. `partial` (merge --partial): the parts need only be a run of
 * consecutive shards, not all of them.
 */
export function readParts(paths: readonly string[], format: string, commands?: readonly string[], options: { partial?: boolean } = {}): Part[] {
  if (paths.length === 0) throw new ThreadmillError('USAGE', 'merge needs at least one part', { exitCode: 2 });
  const parts = paths.map(readPart);
  const first = parts[0]!;
  for (const p of parts) {
    const m = p.manifest;
    if (m.format !== format) throw partError('PART_MISMATCH', `${p.path} is a part of \`${m.format} ${m.command}\`, not of ${format}`);
    if (commands && !commands.includes(m.command)) throw partError('PART_MISMATCH', `${p.path} is a part of \`${m.format} ${m.command}\`; this merge takes ${commands.join(' or ')} parts`);
    const diff = runDifference(first.manifest, m);
    if (diff) throw partError('PART_MISMATCH', `${p.path} does not belong with ${first.path}: ${diff}`);
  }
  const n = first.manifest.shard.count;
  const ordered = [...parts].sort((a, b) => a.manifest.shard.index - b.manifest.shard.index);
  const missing: number[] = [];
  let next = options.partial ? ordered[0]!.manifest.shard.index : 0;
  for (const [k, p] of ordered.entries()) {
    const { index } = p.manifest.shard;
    if (index < next) throw partError('PART_DUPLICATE', `${ordered[k - 1]!.path} and ${p.path} both hold shard ${index}/${n} (${shardsOf(ordered[k - 1]!)}; ${shardsOf(p)})`);
    for (let i = next; i < index; i++) missing.push(i);
    next = index + shardSpan(p.manifest);
  }
  if (!options.partial) for (let i = next; i < n; i++) missing.push(i);
  if (missing.length > 0) {
    const list = missing.length > 10 ? `${missing.slice(0, 10).join(', ')}, … (${missing.length} in all)` : missing.join(', ');
    const what = options.partial ? 'give consecutive shards to a partial merge' : 'give every part of the run';
    throw partError('PART_MISSING', `shard(s) ${list} of ${n} missing (${what}; rerun the missing shards)`);
  }
  checkTiling(ordered, options.partial ?? false);
  return ordered;
}

/**
 * The manifest of a merged part holding `parts` (consecutive, from readParts with partial): the
 * run's identity, the range of shards, the input ranges they cover, and the format's `data`.
 */
export function mergedManifest(parts: Part[], data: Record<string, unknown>): PartManifest {
  const first = parts[0]!.manifest;
  const last = parts[parts.length - 1]!.manifest;
  const span = last.shard.index + shardSpan(last) - first.shard.index;
  const share = first.share ? first.share.map((c, i) => {
    const held = parts.map((p) => p.manifest.share![i]!).filter((x) => x.end > x.start);
    return held.length === 0 ? { ...c, start: c.size, end: c.size } : { ...c, start: held[0]!.start, end: held[held.length - 1]!.end };
  }) : first.share;
  return { ...first, shard: { index: first.shard.index, count: first.shard.count, span }, share, data };
}

/**
 * Reads a part's JSON data file; PART_INVALID naming the file when it is cut short, not JSON, or
 * not the shape `valid` expects (a part copied half, or damaged after its shard finished).
 */
export function readStatsFile<T>(path: string, valid: (x: T) => boolean): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw partError('PART_INVALID', `cannot read ${path}: ${(err as Error).message}`);
  }
  let value: T;
  try {
    value = JSON.parse(text) as T;
  } catch (err) {
    throw partError('PART_INVALID', `${path} is damaged (${text.length} bytes, not valid JSON: ${(err as Error).message}); rerun its shard`);
  }
  if (value === null || typeof value !== 'object' || !valid(value)) throw partError('PART_INVALID', `${path} does not hold what its part should; rerun its shard`);
  return value;
}

/** The shares of consecutive parts must meet exactly and cover each input whole (a partial merge: meet). */
function checkTiling(parts: Part[], partial: boolean): void {
  const inputs = parts[0]!.manifest.inputs;
  for (let i = 0; i < inputs.length; i++) {
    let at = partial ? -1 : 0;
    for (const p of parts) {
      const c = p.manifest.share?.[i];
      if (!c) return; // file-list shares (code) carry no ranges
      if (c.end <= c.start) continue;
      if (at >= 0 && c.start !== at) throw partError('PART_MISMATCH', `${p.path} covers ${inputs[i]!.name} from ${c.unit} offset ${c.start}, but the shares before it end at ${at}`);
      at = c.end;
    }
    const size = parts[0]!.manifest.share?.[i]?.size ?? at;
    if (!partial && at !== size) throw partError('PART_MISMATCH', `the parts cover ${inputs[i]!.name} up to offset ${at} of ${size}`);
  }
}
