/**
 * index.db against the day files *by name*: rows naming a file that is not in DIR (a day file
 * deleted by hand), and day files no row names (copied in, or an index from before they were
 * written). Cheap enough for every command: one GROUP BY over idx_file_path and one readdir took
 * ~50 ms for 200k rows here, against ~580 ms for the id load that convert does anyway. It cannot
 * see a file replaced by an older copy of itself: reading every event is `nostr index verify`'s job.
 *
 * Left alone, a deleted day file made the next `convert` skip all its events as duplicates (they
 * are in the index) so it was never restored, and `lookup`/`stats` reported events in a file that
 * is gone. `convert` now repairs the index first, `lookup`/`stats` refuse to answer from it.
 */
import Database from 'better-sqlite3';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { OutputTransaction } from '../../engine/atomic.js';
import { ThreadmillError } from '../../engine/errors.js';
import { indexPath, unreadableIndex } from './index-db.js';
import { dayFilesIn } from './index-rebuild.js';
import { readPbGz } from './pb-reader.js';

export interface IndexDrift {
  /** Files named by index rows but absent from DIR, with how many rows name each. */
  missing: { file: string; rows: number }[];
  /** Day files in DIR that no index row names. */
  unindexed: string[];
}

/** Rows per file_path (the index scan behind `stats`' files list). */
export function rowsPerFile(db: Database.Database): Map<string, number> {
  const rows = db.prepare('SELECT file_path, COUNT(*) AS n FROM events GROUP BY file_path').all() as { file_path: string; n: number }[];
  return new Map(rows.map((r) => [r.file_path, r.n]));
}

export function indexDrift(dir: string, perFile: ReadonlyMap<string, number>): IndexDrift {
  const present = dayFilesIn(dir);
  const presentSet = new Set(present);
  return {
    missing: [...perFile].filter(([file]) => !presentSet.has(file)).map(([file, rows]) => ({ file, rows })).sort((a, b) => (a.file < b.file ? -1 : 1)),
    unindexed: present.filter((f) => !perFile.has(f)),
  };
}

export function describeDrift(dir: string, d: IndexDrift): string {
  const parts: string[] = [];
  const listed = (names: string[]): string => `${names.slice(0, 3).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''}`;
  if (d.missing.length > 0) {
    const rows = d.missing.reduce((n, m) => n + m.rows, 0);
    parts.push(`${indexPath(dir)} lists ${rows} events in ${d.missing.length === 1 ? 'a day file that is' : `${d.missing.length} day files that are`} missing (${listed(d.missing.map((m) => m.file))})`);
  }
  if (d.unindexed.length > 0) parts.push(`${d.unindexed.length === 1 ? 'a day file is' : `${d.unindexed.length} day files are`} not in the index (${listed(d.unindexed)})`);
  return parts.join('; ');
}

/**
 * For readers (`lookup`, `stats`): an index that disagrees with the files by name is an error,
 * not an answer. Repair is a write, and readers do not write.
 */
export function assertNoDrift(dir: string, perFile: ReadonlyMap<string, number>): void {
  const d = indexDrift(dir, perFile);
  if (d.missing.length === 0 && d.unindexed.length === 0) return;
  throw new ThreadmillError('INDEX_MISMATCH', `${describeDrift(dir, d)}; \`threadmill nostr index rebuild ${dir}\` rewrites the index from the day files (\`threadmill nostr index verify ${dir}\` shows every difference)`);
}

/** For `lookup`: a found row whose day file is gone is an error naming both, not an answer. */
export function assertRowFilesPresent(dir: string, rows: Iterable<{ id: string; file_path: string }>): void {
  for (const row of rows) {
    if (existsSync(join(dir, row.file_path))) continue;
    throw new ThreadmillError('INDEX_MISMATCH', `${indexPath(dir)} places event ${row.id} in ${row.file_path}, which is missing; \`threadmill nostr index rebuild ${dir}\` rewrites the index from the day files (\`threadmill nostr index verify ${dir}\` shows every difference)`);
  }
}

/**
 * For `convert`, before it loads the ids it deduplicates against: drops the rows of missing files
 * (so their events are written again when the input holds them) and indexes the events of
 * unindexed files (so they are not written twice). Only those parts are touched, on a temporary
 * copy renamed into place, so a failure leaves index.db as it was. Returns what was repaired.
 */
export async function repairIndexDrift(dir: string, indexedAt: number): Promise<IndexDrift | null> {
  const path = indexPath(dir);
  if (!existsSync(path)) return null;
  const reader = new Database(path, { readonly: true, fileMustExist: true });
  let drift: IndexDrift;
  try {
    drift = indexDrift(dir, rowsPerFile(reader));
  } catch (err) {
    throw unreadableIndex(dir, err);
  } finally {
    reader.close();
  }
  if (drift.missing.length === 0 && drift.unindexed.length === 0) return null;
  const tx = new OutputTransaction();
  const tmp = tx.tempFor(path);
  try {
    await rewrite(path, tmp, dir, drift, indexedAt);
    tx.commit();
  } catch (err) {
    tx.abort();
    throw err;
  }
  return drift;
}

async function rewrite(path: string, tmp: string, dir: string, drift: IndexDrift, indexedAt: number): Promise<void> {
  // A plain copy is a consistent snapshot: index.db only ever changes by rename (no WAL, no journal).
  copyFileSync(path, tmp);
  const db = new Database(tmp);
  try {
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    const drop = db.prepare('DELETE FROM events WHERE file_path = ?');
    db.transaction(() => { for (const m of drift.missing) drop.run(m.file); })();
    // INSERT OR IGNORE: an event already indexed under another file keeps its row (the first copy wins, as in rebuild).
    const insert = db.prepare('INSERT OR IGNORE INTO events (id, kind, pubkey, created_at, file_path, indexed_at) VALUES (?, ?, ?, ?, ?, ?)');
    for (const file of drift.unindexed) {
      db.exec('BEGIN');
      for await (const ev of readPbGz(join(dir, file))) insert.run(ev.id, ev.kind, ev.pubkey, ev.created_at, file, indexedAt);
      db.exec('COMMIT');
    }
  } finally {
    db.close();
  }
}
