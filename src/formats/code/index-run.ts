/**
 * `code index`: walk → engine mode 3 (workers read, hash and parse) → one writer → resolution.
 * Incremental by content hash: a file whose sha256 is the one stored is not parsed again; what
 * deleted or now-skipped files defined is removed; every edge is then resolved again, since a
 * changed file can change what a call in an unchanged file means.
 */
import { collectGarbage } from './parsers.js';
import { resolve as resolvePath } from 'node:path';
import { statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { ThreadmillError } from '../../engine/errors.js';
import type { ErrorLog } from '../../engine/error-log.js';
import { runManyInputs } from '../../engine/many-inputs.js';
import { WorkerPool } from '../../engine/pool.js';
import { moduleBeside } from '../../engine/plugin.js';
import type { Progress } from '../../engine/progress.js';
import { defaultThreads } from '../../engine/run.js';
import { openStore, indexStatements, CODE_SCHEMA_VERSION, FILE_COLUMNS, type CodeStore } from '../../sinks/code-store.js';
import { walkSources, type SkipReason, type WalkResult } from './walk.js';
import type { Language } from './languages.js';
import type { FileFacts } from './facts.js';
import type { CodeTaskOptions, FileItem } from './task.js';
import { IndexWriter, type SyntaxErrorAt } from './index-writer.js';
import { withPieces } from './huge-files.js';
import { resolveGraph, type ResolutionStats } from './resolve.js';
import { checkpoint } from './checkpoint.js';
import { QUERY_SOURCE } from './queries.js';

/** Bump when extract.ts, imports.ts or task.ts change what they return for the same file. */
const EXTRACTOR_REVISION = '2';

export const DEFAULT_MAX_FILE_SIZE = 1 << 20;

export interface CodeIndexOptions {
  root: string;
  /** `sqlite:PATH`, a bare path, or `postgres://…`. */
  db: string;
  threads?: number;
  languages?: Language[];
  includeCode?: boolean;
  maxFileSize?: number;
  signal?: AbortSignal;
  progress?: Progress;
  /** Index into a store that holds another folder's graph, replacing it (otherwise refused). */
  replace?: boolean;
  /** Files over this many bytes are parsed in pieces (huge-files.ts; default 4 MiB); tests force it small. */
  hugeFile?: number;
  /** Characters a piece of a huge file holds at least (default 256 Ki). */
  pieceChars?: number;
  /**
   * Files indexed despite syntax errors go here as record errors (category `syntax_error`, the
   * file's path, line and byte offset): counted, echoed, written to --rejects, --max-errors enforced.
   */
  errorLog?: ErrorLog;
}

export type { SyntaxErrorAt };

export interface CodeIndexSummary {
  root: string;
  db: string;
  files_parsed: number;
  files_unchanged: number;
  files_removed: number;
  skipped: Partial<Record<SkipReason, number>>;
  parse_errors: number;
  /** The first few files with syntax errors, where the first error is. */
  syntax_errors: SyntaxErrorAt[];
  entities: number;
  edges: number;
  calls: number;
  calls_resolved: number;
  resolution_rate: number;
  resolution_by_language: Record<string, { calls: number; resolved: number; rate: number }>;
  bytes_parsed: number;
  seconds: number;
  files_per_second: number;
  threads: number;
}

export async function indexCode(opts: CodeIndexOptions): Promise<CodeIndexSummary> {
  const started = performance.now();
  const root = folderOf(opts.root);
  const maxFileSize = opts.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
  const includeCode = opts.includeCode ?? false;
  const threads = opts.threads ?? defaultThreads();
  // Workers start before the walk: their start-up overlaps it. Only a few: the tree may turn out
  // to be three files; more start when batches need them.
  const pool = new WorkerPool(TASK_MODULE, { maxFileSize, includeCode } satisfies CodeTaskOptions, threads);
  pool.start(2);
  let store: CodeStore | undefined;
  try {
    opts.progress?.phase?.('walking the folder');
    const walk = walkSources(root, { maxFileSize, languages: opts.languages });
    opts.progress?.phase?.('');
    store = await openStore(opts.db, 'write');
    await store.begin();
    await checkRoot(store, root, opts.replace === true);
    const summary = await indexInto(store, root, walk, { ...opts, threads, pool, includeCode, maxFileSize });
    // A signal during resolution or the last writes still rolls the whole run back.
    await checkpoint(opts.signal);
    await store.commit();
    const seconds = (performance.now() - started) / 1000;
    return { ...summary, db: store.location, seconds: round(seconds), files_per_second: Math.round((summary.files_parsed + summary.files_unchanged) / Math.max(seconds, 1e-3)) };
  } catch (err) {
    await store?.rollback().catch(() => undefined);
    throw err;
  } finally {
    // After the rollback: close() lets a worker finish the file it is parsing (never stopped inside tree-sitter).
    await pool.close();
  }
}

function folderOf(path: string): string {
  const root = resolvePath(path);
  let isDir = false;
  try {
    isDir = statSync(root).isDirectory();
  } catch {
    throw new ThreadmillError('INPUT_NOT_FOUND', `folder not found: ${path}`);
  }
  if (!isDir) throw new ThreadmillError('NOT_A_DIRECTORY', `not a folder: ${path} (code index reads a folder of source files)`, { exitCode: 2 });
  return root;
}

/**
 * A store holds one folder's graph. Indexing another folder into it would silently drop that
 * graph (its files are "deleted"), so it is refused unless asked; with `replace` the old graph
 * is cleared first (same transaction: an interrupted run keeps it).
 */
async function checkRoot(store: CodeStore, root: string, replace: boolean): Promise<void> {
  const [row] = await store.query<{ value: string }>("SELECT value FROM meta WHERE key = 'root'");
  if (!row || row.value === root) return;
  if (!replace) {
    throw new ThreadmillError('ROOT_MISMATCH', `${store.location} holds the graph of ${row.value}; indexing ${root} into it would replace that graph: pass --replace, or choose another --db`, { exitCode: 2 });
  }
  for (const table of ['edges', 'imports', 'entities', 'files']) await store.execute(`DELETE FROM ${table}`);
}

const TASK_MODULE = moduleBeside(import.meta.url, './task');

interface RunParts extends Pick<CodeIndexOptions, 'signal' | 'progress' | 'errorLog' | 'hugeFile' | 'pieceChars'> { threads: number; pool: WorkerPool; includeCode: boolean; maxFileSize: number }

type IndexCounts = Omit<CodeIndexSummary, 'db' | 'seconds' | 'files_per_second'>;

/** The run's format logic: what the store held before, the files' facts in walk order, then the graph's end. */
async function indexInto(store: CodeStore, root: string, walk: WalkResult, run: RunParts): Promise<IndexCounts> {
  const previous = await previousIndex(store, run.includeCode);
  const writer = new IndexWriter(store, previous.files);
  await writer.removeVanished(walk);
  const files: FileItem[] = walk.files.map((f) => ({ abs: f.abs, path: f.path, language: f.language, weight: f.bytes + 2048, bytes: f.bytes, previousSha: previous.reuse ? previous.files.get(f.path) : undefined }));
  const items = withPieces(files, run);
  await runManyInputs<CodeTaskOptions, FileItem, FileFacts>({
    taskModule: TASK_MODULE, pool: run.pool, taskOptions: { maxFileSize: run.maxFileSize, includeCode: run.includeCode },
    items, threads: run.threads, signal: run.signal, errorLog: run.errorLog, progress: run.progress,
    onBatch: (facts) => writer.write(facts),
  });
  // The workers (each with its parsers and heap) are not needed to resolve: closed first, and the
  // facts' garbage collected, spring-framework's peak at -j 2 fell from 605 to 506–513 MB.
  await run.pool.close();
  collectGarbage();
  run.progress?.phase?.('resolving calls');
  const resolution = await finishGraph(store, root, { includeCode: run.includeCode, extractor: extractorVersion() }, writer.skipRows, run.signal);
  run.progress?.finish();
  const { bytes_parsed, ...counts } = writer.counts();
  return { root, ...counts, ...(await totals(store)), ...rates(resolution), bytes_parsed, threads: run.threads };
}

/**
 * What the store held: file hashes to reuse. Stored code text must match the flag, so a change of
 * --include-code parses everything again; so does a change of the extraction queries (a new version).
 */
async function previousIndex(store: CodeStore, includeCode: boolean): Promise<{ reuse: boolean; files: Map<string, string> }> {
  const meta = new Map((await store.query<{ key: string; value: string }>('SELECT key, value FROM meta')).map((r) => [r.key, r.value]));
  const reuse = meta.get('include_code') === String(includeCode) && meta.get('schema_version') === CODE_SCHEMA_VERSION && meta.get('extractor') === extractorVersion();
  const files = new Map((await store.query<{ path: string; sha256: string }>("SELECT path, sha256 FROM files WHERE status = 'indexed'")).map((r) => [r.path, r.sha256]));
  return { reuse, files };
}

/**
 * The end of every graph write (an index run, a merge of parts): skipped files, the indexes, the
 * resolution of calls over the whole tree, and the meta rows that say what the graph is.
 */
export async function finishGraph(store: CodeStore, root: string, meta: { includeCode: boolean; extractor: string }, skipRows: unknown[][], signal?: AbortSignal): Promise<ResolutionStats> {
  await store.insertMany('files', FILE_COLUMNS, skipRows);
  for (const sql of indexStatements()) {
    await store.execute(sql);
    await checkpoint(signal);
  }
  const resolution = await resolveGraph(store, root, signal);
  await checkpoint(signal);
  for (const [key, value] of [['schema_version', CODE_SCHEMA_VERSION], ['root', root], ['include_code', String(meta.includeCode)], ['extractor', meta.extractor]] as const) {
    await store.execute('DELETE FROM meta WHERE key = ?', [key]);
    await store.execute('INSERT INTO meta (key, value) VALUES (?, ?)', [key, value]);
  }
  return resolution;
}

async function totals(store: CodeStore): Promise<{ entities: number; edges: number }> {
  const [e] = await store.query<{ n: number }>('SELECT CAST(COUNT(*) AS INTEGER) AS n FROM entities');
  const [g] = await store.query<{ n: number }>('SELECT CAST(COUNT(*) AS INTEGER) AS n FROM edges');
  return { entities: Number(e?.n ?? 0), edges: Number(g?.n ?? 0) };
}

function rates(r: ResolutionStats): Pick<CodeIndexSummary, 'calls' | 'calls_resolved' | 'resolution_rate' | 'resolution_by_language'> {
  const byLanguage: CodeIndexSummary['resolution_by_language'] = {};
  let calls = 0, resolved = 0;
  for (const [lang, s] of Object.entries(r.byLanguage)) {
    byLanguage[lang] = { calls: s.calls, resolved: s.resolved, rate: s.calls ? round(s.resolved / s.calls) : 0 };
    calls += s.calls;
    resolved += s.resolved;
  }
  return { calls, calls_resolved: resolved, resolution_rate: calls ? round(resolved / calls) : 0, resolution_by_language: byLanguage };
}

/** A digest of what decides the facts of a file: the queries and the extraction code's version. */
export function extractorVersion(): string {
  return createHash('sha256').update(EXTRACTOR_REVISION).update(JSON.stringify(QUERY_SOURCE)).digest('hex').slice(0, 16);
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
