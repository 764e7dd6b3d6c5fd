/** The `threadmill fsscan` command group: import, query, histogram. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { SHARD_HELP, shardOf, type ShardFlags } from '../../cli/shard.js';
import { registerFsscanMerge } from './shard.js';
import { addRunOptions, action, printSummary, interruptSignal, moreErrorsNote, positiveInt, printRecordError, progressFor, warner, type RunFlags } from '../../cli/common.js';
import { ErrorLog } from '../../engine/error-log.js';
import { OutputTransaction } from '../../engine/atomic.js';
import { checkFileOutput } from '../../engine/output-target.js';
import { SCAN_FORMATS, type ScanFormat } from './parse.js';
import { parseCount, parseSize, ScanDb, SORT_MAP } from './query.js';
import { fitTable, tableWidth } from './table-fit.js';

interface ImportFlags extends RunFlags {
  db: string;
  format?: ScanFormat;
  filesystem?: string;
  scanDate?: string;
  unescapePercent?: boolean;
  passwd?: string;
  group?: string;
  names?: boolean;
  chunkSize?: number;
}

function registerImport(fsscan: Command): void {
  addRunOptions(fsscan.command('import')
    .description('scan logs (GPFS policy LIST, Lustre lfs find, GNU find -printf; plain, gzip or - for stdin) → a SQLite database fs-scans can query')
    .argument('<scans...>', 'scan files, or - for stdin; several files are read as one scan')
    .requiredOption('--db <file>', 'the database to write (replaced atomically when the run succeeds)')
    .addOption(new Option('--format <format>', 'input format (detected from the first record lines otherwise)').choices([...SCAN_FORMATS]))
    .option('--filesystem <name>', 'scan_metadata.filesystem (from the file name YYYYMMDD_<server>_<fs>.list… otherwise)')
    .option('--scan-date <YYYY-MM-DD>', 'scan date for the access-age histogram (from the file name otherwise)')
    .option('--unescape-percent', 'decode %XX in paths (scans run with the policy ESCAPE \'%\' clause)')
    .option('--passwd <file>', 'user names from this passwd file (the cluster\'s, e.g. `getent passwd > passwd` there; default /etc/passwd here)')
    .option('--group <file>', 'group names from this group file (default /etc/group here)')
    .option('--no-names', 'store no user or group names (queries show the numbers)')
    .addOption(new Option('--chunk-size <bytes>', 'target chunk size').argParser(positiveInt('--chunk-size')).hideHelp())
    .option('--shard <I/N>', `${SHARD_HELP} (here --db names the part)`))
    .action(action(async (scans: string[], flags: ImportFlags & ShardFlags) => {
      const shard = shardOf(flags);
      if (flags.rejects !== undefined) checkFileOutput(flags.rejects, { option: '--rejects', inputs: scans, outputs: [flags.db] });
      const tx = new OutputTransaction();
      const errorLog = new ErrorLog({ maxErrors: flags.maxErrors, rejectsPath: flags.rejects ? tx.tempFor(flags.rejects) : undefined, onError: printRecordError(flags), onMore: moreErrorsNote(flags), echo: 20 });
      const progress = progressFor(flags, 'fsscan import');
      try {
        if (shard) {
          const { shardFsscan } = await import('./shard.js');
          const r = await shardFsscan({ inputs: scans, db: flags.db, threads: flags.threads, format: flags.format, filesystem: flags.filesystem, scanDate: flags.scanDate, unescapePercent: flags.unescapePercent, chunkSize: flags.chunkSize, progress, errorLog, signal: interruptSignal(), warn: warner(flags) }, shard);
          errorLog.close();
          tx.commit();
          if (!flags.quiet) process.stderr.write(`threadmill fsscan import: shard ${shard.index}/${shard.count} → ${r.part} (${r.records} records, ${r.rejected} rejected)\n`);
          return;
        }
        const { importScan } = await import('./import.js');
        const s = await importScan({ inputs: scans, db: flags.db, threads: flags.threads, format: flags.format, filesystem: flags.filesystem, scanDate: flags.scanDate, unescapePercent: flags.unescapePercent, passwd: flags.passwd, group: flags.group, names: flags.names, chunkSize: flags.chunkSize, progress, errorLog, signal: interruptSignal(), warn: warner(flags), transaction: tx });
        progress.finish();
        errorLog.close();
        tx.commit();
        printSummary(flags, s, `threadmill fsscan import: ${s.db}`, () => [['format', s.format ?? '-'], ['filesystem', s.filesystem], ['scan date', s.scan_date ?? '-'], ['lines', s.lines], ['messages skipped', s.messages], ['rejected', s.rejected], ['files', s.files], ['directories', s.directories], ['created (no line of their own)', s.created_directories], ['roots', s.roots], ['threads', s.threads], ['seconds', s.seconds.toFixed(2)], ['lines/s', s.lines_per_second]]);
      } catch (err) {
        errorLog.close();
        tx.abort();
        throw err;
      }
    }));
}

/** fs-scans' format_size: one decimal, binary units. */
export function humanSize(n: bigint | number): string {
  let v = Number(n);
  for (const unit of ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']) {
    if (Math.abs(v) < 1024) return `${v.toFixed(1)} ${unit}`;
    v /= 1024;
  }
  return `${v.toFixed(1)} EiB`;
}

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

export function registerFsscanCommands(program: Command): void {
  const fsscan = program.command('fsscan').description('file-system scan logs (GPFS LIST, Lustre lfs find, GNU find) → SQLite, queries, histograms');
  registerImport(fsscan);
  registerFsscanMerge(fsscan);
  registerQuery(fsscan);
  registerHistogram(fsscan);
  registerReport(fsscan);
}
