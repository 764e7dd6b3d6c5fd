/**
 * The end of a convert, one day at a time and many days in parallel (a worker side call): the
 * day's spilled records are deduplicated in input order — against each other and against the ids
 * DIR's index already holds for that day — and the first occurrences are written to the day's
 * `.pb.gz` (src/formats/nostr/day-writer.ts).
 *
 * Memory is bounded by the call's budget, not by the day's size: when the day's ids do not fit,
 * the ids are split by a hash into P sub-partitions and deduplicated one sub-partition per pass
 * over the day's records, marking the later copies in a bitmap (1 bit per record); a last pass
 * writes what is not marked. Any number of events works: no id set ever holds more than
 * budget / BYTES_PER_ID ids. Which copy wins does not depend on P, so neither do the output bytes.
 */
import Database from 'better-sqlite3';
import { forEachSpilledRecord, type SpillPiece } from '../../engine/partition-spill.js';
import { IdSet } from './id-set.js';
import { dayRecordEnd, DAY_HEADER } from './spill-records.js';
import { DayWriter } from './day-writer.js';

/** Read block of a spilled day: 2 MiB reads run at disk speed and keep a call's memory small. */
const READ_BLOCK = 2 << 20;

export interface FinalizeDayArg {
  day: number;
  pieces: SpillPiece[];
  /** Records in the pieces. */
  events: number;
  /** Temporary the day file is written to (renamed by the main thread's transaction). */
  tmpPath: string;
  /** DIR's existing day file, copied first so new events become a further gzip member. */
  existingPath: string | null;
  /** DIR's index.db as it was before the run, for the ids it already holds; null when none. */
  oldIndex: string | null;
  /** Bytes this call may use for its id sets. */
  budget: number;
  level: number;
}

export interface FinalizeDayResult { written: number; passes: number }

/**
 * An IdSet slot is 33 bytes (key + used flag) at a load between 0.35 and 0.7 (it is sized by powers
 * of two): up to 94 bytes per id, rounded up.
 */
export const BYTES_PER_ID = 104;

export function finalizeDay(a: FinalizeDayArg): FinalizeDayResult {
  const existing = a.oldIndex ? existingIds(a.oldIndex, a.day) : new Uint8Array(0);
  const known = existing.length / 32;
  const passes = Math.max(1, Math.ceil(((a.events + known) * BYTES_PER_ID) / Math.max(1, a.budget)));
  const writer = new DayWriter(a.tmpPath, a.existingPath, a.level);
  let written = 0;
  if (passes === 1) {
    const seen = new IdSet(a.events + known);
    for (let i = 0; i < known; i++) seen.add(existing, i * 32);
    forEachSpilledRecord(a.pieces, dayRecordEnd, (buf, start, end) => {
      if (!seen.add(buf, start)) return;
      writer.add(buf, start + DAY_HEADER, end);
      written++;
    }, READ_BLOCK);
  } else {
    const later = markLaterCopies(a, existing, passes);
    let i = 0;
    forEachSpilledRecord(a.pieces, dayRecordEnd, (buf, start, end) => {
      if ((later[i >>> 3]! & (1 << (i & 7))) === 0) {
        writer.add(buf, start + DAY_HEADER, end);
        written++;
      }
      i++;
    }, READ_BLOCK);
  }
  writer.finish();
  return { written, passes };
}

/** One pass per hash sub-partition: a bit per record, set where an earlier copy (or DIR) has the id. */
function markLaterCopies(a: FinalizeDayArg, existing: Uint8Array, passes: number): Uint8Array {
  const later = new Uint8Array(Math.ceil(a.events / 8));
  const perPass = Math.ceil((a.events + existing.length / 32) / passes);
  for (let p = 0; p < passes; p++) {
    const seen = new IdSet(perPass);
    for (let k = 0; k < existing.length; k += 32) if (subPartition(existing, k, passes) === p) seen.add(existing, k);
    let i = 0;
    forEachSpilledRecord(a.pieces, dayRecordEnd, (buf, start) => {
      if (subPartition(buf, start, passes) === p && !seen.add(buf, start)) later[i >>> 3]! |= 1 << (i & 7);
      i++;
    }, READ_BLOCK);
  }
  return later;
}

/** From the id's last 4 bytes, which IdSet's own hash (its first 16) does not use. */
function subPartition(id: Uint8Array, at: number, passes: number): number {
  const w = (id[at + 28]! | (id[at + 29]! << 8) | (id[at + 30]! << 16) | (id[at + 31]! << 24)) >>> 0;
  return (Math.imul(w ^ (w >>> 15), 0x2c1b3c6d) >>> 0) % passes;
}

/**
 * The day query on a read-only connection to the old index, one per worker and path; connections
 * close with the worker (the pool is closed before the run commits and renames index.db).
 */
const dayQueries = new Map<string, Database.Statement<[number, number], string>>();

/**
 * The ids DIR's index holds for this day, as raw bytes. By created_at (idx_created_at), not by
 * file name: a copy of an event has the same created_at, so this is exactly the set it can meet.
 */
function existingIds(path: string, day: number): Uint8Array {
  let query = dayQueries.get(path);
  if (!query) {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    query = db.prepare<[number, number], string>('SELECT id FROM events WHERE created_at >= ? AND created_at < ?').pluck();
    dayQueries.set(path, query);
  }
  const ids = query.all(day * 86400, (day + 1) * 86400);
  const out = Buffer.alloc(ids.length * 32);
  ids.forEach((id, i) => out.write(id, i * 32, 32, 'hex'));
  return out;
}
