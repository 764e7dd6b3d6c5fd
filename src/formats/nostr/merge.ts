/**
 * How `nostr convert --shard I/N` parts combine (a part: the shard's own day files and index.db,
 * deduplicated within the shard; the shard run and `merge` are the runner's, src/cli/runner.ts):
 * the parts are added to DIR in shard order exactly as one convert of the whole input would: an id
 * already in DIR or in an earlier part is dropped (the first occurrence in input order wins), day
 * files per date, index.db.
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
import { OutputTransaction, recoverDirectory } from '../../engine/atomic.js';
import { lockDirectory } from '../../engine/lock.js';
import { ThreadmillError } from '../../engine/errors.js';
import type { Part } from '../../engine/parts.js';
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

/** duplicates: events dropped as copies of earlier ones (across parts, in DIR, and by each shard in its share). */
export interface MergeSummary { parts: number; events_in: number; written: number; duplicates: number; files_written: number; seconds: number }

/** Merges nostr convert parts (in shard order) into `dir` (created when missing), atomically, under DIR's lock. */
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
    return { parts: parts.length, events_in: eventsIn, written, duplicates: eventsIn - written + sumOf(parts, 'duplicates'), files_written: temps.size, seconds: (performance.now() - started) / 1000 };
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

/** A manifest fact of the parts added up. */
function sumOf(parts: Part[], key: string): number {
  return parts.reduce((n, p) => n + Number(p.manifest.data?.[key] ?? 0), 0);
}

/**
 * `merge --partial`: consecutive parts merged into a part directory exactly as into DIR (first
 * occurrence wins within the range); a later merge drops what earlier ranges already hold, so the
 * final DIR is what one merge of every shard writes. Returns the merged part's manifest data.
 */
export async function mergeNostrPartial(parts: Part[], dir: string): Promise<Record<string, unknown>> {
  const s = await mergeNostr(parts, dir);
  return { records: s.written, lines_read: sumOf(parts, 'lines_read'), valid: sumOf(parts, 'valid'), written: s.written, duplicates: s.duplicates };
}
