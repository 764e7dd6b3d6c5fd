/** The `threadmill code` command group: a folder of source code → a code graph, queries and a server. */
import { InvalidArgumentError, type Command } from 'commander';
import { action, formatTable, positiveInt } from '../../cli/common.js';
import { defineCommand, type CommonFlags, type FormatSpec, type Report, type RunContext } from '../../cli/command-spec.js';
import { parseShard } from '../../engine/shard.js';
import { openStore, type CodeStore } from '../../sinks/code-store.js';
import { parseLanguages, type Language } from './languages.js';
import { indexCode, DEFAULT_MAX_FILE_SIZE, type CodeIndexSummary } from './index-run.js';
import { mergeCode, mergeCodePartial, planCodeShare, writeCodeShare, type CodeSharePlan } from './shard.js';
import { AmbiguousName, blastRadius, callees, callers, cycles, search, show, stats, type EntityRef, type WalkAnswer } from './graph-queries.js';
import { serveGraph } from './serve.js';
import { context, fileOutline, type ContextAnswer } from './agent-queries.js';

const DEFAULT_DB = 'code-graph.db';

interface IndexFlags extends CommonFlags { db: string; languages?: Language[]; includeCode?: boolean; maxFileSize: number; replace?: boolean }
interface QueryFlags { db: string; json?: boolean; depth?: number; limit?: number }

/** `512k`, `2M`, `1G` or bytes. */
export function parseSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]i?b?)?$/i.exec(v.trim());
  if (!m) throw new InvalidArgumentError(`expected a size like 1M or 512k, got ${JSON.stringify(v)}`);
  const unit = (m[2] ?? '').toLowerCase()[0];
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1 << 20 : unit === 'g' ? 1 << 30 : 1;
  return Math.floor(Number(m[1]) * mult);
}

function languagesArg(v: string): Language[] {
  try {
    return parseLanguages(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

type MergeSummary = Awaited<ReturnType<typeof mergeCode>>;
/** What a shard wrote: its files' facts (resolution waits for the merge). */
interface ShareResult { share: true; db: string; root: string; files: number; skipped: unknown[]; rejected: number }
type IndexResult = CodeIndexSummary | MergeSummary | ShareResult;

function indexReport(s: IndexResult): Report {
  if ('share' in s) return { summary: s };
  if (!('files_parsed' in s)) return { summary: s, note: `threadmill code merge: ${s.parts} part(s), ${s.files} files, ${s.resolved} of ${s.calls} calls resolved → ${s.db}` };
  return {
    summary: s,
    title: `threadmill code index: ${s.db}`,
    rows: () => [
      ['files parsed', s.files_parsed], ['files unchanged', s.files_unchanged], ['files removed', s.files_removed],
      ...Object.entries(s.skipped).map(([k, n]): [string, number] => [`skipped ${k.replace('_', ' ')}`, n ?? 0]),
      ['files with syntax errors', s.parse_errors], ['entities', s.entities], ['edges', s.edges],
      ['calls resolved', `${s.calls_resolved.toLocaleString('en-US')} of ${s.calls.toLocaleString('en-US')} (${(s.resolution_rate * 100).toFixed(1)}%)`],
      ['threads', s.threads], ['seconds', s.seconds.toFixed(2)], ['files/s', s.files_per_second],
    ],
  };
}

const codeOptions = (f: IndexFlags, ctx: RunContext<IndexFlags>) => ({ root: ctx.inputs[0]!, languages: f.languages, includeCode: f.includeCode, maxFileSize: f.maxFileSize, threads: f.threads, signal: ctx.signal, errorLog: ctx.errorLog });
/** The share planned once per run: its options go in the manifest before the part is filled. */
const plans = new WeakMap<object, CodeSharePlan>();

/** A file indexed despite syntax errors is the "rejected record": kept, so echoed as a warning. */
const indexCommand = defineCommand<IndexFlags, IndexResult>({
  name: 'index',
  description: 'index a folder of source code into a code graph (entities, calls resolved where scoping is certain, imports, inheritance)',
  inputs: { name: 'dir', help: 'the folder to index', many: false },
  recordErrors: 'warnings',
  options: (cmd) => cmd
    .option('--languages <list>', 'only these languages (python,javascript,typescript,tsx,rust,go,java,c,cpp)', languagesArg)
    .option('--include-code', 'store each entity\'s source text')
    .option('--max-file-size <size>', 'skip larger files (e.g. 512k, 2M)', parseSize, DEFAULT_MAX_FILE_SIZE)
    .option('--replace', 'the store holds another folder\'s graph: replace it (refused otherwise)'),
  output: { flags: '--db <store>', help: 'the graph: a SQLite path, sqlite:PATH or postgres://…', required: false, default: DEFAULT_DB, of: (f) => f.db },
  async run(ctx) {
    const progress = ctx.progress();
    const s = await indexCode({ ...codeOptions(ctx.flags, ctx), db: ctx.output!, replace: ctx.flags.replace, progress });
    progress.finish();
    return s;
  },
  counts: (s) => ('files_parsed' in s ? { records: s.files_parsed, rejected: s.parse_errors } : { records: s.files, rejected: 'share' in s ? s.rejected : 0 }),
  report: indexReport,
  shard: {
    manifestInputs: () => [],
    manifestOptions(f, inputs) {
      const plan = planCodeShare({ root: inputs[0]!, languages: f.languages, includeCode: f.includeCode, maxFileSize: f.maxFileSize }, parseShard(f.shard!));
      plans.set(f, plan);
      return plan.options;
    },
    share: () => null,
    part: {
      kind: 'custom',
      async fill(dir, ctx) {
        const progress = ctx.progress();
        const w = await writeCodeShare(plans.get(ctx.flags)!, dir, { ...codeOptions(ctx.flags, ctx), progress });
        progress.finish();
        return { share: true, db: dir, root: w.root, files: w.files, skipped: w.skipped, rejected: ctx.errorLog.total };
      },
      merge: (parts, output) => mergeCode(parts, output ?? DEFAULT_DB),
      mergePartial: async (parts, dir) => mergeCodePartial(parts, dir),
    },
    data: (r) => ('share' in r ? { root: r.root, files: r.files, skipped: r.skipped } : {}),
  },
});

async function withStore<T>(db: string, fn: (store: CodeStore) => Promise<T>): Promise<T> {
  const store = await openStore(db, 'read');
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function entityLine(e: EntityRef): string {
  return `${e.kind.padEnd(10)} ${e.qualified_name}  ${e.file}:${e.start_line}  [${e.key}]`;
}

function printWalk(a: WalkAnswer, title: string): void {
  const lines = [`${title} of ${a.target.qualified_name} (${a.target.file}:${a.target.start_line})`];
  for (const h of a.hops) lines.push(`  ${String(h.depth).padStart(2)}  ${entityLine(h.entity)}  via ${h.via.file}:${h.via.line}`);
  if (a.hops.length === 0) lines.push('  (none resolved)');
  for (const u of a.unresolved ?? []) lines.push(`   ?  ${u.receiver && !u.receiver.startsWith('#') ? `${u.receiver}.` : ''}${u.name}  ${u.file}:${u.line}  (unresolved)`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Runs one query; an ambiguous name prints its matches (as data) and exits 1. */
function queryAction<A extends unknown[]>(run: (store: CodeStore, flags: QueryFlags, ...args: A) => Promise<unknown>, print: (value: never) => void) {
  return action(async (...args: [...A, QueryFlags, Command]) => {
    const flags = args[args.length - 2] as QueryFlags;
    const rest = args.slice(0, -2) as unknown as A;
    try {
      const value = await withStore(flags.db, (store) => run(store, flags, ...rest));
      if (flags.json) process.stdout.write(`${JSON.stringify(value)}\n`);
      else print(value as never);
    } catch (err) {
      if (err instanceof AmbiguousName && flags.json) process.stdout.write(`${JSON.stringify({ ambiguous: err.query, matches: err.matches })}\n`);
      throw err;
    }
  });
}

function registerQueries(code: Command): void {
  const query = code.command('query').description('ask the code graph: callers, callees, blast-radius, search, show, cycles, stats');
  const common = (c: Command): Command => c.option('--db <store>', 'the graph: a SQLite path, sqlite:PATH or postgres://…', DEFAULT_DB).option('--json', 'answer as JSON on stdout');
  common(query.command('callers').description('who calls this (resolved calls), hop by hop').argument('<name|key>')
    .option('--depth <n>', 'hops to follow', positiveInt('--depth'), 1))
    .action(queryAction((s, f, name: string) => callers(s, name, f.depth), (a: WalkAnswer) => printWalk(a, 'callers')));
  common(query.command('callees').description('what this calls: resolved, then unresolved as written').argument('<name|key>')
    .option('--depth <n>', 'hops to follow', positiveInt('--depth'), 1))
    .action(queryAction((s, f, name: string) => callees(s, name, f.depth), (a: WalkAnswer) => printWalk(a, 'callees')));
  common(query.command('blast-radius').description('what may break if this changes: callers and subclasses, by hop').argument('<key|name>')
    .option('--depth <n>', 'hops to follow', positiveInt('--depth'), 3))
    .action(queryAction((s, f, key: string) => blastRadius(s, key, f.depth), (a: WalkAnswer) => printWalk(a, 'blast radius')));
  common(query.command('search').description('entities whose name contains PATTERN (* and ? are wildcards)').argument('<pattern>')
    .option('--limit <n>', 'at most N results', positiveInt('--limit'), 100))
    .action(queryAction((s, f, pattern: string) => search(s, pattern, f.limit), (rows: EntityRef[]) => process.stdout.write(rows.map((r) => `${entityLine(r)}\n`).join(''))));
  common(query.command('show').description('one entity: where, signature, counts, and code when stored').argument('<key|name>'))
    .action(queryAction((s, _f, key: string) => show(s, key), (e: Awaited<ReturnType<typeof show>>) => {
      const rows: [string, string | number][] = [['key', e.key], ['kind', e.kind], ['qualified name', e.qualified_name], ['file', `${e.file}:${e.start_line}-${e.end_line}`],
        ['signature', e.signature ?? ''], ['parent', e.parent_key ?? ''], ['callers', e.callers], ['callees', e.callees], ['unresolved calls', e.unresolved_calls]];
      process.stdout.write(`${formatTable(rows)}\n${e.code ? `\n${e.code}\n` : ''}`);
    }));
  common(query.command('context').description('an entity with its source and its neighbours\' signatures (then source), packed into a token budget').argument('<name|key>')
    .option('--budget <tokens>', 'tokens to fill (~4 characters each)', positiveInt('--budget'), 2000))
    .action(queryAction((s, f, name: string) => context(s, name, (f as QueryFlags & { budget: number }).budget), (c: ContextAnswer) => {
      const out: string[] = [];
      for (const p of c.pieces) {
        out.push(`// ${p.relation}: ${p.qualified_name}  ${p.file}:${p.start_line}-${p.end_line}`);
        out.push(p.source ?? p.signature ?? '', '');
      }
      out.push(`// ${c.tokens} of ${c.budget} tokens${c.truncated ? ', target source cut' : ''}${c.omitted ? `, ${c.omitted} neighbours left out` : ''}${c.source_available ? '' : ', source not available (file changed or not found)'}`);
      process.stdout.write(`${out.join('\n')}\n`);
    }));
  common(query.command('outline').description('the entities of one file, in source order').argument('<path>'))
    .action(queryAction((s, _f, path: string) => fileOutline(s, path), (o: Awaited<ReturnType<typeof fileOutline>>) => {
      process.stdout.write(o.entities.map((e) => `${String(e.start_line).padStart(5)}-${String(e.end_line).padEnd(5)} ${e.kind.padEnd(10)} ${e.qualified_name}  ${e.signature ?? ''}\n`).join(''));
    }));
  common(query.command('cycles').description('strongly connected components of resolved calls and of imports'))
    .action(queryAction((s) => cycles(s), (c: Awaited<ReturnType<typeof cycles>>) => {
      const out: string[] = [`call cycles: ${c.calls.length}`, ...c.calls.map((k) => `  ${k.join('  ->  ')}`), `import cycles: ${c.imports.length}`, ...c.imports.map((k) => `  ${k.join('  ->  ')}`)];
      process.stdout.write(`${out.join('\n')}\n`);
    }));
  common(query.command('stats').description('files, skips, entities, edges and call resolution by language'))
    .action(queryAction((s) => stats(s), (v: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(v, null, 2)}\n`)));
}

function registerServe(code: Command): void {
  code.command('serve')
    .description('answer the queries as JSON over HTTP on 127.0.0.1 (GET /health, /callers, /callees, /blast-radius, /search, /show, /cycles, /stats)')
    .option('--db <store>', 'the graph: a SQLite path, sqlite:PATH or postgres://…', DEFAULT_DB)
    .option('--port <n>', 'port (0: any free port)', (v) => { const n = Number(v); if (!Number.isSafeInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`--port must be 0-65535, got ${v}`); return n; }, 7777)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .action(action(async (flags: { db: string; port: number; host: string }) => {
      const store = await openStore(flags.db, 'read');
      const server = await serveGraph(store, flags.port, flags.host);
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : flags.port;
      process.stderr.write(`threadmill code serve: ${store.location} on http://${flags.host}:${port}/ (GET /health)\n`);
      const stop = (): void => { server.close(); void store.close().then(() => process.exit(0)); };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await new Promise<void>((resolve) => server.on('close', resolve));
    }));
}

function registerMcp(code: Command): void {
  code.command('mcp')
    .description('serve the graph to agents over the Model Context Protocol on stdio (tools: search, show, callers, callees, blast_radius, file_outline, context)')
    .option('--db <store>', 'the graph: a SQLite path, sqlite:PATH or postgres://…', DEFAULT_DB)
    .action(action(async (flags: { db: string }) => {
      const { serveMcp } = await import('./mcp.js');
      const store = await openStore(flags.db, 'read');
      process.stderr.write(`threadmill code mcp: ${store.location} on stdio\n`);
      try {
        await serveMcp(store);
      } finally {
        await store.close();
      }
    }));
}

export const codeFormat: FormatSpec = {
  name: 'code',
  description: 'a folder of source code → a code graph with resolved calls (SQLite or PostgreSQL), queries, an HTTP server',
  commands: [indexCommand],
  more(code) {
    registerQueries(code);
    registerServe(code);
    registerMcp(code);
  },
};
