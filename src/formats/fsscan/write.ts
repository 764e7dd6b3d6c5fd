/**
 * The one writer: the tree into a new SQLite file in fs-scans' schema, rows in id order, in large
 * transactions, indexes after the bulk load, then pass3's summaries and names. Values as fs-scans
 * stores them: datetimes as `YYYY-MM-DD HH:MM:SS` text (Python's sqlite3 adapter, which its raw
 * SQL updates go through), owner −1 / NULL / id, max_atime_r 0 where its roll-up leaves 0.
 */
import Database from 'better-sqlite3';
import { TextDecoder } from 'node:util';
import { availableParallelism } from 'node:os';
import type { DirTable } from './merge.js';
import { CREATE_INDEXES, CREATE_TABLES, SCOPE_MAX_DEPTH } from './schema.js';
import { ATIME_ZERO, ownerValue, type Tree } from './tree.js';
import { groupNames, passwdNames } from './names.js';
import { naiveText, nowLocalText } from './time.js';

export interface ScanFacts {
  sourceFile: string;
  filesystem: string;
  /** Naive seconds, or null when unknown. */
  scanDate: number | null;
  /** Full path of the directory above the roots, e.g. `/gpfs/csfs1` (threadmill_roots). */
  extra: Record<string, string | number>;
  /**
   * Where user and group names come from: the cluster's copies of passwd and group (`--passwd`,
   * `--group`), this machine's by default; null: no names (`--no-names`, the numbers stay).
   */
  names?: { passwd: string; group: string } | null;
}

const ROWS_PER_TRANSACTION = 200_000;
const utf8 = new TextDecoder();

function atimeValue(t: number): string | number | null {
  if (t === -Infinity) return null;
  return t === ATIME_ZERO ? 0 : naiveText(t);
}

/** Path from the root's parent down to a root, for threadmill_roots. */
function fullPath(table: DirTable, i: number): string {
  const parts: string[] = [];
  for (let g = i; g >= 0; g = table.parent[g]!) parts.push(utf8.decode(table.nameOf(g)));
  return `/${parts.reverse().join('/')}`;
}

/** Rows per INSERT statement: one statement per row cost ~2× as much (1.33M directories, CPU time). */
const ROWS_PER_STATEMENT = 50;

/** INSERT of `rows` rows of `cols` columns. */
function insertSql(table: string, cols: string[], rows: number): string {
  const one = `(${cols.map(() => '?').join(', ')})`;
  return `INSERT INTO ${table} (${cols.join(', ')}) VALUES ${Array(rows).fill(one).join(', ')}`;
}

function writeRows(db: Database.Database, table: DirTable, tree: Tree): void {
  const dirCols = ['dir_id', 'parent_id', 'name', 'depth'];
  const statCols = ['dir_id', 'file_count_nr', 'total_size_nr', 'dir_count_nr', 'max_atime_nr', 'file_count_r', 'total_size_r', 'dir_count_r', 'max_atime_r', 'owner_uid', 'owner_gid', ...Array.from({ length: SCOPE_MAX_DEPTH }, (_, k) => `anc_d${k + 1}`)];
  const dirMany = db.prepare(insertSql('directories', dirCols, ROWS_PER_STATEMENT));
  const statMany = db.prepare(insertSql('directory_stats', statCols, ROWS_PER_STATEMENT));
  const dirOne = db.prepare(insertSql('directories', dirCols, 1));
  const statOne = db.prepare(insertSql('directory_stats', statCols, 1));
  const rootStmt = db.prepare('INSERT INTO threadmill_roots (dir_id, path) VALUES (?, ?)');
  const n = tree.order.length;
  let dirVals: unknown[] = [];
  let statVals: unknown[] = [];
  const row = (id: number): void => {
    const i = tree.order[id]!;
    const depth = table.depth[i]!;
    const isRoot = depth === tree.rootDepth;
    dirVals.push(id, isRoot ? null : tree.idOf[table.parent[i]!], utf8.decode(table.nameOf(i)), depth);
    statVals.push(id, table.files[i], table.size[i], tree.dirsNr[id], atimeValue(table.atime[i]!), tree.filesR[id], tree.sizeR[id], tree.dirsR[id], atimeValue(tree.atimeR[id]!), ownerValue(tree.uidR[id]!), ownerValue(tree.gidR[id]!));
    // anc_dk: the ancestor at level k counted from the root (level 1), self at its own level.
    const at = statVals.length;
    for (let k = 0; k < SCOPE_MAX_DEPTH; k++) statVals.push(null);
    for (let g = i, d = depth; d >= tree.rootDepth; g = table.parent[g]!, d--) {
      const level = d - tree.rootDepth + 1;
      if (level <= SCOPE_MAX_DEPTH) statVals[at + level - 1] = tree.idOf[g]!;
    }
    if (isRoot) rootStmt.run(id, fullPath(table, i));
  };
  const batch = db.transaction((from: number, to: number) => {
    let id = from;
    for (; id + ROWS_PER_STATEMENT <= to; id += ROWS_PER_STATEMENT) {
      for (let k = 0; k < ROWS_PER_STATEMENT; k++) row(id + k);
      dirMany.run(dirVals);
      statMany.run(statVals);
      dirVals = [];
      statVals = [];
    }
    for (; id < to; id++) {
      row(id);
      dirOne.run(dirVals);
      statOne.run(statVals);
      dirVals = [];
      statVals = [];
    }
  });
  for (let from = 0; from < n; from += ROWS_PER_TRANSACTION) batch(from, Math.min(n, from + ROWS_PER_TRANSACTION));
}

function writeHistograms(db: Database.Database, table: DirTable): void {
  const age = db.prepare('INSERT INTO access_histogram (owner_uid, bucket_index, file_count, total_size) VALUES (?, ?, ?, ?)');
  const size = db.prepare('INSERT INTO size_histogram (owner_uid, bucket_index, file_count, total_size) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (const uid of [...table.hist.keys()].sort((a, b) => a - b)) {
      const h = table.hist.get(uid)!;
      for (let k = 0; k < 10; k++) if (h.files[k]! > 0) age.run(uid, k, h.files[k], h.bytes[k]);
      for (let k = 0; k < 10; k++) if (h.files[10 + k]! > 0) size.run(uid, k, h.files[10 + k], h.bytes[10 + k]);
    }
  })();
}

interface OwnerTotals { size: bigint; files: number; dirs: number }

/**
 * pass3's owner_summary and group_summary: per single owner (uid/gid ≥ 0) of a directory, the sum
 * of its own (_nr) bytes and files and the number of directories, in key order as SQL's GROUP BY
 * gives them. Summed here from the tree rather than by fs-scans' `INSERT … SELECT … GROUP BY`, which sorted
 * 1.33M rows: 1.6 s CPU on the 1.33M-directory bench scan, this loop a few hundredths.
 */
function writeSummaries(db: Database.Database, table: DirTable, tree: Tree): void {
  const byUid = new Map<number, OwnerTotals>();
  const byGid = new Map<number, OwnerTotals>();
  const add = (m: Map<number, OwnerTotals>, key: number | null, i: number): void => {
    if (key === null || key < 0) return;
    const t = m.get(key);
    if (t) { t.size += table.size[i]!; t.files += table.files[i]!; t.dirs++; } else m.set(key, { size: table.size[i]!, files: table.files[i]!, dirs: 1 });
  };
  for (let id = 0; id < tree.order.length; id++) {
    const i = tree.order[id]!;
    add(byUid, ownerValue(tree.uidR[id]!), i);
    add(byGid, ownerValue(tree.gidR[id]!), i);
  }
  const insert = (sql: string, m: Map<number, OwnerTotals>): void => {
    const stmt = db.prepare(sql);
    for (const k of [...m.keys()].sort((a, b) => a - b)) { const t = m.get(k)!; stmt.run(k, t.size, t.files, t.dirs); }
  };
  db.transaction(() => {
    insert('INSERT INTO owner_summary (owner_uid, total_size, total_files, directory_count) VALUES (?, ?, ?, ?)', byUid);
    insert('INSERT INTO group_summary (owner_gid, total_size, total_files, directory_count) VALUES (?, ?, ?, ?)', byGid);
  })();
}

function writeNames(db: Database.Database, from: ScanFacts['names']): void {
  const users = from === null ? new Map<number, [string, string | null]>() : passwdNames(from?.passwd);
  const groups = from === null ? new Map<number, string>() : groupNames(from?.group);
  const u = db.prepare('INSERT INTO user_info (uid, username, full_name) VALUES (?, ?, ?)');
  const g = db.prepare('INSERT INTO group_info (gid, groupname) VALUES (?, ?)');
  db.transaction(() => {
    for (const { v } of db.prepare('SELECT DISTINCT owner_uid AS v FROM directory_stats WHERE owner_uid IS NOT NULL AND owner_uid >= 0 ORDER BY 1').all() as { v: number }[]) {
      const name = users.get(v);
      u.run(v, name?.[0] ?? null, name?.[1] ?? null);
    }
    for (const { v } of db.prepare('SELECT DISTINCT owner_gid AS v FROM directory_stats WHERE owner_gid IS NOT NULL AND owner_gid >= 0 ORDER BY 1').all() as { v: number }[]) g.run(v, groups.get(v) ?? null);
  })();
}

function writeMetadata(db: Database.Database, facts: ScanFacts, dirCount: number): void {
  const totals = db.prepare('SELECT COALESCE(SUM(s.file_count_r), 0) AS files, COALESCE(SUM(s.total_size_r), 0) AS size FROM directories d JOIN directory_stats s USING (dir_id) WHERE d.parent_id IS NULL').safeIntegers().get() as { files: bigint; size: bigint };
  db.prepare('INSERT INTO scan_metadata (source_file, scan_timestamp, import_timestamp, filesystem, total_directories, total_files, total_size) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(facts.sourceFile, facts.scanDate === null ? null : naiveText(facts.scanDate), nowLocalText(), facts.filesystem, dirCount, totals.files, totals.size);
  const kv = db.prepare('INSERT INTO threadmill_import (key, value) VALUES (?, ?)');
  db.transaction(() => {
    for (const [k, v] of Object.entries(facts.extra)) kv.run(k, typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : v);
  })();
}

/** Writes a complete database at `path` (a fresh temporary file; the caller renames it into place). */
export function writeDatabase(path: string, table: DirTable, tree: Tree, facts: ScanFacts): void {
  const db = new Database(path);
  try {
    // A fresh temporary that is renamed only when complete: a journal would protect nothing.
    db.pragma('journal_mode = OFF');
    // Every row comes from one tree, parents first: better-sqlite3's default foreign-key checks (a
    // parent lookup per directories row, a directories lookup per directory_stats row) prove
    // nothing and cost ~0.5 s of the 4.6 s row inserts on the 1.33M-directory bench scan.
    db.pragma('foreign_keys = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -262144');
    // CREATE INDEX sorts with helper threads (SQLite's multi-threaded sorter); 25 indexes on
    // millions of rows are most of the write.
    db.pragma(`threads = ${Math.min(8, availableParallelism())}`);
    for (const sql of CREATE_TABLES) db.exec(sql);
    writeRows(db, table, tree);
    writeSummaries(db, table, tree);
    for (const sql of CREATE_INDEXES) db.exec(sql);
    writeHistograms(db, table);
    writeNames(db, facts.names);
    writeMetadata(db, facts, tree.order.length);
    db.pragma('journal_mode = DELETE');
    // Planner statistics from a sample (fs-scans runs PRAGMA optimize); a full ANALYZE reads all 25 indexes.
    db.pragma('analysis_limit = 1000');
    db.exec('ANALYZE');
  } finally {
    db.close();
  }
}
