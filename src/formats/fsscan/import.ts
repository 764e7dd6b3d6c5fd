/**
 * `fsscan import`: scan logs → fs-scans' database. Workers fold chunks into partials (aggregate.ts),
 * the main thread merges them (merge.ts), builds the tree (tree.ts) and writes once (write.ts) into
 * a temporary that is renamed into place only when complete, under an exclusive lock on the path.
 * A shard folds only its share (importShare) into the table a part holds (part-table.ts); the
 * parts' tables combined give the database of one unsharded import (importParts).
 */
import { moduleBeside } from '../../engine/plugin.js';
import { accessSync, constants, statSync } from 'node:fs';
import { basename } from 'node:path';
import { runChunks } from '../../engine/run.js';
import { InterruptedError, ThreadmillError } from '../../engine/errors.js';
import { OutputTransaction } from '../../engine/atomic.js';
import { lockFile } from '../../engine/lock.js';
import { checkFileOutput } from '../../engine/output-target.js';
import type { ErrorLog } from '../../engine/error-log.js';
import type { Part } from '../../engine/parts.js';
import type { Progress } from '../../engine/progress.js';
import type { RunStats } from '../../engine/run-types.js';
import type { Shard } from '../../engine/shard.js';
import type { AggregateOptions, DirPartial } from './aggregate.js';
import { DirTable } from './merge.js';
import { combinedTable } from './part-table.js';
import { SCAN_FORMATS, type ScanFormat } from './parse.js';
import { buildTree, type Tree } from './tree.js';
import { writeDatabase, type ScanFacts } from './write.js';
import { filesystemFromName, scanDateFromName } from './names.js';
import { parseNaiveText } from './time.js';

export const taskModule = moduleBeside(import.meta.url, './task');

export interface FsscanImportOptions {
  /** Scan files (plain or gzip), or `-` for stdin. Several files are one scan (e.g. split lists). */
  inputs: readonly string[];
  /** The database to write (replaced atomically). */
  db: string;
  threads?: number;
  /** Force the input format (other lines are rejected); otherwise each line's first bytes name it. */
  format?: ScanFormat;
  /** scan_metadata.filesystem; from the file name (`YYYYMMDD_<server>_<fs>.list…`) otherwise. */
  filesystem?: string;
  /** `YYYY-MM-DD`; from the file name's leading `YYYYMMDD_` otherwise. */
  scanDate?: string;
  /** Decode `%XX` in paths (scans run with the policy `ESCAPE '%'` clause). */
  unescapePercent?: boolean;
  /** The cluster's passwd file for user names (this machine's /etc/passwd otherwise). */
  passwd?: string;
  /** The cluster's group file for group names (this machine's /etc/group otherwise). */
  group?: string;
  /** false: store no user or group names (the numbers stay). */
  names?: boolean;
  chunkSize?: number;
  progress?: Progress;
  errorLog?: ErrorLog;
  signal?: AbortSignal;
  warn?(message: string): void;
  /** Outputs of the caller (e.g. a rejects file) committed together with the database. */
  transaction?: OutputTransaction;
}

export interface FsscanImportSummary {
  db: string;
  format: ScanFormat | null;
  filesystem: string;
  scan_date: string | null;
  lines: number;
  records: number;
  messages: number;
  rejected: number;
  files: number;
  directories: number;
  created_directories: number;
  roots: number;
  threads: number;
  /** Whole run, including the database write. */
  seconds: number;
  /** Reading, parsing, aggregating and merging (the engine run). */
  parse_seconds: number;
  lines_per_second: number;
  /** CPU time of the whole process (every thread): wall time on a busy machine says little. */
  cpu_seconds: number;
  parse_cpu_seconds: number;
  /** Bytes of the main thread's directory table per directory (memory scales with this). */
  table_bytes_per_directory: number;
}

function cpuSeconds(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1e6;
}

/**
 * A scan's date guessed from when its file was last written (the scan ended then), said in a
 * warning: a copied command whose file name lacks the date still ages files from about the right day.
 */
function scanDateFromMtime(path: string, warn: FsscanImportOptions['warn']): number | null {
  if (path === '-') return null;
  let mtime: Date;
  try {
    mtime = statSync(path).mtime;
  } catch {
    return null;
  }
  const day = `${mtime.getFullYear()}-${String(mtime.getMonth() + 1).padStart(2, '0')}-${String(mtime.getDate()).padStart(2, '0')}`;
  warn?.(`no scan date in "${basename(path)}" (YYYYMMDD_…): guessed ${day} from when the file was last written; give --scan-date YYYY-MM-DD if the scan ran another day`);
  return parseNaiveText(day);
}

/** YYYY-MM-DD naming a day that exists (2024-13-45 was taken as 2025-02-14). */
function isCalendarDay(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!));
  return d.getUTCFullYear() === +m[1]! && d.getUTCMonth() === +m[2]! - 1 && d.getUTCDate() === +m[3]!;
}

/** The run's file system and scan date: given, or read from the first input's name (or its mtime, with a warning). */
export function resolveFacts(opts: Pick<FsscanImportOptions, 'inputs' | 'filesystem' | 'scanDate' | 'warn'>): { filesystem: string; scanDate: number | null } {
  const first = opts.inputs[0] ?? '-';
  const filesystem = opts.filesystem ?? filesystemFromName(first);
  if (!filesystem) throw new ThreadmillError('FSSCAN_NO_FILESYSTEM', `cannot tell the file-system name from "${basename(first)}" (expected YYYYMMDD_<server>_<fs>.list… or ….lfs-scan); give --filesystem NAME`, { exitCode: 2 });
  let scanDate: number | null;
  if (opts.scanDate !== undefined) {
    scanDate = isCalendarDay(opts.scanDate) ? parseNaiveText(opts.scanDate) : NaN;
    if (Number.isNaN(scanDate)) throw new ThreadmillError('FSSCAN_BAD_DATE', `--scan-date must be YYYY-MM-DD, got ${JSON.stringify(opts.scanDate)}`, { exitCode: 2 });
  } else {
    scanDate = scanDateFromName(first) ?? scanDateFromMtime(first, opts.warn);
    if (scanDate === null) opts.warn?.(`no scan date in "${basename(first)}" (YYYYMMDD_…): every file goes to the last access-age bucket, as fs-scans does; give --scan-date YYYY-MM-DD`);
  }
  return { filesystem, scanDate };
}

/** Where names come from (write.ts ScanFacts.names); a named file that cannot be read is an error before the run. */
export function nameSources(opts: Pick<FsscanImportOptions, 'passwd' | 'group' | 'names'>): ScanFacts['names'] {
  if (opts.names === false) {
    if (opts.passwd !== undefined || opts.group !== undefined) throw new ThreadmillError('USAGE', '--no-names stores no names: drop --passwd/--group or --no-names', { exitCode: 2 });
    return null;
  }
  const sources = { passwd: opts.passwd ?? '/etc/passwd', group: opts.group ?? '/etc/group' };
  for (const [option, path] of [['--passwd', opts.passwd], ['--group', opts.group]] as const) {
    if (path === undefined) continue;
    try {
      accessSync(path, constants.R_OK);
    } catch (err) {
      throw new ThreadmillError('INPUT_NOT_FOUND', `${option} ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
  }
  return sources;
}

export function formatOfRun(table: DirTable, forced: ScanFormat | null): ScanFormat | null {
  const seen = SCAN_FORMATS.filter((_, k) => table.formats & (1 << k));
  if (seen.length > 1) throw new ThreadmillError('FSSCAN_MIXED_FORMATS', `the input mixes ${seen.join(' and ')} records; give --format to read one and reject the rest`);
  return forced ?? seen[0] ?? null;
}

/** The scan's directory table: its chunks' partials merged in order (only the share's, with a shard). */
async function foldScan(opts: Omit<FsscanImportOptions, 'db'>, scanDate: number | null, shard?: Shard): Promise<{ table: DirTable; stats: RunStats }> {
  const table = new DirTable();
  const taskOptions: AggregateOptions = { format: opts.format ?? null, scanDate, unescapePercent: opts.unescapePercent ?? false };
  const stats = await runChunks<AggregateOptions, DirPartial>({
    inputs: opts.inputs, taskModule, taskOptions, threads: opts.threads, chunkSize: opts.chunkSize, shard,
    progress: opts.progress, errorLog: opts.errorLog, signal: opts.signal, warn: opts.warn,
    onChunk(c) {
      table.merge(c.payload);
    },
  });
  return { table, stats };
}

interface ScanWrite { sourceFile: string; filesystem: string; scanDate: number | null; names: ScanFacts['names']; format: ScanFormat | null; records: number; rejected: number }

/** The tree and the database built from the whole scan's table, written at `path`. */
function writeScan(path: string, table: DirTable, w: ScanWrite): { format: ScanFormat | null; tree: Tree; lines: number } {
  const format = formatOfRun(table, w.format);
  const tree = buildTree(table);
  const lines = w.records + table.messages; // every line is a record (good or rejected) or a message
  writeDatabase(path, table, tree, {
    sourceFile: w.sourceFile, filesystem: w.filesystem, scanDate: w.scanDate, names: w.names,
    extra: { format: format ?? '', lines, records: w.records, messages: table.messages, rejected: w.rejected, created_directories: tree.created },
  });
  return { format, tree, lines };
}

export async function importScan(opts: FsscanImportOptions): Promise<FsscanImportSummary> {
  if (opts.inputs.length === 0) throw new ThreadmillError('USAGE', 'no input', { exitCode: 2 });
  const { filesystem, scanDate } = resolveFacts(opts);
  const names = nameSources(opts);
  // Without --format each line is read in the format its first bytes name (a FID `0x…`, a number or
  // `<thread>`, a type letter): plain files, gzip and stdin alike, no sniffing pass. Two formats among
  // the good records fail the run (formatOfRun); a bad line is a record error either way.
  checkFileOutput(opts.db, { option: '--db', inputs: opts.inputs });
  const lock = lockFile(opts.db);
  const tx = opts.transaction ?? new OutputTransaction();
  try {
    const started = performance.now();
    const cpu0 = process.cpuUsage();
    const { table, stats } = await foldScan(opts, scanDate);
    const parseCpu = cpuSeconds(process.cpuUsage(cpu0));
    const sourceFile = opts.inputs.map((p) => (p === '-' ? '-' : basename(p))).join(',');
    const w = writeScan(tx.tempFor(opts.db), table, { sourceFile, filesystem, scanDate, names, format: opts.format ?? null, records: stats.records, rejected: stats.errors });
    if (opts.signal?.aborted) throw new InterruptedError(String(opts.signal.reason ?? 'abort'));
    if (!opts.transaction) tx.commit();
    const seconds = (performance.now() - started) / 1000;
    return {
      db: opts.db, format: w.format, filesystem, scan_date: scanDate === null ? null : new Date(scanDate * 1000).toISOString().slice(0, 10),
      lines: w.lines, records: stats.records, messages: table.messages, rejected: stats.errors, files: w.tree.order.reduce((n, i) => n + table.files[i]!, 0),
      directories: w.tree.order.length, created_directories: w.tree.created, roots: w.tree.order.filter((i) => table.depth[i] === w.tree.rootDepth).length,
      threads: stats.threads, seconds, parse_seconds: stats.seconds, lines_per_second: Math.round(w.lines / Math.max(seconds, 1e-9)),
      cpu_seconds: cpuSeconds(process.cpuUsage(cpu0)), parse_cpu_seconds: parseCpu,
      table_bytes_per_directory: table.count === 0 ? 0 : Math.round(table.bytesHeld() / table.count),
    };
  } catch (err) {
    if (!opts.transaction) tx.abort();
    throw err;
  } finally {
    lock.release();
  }
}

/** `import --shard`: the share's directory table (what a part holds, part-table.ts) and its run. */
export async function importShare(opts: Omit<FsscanImportOptions, 'db'>, shard: Shard): Promise<{ table: DirTable; stats: RunStats }> {
  const { scanDate } = resolveFacts(opts);
  return foldScan(opts, scanDate, shard);
}

/** What `fsscan merge` reports. */
export interface FsscanMergeSummary { db: string; parts: number; format: ScanFormat | null; lines: number; records: number; rejected: number; directories: number; seconds: number }

/**
 * The database of one unsharded import from every part of the run (in shard order), atomically,
 * under the database's lock. Only scan_metadata.import_timestamp differs (it is the merge's time).
 */
export function importParts(parts: Part[], db: string, names: ScanFacts['names']): FsscanMergeSummary {
  const started = performance.now();
  const m0 = parts[0]!.manifest;
  const { filesystem, scanDate, format } = m0.options as { filesystem: string; scanDate: number | null; format: ScanFormat | null };
  const { table, records, rejected } = combinedTable(parts);
  const lock = lockFile(db);
  const tx = new OutputTransaction();
  try {
    const w = writeScan(tx.tempFor(db), table, { sourceFile: (m0.data?.names as string[]).join(','), filesystem, scanDate, names, format, records, rejected });
    tx.commit();
    return { db, parts: parts.length, format: w.format, lines: w.lines, records, rejected, directories: w.tree.order.length, seconds: (performance.now() - started) / 1000 };
  } catch (err) {
    tx.abort();
    throw err;
  } finally {
    lock.release();
  }
}
