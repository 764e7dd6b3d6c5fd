/**
 * `code index`: walk → engine mode 3 (workers read, hash and parse) → one writer → resolution.
 * Incremental by content hash: a file whose sha256 is the one stored is not parsed again; what
 * deleted or now-skipped files defined is removed; every edge is then resolved again, since a
 * changed file can change what a call in an unchanged file means.
 */
import { resolve as resolvePath } from 'node:path';
import { statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { ThreadmillError, InterruptedError } from '../../engine/errors.js';
import { runManyInputs, startItemsPool } from '../../engine/many-inputs.js';
import type { WorkerPool } from '../../engine/pool.js';
import type { Progress } from '../../engine/progress.js';
import { defaultThreads } from '../../engine/run.js';
import { openStore, indexStatements, CODE_SCHEMA_VERSION, FILE_COLUMNS, type CodeStore } from '../../sinks/code-store.js';
import { walkSources, type SkipReason } from './walk.js';
import type { Language } from './languages.js';
import type { FileFacts } from './facts.js';
import type { CodeTaskOptions, FileItem } from './task.js';
import { FactsWriter, removeFile } from './write.js';
import { resolveGraph, type ResolutionStats } from './resolve.js';
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
  /** Told about each file indexed despite syntax errors (the CLI prints the first few). */
  onSyntaxError?(e: SyntaxErrorAt): void;
}

export interface SyntaxErrorAt { file: string; line: number; column: number; offset: number }

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
  const root = resolvePath(opts.root);
  let isDir = false;
  try {
    isDir = statSync(root).isDirectory();
  } catch {
    throw new ThreadmillError('INPUT_NOT_FOUND', `folder not found: ${opts.root}`);
  }
  if (!isDir) throw new ThreadmillError('NOT_A_DIRECTORY', `not a folder: ${opts.root} (code index reads a folder of source files)`, { exitCode: 2 });
  const maxFileSize = opts.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
  const includeCode = opts.includeCode ?? false;
  const threads = opts.threads ?? defaultThreads();
  // Workers start before the walk: their start-up overlaps it. Only a few: the tree may turn out
  // to be three files; more start when batches need them.
  const pool = startItemsPool<CodeTaskOptions>(TASK_MODULE, { maxFileSize, includeCode }, threads, 2);
  let store: CodeStore | undefined;
  try {
    const walk = walkSources(root, { maxFileSize, languages: opts.languages });
    store = await openStore(opts.db, 'write');
    await store.begin();
    await checkRoot(store, root, opts.replace === true);
    const summary = await indexInto(store, root, walk, { threads, pool, includeCode, maxFileSize, signal: opts.signal, progress: opts.progress, onSyntaxError: opts.onSyntaxError });
    // A signal during resolution or the last writes still rolls the whole run back.
    if (opts.signal?.aborted) throw new InterruptedError(String(opts.signal.reason ?? 'SIGINT'));
    await store.commit();
    const seconds = (performance.now() - started) / 1000;
    return { ...summary, db: store.location, seconds: round(seconds), files_per_second: Math.round((summary.files_parsed + summary.files_unchanged) / Math.max(seconds, 1e-3)) };
  } catch (err) {
    await store?.rollback().catch(() => undefined);
    throw err;
  } finally {
    await pool.close();
  }
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

const TASK_MODULE = new URL(`./task${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

interface RunParts { threads: number; pool: WorkerPool; includeCode: boolean; maxFileSize: number; signal?: AbortSignal; progress?: Progress; onSyntaxError?(e: SyntaxErrorAt): void }

const SYNTAX_ERRORS_KEPT = 20;

async function indexInto(store: CodeStore, root: string, walk: ReturnType<typeof walkSources>, parts: RunParts): Promise<Omit<CodeIndexSummary, 'db' | 'seconds' | 'files_per_second'>> {
  const meta = new Map((await store.query<{ key: string; value: string }>('SELECT key, value FROM meta')).map((r) => [r.key, r.value]));
  // Stored code text must match the flag: a change of --include-code parses everything again.
  // So does a change of the extraction queries (a new version of threadmill).
  const reuse = meta.get('include_code') === String(parts.includeCode) && meta.get('schema_version') === CODE_SCHEMA_VERSION && meta.get('extractor') === extractorVersion();
  const previous = new Map((await store.query<{ path: string; sha256: string }>("SELECT path, sha256 FROM files WHERE status = 'indexed'")).map((r) => [r.path, r.sha256]));
  const walked = new Set(walk.files.map((f) => f.path));
  let removed = 0;
  for (const path of previous.keys()) {
    if (walked.has(path)) continue;
    await removeFile(store, path);
    removed++;
  }
  await store.execute("DELETE FROM files WHERE status = 'skipped'");
  const skipped: Partial<Record<SkipReason, number>> = {};
  const skipRows = walk.skipped.map((s) => {
    skipped[s.reason] = (skipped[s.reason] ?? 0) + 1;
    return [s.path, null, s.bytes, 0, null, 'skipped', s.reason, null, 0];
  });
  const items: FileItem[] = walk.files.map((f) => ({ abs: f.abs, path: f.path, language: f.language, weight: f.bytes + 2048, previousSha: reuse ? previous.get(f.path) : undefined }));
  const totalBytes = walk.files.reduce((a, f) => a + f.bytes, 0);
  const totalWeight = items.reduce((a, f) => a + f.weight, 0);
  parts.progress?.setTotal(totalBytes);
  let parsed = 0, unchanged = 0, parseErrors = 0, bytesParsed = 0;
  const syntaxErrors: SyntaxErrorAt[] = [];
  const taskOptions: CodeTaskOptions = { maxFileSize: parts.maxFileSize, includeCode: parts.includeCode };
  const writer = new FactsWriter(store);
  if (items.length > 0) {
    await runManyInputs<CodeTaskOptions, FileItem, FileFacts[]>({
      taskModule: TASK_MODULE, pool: parts.pool,
      taskOptions, items, threads: parts.threads, signal: parts.signal,
      // At least ~4 batches per thread, so a small tree still spreads over every worker.
      batchWeight: Math.max(16 << 10, Math.min(1 << 20, Math.ceil(totalWeight / (parts.threads * 4)))),
      async onBatch(batch) {
        let bytes = 0;
        for (const facts of batch) {
          bytes += facts.bytes;
          if (facts.status === 'unchanged') { unchanged++; continue; }
          if (previous.has(facts.path)) {
            // Rows gathered so far go in first, so ids follow the same order as file by file.
            await writer.flush();
            await removeFile(store, facts.path);
          }
          if (facts.status === 'indexed') {
            parsed++;
            bytesParsed += facts.bytes;
            parseErrors += facts.parseErrors;
            if (facts.errorAt) {
              const [line, column, offset] = facts.errorAt;
              const at = { file: facts.path, line, column, offset };
              if (syntaxErrors.length < SYNTAX_ERRORS_KEPT) syntaxErrors.push(at);
              parts.onSyntaxError?.(at);
            }
            writer.add(facts);
          } else {
            if (previous.has(facts.path)) removed++;
            skipped[facts.status] = (skipped[facts.status] ?? 0) + 1;
            skipRows.push([facts.path, facts.language, facts.bytes, 0, null, 'skipped', facts.status, null, 0]);
          }
        }
        await writer.flush();
        parts.progress?.advance(bytes, batch.length);
      },
    });
  }
  await store.insertMany('files', FILE_COLUMNS, skipRows);
  for (const sql of indexStatements()) await store.execute(sql);
  const resolution = await resolveGraph(store, root);
  for (const [key, value] of [['schema_version', CODE_SCHEMA_VERSION], ['root', root], ['include_code', String(parts.includeCode)], ['extractor', extractorVersion()]] as const) {
    await store.execute('DELETE FROM meta WHERE key = ?', [key]);
    await store.execute('INSERT INTO meta (key, value) VALUES (?, ?)', [key, value]);
  }
  parts.progress?.finish();
  const counts = await totals(store);
  return {
    root, files_parsed: parsed, files_unchanged: unchanged, files_removed: removed, skipped, parse_errors: parseErrors, syntax_errors: syntaxErrors,
    ...counts, ...rates(resolution), bytes_parsed: bytesParsed, threads: parts.threads,
  };
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
