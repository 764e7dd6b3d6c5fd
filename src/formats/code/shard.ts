/**
 * `code index --shard I/N` and `code merge PART… --db OUT`.
 *
 * A shard walks the whole tree (cheap: names and sizes) and parses only its share of the file
 * list (contiguous, balanced by bytes: shareOfList), writing each file's facts — entities,
 * references with unresolved targets, imports — as JSON lines. Resolution needs every file, so
 * only the merge does it: the parts' facts are written in shard order (the walk's order, as one
 * index run writes them), then the indexes, then calls are resolved over the whole tree.
 * A merge writes a fresh graph (no incremental reuse: it refuses an existing SQLite file).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import type { Command } from 'commander';
import { action } from '../../cli/common.js';
import { PARTIAL_HELP, mergedPartPath, partPathOf } from '../../cli/shard.js';
import { ThreadmillError } from '../../engine/errors.js';
import { makeManifest } from '../../engine/manifest.js';
import { mergedManifest, readParts, writePart, type Part } from '../../engine/parts.js';
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
import { DEFAULT_MAX_FILE_SIZE, extractorVersion, finishGraph } from './index-run.js';

const FACTS_FILE = 'facts.jsonl';

export interface CodeShardOptions { root: string; threads: number; languages?: Language[]; includeCode?: boolean; maxFileSize?: number; signal?: AbortSignal; progress?: Progress; errorLog?: ErrorLog }

/** `code index --shard`: this share of the walked files parsed, their facts written as a part. */
export async function shardCode(o: CodeShardOptions, output: string | undefined, shard: Shard): Promise<{ part: string; files: number }> {
  const root = resolvePath(o.root);
  const path = partPathOf(output, shard);
  const maxFileSize = o.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
  const includeCode = o.includeCode ?? false;
  const walk = walkSources(root, { maxFileSize, languages: o.languages });
  // The walked list (paths and sizes) is part of the run's identity: shards that saw different
  // trees (files added between them) are refused at merge.
  const tree = createHash('sha256').update(JSON.stringify(walk.files.map((f) => [f.path, f.bytes]))).digest('hex');
  const mine = shareOfList(walk.files.map((f) => f.bytes + 2048), shard).map((i) => walk.files[i]!);
  const items: FileItem[] = mine.map((f) => ({ abs: f.abs, path: f.path, language: f.language, weight: f.bytes + 2048, bytes: f.bytes }));
  // The tree is identified by its walked list, not by where it is mounted: nodes may see it at
  // different paths. The root goes in data (the graph's meta names the first part's).
  const options = { tree, languages: o.languages ?? null, includeCode, maxFileSize, extractor: extractorVersion() };
  const lines: string[] = [];
  await writePart(path, makeManifest({ format: 'code', command: 'index', options, inputs: [], shard, share: null }), async (dir) => {
    await runManyInputs<CodeTaskOptions, FileItem, FileFacts>({
      taskModule: moduleBeside(import.meta.url, './task'),
      taskOptions: { maxFileSize, includeCode }, items, threads: o.threads, signal: o.signal, progress: o.progress, errorLog: o.errorLog,
      onBatch(batch) {
        for (const facts of batch) lines.push(JSON.stringify(facts));
      },
    });
    writeFileSync(join(dir, FACTS_FILE), lines.length ? `${lines.join('\n')}\n` : '');
    o.progress?.finish();
  }, (m) => {
    // The walk's own skips (ignored, too large, unreadable folders) are the first shard's to write.
    m.data = { root, files: mine.length, skipped: shard.index === 0 ? walk.skipped : [] };
  });
  return { part: path, files: mine.length };
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
    for (const p of parts) {
      for (const line of readFileSync(join(p.path, FACTS_FILE), 'utf8').split('\n')) {
        if (!line) continue;
        const facts = JSON.parse(line) as FileFacts;
        files++;
        if (facts.status === 'indexed') {
          writer.add(facts);
          if (files % 256 === 0) await writer.flush();
        } else skipRows.push([facts.path, facts.language, facts.bytes, 0, null, 'skipped', facts.status, null, 0]);
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
 * `merge --partial`: consecutive parts' facts joined into one merged part. Resolution still needs
 * every file, so the final merge does it whole: for code, merges of merges only spread the reading
 * of facts, not the resolution (docs/scale-out.md).
 */
async function mergeCodePartial(parts: Part[], output: string): Promise<void> {
  const d0 = parts[0]!.manifest.data ?? {};
  const files = parts.reduce((n, p) => n + Number(p.manifest.data?.files ?? 0), 0);
  await writePart(output, mergedManifest(parts, { root: d0.root, files, skipped: d0.skipped }), (dir) => {
    writeFileSync(join(dir, FACTS_FILE), Buffer.concat(parts.map((p) => readFileSync(join(p.path, FACTS_FILE)))));
  });
}

async function isCodeGraph(path: string): Promise<boolean> {
  try {
    await (await openStore(path, 'read')).close();
    return true;
  } catch {
    return false;
  }
}

export function registerCodeMerge(code: Command): void {
  code.command('merge')
    .description('merge the parts written by `code index --shard I/N` into one graph, calls resolved over the whole tree')
    .argument('<parts...>', 'part directories, every shard 0…N−1 of one run exactly once')
    .requiredOption('--db <store>', 'the graph to write (a fresh SQLite path, sqlite:PATH or postgres://…)')
    .option('--json', 'print the summary as JSON on stdout')
    .option('-q, --quiet', 'no summary on stderr')
    .option('--partial', PARTIAL_HELP.replace('-o (or --db)', '--db'))
    .action(action(async (paths: string[], flags: { db: string; json?: boolean; quiet?: boolean; partial?: boolean }) => {
      const parts = readParts(paths, 'code', ['index'], { partial: flags.partial });
      if (flags.partial) return mergeCodePartial(parts, mergedPartPath(flags.db, '--db'));
      const s = await mergeCode(parts, flags.db);
      if (flags.json) process.stdout.write(`${JSON.stringify(s)}\n`);
      else if (!flags.quiet) process.stderr.write(`threadmill code merge: ${s.parts} part(s), ${s.files} files, ${s.resolved} of ${s.calls} calls resolved → ${s.db}\n`);
    }));
}
