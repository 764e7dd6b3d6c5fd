/**
 * The index writer: a thread that owns index.db's SQLite connection. At the end of a convert it
 * receives the run's index rows already sorted by id and deduplicated (index-rows.ts, in workers),
 * bucket after bucket, so every insert appends to the id B-tree instead of landing at a random
 * page; a copy of an id that DIR's index already holds is ignored by the primary key. Rows arrive
 * in an order that depends only on the set of ids, so the file is byte-identical whatever -j is.
 *
 * Measured (1M rows, 2 shared cores): ~4 µs per row through better-sqlite3's `run` and ~3.7 µs per
 * row for the four secondary indexes built at the end — Proton Beam's layout (TEXT ids, a rowid
 * table with an autoindex, four indexes) is a serial cost no thread split can remove
 * (docs/decisions/0010-nostr-convert-at-scale.md).
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { SCHEMA, SECONDARY_INDEXES, CREATED_AT_INDEX, dropQueryIndexes } from './index-db.js';
import { dayFileName } from './day.js';
import { ROW_BYTES } from './spill-records.js';
import { nameThisThread } from '../../engine/thread-cpu.js';

export type ToIndexWriter = { type: 'rows'; rows: Uint8Array; count: number } | { type: 'finish' };
export type FromIndexWriter = { type: 'ack' } | { type: 'indexing' } | { type: 'done'; rows: number } | { type: 'failed'; message: string; code: string };
export interface IndexWriterData {
  path: string;
  indexedAt: number;
  cacheBytes: number;
  /** Leave out the three query indexes (`--defer-indexes`; `nostr index finish` adds them). */
  deferIndexes: boolean;
}

/** Rows per transaction: large, so commits (and their page writes) are rare. */
const TRANSACTION_ROWS = 200_000;

nameThisThread('index');
const port = parentPort!;
const { path, indexedAt, cacheBytes, deferIndexes } = workerData as IndexWriterData;

/** Opens the index; a failure is kept for the first message, so it reaches the pipeline with its SQLite message and code (a thrown SqliteError arrives as a bare `{ code }`). */
function openIndex(): { db: Database.Database; insert: Database.Statement } {
  const db = new Database(path);
  // 16 KiB pages (a new file only; a copied index keeps its own): sorted inserts of 950k rows took
  // 1.8-2.3 µs per row against 2.8-3.0 with 4 KiB pages here, the secondary indexes about the same.
  db.pragma('page_size = 16384');
  // A temporary copy that is renamed into place only when complete: no journal needed for safety.
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  // At most 64 MiB (a 256 MiB cache gained little on inserts and added ~190 MB of RSS on a 600 MB
  // input), less under a small --memory-limit; the secondary indexes' sorter is bounded by it too.
  db.pragma(`cache_size = -${Math.max(2048, Math.floor(cacheBytes / 1024))}`);
  db.exec(SCHEMA);
  if (deferIndexes) dropQueryIndexes(db);
  return { db, insert: db.prepare('INSERT OR IGNORE INTO events (id, kind, pubkey, created_at, file_path, indexed_at) VALUES (?, ?, ?, ?, ?, ?)') };
}
let opened: ReturnType<typeof openIndex> | null = null;
let openFailure: unknown = null;
try {
  opened = openIndex();
} catch (err) {
  openFailure = err;
}
let rows = 0;
let inTransaction = 0;
const fileNames = new Map<number, string>();

function fileName(createdAt: number): string {
  const day = Math.floor(createdAt / 86400);
  let name = fileNames.get(day);
  if (name === undefined) {
    name = dayFileName(day);
    fileNames.set(day, name);
  }
  return name;
}

function insertRows(bytes: Uint8Array, count: number): void {
  const { db, insert } = opened!;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let i = 0; i < count; i++) {
    const p = i * ROW_BYTES;
    if (inTransaction === 0) db.exec('BEGIN');
    const createdAt = buf.readDoubleLE(p + 68);
    const changed = insert.run(buf.toString('hex', p, p + 32), buf.readInt32LE(p + 64), buf.toString('hex', p + 32, p + 64), createdAt, fileName(createdAt), indexedAt).changes;
    rows += changed;
    if (++inTransaction === TRANSACTION_ROWS) {
      db.exec('COMMIT');
      inTransaction = 0;
    }
  }
}

function finish(): void {
  const { db } = opened!;
  if (inTransaction > 0) db.exec('COMMIT');
  port.postMessage({ type: 'indexing' } satisfies FromIndexWriter);
  db.exec(deferIndexes ? CREATED_AT_INDEX : SECONDARY_INDEXES);
  db.close();
}

port.on('message', (msg: ToIndexWriter) => {
  try {
    if (!opened) throw openFailure;
    if (msg.type === 'rows') {
      insertRows(msg.rows, msg.count);
      port.postMessage({ type: 'ack' } satisfies FromIndexWriter);
    } else {
      finish();
      port.postMessage({ type: 'done', rows } satisfies FromIndexWriter);
    }
  } catch (err) {
    port.postMessage({ type: 'failed', message: (err as Error).message, code: (err as { code?: string }).code ?? 'INDEX_WRITE_FAILED' } satisfies FromIndexWriter);
  }
});
