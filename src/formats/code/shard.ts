/**
 * How `code index --shard I/N` parts are made and merged (the runner does the rest; commands.ts).
 *
 * A shard walks the whole tree (cheap: names and sizes) and parses only its share of the file
 * list (contiguous, balanced by bytes: shareOfList), writing each file's facts — entities,
 * references with unresolved targets, imports — as JSON lines. Resolution needs every file, so
 * only the merge does it: the parts' facts are written in shard order (the walk's order, as one
 * index run writes them), then the indexes, then calls are resolved over the whole tree.
 * A merge writes a fresh graph (no incremental reuse: it refuses an existing SQLite file).
 */
import { createHash } from 'node:crypto';
import { appendFileSync, createReadStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join, resolve as resolvePath } from 'node:path';
import { ThreadmillError } from '../../engine/errors.js';
import type { Part } from '../../engine/parts.js';
import { defaultThreads } from '../../engine/run.js';
import { runManyInputs } from '../../engine/many-inputs.js';
import { moduleBeside } from '../../engine/plugin.js';
import { shareOfList, type Shard } from '../../engine/shard.js';
import type { Progress } from '../../engine/progress.js';
import type { ErrorLog } from '../../engine/error-log.js';
import { openStore } from '../../sinks/code-store.js';
import { walkSources, type Skip } from './walk.js';
import type { Language } from './languages.js';
import type { FileFacts } from './facts.js';
import type { CodeTaskOptions, FileItem } from './task.js';
import { FactsWriter } from './write.js';
import { withPieces, type PieceOptions } from './huge-files.js';
import { DEFAULT_MAX_FILE_SIZE, extractorVersion, finishGraph } from './index-run.js';

const FACTS_FILE = 'facts.jsonl';

export interface CodeShardOptions extends Pick<PieceOptions, 'hugeFile' | 'pieceChars'> {
  root: string; threads?: number; languages?: Language[]; includeCode?: boolean; maxFileSize?: number; signal?: AbortSignal; progress?: Progress; errorLog?: ErrorLog;
}

/** A shard's share of the walked tree, and the options that make parts one run. */
export interface CodeSharePlan { root: string; options: Record<string, unknown>; items: FileItem[]; skipped: Skip[]; maxFileSize: number; includeCode: boolean }

/**
 * The walk (cheap: names and sizes) and this shard's contiguous share of it, balanced by bytes.
 * The walked list is part of the run's identity: shards that saw different trees (files added
 * between them) are refused at merge. The tree is identified by that list, not by where it is
 * mounted: nodes may see it at different paths.
 */
export function planCodeShare(o: CodeShardOptions, shard: Shard): CodeSharePlan {
  const root = resolvePath(o.root);
  const maxFileSize = o.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
  const includeCode = o.includeCode ?? false;
  const walk = walkSources(root, { maxFileSize, languages: o.languages });
  const tree = createHash('sha256').update(JSON.stringify(walk.files.map((f) => [f.path, f.bytes]))).digest('hex');
  const mine = shareOfList(walk.files.map((f) => f.bytes + 2048), shard).map((i) => walk.files[i]!);
  const items: FileItem[] = mine.map((f) => ({ abs: f.abs, path: f.path, language: f.language, weight: f.bytes + 2048, bytes: f.bytes }));
  const options = { tree, languages: o.languages ?? null, includeCode, maxFileSize, extractor: extractorVersion() };
  // The walk's own skips (ignored, too large, unreadable folders) are the first shard's to write.
  return { root, options, items, skipped: shard.index === 0 ? walk.skipped : [], maxFileSize, includeCode };
}

/** Parses the share's files and writes their facts into the part directory `dir`. */
export async function writeCodeShare(plan: CodeSharePlan, dir: string, o: CodeShardOptions): Promise<{ root: string; files: number; skipped: Skip[] }> {
  // Appended batch by batch: a share with a huge file is never held whole (huge-files.ts).
  const factsFile = join(dir, FACTS_FILE);
  writeFileSync(factsFile, '');
  await runManyInputs<CodeTaskOptions, FileItem, FileFacts>({
    taskModule: moduleBeside(import.meta.url, './task'),
    taskOptions: { maxFileSize: plan.maxFileSize, includeCode: plan.includeCode }, items: withPieces(plan.items, { maxFileSize: plan.maxFileSize, hugeFile: o.hugeFile, pieceChars: o.pieceChars }), threads: o.threads ?? defaultThreads(), signal: o.signal, progress: o.progress, errorLog: o.errorLog,
    onBatch(batch) {
      appendFileSync(factsFile, batch.map((facts) => `${JSON.stringify(facts)}\n`).join(''));
    },
  });
  return { root: plan.root, files: plan.items.length, skipped: plan.skipped };
}

/** Writes the parts' facts into a fresh graph at `db`, then resolves calls over the whole tree. */
export async function mergeCode(parts: Part[], db: string): Promise<{ db: string; parts: number; files: number; resolved: number; calls: number }> {
  const bare = db.startsWith('sqlite:') ? db.slice(7) : db;
  // A code graph already there (a requeued merge job finds the one its first attempt wrote) is
  // replaced whole on commit; any other file is not ours to replace.
  if (!/^postgres(ql)?:\/\//.test(db) && existsSync(bare) && !(await isCodeGraph(bare))) {
    throw new ThreadmillError('OUTPUT_EXISTS', `${bare} exists and is not a threadmill code graph; code merge replaces only a graph (remove it, or choose another --db)`, { exitCode: 2 });
  }
  const { includeCode, extractor } = parts[0]!.manifest.options as { includeCode: boolean; extractor: string };
  const root = String(parts[0]!.manifest.data?.root);
  const store = await openStore(db, 'write', { fresh: true });
  let files = 0;
  try {
    await store.begin();
    const skipRows: unknown[][] = (parts[0]!.manifest.data?.skipped as Skip[]).map((s) => [s.path, null, s.bytes, 0, null, 'skipped', s.reason, null, 0]);
    const writer = new FactsWriter(store);
    let added = 0;
    for (const p of parts) {
      // Line by line: a part's facts may be larger than a string can be.
      for await (const line of createInterface({ input: createReadStream(join(p.path, FACTS_FILE)), crlfDelay: Infinity })) {
        if (!line) continue;
        const facts = JSON.parse(line) as FileFacts;
        if (facts.status === 'indexed') {
          // A huge file's pieces are one file (huge-files.ts): the writer says when it is whole.
          if (writer.add(facts)) files++;
          if (++added % 256 === 0) await writer.flush();
        } else {
          files++;
          skipRows.push([facts.path, facts.language, facts.bytes, 0, null, 'skipped', facts.status, null, 0]);
        }
      }
    }
    await writer.flush();
    const resolution = await finishGraph(store, root, { includeCode, extractor }, skipRows);
    await store.commit();
    let calls = 0;
    let resolved = 0;
    for (const s of Object.values(resolution.byLanguage)) {
      calls += s.calls;
      resolved += s.resolved;
    }
    return { db: store.location, parts: parts.length, files, calls, resolved };
  } catch (err) {
    await store.rollback().catch(() => undefined);
    throw err;
  }
}

/**
 * `merge --partial`: consecutive parts' facts joined into one merged part's directory. Resolution
 * still needs every file, so the final merge does it whole: for code, merges of merges only spread
 * the reading of facts, not the resolution (docs/scale-out.md).
 */
export function mergeCodePartial(parts: Part[], dir: string): Record<string, unknown> {
  writeFileSync(join(dir, FACTS_FILE), Buffer.concat(parts.map((p) => readFileSync(join(p.path, FACTS_FILE)))));
  return { files: parts.reduce((n, p) => n + Number(p.manifest.data?.files ?? 0), 0) };
}

async function isCodeGraph(path: string): Promise<boolean> {
  try {
    await (await openStore(path, 'read')).close();
    return true;
  } catch {
    return false;
  }
}
