/** `threadmill fsscan`: import declared for the runner (src/cli/command-spec.ts); query, histogram and report. */
import { basename } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { action, positiveInt } from '../../cli/common.js';
import { defineCommand, type CommonFlags, type FormatSpec } from '../../cli/command-spec.js';
import { UsageError } from '../../engine/errors.js';
import { normalChunkSize } from '../../engine/manifest.js';
import type { ShareCoverage } from '../../engine/share-plan.js';
import { importParts, importScan, importShare, nameSources, resolveFacts, type FsscanImportSummary, type FsscanMergeSummary } from './import.js';
import { combinedTable, writePartTable } from './part-table.js';
import { SCAN_FORMATS, type ScanFormat } from './parse.js';
import { humanSize, parseCount, parseSize, ScanDb, SORT_MAP } from './query.js';
import { fitTable, tableWidth } from './table-fit.js';

interface NameFlags { passwd?: string; group?: string; names?: boolean }
interface ImportFlags extends CommonFlags, NameFlags {
  db: string;
  format?: ScanFormat;
  filesystem?: string;
  scanDate?: string;
  unescapePercent?: boolean;
  chunkSize?: number;
}
/** A shard's run: what its part's manifest counts. */
interface ShareResult { records: number; rejected: number; share: ShareCoverage[] | undefined }
type ImportResult = FsscanImportSummary | FsscanMergeSummary | ShareResult;

/** Names are looked up where the database is written: by import, and by merge (issue 19). */
function nameOptions(cmd: Command): Command {
  return cmd
    .option('--passwd <file>', 'user names from this passwd file (the cluster\'s, e.g. `getent passwd > passwd` there; default /etc/passwd here)')
    .option('--group <file>', 'group names from this group file (default /etc/group here)')
    .option('--no-names', 'store no user or group names (queries show the numbers)');
}

/** The import's read options from its flags (a whole run's and a share's). */
const readOptions = (f: ImportFlags) => ({ format: f.format, filesystem: f.filesystem, scanDate: f.scanDate, unescapePercent: f.unescapePercent, threads: f.threads, chunkSize: f.chunkSize });

function importReport(s: FsscanImportSummary) {
  return {
    summary: s,
    title: `threadmill fsscan import: ${s.db}`,
    rows: (): [string, string | number][] => [['format', s.format ?? '-'], ['filesystem', s.filesystem], ['scan date', s.scan_date ?? '-'], ['lines', s.lines], ['messages skipped', s.messages], ['rejected', s.rejected], ['files', s.files], ['directories', s.directories], ['created (no line of their own)', s.created_directories], ['roots', s.roots], ['threads', s.threads], ['seconds', s.seconds.toFixed(2)], ['lines/s', s.lines_per_second]],
  };
}

function mergeReport(s: FsscanMergeSummary) {
  return { summary: s, title: `threadmill fsscan merge: ${s.db}`, rows: () => Object.entries(s).map(([k, v]): [string, string | number] => [k, typeof v === 'number' ? v : String(v)]) };
}

const importCommand = defineCommand<ImportFlags, ImportResult>({
  name: 'import',
  description: 'scan logs (GPFS policy LIST, Lustre lfs find, GNU find -printf; plain, gzip or - for stdin) → a SQLite database fs-scans can query',
  inputs: { name: 'scans', help: 'scan files, or - for stdin; several files are read as one scan', many: true },
  options: (cmd) => nameOptions(cmd
    .addOption(new Option('--format <format>', 'input format (detected from the first record lines otherwise)').choices([...SCAN_FORMATS]))
    .option('--filesystem <name>', 'scan_metadata.filesystem (from the file name YYYYMMDD_<server>_<fs>.list… otherwise)')
    .option('--scan-date <YYYY-MM-DD>', 'scan date for the access-age histogram (from the file name otherwise)')
    .option('--unescape-percent', 'decode %XX in paths (scans run with the policy ESCAPE \'%\' clause)'))
    .addOption(new Option('--chunk-size <bytes>', 'target chunk size').argParser(positiveInt('--chunk-size')).hideHelp()),
  mergeOptions: nameOptions,
  output: { flags: '--db <file>', help: 'the database to write (replaced atomically when the run succeeds)', required: true, of: (f) => f.db },
  async run(ctx) {
    const f = ctx.flags;
    const progress = ctx.progress();
    const s = await importScan({ ...readOptions(f), inputs: ctx.inputs, db: ctx.output!, passwd: f.passwd, group: f.group, names: f.names, progress, errorLog: ctx.errorLog, signal: ctx.signal, warn: ctx.warn, transaction: ctx.tx });
    progress.finish();
    return s;
  },
  counts: (r) => ({ records: r.records, rejected: r.rejected }),
  report: (r) => ('parts' in r ? mergeReport(r) : importReport(r as FsscanImportSummary)),
  shard: {
    manifestOptions(f, inputs) {
      // Resolved here without the warning, which the share's run gives once.
      const { filesystem, scanDate } = resolveFacts({ inputs, filesystem: f.filesystem, scanDate: f.scanDate });
      return { format: f.format ?? null, filesystem, scanDate, unescapePercent: f.unescapePercent ?? false, chunkSize: normalChunkSize(f.chunkSize) };
    },
    data: (_r, _f, inputs) => ({ names: inputs.map((p) => basename(p)) }),
    share: (r) => (r as ShareResult).share,
    part: {
      kind: 'custom',
      async fill(dir, ctx) {
        const progress = ctx.progress();
        const { table, stats } = await importShare({ ...readOptions(ctx.flags), inputs: ctx.inputs, progress, errorLog: ctx.errorLog, signal: ctx.signal, warn: ctx.warn }, ctx.shard!);
        writePartTable(dir, table);
        progress.finish();
        return { records: stats.records, rejected: stats.errors, share: stats.share };
      },
      async merge(parts, db, ctx) {
        if (!db) throw new UsageError('fsscan merge needs --db FILE: the database to write');
        const names = nameSources(ctx.flags);
        return Promise.resolve(importParts(parts, db, names));
      },
      async mergePartial(parts, dir) {
        writePartTable(dir, combinedTable(parts).table);
        return Promise.resolve({});
      },
    },
  },
});

type Cell = string | number | bigint | null;
interface OutFlags { json?: boolean; tsv?: boolean; wide?: boolean }

/** A table on stdout: aligned columns with human sizes, or TSV / JSON with plain bytes. */
function emit(flags: OutFlags, header: string[], rows: Cell[][], human: Cell[][], objects: object[], dropOrder: readonly number[] = []): void {
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(objects, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))}\n`);
    return;
  }
  const text = (c: Cell): string => (c === null ? '' : String(c));
  if (flags.tsv) {
    process.stdout.write([header, ...rows].map((r) => r.map(text).join('\t')).join('\n') + '\n');
    return;
  }
  const cells = [header, ...human.map((r) => r.map((c) => (c === null ? '-' : String(c))))];
  process.stdout.write(fitTable(cells, flags.wide ? Infinity : tableWidth(), dropOrder).join('\n') + '\n');
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];
const int = (name: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`${name} must be an integer`);
  return n;
};

interface QueryFlags extends OutFlags {
  db: string; minDepth?: number; maxDepth?: number; owner?: string; group?: string; singleOwner?: boolean; pathPrefix?: string[]; exclude?: string[];
  namePattern?: string[]; ignoreCase?: boolean; accessedBefore?: string; accessedAfter?: string; atimeNonRecursive?: boolean; minSize: string; maxSize?: string;
  minFiles?: string; maxFiles?: string; leavesOnly?: boolean; sortBy: string; limit: number; groupBy?: 'owner' | 'group'; summary?: boolean;
}

function owner(uid: number | null, name: string | null): string {
  return uid === null ? 'multiple' : uid === -1 ? '-' : name ?? String(uid);
}

function registerQuery(fsscan: Command): void {
  fsscan.command('query')
    .description('directories by size, age and owner from an fs-scans database (the filters and sorts of `fs-scans query`)')
    .requiredOption('--db <file>', 'the database (written by threadmill fsscan import or fs-scans import)')
    .option('-d, --min-depth <n>', 'minimum depth', int('--min-depth'))
    .option('--max-depth <n>', 'maximum depth', int('--max-depth'))
    .option('-u, --owner <uid|name>', 'single owner of the whole subtree')
    .option('-g, --group <gid|name>', 'single group of the whole subtree')
    .option('-s, --single-owner', 'only directories whose subtree has one owner')
    .option('-P, --path-prefix <path>', 'only this directory and below (repeat for OR)', collect)
    .option('-E, --exclude <path>', 'leave out this directory and below (repeatable)', collect)
    .option('-N, --name-pattern <glob>', 'directory name matches (repeat for OR)', collect)
    .option('-i, --ignore-case', 'case-insensitive --name-pattern')
    .option('--accessed-before <date>', 'newest access in the subtree before YYYY-MM-DD, or Nyrs / Nmo ago')
    .option('--accessed-after <date>', 'newest access in the subtree after YYYY-MM-DD, or Nyrs / Nmo ago')
    .option('--atime-non-recursive', 'apply the access dates to the directory\'s own files only')
    .option('--min-size <size>', 'minimum recursive size (500MB, 2GiB, 0 to disable)', '1GiB')
    .option('--max-size <size>', 'maximum recursive size')
    .option('--min-files <n>', 'minimum recursive file count (500, 10K)')
    .option('--max-files <n>', 'maximum recursive file count')
    .option('--leaves-only', 'only directories without subdirectories')
    .addOption(new Option('--sort-by <field>', 'sort order').choices(Object.keys(SORT_MAP)).default('size'))
    .option('-n, --limit <n>', 'at most N rows (0: all)', int('--limit'), 50)
    .addOption(new Option('--group-by <what>', 'totals per owner or group instead of directories').choices(['owner', 'group']))
    .option('--summary', 'database summary only')
    .option('--tsv', 'tab-separated output, sizes in bytes')
    .option('--json', 'JSON output, sizes in bytes')
    .option('--wide', 'every column even when the terminal is narrower (by default columns are left out, then paths shortened, to fit)')
    .action(action(async (flags: QueryFlags) => {
      const db = new ScanDb(flags.db);
      try {
        if (flags.summary) {
          const s = db.summary();
          emit(flags, ['field', 'value'], Object.entries(s).map(([k, v]) => [k, v]), Object.entries(s).map(([k, v]) => [k, k === 'total_size' ? humanSize(v as bigint) : (v as Cell)]), [s]);
          return;
        }
        const base = { minDepth: flags.minDepth, maxDepth: flags.maxDepth, pathPrefix: flags.pathPrefix, limit: flags.limit, sortBy: flags.sortBy };
        if (flags.groupBy) {
          const rows = db.groupBy(flags.groupBy, base);
          const header = [flags.groupBy, 'name', 'size', 'files', 'directories'];
          emit(flags, header, rows.map((r) => [r.id, r.name, r.size, r.files, r.directories]), rows.map((r) => [r.id, r.name, humanSize(r.size), r.files.toLocaleString('en-US'), r.directories.toLocaleString('en-US')]), rows);
          return;
        }
        const rows = db.directories({
          ...base, owner: flags.owner, group: flags.group, singleOwner: flags.singleOwner, exclude: flags.exclude, namePattern: flags.namePattern, ignoreCase: flags.ignoreCase,
          accessedBefore: flags.accessedBefore, accessedAfter: flags.accessedAfter, atimeNonRecursive: flags.atimeNonRecursive, leavesOnly: flags.leavesOnly,
          minSize: parseSize(flags.minSize) || undefined, maxSize: flags.maxSize === undefined ? undefined : parseSize(flags.maxSize),
          minFiles: flags.minFiles === undefined ? undefined : parseCount(flags.minFiles), maxFiles: flags.maxFiles === undefined ? undefined : parseCount(flags.maxFiles),
        });
        if (rows.length === 0 && !flags.json && !flags.tsv) {
          process.stderr.write(`threadmill: no directory matched${flags.minSize === '1GiB' ? ' (--min-size is 1GiB unless given; --min-size 0 lists every size)' : ''}\n`);
          return;
        }
        const header = ['path', 'depth', 'size', 'files', 'dirs', 'size_nr', 'files_nr', 'last_access', 'owner', 'group'];
        emit(flags, header,
          rows.map((r) => [r.path, r.depth, r.size_r, r.files_r, r.dirs_r, r.size_nr, r.files_nr, r.max_atime_r, r.owner_uid, r.owner_gid]),
          rows.map((r) => [r.path, r.depth, humanSize(r.size_r), r.files_r.toLocaleString('en-US'), r.dirs_r.toLocaleString('en-US'), humanSize(r.size_nr), r.files_nr.toLocaleString('en-US'), r.max_atime_r?.slice(0, 10) ?? null, owner(r.owner_uid, r.owner), owner(r.owner_gid, r.group)]),
          rows, [5, 6, 4, 1, 9, 3]);
      } finally {
        db.close();
      }
    }));
}

function registerHistogram(fsscan: Command): void {
  fsscan.command('histogram')
    .description('files and allocated bytes per access-age or size bucket (fs-scans\' access_histogram / size_histogram), for everyone or one owner')
    .requiredOption('--db <file>', 'the database')
    .addOption(new Option('--kind <kind>', 'which histogram').choices(['access', 'size']).default('access'))
    .option('-u, --owner <uid|name>', 'one owner (default: all files)')
    .option('--tsv', 'tab-separated output, sizes in bytes')
    .option('--json', 'JSON output, sizes in bytes')
    .action(action(async (flags: OutFlags & { db: string; kind: 'access' | 'size'; owner?: string }) => {
      const db = new ScanDb(flags.db);
      try {
        const rows = db.histogram(flags.kind, flags.owner);
        const files = rows.reduce((n, r) => n + r.files, 0);
        emit(flags, ['bucket', 'files', 'size', 'files_%'],
          rows.map((r) => [r.label, r.files, r.size, files ? ((100 * r.files) / files).toFixed(1) : '0.0']),
          rows.map((r) => [r.label, r.files.toLocaleString('en-US'), humanSize(r.size), files ? ((100 * r.files) / files).toFixed(1) : '0.0']),
          rows);
      } finally {
        db.close();
      }
    }));
}

function registerReport(fsscan: Command): void {
  fsscan.command('report')
    .description('one self-contained HTML page of charts (no network when opened): largest directories (treemap, drill-down), size and files by owner and group, access-age and size histograms')
    .requiredOption('--db <file>', 'the database')
    .requiredOption('-o, --output <file>', 'the HTML file to write (- for stdout)')
    .action(action(async (flags: { db: string; output: string }) => {
      const [{ fsscanReport }, { writeReport }] = await Promise.all([import('./report.js'), import('../../sinks/html-report.js')]);
      writeReport(flags.output, fsscanReport(flags.db));
    }));
}

export const fsscanFormat: FormatSpec = {
  name: 'fsscan',
  description: 'file-system scan logs (GPFS LIST, Lustre lfs find, GNU find) → SQLite, queries, histograms',
  commands: [importCommand],
  more(fsscan) {
    registerQuery(fsscan);
    registerHistogram(fsscan);
    registerReport(fsscan);
  },
};
