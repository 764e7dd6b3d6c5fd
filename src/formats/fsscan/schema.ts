/**
 * fs-scans' SQLite schema, as SQLAlchemy's `create_all` emits it from fs_scans/core/models.py
 * (hpc-usage-queries at 39d3354): same tables, column order, declared types, NOT NULL and keys,
 * so that `fs-scans query`, `analyze` and `consolidate` read our database unchanged. Indexes are
 * those of fs_scans/importers/add_table_indexing.py (SQLite branch), built after the bulk load.
 * Our own extras live in tables prefixed `threadmill_`.
 */

/** anc_d1 … anc_d9: models.py SCOPE_MAX_DEPTH. */
export const SCOPE_MAX_DEPTH = 9;
/** Indexed band of relative levels: models.py SCOPE_INDEX_MIN_DEPTH / SCOPE_INDEX_MAX_DEPTH. */
export const SCOPE_INDEX_MIN_DEPTH = 2;
export const SCOPE_INDEX_MAX_DEPTH = 7;

const anc = Array.from({ length: SCOPE_MAX_DEPTH }, (_, k) => `\tanc_d${k + 1} INTEGER, `).join('\n');

export const CREATE_TABLES: readonly string[] = [
  `CREATE TABLE directories (
\tdir_id INTEGER NOT NULL, 
\tparent_id INTEGER, 
\tname TEXT NOT NULL, 
\tdepth INTEGER NOT NULL, 
\tPRIMARY KEY (dir_id), 
\tFOREIGN KEY(parent_id) REFERENCES directories (dir_id)
)`,
  `CREATE TABLE directory_stats (
\tdir_id INTEGER NOT NULL, 
\tfile_count_nr BIGINT NOT NULL, 
\ttotal_size_nr BIGINT NOT NULL, 
\tdir_count_nr BIGINT NOT NULL, 
\tmax_atime_nr DATETIME, 
\tfile_count_r BIGINT NOT NULL, 
\ttotal_size_r BIGINT NOT NULL, 
\tdir_count_r BIGINT NOT NULL, 
\tmax_atime_r DATETIME, 
\towner_uid BIGINT, 
\towner_gid BIGINT, 
${anc}
\tPRIMARY KEY (dir_id), 
\tFOREIGN KEY(dir_id) REFERENCES directories (dir_id)
)`,
  `CREATE TABLE scan_metadata (
\tscan_id INTEGER NOT NULL, 
\tsource_file TEXT NOT NULL, 
\tscan_timestamp DATETIME, 
\timport_timestamp DATETIME, 
\tfilesystem TEXT NOT NULL, 
\ttotal_directories BIGINT, 
\ttotal_files BIGINT, 
\ttotal_size BIGINT, 
\tPRIMARY KEY (scan_id)
)`,
  `CREATE TABLE owner_summary (
\towner_uid BIGINT NOT NULL, 
\ttotal_size BIGINT, 
\ttotal_files BIGINT, 
\tdirectory_count INTEGER, 
\tPRIMARY KEY (owner_uid)
)`,
  `CREATE TABLE user_info (
\tuid BIGINT NOT NULL, 
\tusername TEXT, 
\tfull_name TEXT, 
\tPRIMARY KEY (uid)
)`,
  `CREATE TABLE group_info (
\tgid BIGINT NOT NULL, 
\tgroupname TEXT, 
\tPRIMARY KEY (gid)
)`,
  `CREATE TABLE group_summary (
\towner_gid BIGINT NOT NULL, 
\ttotal_size BIGINT, 
\ttotal_files BIGINT, 
\tdirectory_count INTEGER, 
\tPRIMARY KEY (owner_gid)
)`,
  `CREATE TABLE access_histogram (
\towner_uid BIGINT NOT NULL, 
\tbucket_index INTEGER NOT NULL, 
\tfile_count BIGINT, 
\ttotal_size BIGINT, 
\tPRIMARY KEY (owner_uid, bucket_index)
)`,
  'CREATE INDEX ix_access_hist_uid ON access_histogram (owner_uid)',
  'CREATE INDEX ix_access_hist_bucket ON access_histogram (bucket_index)',
  `CREATE TABLE size_histogram (
\towner_uid BIGINT NOT NULL, 
\tbucket_index INTEGER NOT NULL, 
\tfile_count BIGINT, 
\ttotal_size BIGINT, 
\tPRIMARY KEY (owner_uid, bucket_index)
)`,
  'CREATE INDEX ix_size_hist_uid ON size_histogram (owner_uid)',
  'CREATE INDEX ix_size_hist_bucket ON size_histogram (bucket_index)',
  // Ours: the full path of each root (fs-scans keeps only its last name), and run facts.
  'CREATE TABLE threadmill_roots (dir_id INTEGER PRIMARY KEY, path TEXT NOT NULL)',
  'CREATE TABLE threadmill_import (key TEXT PRIMARY KEY, value)',
];

/** add_table_indexing.py, SQLite branch, in its order. */
export const CREATE_INDEXES: readonly string[] = [
  'CREATE INDEX IF NOT EXISTS ix_directories_parent ON directories(parent_id)',
  'CREATE INDEX IF NOT EXISTS ix_directories_depth  ON directories(depth)',
  'CREATE UNIQUE INDEX IF NOT EXISTS uq_dir_parent_name ON directories (parent_id, name)',
  'CREATE INDEX IF NOT EXISTS ix_stats_file_count_nr  ON directory_stats(file_count_nr)',
  'CREATE INDEX IF NOT EXISTS ix_stats_total_size_nr  ON directory_stats(total_size_nr)',
  'CREATE INDEX IF NOT EXISTS ix_stats_dir_count_nr   ON directory_stats(dir_count_nr)',
  'CREATE INDEX IF NOT EXISTS ix_stats_file_count_r   ON directory_stats(file_count_r)',
  'CREATE INDEX IF NOT EXISTS ix_stats_total_size_r   ON directory_stats(total_size_r)',
  'CREATE INDEX IF NOT EXISTS ix_stats_dir_count_r    ON directory_stats(dir_count_r)',
  'CREATE INDEX IF NOT EXISTS ix_stats_owner_uid      ON directory_stats(owner_uid)',
  'CREATE INDEX IF NOT EXISTS ix_stats_owner_gid      ON directory_stats(owner_gid)',
  'CREATE INDEX IF NOT EXISTS ix_stats_owner_size     ON directory_stats(owner_uid, total_size_r)',
  'CREATE INDEX IF NOT EXISTS ix_stats_owner_files    ON directory_stats(owner_uid, file_count_r)',
  'CREATE INDEX IF NOT EXISTS ix_stats_group_size     ON directory_stats(owner_gid, total_size_r)',
  'CREATE INDEX IF NOT EXISTS ix_stats_group_files    ON directory_stats(owner_gid, file_count_r)',
  ...Array.from({ length: SCOPE_INDEX_MAX_DEPTH - SCOPE_INDEX_MIN_DEPTH + 1 }, (_, k) => `CREATE INDEX IF NOT EXISTS ix_stats_anc_d${k + SCOPE_INDEX_MIN_DEPTH} ON directory_stats(anc_d${k + SCOPE_INDEX_MIN_DEPTH})`),
];
