/**
 * `threadmill nostr index rebuild DIR`: a fresh index.db from the `.pb.gz` files, written to a
 * temporary file and renamed into place, so the old index stays readable until the new one is
 * complete.
 */
import Database from 'better-sqlite3';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { ThreadmillError } from '../../engine/errors.js';
import { join } from 'node:path';
import { OutputTransaction, recoverDirectory, isTemporaryName } from '../../engine/atomic.js';
import { SCHEMA, SECONDARY_INDEXES, indexPath } from './index-db.js';
import { readPbGz } from './pb-reader.js';

export interface RebuildSummary { files: number; events: number; duplicates: number; seconds: number }

export function dayFilesIn(dir: string): string[] {
  return readdirSync(dir).filter((n) => /^\d{4,}_\d\d_\d\d\.pb\.gz$/.test(n) && !isTemporaryName(n)).sort();
}

export async function rebuildIndex(dir: string, indexedAt = Math.floor(Date.now() / 1000)): Promise<RebuildSummary> {
  const started = performance.now();
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ThreadmillError('INPUT_NOT_FOUND', `${dir}: no such directory (give the output directory of nostr convert)`);
  recoverDirectory(dir);
  const tx = new OutputTransaction();
  const tmp = tx.tempFor(indexPath(dir));
  const db = new Database(tmp);
  try {
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.exec(SCHEMA);
    const insert = db.prepare('INSERT OR IGNORE INTO events (id, kind, pubkey, created_at, file_path, indexed_at) VALUES (?, ?, ?, ?, ?, ?)');
    const files = dayFilesIn(dir);
    let events = 0;
    let inserted = 0;
    for (const file of files) {
      db.exec('BEGIN');
      for await (const ev of readPbGz(join(dir, file))) {
        events++;
        inserted += insert.run(ev.id, ev.kind, ev.pubkey, ev.created_at, file, indexedAt).changes;
      }
      db.exec('COMMIT');
    }
    db.exec(SECONDARY_INDEXES);
    db.close();
    tx.commit();
    return { files: files.length, events, duplicates: events - inserted, seconds: (performance.now() - started) / 1000 };
  } catch (err) {
    if (db.open) db.close();
    tx.abort();
    throw err;
  }
}
