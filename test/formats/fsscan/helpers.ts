/**
 * Generated scans and an independent model of what fs-scans' database must hold for them. The
 * model works from whole paths (every ancestor of every file gets its figures added), not from the
 * code under test's per-directory partials and bottom-up roll-up.
 */
import Database from 'better-sqlite3';
import { rng } from '../../helpers/random.js';


export interface GenFile { path: Buffer; isDir: boolean; s: number; a: number; uid: number; gid: number; atime: string }

const NAMES = ['data', 'run 01', 'a -- b', 'ünï', 'x%20y', 'out', 'tmp', 'z'];
const UIDS = [1000, 1001, 4294967294, 0];

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** A random tree under /gpfs/fs1/proj: directories (some with no line), files with every size case. */
export function generateScan(seed: number, nDirs: number, nFiles: number): { records: GenFile[]; withoutLine: Set<string> } {
  const r = rng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const root = Buffer.from('/gpfs/fs1/proj');
  const dirs: Buffer[] = [root];
  for (let i = 0; i < nDirs; i++) {
    const parent = pick(dirs);
    const name = r() < 0.1 ? Buffer.concat([Buffer.from('bad'), Buffer.from([0xff, 0xfe]), Buffer.from(String(i))]) : Buffer.from(`${pick(NAMES)}${i}`);
    dirs.push(Buffer.concat([parent, Buffer.from('/'), name]));
  }
  const withoutLine = new Set<string>();
  const records: GenFile[] = [];
  const time = (): string => `20${pad(15 + Math.floor(r() * 11))}-${pad(1 + Math.floor(r() * 12))}-${pad(1 + Math.floor(r() * 28))} ${pad(Math.floor(r() * 24))}:${pad(Math.floor(r() * 60))}:${pad(Math.floor(r() * 60))}`;
  for (const d of dirs) {
    if (d !== root && r() < 0.15) { withoutLine.add(d.toString('latin1')); continue; }
    records.push({ path: d, isDir: true, s: 4096, a: 4, uid: pick(UIDS), gid: 100, atime: time() });
  }
  for (let i = 0; i < nFiles; i++) {
    const kind = r();
    const s = kind < 0.3 ? Math.floor(r() * 4097) : Math.floor(r() * 2 ** 34);
    // in-inode (a=0, s<=4096), sparse (a << s), a=0 with s>4096 (allocated stays 0), ordinary
    const a = kind < 0.3 ? (r() < 0.7 ? 0 : 1) : kind < 0.4 ? Math.floor(s / 1024 / 100) : kind < 0.45 ? 0 : Math.ceil(s / 1024);
    const uid = pick(UIDS);
    records.push({ path: Buffer.concat([pick(dirs), Buffer.from(`/f ${i}${r() < 0.1 ? ' -- x' : ''}.dat`)]), isDir: false, s, a, uid, gid: uid === 0 ? 0 : pick([100, 200]), atime: time() });
  }
  return { records, withoutLine };
}

export function gpfsLine(f: GenFile, i: number): Buffer {
  const p = f.isDir ? 'drwxr-xr-x' : i % 7 === 0 ? 'lrwxrwxrwx' : '-rw-r--r--';
  return Buffer.concat([Buffer.from(`<${i % 4}> ${1000 + i} 1 0 s=${f.s} a=${f.a} u=${f.uid} g=${f.gid} m=FAu p=${p} ac=${f.atime} mt=2024-08-30 23:13:56 cr=2024-08-30 23:13:56 nl=1 -- `), f.path, Buffer.from('\n')]);
}

/** Lines shuffled, with policy messages and (optionally) malformed lines mixed in. */
export function scanText(records: GenFile[], seed: number, bad: string[] = []): Buffer {
  const r = rng(seed);
  const lines = records.map(gpfsLine);
  lines.push(Buffer.from('[I] Policy messages are skipped\n'), Buffer.from('[W] so are warnings\n'));
  for (const b of bad) lines.push(Buffer.from(`${b}\n`));
  for (let i = lines.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [lines[i], lines[j]] = [lines[j]!, lines[i]!];
  }
  return Buffer.concat(lines);
}

export interface ExpectedDir { files_nr: number; size_nr: bigint; dirs_nr: number; atime_nr: string | null; files_r: number; size_r: bigint; dirs_r: number; atime_r: string | number | null; uid: number | null; gid: number | null }

/** What each directory's row must hold, keyed by full path (decoded like fs-scans: UTF-8, errors replaced). */
export function expectedDirs(records: GenFile[], rootPath: string): Map<string, ExpectedDir> {
  const decoded = (b: Buffer): string => b.toString('utf8');
  const parentOf = (p: string): string => p.slice(0, p.lastIndexOf('/'));
  const dirs = new Set<string>();
  const rootDepth = rootPath.split('/').length - 1;
  const addDir = (p: string): void => { for (let q = p; q.split('/').length - 1 >= rootDepth; q = parentOf(q)) dirs.add(q); };
  for (const f of records) addDir(f.isDir ? decoded(f.path) : parentOf(decoded(f.path)));
  const m = new Map<string, ExpectedDir & { uids: Set<number>; gids: Set<number> }>();
  for (const d of dirs) m.set(d, { files_nr: 0, size_nr: 0n, dirs_nr: 0, atime_nr: null, files_r: 0, size_r: 0n, dirs_r: 0, atime_r: null, uid: -1, gid: -1, uids: new Set(), gids: new Set() });
  // dir_count_nr counts subdirectory rows (one line each here), including those without a line
  for (const d of dirs) if (d !== rootPath) m.get(parentOf(d))!.dirs_nr++;
  for (const d of dirs) for (let q = parentOf(d); m.has(q); q = parentOf(q)) m.get(q)!.dirs_r++;
  for (const f of records) {
    if (f.isDir) continue;
    const alloc = BigInt(f.a === 0 && f.s <= 4096 ? f.s : f.a * 1024);
    const dir = parentOf(decoded(f.path));
    const e = m.get(dir)!;
    e.files_nr++;
    e.size_nr += alloc;
    if (e.atime_nr === null || f.atime > e.atime_nr) e.atime_nr = f.atime;
    for (let q = dir; m.has(q); q = parentOf(q)) {
      const x = m.get(q)!;
      x.files_r++;
      x.size_r += alloc;
      if (x.atime_r === null || f.atime > (x.atime_r as string)) x.atime_r = f.atime;
      x.uids.add(f.uid);
      x.gids.add(f.gid);
    }
  }
  const out = new Map<string, ExpectedDir>();
  for (const [d, x] of m) {
    const hasChild = x.dirs_nr > 0;
    const own = (s: Set<number>): number | null => (s.size === 0 ? -1 : s.size === 1 ? [...s][0]! : null);
    out.set(d, { files_nr: x.files_nr, size_nr: x.size_nr, dirs_nr: x.dirs_nr, atime_nr: x.atime_nr, files_r: x.files_r, size_r: x.size_r, dirs_r: x.dirs_r, atime_r: x.atime_r ?? (hasChild ? 0 : null), uid: own(x.uids), gid: own(x.gids) });
  }
  return out;
}

/** Every directory of a database by full path (roots' paths from threadmill_roots). */
export function dirsOf(dbPath: string): Map<string, ExpectedDir & { depth: number; dir_id: number }> {
  const db = new Database(dbPath, { readonly: true });
  db.defaultSafeIntegers(true);
  try {
    const rows = db.prepare(`WITH RECURSIVE p(dir_id, path) AS (
        SELECT r.dir_id, r.path FROM threadmill_roots r
        UNION ALL SELECT d.dir_id, p.path || '/' || d.name FROM directories d JOIN p ON d.parent_id = p.dir_id)
      SELECT p.path, d.depth, s.* FROM p JOIN directories d USING (dir_id) JOIN directory_stats s USING (dir_id)`).all() as Record<string, unknown>[];
    const n = (v: unknown): number | null => (v === null ? null : Number(v as bigint));
    const m = new Map<string, ExpectedDir & { depth: number; dir_id: number }>();
    for (const r of rows) {
      m.set(r.path as string, {
        dir_id: n(r.dir_id)!, depth: n(r.depth)!, files_nr: n(r.file_count_nr)!, size_nr: r.total_size_nr as bigint, dirs_nr: n(r.dir_count_nr)!, atime_nr: r.max_atime_nr as string | null,
        files_r: n(r.file_count_r)!, size_r: r.total_size_r as bigint, dirs_r: n(r.dir_count_r)!, atime_r: typeof r.max_atime_r === 'bigint' ? Number(r.max_atime_r) : (r.max_atime_r as string | null),
        uid: n(r.owner_uid), gid: n(r.owner_gid),
      });
    }
    return m;
  } finally {
    db.close();
  }
}

/** Every table's rows (import_timestamp left out: it is the time of the run). */
export function dumpDb(dbPath: string): string {
  const db = new Database(dbPath, { readonly: true });
  db.defaultSafeIntegers(true);
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
    return tables.map((t) => {
      const rows = db.prepare(t === 'scan_metadata' ? 'SELECT scan_id, source_file, scan_timestamp, filesystem, total_directories, total_files, total_size FROM scan_metadata' : `SELECT * FROM ${t} ORDER BY 1, 2`).all();
      return `${t}\n${rows.map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).join('\n')}`;
    }).join('\n');
  } finally {
    db.close();
  }
}
