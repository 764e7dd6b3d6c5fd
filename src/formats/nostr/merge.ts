/**
 * `nostr convert --shard I/N` (a part: the shard's own day files and index.db, deduplicated within
 * the shard) and `nostr merge PART… -o DIR`, which adds the parts to DIR in shard order exactly as
 * one convert of the whole input would: an id already in DIR or in an earlier part is dropped
 * (the first occurrence in input order wins), day files per date, index.db.
 *
 * Cost: a part's day file whose events are all new is appended as it is (its gzip members copied
 * byte for byte, no recompression); only a day file that loses events to cross-shard duplicates is
 * inflated, filtered and compressed again. Every day file is inflated once to read its ids. The
 * index rows come from the parts' index.db through SQLite (`INSERT OR IGNORE … SELECT`).
 */
import { copyFileSync, createReadStream, createWriteStream, existsSync, openSync, readFileSync, readSync, closeSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createGunzip, createGzip, gunzipSync } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { pipeline as pipeCb } from 'node:stream';
import Database from 'better-sqlite3';
import type { Command } from 'commander';
import { action, formatTable, interruptSignal, moreErrorsNote, printRecordError, progressFor, warner, type RunFlags } from '../../cli/common.js';
import { PARTIAL_HELP, partPathOf } from '../../cli/shard.js';
import { makeManifest, normalChunkSize } from '../../engine/manifest.js';
import { expandPartPath, type Shard } from '../../engine/shard.js';
import { writePart } from '../../engine/parts.js';
import { convertNostr, type ConvertSummary } from './pipeline.js';
import { OutputTransaction, recoverDirectory } from '../../engine/atomic.js';
import { lockDirectory } from '../../engine/lock.js';
import { ThreadmillError } from '../../engine/errors.js';
import { mergedManifest, readParts, type Part } from '../../engine/parts.js';
import { IdSet } from './id-set.js';
import { hexToBytes } from './hex.js';
import { Reader, decodeEvent } from './proto.js';
import { SCHEMA, SECONDARY_INDEXES, forEachIndexedId, indexPath } from './index-db.js';
import { dayFilesIn, rebuildIndex } from './index-rebuild.js';

const COPY_BLOCK = 8 << 20;
/** Compressed day files up to this size are inflated in one call (a few MiB decompressed at most). */
const SMALL_DAY_FILE = 1 << 20;

/** Delimited records of decompressed bytes: [begin (length prefix), start (body), end); returns where the unread rest begins. */
function* records(buf: Uint8Array): Generator<{ begin: number; start: number; end: number }, number> {
  let pos = 0;
  for (;;) {
    let len = 0;
    let scale = 1;
    let i = pos;
    for (; i < buf.length && i < pos + 10; i++) {
      const b = buf[i]!;
      len += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 128;
    }
    if (i >= buf.length || i + 1 + len > buf.length) return pos;
    yield { begin: pos, start: i + 1, end: i + 1 + len };
    pos = i + 1 + len;
  }
}

/** The records of a .pb.gz file, in order, a decompressed buffer at a time. */
async function forEachRecord(path: string, each: (buf: Uint8Array, r: { begin: number; start: number; end: number }) => void): Promise<void> {
  // A part holds a file for nearly every day, most of them small: inflating those in one call
  // saves a stream's round trips per file (half of a merge's wall time was spent waiting on them).
  if (statSync(path).size <= SMALL_DAY_FILE) {
    const buf = gunzipSync(readFileSync(path));
    const it = records(buf);
    let r = it.next();
    for (; !r.done; r = it.next()) each(buf, r.value);
    if (r.value < buf.length) throw new ThreadmillError('PB_CORRUPT', `${path}: truncated record at its end (${buf.length - r.value} bytes left over)`);
    return;
  }
  let carry: Uint8Array = new Uint8Array(0);
  const gunzip = pipeCb(createReadStream(path, { highWaterMark: 1 << 20 }), createGunzip({ chunkSize: 1 << 20 }), () => {});
  for await (const data of gunzip as AsyncIterable<Buffer>) {
    const buf = carry.length ? Buffer.concat([carry, data]) : data;
    const it = records(buf);
    let r = it.next();
    for (; !r.done; r = it.next()) each(buf, r.value);
    carry = buf.subarray(r.value);
  }
  if (carry.length > 0) throw new ThreadmillError('PB_CORRUPT', `${path}: truncated record at its end (${carry.length} bytes left over)`);
}

const HEX_VALUE = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;

/**
 * The event id of one record. Writers (ours, Proton Beam) put the id first: field 1, length 64,
 * lowercase hex; that is read in place. Anything else is decoded whole. The whole decode was most
 * of a nostr merge's CPU (every event of every part, only for its id).
 */
function idOf(buf: Uint8Array, start: number, end: number): Uint8Array {
  if (end - start >= 66 && buf[start] === 0x0a && buf[start + 1] === 64) {
    const id = new Uint8Array(32);
    let bad = 0;
    for (let i = 0; i < 32; i++) {
      const hi = HEX_VALUE[buf[start + 2 + 2 * i]!]!;
      const lo = HEX_VALUE[buf[start + 3 + 2 * i]!]!;
      bad |= hi | lo;
      id[i] = (hi << 4) | lo;
    }
    if (bad >= 0) return id;
  }
  return hexToBytes(decodeEvent(new Reader(buf, start, end)).id);
}

/** One copy buffer for the whole merge: a fresh zeroed 8 MiB per day file per part was most of its CPU. */
let copyBlock: Buffer | null = null;

function appendFile(from: string, to: string): void {
  const src = openSync(from, 'r');
  const dst = openSync(to, 'a');
  try {
    const block = (copyBlock ??= Buffer.allocUnsafe(COPY_BLOCK));
    for (let n = readSync(src, block, 0, COPY_BLOCK, null); n > 0; n = readSync(src, block, 0, COPY_BLOCK, null)) {
      let w = 0;
      while (w < n) w += writeSync(dst, block, w, n - w);
    }
  } finally {
    closeSync(src);
    closeSync(dst);
  }
}

/** Appends the records of `from` not in `drop` (record numbers) to `to` as one new gzip member. */
async function appendFiltered(from: string, to: string, drop: Set<number>, level: number): Promise<void> {
  // A generator, so pipeline's backpressure holds inflating back while deflate (slower) catches up.
  async function* kept(): AsyncGenerator<Uint8Array> {
    let k = 0;
    let carry: Uint8Array = new Uint8Array(0);
    const gunzip = pipeCb(createReadStream(from, { highWaterMark: 1 << 20 }), createGunzip({ chunkSize: 1 << 20 }), () => {});
    for await (const data of gunzip as AsyncIterable<Buffer>) {
      const buf = carry.length ? Buffer.concat([carry, data]) : data;
      const runs: Uint8Array[] = [];
      let runStart = -1;
      let runEnd = -1;
      const it = records(buf);
      let r = it.next();
      for (; !r.done; r = it.next()) {
        if (drop.has(k++)) {
          if (runStart >= 0) runs.push(buf.slice(runStart, runEnd));
          runStart = -1;
        } else {
          if (runStart < 0) runStart = r.value.begin;
          runEnd = r.value.end;
        }
      }
      if (runStart >= 0) runs.push(buf.slice(runStart, runEnd));
      carry = buf.subarray(r.value);
      yield* runs;
    }
    if (carry.length > 0) throw new ThreadmillError('PB_CORRUPT', `${from}: truncated record at its end (${carry.length} bytes left over)`);
  }
  await pipeline(kept, createGzip({ level }), createWriteStream(to, { flags: 'a' }));
}

/** The flags of `nostr convert`, which a shard run takes as they are. */
export interface NostrConvertFlags extends RunFlags {
  outputDir: string;
  compressionLevel: number;
  validateEventIds: boolean;
  validateSignatures: boolean;
  filterKinds: boolean;
  chunkSize?: number;
  /** Not an output option: a part's bytes do not depend on it, so the manifest leaves it out. */
  memoryLimit?: number;
  dataBudget?: number;
  deferIndexes?: boolean;
}

/** `nostr convert --shard`: the shard's share converted into a fresh part directory (-o). */
export async function shardNostr(inputs: string[], flags: NostrConvertFlags, shard: Shard): Promise<void> {
  if (inputs.includes('-')) throw new ThreadmillError('SHARD_UNSEEKABLE', '--shard: stdin cannot be read by several shards; give files', { exitCode: 2 });
  const path = partPathOf(flags.outputDir, shard);
  const progress = progressFor(flags, `nostr convert (shard ${shard.index}/${shard.count})`);
  const options = { compressionLevel: flags.compressionLevel, validateIds: flags.validateEventIds, validateSignatures: flags.validateSignatures, filterKinds: flags.filterKinds, chunkSize: normalChunkSize(flags.chunkSize) };
  let summary: ConvertSummary | null = null;
  await writePart(path, makeManifest({ format: 'nostr', command: 'convert', options, inputs, shard }), async (dir) => {
    summary = await convertNostr({
      inputs, outDir: dir, threads: flags.threads, chunkSize: flags.chunkSize, memoryLimit: flags.memoryLimit, shard,
      compressionLevel: flags.compressionLevel, validateIds: flags.validateEventIds, validateSignatures: flags.validateSignatures, filterKinds: flags.filterKinds,
      rejectsPath: flags.rejects === undefined ? undefined : expandPartPath(flags.rejects, shard), maxErrors: flags.maxErrors, progress, signal: interruptSignal(),
      onRecordError: printRecordError(flags), onMoreRecordErrors: moreErrorsNote(flags), warn: warner(flags),
    });
    progress.finish();
  }, (m) => {
    const { share, ...rest } = summary!;
    m.share = share ?? null;
    m.data = { ...rest, seconds: undefined, events_per_second: undefined, threads: undefined };
  });
  const s = summary!;
  if (flags.json) process.stdout.write(`${JSON.stringify({ ...s, part: path })}\n`);
  else if (!flags.quiet) process.stderr.write(`threadmill nostr convert: shard ${shard.index}/${shard.count} → ${path} (${s.written} events, ${s.rejected_total} rejected)\n`);
}

export interface MergeSummary { parts: number; events_in: number; written: number; duplicates: number; files_written: number; seconds: number }

/** Merges nostr convert parts into `dir` (created when missing), atomically, under DIR's lock. */
export async function mergeNostr(parts: Part[], dir: string): Promise<MergeSummary> {
  const started = performance.now();
  const lock = lockDirectory(dir);
  const tx = new OutputTransaction();
  try {
    recoverDirectory(dir);
    if (!existsSync(indexPath(dir)) && dayFilesIn(dir).length > 0) await rebuildIndex(dir);
    const seen = new IdSet();
    forEachIndexedId(dir, (id) => seen.add(id));
    const level = Number(parts[0]!.manifest.options.compressionLevel ?? 6);
    const temps = new Map<string, string>();
    let eventsIn = 0;
    let written = 0;
    for (const part of parts) {
      for (const name of dayFilesIn(part.path)) {
        const from = join(part.path, name);
        const drop = new Set<number>();
        let k = 0;
        await forEachRecord(from, (buf, r) => {
          if (!seen.add(idOf(buf, r.start, r.end))) drop.add(k);
          k++;
        });
        eventsIn += k;
        written += k - drop.size;
        if (drop.size === k) continue;
        let tmp = temps.get(name);
        if (tmp === undefined) {
          tmp = tx.tempFor(join(dir, name));
          if (existsSync(join(dir, name))) copyFileSync(join(dir, name), tmp);
          temps.set(name, tmp);
        }
        if (drop.size === 0) appendFile(from, tmp);
        else await appendFiltered(from, tmp, drop, level);
      }
    }
    writeIndex(tx.tempFor(indexPath(dir), { last: true }), dir, parts);
    tx.commit(dir);
    return { parts: parts.length, events_in: eventsIn, written, duplicates: eventsIn - written, files_written: temps.size, seconds: (performance.now() - started) / 1000 };
  } catch (err) {
    tx.abort();
    throw err;
  } finally {
    lock.release();
  }
}

/** index.db: DIR's rows, then each part's in shard order; the primary key drops later duplicates. */
function writeIndex(tmp: string, dir: string, parts: Part[]): void {
  if (existsSync(indexPath(dir))) copyFileSync(indexPath(dir), tmp);
  const db = new Database(tmp);
  try {
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.exec(SCHEMA);
    const pinned = Number(process.env.SOURCE_DATE_EPOCH);
    const indexedAt = Number.isSafeInteger(pinned) && pinned >= 0 ? pinned : Math.floor(Date.now() / 1000);
    for (const p of parts) {
      db.prepare('ATTACH DATABASE ? AS part').run(indexPath(p.path));
      db.prepare('INSERT OR IGNORE INTO events (id, kind, pubkey, created_at, file_path, indexed_at) SELECT id, kind, pubkey, created_at, file_path, ? FROM part.events ORDER BY id').run(indexedAt);
      db.exec('DETACH DATABASE part');
    }
    db.exec(SECONDARY_INDEXES);
  } finally {
    db.close();
  }
}

/**
 * `merge --partial`: consecutive parts merged into a part directory exactly as into DIR (first
 * occurrence wins within the range); a later merge drops what earlier ranges already hold, so the
 * final DIR is what one merge of every shard writes.
 */
async function mergeNostrPartial(parts: Part[], output: string): Promise<MergeSummary> {
  let s: MergeSummary | null = null;
  const shardDupes = parts.reduce((n, p) => n + Number(p.manifest.data?.duplicates ?? 0), 0);
  await writePart(output, mergedManifest(parts, {}), async (dir) => {
    s = await mergeNostr(parts, dir);
  }, (m) => {
    m.data = { written: s!.written, duplicates: s!.duplicates + shardDupes };
  });
  return s!;
}

export function registerNostrMerge(nostr: Command): void {
  nostr.command('merge')
    .description('add the parts written by `nostr convert --shard I/N` to DIR, as one convert of the whole input would')
    .argument('<parts...>', 'part directories, every shard 0…N−1 of one run exactly once')
    .requiredOption('-o, --output-dir <dir>', 'output directory (created when missing; an existing one gets only new events)')
    .option('--json', 'print the summary as JSON on stdout')
    .option('-q, --quiet', 'no summary on stderr')
    .option('--partial', PARTIAL_HELP)
    .action(action(async (paths: string[], flags: { outputDir: string; json?: boolean; quiet?: boolean; partial?: boolean }) => {
      const parts = readParts(paths, 'nostr', ['convert'], { partial: flags.partial });
      const s = flags.partial ? await mergeNostrPartial(parts, flags.outputDir) : await mergeNostr(parts, flags.outputDir);
      const shardDupes = parts.reduce((n, p) => n + Number(p.manifest.data?.duplicates ?? 0), 0);
      const summary = { ...s, duplicates: s.duplicates + shardDupes };
      if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else if (!flags.quiet) {
        process.stderr.write(`threadmill nostr merge: done\n${formatTable([['parts', s.parts], ['events in parts', s.events_in], ['written', s.written], ['duplicates', summary.duplicates], ['day files written', s.files_written], ['seconds', s.seconds.toFixed(2)]])}\n`);
      }
    }));
}
