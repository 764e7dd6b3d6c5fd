/**
 * Queries over an fs-scans database (ours or one fs-scans wrote): the filters and sorts of
 * `fs-scans query` (fs_scans/core/query_builder.py, queries/query_engine.py), per-owner / per-group
 * summaries and the per-user histograms. Subtree scopes use the anc_d{k} columns (one indexed
 * equality) where the scope's level allows, a recursive walk otherwise — as fs-scans does.
 */
import Database from 'better-sqlite3';
import { ThreadmillError } from '../../engine/errors.js';
import { ATIME_BUCKETS, SIZE_BUCKETS } from './buckets.js';
import { SCOPE_MAX_DEPTH } from './schema.js';
import { localNaive, naiveText } from './time.js';

export interface DirectoryQuery {
  minDepth?: number;
  maxDepth?: number;
  /** uid or user name. */
  owner?: string;
  /** gid or group name. */
  group?: string;
  singleOwner?: boolean;
  pathPrefix?: string[];
  exclude?: string[];
  namePattern?: string[];
  ignoreCase?: boolean;
  /** `YYYY-MM-DD`, `Nyrs` or `Nmo`. */
  accessedBefore?: string;
  accessedAfter?: string;
  /** Compare access dates with the directory's own files (max_atime_nr) instead of its subtree. */
  atimeNonRecursive?: boolean;
  minSize?: number;
  maxSize?: number;
  minFiles?: number;
  maxFiles?: number;
  leavesOnly?: boolean;
  sortBy?: string;
  /** 0 for no limit. */
  limit?: number;
}

export interface DirectoryRow {
  path: string; depth: number; files_r: number; size_r: bigint; dirs_r: number; files_nr: number; size_nr: bigint; dirs_nr: number;
  max_atime_r: string | null; max_atime_nr: string | null; owner_uid: number | null; owner: string | null; owner_gid: number | null; group: string | null;
}

/** query_builder.py SORT_MAP. */
export const SORT_MAP: Record<string, string> = {
  size: 's.total_size_r DESC', size_r: 's.total_size_r DESC', size_nr: 's.total_size_nr DESC',
  files: 's.file_count_r DESC', files_r: 's.file_count_r DESC', files_nr: 's.file_count_nr DESC',
  dirs: 's.dir_count_r DESC', dirs_r: 's.dir_count_r DESC', dirs_nr: 's.dir_count_nr DESC',
  atime: 's.max_atime_r DESC', atime_r: 's.max_atime_r DESC', path: 'd.depth ASC, d.name ASC', depth: 'd.depth DESC',
};

function bad(message: string): never {
  throw new ThreadmillError('USAGE', message, { exitCode: 2 });
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, pb: 1e15, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40, pib: 2 ** 50, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/** fs-scans' format_size: one decimal, binary units. */
export function humanSize(n: bigint | number): string {
  let v = Number(n);
  for (const unit of ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']) {
    if (Math.abs(v) < 1024) return `${v.toFixed(1)} ${unit}`;
    v /= 1024;
  }
  return `${v.toFixed(1)} EiB`;
}

/** fs-scans' parse_size: `500MB` (SI), `2GiB` / `2G` (binary), plain bytes. */
export function parseSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(v.trim());
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase() || 'b'] : undefined;
  if (!m || unit === undefined) bad(`invalid size ${JSON.stringify(v)} (e.g. 500MB, 2GiB, 10G)`);
  return Math.floor(Number(m[1]) * unit);
}

/** fs-scans' parse_file_count: `500`, `10K` (×1000), `2M`. */
export function parseCount(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmM]?)$/.exec(v.trim());
  if (!m) bad(`invalid count ${JSON.stringify(v)} (e.g. 500, 10K, 2M)`);
  return Math.floor(Number(m[1]) * (m[2] === '' ? 1 : m[2]!.toLowerCase() === 'k' ? 1e3 : 1e6));
}

/** fs-scans' parse_date_arg: `YYYY-MM-DD`, or `Nyrs` / `Nmo` before now; as the text stored in max_atime_*. */
export function parseDateArg(v: string, nowEpoch = Date.now() / 1000): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return `${v} 00:00:00`;
  const m = /^(\d+)(yrs?|mo)$/.exec(v.toLowerCase());
  if (!m) bad(`invalid date ${JSON.stringify(v)}: use YYYY-MM-DD or Nyrs/Nmo`);
  const now = naiveText(localNaive(Math.floor(nowEpoch)));
  let y = Number(now.slice(0, 4)), mo = Number(now.slice(5, 7)), d = Number(now.slice(8, 10));
  const n = Number(m[1]);
  if (m[2]!.startsWith('yr')) y -= n;
  else {
    mo -= n;
    while (mo <= 0) { mo += 12; y--; }
    d = Math.min(d, 28);
  }
  return `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}${now.slice(10)}`;
}

function with_(ctes: string[]): string {
  return ctes.length ? `WITH RECURSIVE ${ctes.join(', ')} ` : '';
}

export class ScanDb {
  private readonly db: Database.Database;
  private readonly paths = new Map<number, string>();
  private readonly rootDepth: number;
  private readonly roots: { dir_id: number; path: string }[];

  constructor(path: string) {
    try {
      this.db = new Database(path, { readonly: true, fileMustExist: true });
      this.db.prepare('SELECT 1 FROM directory_stats LIMIT 1').get();
    } catch (err) {
      throw new ThreadmillError('FSSCAN_NO_DATABASE', `${path}: not an fs-scans database (${(err as Error).message})`);
    }
    this.db.defaultSafeIntegers(false);
    this.rootDepth = (this.db.prepare('SELECT MIN(depth) AS d FROM directories').get() as { d: number | null }).d ?? 1;
    const hasRoots = this.db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'threadmill_roots'").get() !== undefined;
    // A database fs-scans wrote has no root paths: its roots read as "/<name>", as fs-scans prints them.
    this.roots = hasRoots ? (this.db.prepare('SELECT dir_id, path FROM threadmill_roots').all() as { dir_id: number; path: string }[])
      : (this.db.prepare("SELECT dir_id, '/' || name AS path FROM directories WHERE parent_id IS NULL").all() as { dir_id: number; path: string }[]);
    for (const r of this.roots) this.paths.set(r.dir_id, r.path);
  }

  close(): void {
    this.db.close();
  }

  /** dir_id of a full path, or null. */
  resolve(path: string): number | null {
    const p = path.replace(/\/+$/, '');
    const child = this.db.prepare('SELECT dir_id FROM directories WHERE parent_id = ? AND name = ?');
    for (const r of this.roots) {
      if (p !== r.path && !p.startsWith(`${r.path}/`)) continue;
      let id: number | null = r.dir_id;
      for (const name of p.slice(r.path.length).split('/').filter(Boolean)) {
        const row = child.get(id, name) as { dir_id: number } | undefined;
        id = row ? row.dir_id : null;
        if (id === null) break;
      }
      if (id !== null) return id;
    }
    return null;
  }

  /** Full path of a directory (walks its parents; cached). */
  pathOf(id: number): string {
    const known = this.paths.get(id);
    if (known !== undefined) return known;
    const row = this.db.prepare('SELECT parent_id, name FROM directories WHERE dir_id = ?').get(id) as { parent_id: number | null; name: string } | undefined;
    if (!row) return `<unknown:${id}>`;
    const p = row.parent_id === null ? `/${row.name}` : `${this.pathOf(row.parent_id)}/${row.name}`;
    this.paths.set(id, p);
    return p;
  }

  private depthOf(id: number): number {
    return (this.db.prepare('SELECT depth FROM directories WHERE dir_id = ?').get(id) as { depth: number }).depth;
  }

  /** `s.anc_dK = id` when the level has a column, else membership in the recursive subtree. */
  private scope(id: number, params: unknown[], ctes: { sql: string[]; params: unknown[] }): string {
    const level = this.depthOf(id) - this.rootDepth + 1;
    if (level >= 1 && level <= SCOPE_MAX_DEPTH) {
      params.push(id);
      return `s.anc_d${level} IS NOT NULL AND s.anc_d${level} = ?`;
    }
    const name = `sub${ctes.sql.length}`;
    ctes.sql.push(`${name}(dir_id) AS (SELECT ? UNION ALL SELECT c.dir_id FROM directories c JOIN ${name} p ON c.parent_id = p.dir_id)`);
    ctes.params.push(id);
    return `s.dir_id IN (SELECT dir_id FROM ${name})`;
  }

  private idOf(v: string, table: 'user' | 'group'): number {
    if (/^\d+$/.test(v)) return Number(v);
    const row = table === 'user' ? this.db.prepare('SELECT uid AS id FROM user_info WHERE username = ?').get(v) : this.db.prepare('SELECT gid AS id FROM group_info WHERE groupname = ?').get(v);
    if (!row) bad(`unknown ${table} ${JSON.stringify(v)} (not in this database's ${table}_info; give the number)`);
    return (row as { id: number }).id;
  }

  /** WHERE conditions, parameters and CTEs of a directory query (query_builder.py's filters). */
  private filters(q: DirectoryQuery): { where: string[]; params: unknown[]; ctes: { sql: string[]; params: unknown[] } } {
    const where: string[] = [];
    const params: unknown[] = [];
    const ctes = { sql: [] as string[], params: [] as unknown[] };
    const add = (sql: string, ...p: unknown[]): void => { where.push(sql); params.push(...p); };
    if (q.minDepth !== undefined) add('d.depth >= ?', q.minDepth);
    if (q.maxDepth !== undefined) add('d.depth <= ?', q.maxDepth);
    if (q.singleOwner) add('s.owner_uid IS NOT NULL AND s.owner_uid != -1');
    if (q.owner !== undefined) add('s.owner_uid = ?', this.idOf(q.owner, 'user'));
    if (q.group !== undefined) add('s.owner_gid = ?', this.idOf(q.group, 'group'));
    const atime = q.atimeNonRecursive ? 's.max_atime_nr' : 's.max_atime_r';
    if (q.accessedBefore) add(`${atime} < ?`, parseDateArg(q.accessedBefore));
    if (q.accessedAfter) add(`${atime} > ?`, parseDateArg(q.accessedAfter));
    if (q.leavesOnly) add('s.dir_count_nr = 0');
    if (q.namePattern?.length) {
      const op = q.ignoreCase ? 'LIKE' : 'GLOB';
      where.push(`(${q.namePattern.map(() => `d.name ${op} ?`).join(' OR ')})`);
      params.push(...q.namePattern.map((p) => (q.ignoreCase ? p.replace(/\*/g, '%').replace(/\?/g, '_') : p)));
    }
    if (q.minSize !== undefined) add('s.total_size_r >= ?', q.minSize);
    if (q.maxSize !== undefined) add('s.total_size_r <= ?', q.maxSize);
    if (q.minFiles !== undefined) add('s.file_count_r >= ?', q.minFiles);
    if (q.maxFiles !== undefined) add('s.file_count_r <= ?', q.maxFiles);
    if (q.pathPrefix?.length) {
      const ids = q.pathPrefix.map((p) => this.resolve(p)).filter((id): id is number => id !== null);
      if (ids.length === 0) add('0');
      else {
        where.push(`(${ids.map((id) => `(${this.scope(id, params, ctes)})`).join(' OR ')})`);
      }
    }
    for (const e of q.exclude ?? []) {
      const id = this.resolve(e);
      if (id === null) continue;
      where.push(`NOT (${this.scope(id, params, ctes)})`);
    }
    return { where, params, ctes };
  }

  directories(q: DirectoryQuery): DirectoryRow[] {
    const { where, params, ctes } = this.filters(q);
    const order = SORT_MAP[q.sortBy ?? 'size'];
    if (!order) bad(`--sort-by must be one of ${Object.keys(SORT_MAP).join(', ')}`);
    const sql = `${with_(ctes.sql)}SELECT d.dir_id, d.depth, s.file_count_nr, s.total_size_nr, s.dir_count_nr, s.max_atime_nr, s.file_count_r, s.total_size_r, s.dir_count_r, s.max_atime_r, s.owner_uid, s.owner_gid, u.username, g.groupname
      FROM directories d JOIN directory_stats s USING (dir_id) LEFT JOIN user_info u ON u.uid = s.owner_uid LEFT JOIN group_info g ON g.gid = s.owner_gid
      ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order}, d.dir_id ASC${q.limit ? ` LIMIT ${Math.floor(q.limit)}` : ''}`;
    const rows = this.db.prepare(sql).safeIntegers(true).all(...ctes.params, ...params) as Record<string, bigint | string | null>[];
    const num = (v: bigint | string | null | undefined): number | null => (v === null || v === undefined ? null : Number(v));
    const time = (v: bigint | string | null | undefined): string | null => (typeof v === 'string' ? v : null);
    return rows.map((r) => ({
      path: this.pathOf(Number(r.dir_id)), depth: num(r.depth)!, files_r: num(r.file_count_r)!, size_r: r.total_size_r as bigint, dirs_r: num(r.dir_count_r)!,
      files_nr: num(r.file_count_nr)!, size_nr: r.total_size_nr as bigint, dirs_nr: num(r.dir_count_nr)!, max_atime_r: time(r.max_atime_r), max_atime_nr: time(r.max_atime_nr),
      owner_uid: num(r.owner_uid), owner: r.username as string | null, owner_gid: num(r.owner_gid), group: r.groupname as string | null,
    }));
  }

  /** Per-owner or per-group totals (query_owner_summary / query_group_summary). */
  groupBy(by: 'owner' | 'group', q: Pick<DirectoryQuery, 'minDepth' | 'maxDepth' | 'pathPrefix' | 'limit' | 'sortBy'>): { id: number; name: string | null; size: bigint; files: number; directories: number }[] {
    const col = by === 'owner' ? 'owner_uid' : 'owner_gid';
    const names = by === 'owner' ? 'LEFT JOIN user_info n ON n.uid = x.id' : 'LEFT JOIN group_info n ON n.gid = x.id';
    const nameCol = by === 'owner' ? 'n.username' : 'n.groupname';
    const sort = { size: 'size DESC', files: 'files DESC', dirs: 'directories DESC', directories: 'directories DESC' }[q.sortBy ?? 'size'] ?? 'size DESC';
    const filtered = q.minDepth !== undefined || q.maxDepth !== undefined || q.pathPrefix?.length;
    let inner: string;
    let params: unknown[] = [];
    let ctes = { sql: [] as string[], params: [] as unknown[] };
    if (!filtered) inner = `SELECT ${col} AS id, total_size AS size, total_files AS files, directory_count AS directories FROM ${by}_summary`;
    else {
      const f = this.filters({ minDepth: q.minDepth, maxDepth: q.maxDepth, pathPrefix: q.pathPrefix });
      params = f.params;
      ctes = f.ctes;
      inner = `SELECT s.${col} AS id, SUM(s.total_size_nr) AS size, SUM(s.file_count_nr) AS files, COUNT(*) AS directories FROM directories d JOIN directory_stats s USING (dir_id)
        WHERE s.${col} IS NOT NULL AND s.${col} >= 0${f.where.length ? ` AND ${f.where.join(' AND ')}` : ''} GROUP BY s.${col}`;
    }
    const sql = `${with_(ctes.sql)}SELECT x.id, ${nameCol} AS name, x.size, x.files, x.directories FROM (${inner}) x ${names} ORDER BY ${sort}, x.id${q.limit ? ` LIMIT ${Math.floor(q.limit)}` : ''}`;
    return (this.db.prepare(sql).safeIntegers(true).all(...ctes.params, ...params) as { id: bigint; name: string | null; size: bigint; files: bigint; directories: bigint }[])
      .map((r) => ({ id: Number(r.id), name: r.name, size: r.size, files: Number(r.files), directories: Number(r.directories) }));
  }

  /** get_summary: directories, roots, files and size under the roots, deepest level. */
  summary(): { total_directories: number; root_directories: number; total_files: number; total_size: bigint; max_depth: number; scan_date: string | null; filesystem: string | null } {
    const r = this.db.prepare('SELECT COUNT(*) AS roots, SUM(file_count_r) AS files, SUM(total_size_r) AS size FROM directories d JOIN directory_stats s USING (dir_id) WHERE d.parent_id IS NULL').safeIntegers(true).get() as { roots: bigint; files: bigint | null; size: bigint | null };
    const all = this.db.prepare('SELECT COUNT(*) AS n, MAX(depth) AS depth FROM directories').get() as { n: number; depth: number | null };
    const m = this.db.prepare('SELECT scan_timestamp, filesystem FROM scan_metadata ORDER BY scan_id DESC LIMIT 1').get() as { scan_timestamp: string | null; filesystem: string } | undefined;
    return { total_directories: all.n, root_directories: Number(r.roots), total_files: Number(r.files ?? 0n), total_size: r.size ?? 0n, max_depth: all.depth ?? 0, scan_date: m?.scan_timestamp?.slice(0, 10) ?? null, filesystem: m?.filesystem ?? null };
  }

  /** The access-age or size histogram: per bucket, files and allocated bytes, for one owner or all. */
  histogram(kind: 'access' | 'size', owner?: string): { bucket: number; label: string; files: number; size: bigint }[] {
    const table = kind === 'access' ? 'access_histogram' : 'size_histogram';
    const labels = kind === 'access' ? ATIME_BUCKETS.map(([l]) => l) : SIZE_BUCKETS.map(([l]) => l);
    const where = owner === undefined ? '' : 'WHERE owner_uid = ?';
    const rows = this.db.prepare(`SELECT bucket_index AS b, SUM(file_count) AS files, SUM(total_size) AS size FROM ${table} ${where} GROUP BY bucket_index`).safeIntegers(true)
      .all(...(owner === undefined ? [] : [this.idOf(owner, 'user')])) as { b: bigint; files: bigint; size: bigint }[];
    const byBucket = new Map(rows.map((r) => [Number(r.b), r]));
    return labels.map((label, bucket) => ({ bucket, label, files: Number(byBucket.get(bucket)?.files ?? 0n), size: byBucket.get(bucket)?.size ?? 0n }));
  }
}
