/**
 * Interchangeability with fs-scans (hpc-usage-queries 39d3354), whose Python cannot run here:
 * (1) our tables and columns against the schema transcribed by hand from fs_scans/core/models.py;
 * (2) fs-scans' own SQL (query_builder.py, query_engine.py) run against our database, with answers
 * checked against the independent model in helpers.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { importScan } from '../../../src/formats/fsscan/import.js';
import { expectedDirs, generateScan, scanText } from './helpers.js';

/** models.py, column by column: [name, SQLAlchemy type as SQLite declares it, NOT NULL, primary-key position]. */
const MODELS: Record<string, [string, string, boolean, number][]> = {
  directories: [['dir_id', 'INTEGER', true, 1], ['parent_id', 'INTEGER', false, 0], ['name', 'TEXT', true, 0], ['depth', 'INTEGER', true, 0]],
  directory_stats: [
    ['dir_id', 'INTEGER', true, 1], ['file_count_nr', 'BIGINT', true, 0], ['total_size_nr', 'BIGINT', true, 0], ['dir_count_nr', 'BIGINT', true, 0], ['max_atime_nr', 'DATETIME', false, 0],
    ['file_count_r', 'BIGINT', true, 0], ['total_size_r', 'BIGINT', true, 0], ['dir_count_r', 'BIGINT', true, 0], ['max_atime_r', 'DATETIME', false, 0],
    ['owner_uid', 'BIGINT', false, 0], ['owner_gid', 'BIGINT', false, 0],
    ...Array.from({ length: 9 }, (_, k): [string, string, boolean, number] => [`anc_d${k + 1}`, 'INTEGER', false, 0]),
  ],
  scan_metadata: [['scan_id', 'INTEGER', true, 1], ['source_file', 'TEXT', true, 0], ['scan_timestamp', 'DATETIME', false, 0], ['import_timestamp', 'DATETIME', false, 0], ['filesystem', 'TEXT', true, 0], ['total_directories', 'BIGINT', false, 0], ['total_files', 'BIGINT', false, 0], ['total_size', 'BIGINT', false, 0]],
  owner_summary: [['owner_uid', 'BIGINT', true, 1], ['total_size', 'BIGINT', false, 0], ['total_files', 'BIGINT', false, 0], ['directory_count', 'INTEGER', false, 0]],
  group_summary: [['owner_gid', 'BIGINT', true, 1], ['total_size', 'BIGINT', false, 0], ['total_files', 'BIGINT', false, 0], ['directory_count', 'INTEGER', false, 0]],
  user_info: [['uid', 'BIGINT', true, 1], ['username', 'TEXT', false, 0], ['full_name', 'TEXT', false, 0]],
  group_info: [['gid', 'BIGINT', true, 1], ['groupname', 'TEXT', false, 0]],
  access_histogram: [['owner_uid', 'BIGINT', true, 1], ['bucket_index', 'INTEGER', true, 2], ['file_count', 'BIGINT', false, 0], ['total_size', 'BIGINT', false, 0]],
  size_histogram: [['owner_uid', 'BIGINT', true, 1], ['bucket_index', 'INTEGER', true, 2], ['file_count', 'BIGINT', false, 0], ['total_size', 'BIGINT', false, 0]],
};
/** Indexes fs-scans creates (models.py __table_args__ and importers/add_table_indexing.py, SQLite branch). */
const INDEXES = ['ix_access_hist_uid', 'ix_access_hist_bucket', 'ix_size_hist_uid', 'ix_size_hist_bucket', 'ix_directories_parent', 'ix_directories_depth', 'uq_dir_parent_name',
  'ix_stats_file_count_nr', 'ix_stats_total_size_nr', 'ix_stats_dir_count_nr', 'ix_stats_file_count_r', 'ix_stats_total_size_r', 'ix_stats_dir_count_r', 'ix_stats_owner_uid', 'ix_stats_owner_gid',
  'ix_stats_owner_size', 'ix_stats_owner_files', 'ix_stats_group_size', 'ix_stats_group_files', 'ix_stats_anc_d2', 'ix_stats_anc_d3', 'ix_stats_anc_d4', 'ix_stats_anc_d5', 'ix_stats_anc_d6', 'ix_stats_anc_d7'];

const dir = mkdtempSync(join(tmpdir(), 'tm-fsscan-ref-'));
const { records } = generateScan(3, 80, 1500);
const scanPath = join(dir, '20260115_csfs1_proj.list.list_all.log');
writeFileSync(scanPath, scanText(records, 5));
const dbPath = join(dir, 'ref.db');
const want = expectedDirs(records, '/gpfs/fs1/proj');
let db: Database.Database;

test('setup', async () => {
  await importScan({ inputs: [scanPath], db: dbPath, threads: 2, chunkSize: 1 << 16 });
  db = new Database(dbPath, { readonly: true });
});

test('tables, columns, types, NOT NULL and keys are those of models.py; every fs-scans index exists', () => {
  for (const [table, cols] of Object.entries(MODELS)) {
    const info = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string; type: string; notnull: number; pk: number }[];
    assert.deepEqual(info.map((c) => [c.name, c.type, c.notnull === 1, c.pk]), cols, table);
  }
  const fks = db.prepare('PRAGMA foreign_key_list(directory_stats)').all() as { table: string; from: string; to: string }[];
  assert.deepEqual(fks.map((f) => [f.table, f.from, f.to]), [['directories', 'dir_id', 'dir_id']]);
  const names = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all() as { name: string }[]).map((r) => r.name));
  for (const ix of INDEXES) assert.ok(names.has(ix), ix);
  assert.equal((db.prepare("SELECT [unique] AS u FROM pragma_index_list('directories') WHERE name = 'uq_dir_parent_name'").get() as { u: number }).u, 1);
});

/** query_engine.get_full_paths_batch, verbatim: paths from the roots, which fs-scans names by their last component. */
function fullPaths(ids: number[]): Map<number, string> {
  const rows = db.prepare(`WITH RECURSIVE path_cte AS (
        SELECT dir_id, parent_id, name, dir_id as origin_id, name as path_segment
        FROM directories WHERE dir_id IN (${ids.map(() => '?').join(', ')})
        UNION ALL
        SELECT p.dir_id, p.parent_id, p.name, c.origin_id, p.name || '/' || c.path_segment
        FROM directories p
        JOIN path_cte c ON c.parent_id = p.dir_id
    )
    SELECT origin_id, '/' || path_segment as full_path
    FROM path_cte WHERE parent_id IS NULL`).all(...ids) as { origin_id: number; full_path: string }[];
  return new Map(rows.map((r) => [r.origin_id, r.full_path]));
}
/** fs-scans shows /proj/... for /gpfs/fs1/proj/... (its facade adds the mount back). */
const real = (p: string): string => `/gpfs/fs1${p}`;

test("query_builder.py's listing (depth, single owner, size filters, sort, limit) gives the model's answer", () => {
  const sql = `SELECT d.dir_id, d.parent_id, d.name, d.depth,
         s.file_count_nr, s.total_size_nr, s.max_atime_nr, s.dir_count_nr,
         s.file_count_r, s.total_size_r, s.max_atime_r, s.dir_count_r,
         s.owner_uid, s.owner_gid
      FROM directories d
      JOIN directory_stats s USING (dir_id)
      WHERE d.depth >= :min_depth AND s.owner_uid IS NOT NULL AND s.owner_uid != -1 AND s.total_size_r >= :min_size
      ORDER BY s.total_size_r DESC, d.dir_id ASC LIMIT :limit`;
  const rows = db.prepare(sql).all({ min_depth: 4, min_size: 1, limit: 1000 }) as { dir_id: number; total_size_r: number; owner_uid: number }[];
  const paths = fullPaths(rows.map((r) => r.dir_id));
  const expected = [...want].filter(([p, w]) => p.split('/').length - 1 >= 4 && w.uid !== null && w.uid !== -1 && w.size_r >= 1n).map(([p]) => p).sort();
  assert.deepEqual(rows.map((r) => real(paths.get(r.dir_id)!)).sort(), expected);
  for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1]!.total_size_r >= rows[i]!.total_size_r);
});

test("query_engine.py's path resolution (N-way join from the root's name), anc_d scope and recursive scope agree", () => {
  const target = [...want.keys()].find((p) => p.split('/').length - 1 === 5 && !/\ufffd/.test(p))!;
  const comps = target.split('/').filter(Boolean).slice(2); // fs-scans' root is "proj"
  const joins = comps.slice(1).map((_, i) => `JOIN directories d${i + 2} ON d${i + 2}.parent_id = d${i + 1}.dir_id AND d${i + 2}.name = :c${i + 2}`).join(' ');
  const params = Object.fromEntries(comps.map((c, i) => [`c${i + 1}`, c]));
  const id = (db.prepare(`SELECT d${comps.length}.dir_id AS id FROM directories d1 ${joins} WHERE d1.parent_id IS NULL AND d1.name = :c1`).get(params) as { id: number }).id;
  const rootDepth = (db.prepare('SELECT MIN(depth) AS d FROM directories').get() as { d: number }).d;
  const depth = (db.prepare('SELECT depth FROM directories WHERE dir_id = ?').get(id) as { depth: number }).depth;
  const level = depth - rootDepth + 1;
  assert.equal(db.prepare(`SELECT 1 FROM directory_stats WHERE dir_id = :id AND anc_d${level} = :id`).get({ id }) !== undefined, true, '_scopes_populated self-slot');
  const fast = (db.prepare(`SELECT s.dir_id FROM directory_stats s WHERE s.anc_d${level} = ?`).all(id) as { dir_id: number }[]).map((r) => r.dir_id).sort((a, b) => a - b);
  const slow = (db.prepare(`WITH RECURSIVE ancestors AS (SELECT dir_id FROM directories WHERE dir_id IN (?)),
      descendants AS (SELECT dir_id FROM ancestors UNION ALL SELECT d.dir_id FROM directories d JOIN descendants p ON d.parent_id = p.dir_id)
      SELECT dir_id FROM descendants`).all(id) as { dir_id: number }[]).map((r) => r.dir_id).sort((a, b) => a - b);
  assert.deepEqual(fast, slow);
  const paths = fullPaths(fast);
  assert.deepEqual(fast.map((i) => real(paths.get(i)!)).sort(), [...want.keys()].filter((p) => p === target || p.startsWith(`${target}/`)).sort());
});

test("pass3's summaries and get_summary agree with the model", () => {
  const owners = db.prepare('SELECT owner_uid, total_size, total_files, directory_count FROM owner_summary ORDER BY owner_uid').all() as { owner_uid: number; total_size: number; total_files: number; directory_count: number }[];
  const byOwner = new Map<number, { size: bigint; files: number; dirs: number }>();
  for (const w of want.values()) {
    if (w.uid === null || w.uid < 0) continue;
    const o = byOwner.get(w.uid) ?? { size: 0n, files: 0, dirs: 0 };
    byOwner.set(w.uid, { size: o.size + w.size_nr, files: o.files + w.files_nr, dirs: o.dirs + 1 });
  }
  assert.deepEqual(owners.map((o) => [o.owner_uid, BigInt(o.total_size), o.total_files, o.directory_count]), [...byOwner].sort((a, b) => a[0] - b[0]).map(([u, o]) => [u, o.size, o.files, o.dirs]));
  const s = db.prepare(`SELECT COUNT(*) as dir_count, SUM(file_count_r) as total_files, MAX(total_size_r) as max_size, MAX(depth) as max_depth
      FROM directories d JOIN directory_stats s USING (dir_id) WHERE d.parent_id IS NULL`).get() as { dir_count: number; total_files: number };
  assert.deepEqual([s.dir_count, s.total_files], [1, records.filter((r) => !r.isDir).length]);
  const fileTotals = db.prepare('SELECT SUM(file_count) AS n FROM access_histogram').get() as { n: number };
  assert.equal(fileTotals.n, records.filter((r) => !r.isDir).length);
});
