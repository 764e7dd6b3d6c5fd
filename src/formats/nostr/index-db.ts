/**
 * DIR/index.db: Proton Beam's SQLite index of event ids (same table, columns and indexes), so
 * tools written for Proton Beam's index read ours. Opened read-only by lookup/stats; written only
 * through a temporary copy by index-writer.ts, so an interrupted run leaves it as it was.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ThreadmillError } from '../../engine/errors.js';

export const INDEX_FILE = 'index.db';

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  id TEXT PRIMARY KEY,
  kind INTEGER NOT NULL,
  pubkey TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  file_path TEXT NOT NULL,
  indexed_at INTEGER NOT NULL
);`;

/** The secondary index a convert needs (the ids DIR holds for a day are read by created_at). */
export const CREATED_AT_INDEX = 'CREATE INDEX IF NOT EXISTS idx_created_at ON events(created_at);';

/** The three that only queries and `index verify` use: `convert --defer-indexes` leaves them out. */
export const QUERY_INDEXES = `
CREATE INDEX IF NOT EXISTS idx_kind ON events(kind);
CREATE INDEX IF NOT EXISTS idx_pubkey ON events(pubkey);
CREATE INDEX IF NOT EXISTS idx_file_path ON events(file_path);`;
const QUERY_INDEX_NAMES = ['idx_kind', 'idx_pubkey', 'idx_file_path'];

/** Secondary indexes, created after a bulk load (cheaper than maintaining them row by row). */
export const SECONDARY_INDEXES = `
CREATE INDEX IF NOT EXISTS idx_kind ON events(kind);
CREATE INDEX IF NOT EXISTS idx_pubkey ON events(pubkey);
CREATE INDEX IF NOT EXISTS idx_created_at ON events(created_at);
CREATE INDEX IF NOT EXISTS idx_file_path ON events(file_path);`;

/** Drops the query indexes (before appending many rows: maintaining them costs ~10 µs a row). */
export function dropQueryIndexes(db: Database.Database): void {
  for (const name of QUERY_INDEX_NAMES) db.exec(`DROP INDEX IF EXISTS ${name}`);
}

/**
 * Adds what `convert` reads DIR's index by (idx_created_at) and, with `all`, the query indexes; in
 * one transaction (SQLite's rollback journal), so a kill leaves the file as it was. Returns the
 * indexes it built.
 */
export function ensureIndexes(path: string, all: boolean): string[] {
  const db = new Database(path, { fileMustExist: true });
  try {
    const have = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").pluck().all() as string[]);
    const wanted = all ? ['idx_created_at', ...QUERY_INDEX_NAMES] : ['idx_created_at'];
    const built = wanted.filter((n) => !have.has(n));
    if (built.length > 0) db.transaction(() => db.exec(all ? SECONDARY_INDEXES : CREATED_AT_INDEX))();
    return built;
  } finally {
    db.close();
  }
}

/** Which of the query indexes an index lacks (a `convert --defer-indexes` leaves all three out). */
export function missingQueryIndexes(db: Database.Database): string[] {
  const have = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").pluck().all() as string[]);
  return QUERY_INDEX_NAMES.filter((n) => !have.has(n));
}

export function indexPath(dir: string): string {
  return join(dir, INDEX_FILE);
}

export function openIndexReadOnly(dir: string): Database.Database {
  const path = indexPath(dir);
  if (!existsSync(path)) throw new ThreadmillError('INDEX_NOT_FOUND', `no index at ${path}; run \`threadmill nostr convert … -o ${dir}\` or \`threadmill nostr index rebuild ${dir}\``);
  return new Database(path, { readonly: true, fileMustExist: true });
}

export interface IndexRow { id: string; kind: number; pubkey: string; created_at: number; file_path: string; indexed_at: number }

export function lookupIds(db: Database.Database, ids: readonly string[]): Map<string, IndexRow> {
  const stmt = db.prepare<[string], IndexRow>('SELECT id, kind, pubkey, created_at, file_path, indexed_at FROM events WHERE id = ?');
  const found = new Map<string, IndexRow>();
  for (const id of ids) {
    const row = stmt.get(id.toLowerCase());
    if (row) found.set(id, row);
  }
  return found;
}

export interface IndexStats {
  total_events: number;
  unique_files: number;
  unique_pubkeys: number;
  earliest_event: number | null;
  latest_event: number | null;
  kinds: { kind: number; events: number }[];
  files: { file_path: string; events: number }[];
}

export function indexStats(db: Database.Database): IndexStats {
  const one = <T>(sql: string): T => (db.prepare(sql).pluck().get() as T);
  return {
    total_events: one<number>('SELECT COUNT(*) FROM events'),
    unique_files: one<number>('SELECT COUNT(DISTINCT file_path) FROM events'),
    unique_pubkeys: one<number>('SELECT COUNT(DISTINCT pubkey) FROM events'),
    earliest_event: one<number | null>('SELECT MIN(created_at) FROM events'),
    latest_event: one<number | null>('SELECT MAX(created_at) FROM events'),
    kinds: db.prepare('SELECT kind, COUNT(*) AS events FROM events GROUP BY kind ORDER BY events DESC, kind').all() as IndexStats['kinds'],
    files: db.prepare('SELECT file_path, COUNT(*) AS events FROM events GROUP BY file_path ORDER BY file_path').all() as IndexStats['files'],
  };
}

/**
 * INDEX_CORRUPT for SQLite's "not a database" or "malformed" on DIR's index (it was INTERNAL),
 * with the command that rewrites it; any other error as it is.
 */
export function unreadableIndex(dir: string, err: unknown): unknown {
  const code = (err as { code?: unknown }).code;
  if (code !== 'SQLITE_NOTADB' && code !== 'SQLITE_CORRUPT') return err;
  return new ThreadmillError('INDEX_CORRUPT', `${indexPath(dir)} is not a readable index (${(err as Error).message}); \`threadmill nostr index rebuild ${dir}\` rewrites it from the day files`, { cause: err });
}

/** Every id already in DIR's index, fed to `add` as 32 raw bytes (the dedup set of a new run). */
export function forEachIndexedId(dir: string, add: (id: Uint8Array) => void): number {
  const path = indexPath(dir);
  if (!existsSync(path)) return 0;
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const scratch = Buffer.alloc(32);
    let n = 0;
    for (const id of db.prepare('SELECT id FROM events').pluck().iterate() as IterableIterator<string>) {
      if (scratch.write(id, 0, 32, 'hex') !== 32) throw new ThreadmillError('INDEX_CORRUPT', `${path}: id ${JSON.stringify(id)} is not 64 hex characters`);
      add(scratch);
      n++;
    }
    return n;
  } finally {
    db.close();
  }
}
