/**
 * `threadmill fsscan report --db X -o report.html`: where the bytes are and how old they are, as
 * one self-contained page (src/sinks/html-report.ts) — what `duc` and Starfish show: a treemap of
 * the largest directories (drill down by clicking), size and files by owner and by group, and the
 * access-age and size histograms.
 */
import Database from 'better-sqlite3';
import type { Report, TreeNode } from '../../sinks/html-report.js';
import { humanSize, ScanDb } from './query.js';

/** Children per directory and levels below the root kept in the page: ~1,100 cells at most. */
const TREE_CHILDREN = 10;
const TREE_LEVELS = 3;
const TOP_OWNERS = 25;

interface DirRow { dir_id: number; name: string; size: number; files: number }

function treeOf(path: string, scan: ScanDb): TreeNode {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const children = db.prepare(`SELECT d.dir_id, d.name, s.total_size_r AS size, s.file_count_r AS files FROM directories d JOIN directory_stats s USING (dir_id)
      WHERE d.parent_id = ? ORDER BY s.total_size_r DESC, d.dir_id LIMIT ${TREE_CHILDREN}`);
    const grow = (row: DirRow, level: number): TreeNode => {
      const node: TreeNode = { name: row.name, path: scan.pathOf(row.dir_id), value: row.size, files: row.files };
      if (level < TREE_LEVELS) {
        const kids = children.all(row.dir_id) as DirRow[];
        if (kids.length) node.children = kids.map((k) => grow(k, level + 1));
      }
      return node;
    };
    const roots = db.prepare('SELECT d.dir_id, d.name, s.total_size_r AS size, s.file_count_r AS files FROM directories d JOIN directory_stats s USING (dir_id) WHERE d.parent_id IS NULL ORDER BY s.total_size_r DESC, d.dir_id').all() as DirRow[];
    if (roots.length === 1) return grow(roots[0]!, 0);
    const tops = roots.map((r) => grow(r, 1));
    return { name: 'all roots', path: '', value: tops.reduce((n, t) => n + t.value, 0), files: tops.reduce((n, t) => n + t.files, 0), children: tops };
  } finally {
    db.close();
  }
}

export function fsscanReport(dbPath: string): Report {
  const scan = new ScanDb(dbPath);
  try {
    const s = scan.summary();
    const label = (id: number, name: string | null): string => (name ?? String(id));
    const owners = scan.groupBy('owner', { limit: TOP_OWNERS, sortBy: 'size' });
    const ownersByFiles = scan.groupBy('owner', { limit: TOP_OWNERS, sortBy: 'files' });
    const groups = scan.groupBy('group', { limit: TOP_OWNERS, sortBy: 'size' });
    const access = scan.histogram('access');
    const sizes = scan.histogram('size');
    const owned = 'Directories with a single owner (or group) in their whole subtree count for it; mixed subtrees are left out, as in fs-scans.';
    return {
      title: `File-system scan: ${s.filesystem ?? dbPath}`,
      subtitle: `threadmill fsscan report of ${dbPath}`,
      facts: [['file system', s.filesystem ?? '-'], ['scan date', s.scan_date ?? '-'], ['total size', humanSize(s.total_size)], ['files', s.total_files.toLocaleString('en-US')], ['directories', s.total_directories.toLocaleString('en-US')], ['deepest level', String(s.max_depth)]],
      charts: [
        { kind: 'treemap', id: 'treemap', title: 'Largest directories (click a directory to look inside; the path above leads back)', root: treeOf(dbPath, scan), note: `Recursive allocated size. The ${TREE_CHILDREN} largest subdirectories of each directory are drawn, ${TREE_LEVELS} levels down; grey is the rest.` },
        { kind: 'bars', id: 'owners-size', title: 'Size by owner', unit: 'bytes', bars: owners.map((o) => ({ label: label(o.id, o.name), value: Number(o.size), title: `uid ${o.id}` })), note: owned },
        { kind: 'bars', id: 'owners-files', title: 'Files by owner', unit: 'count', bars: ownersByFiles.map((o) => ({ label: label(o.id, o.name), value: o.files, title: `uid ${o.id}` })) },
        { kind: 'bars', id: 'groups-size', title: 'Size by group', unit: 'bytes', bars: groups.map((g) => ({ label: label(g.id, g.name), value: Number(g.size), title: `gid ${g.id}` })) },
        { kind: 'columns', id: 'access-size', title: 'Bytes by time since last access', unit: 'bytes', bars: access.map((b) => ({ label: b.label, value: Number(b.size) })) },
        { kind: 'columns', id: 'access-files', title: 'Files by time since last access', unit: 'count', bars: access.map((b) => ({ label: b.label, value: b.files })) },
        { kind: 'columns', id: 'size-files', title: 'Files by size', unit: 'count', bars: sizes.map((b) => ({ label: b.label, value: b.files })) },
        { kind: 'columns', id: 'size-bytes', title: 'Bytes by file size', unit: 'bytes', bars: sizes.map((b) => ({ label: b.label, value: Number(b.size) })) },
      ],
    };
  } finally {
    scan.close();
  }
}
