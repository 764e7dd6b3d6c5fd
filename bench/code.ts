/**
 * Code graph benchmark: `threadmill code index` on real repositories of different languages
 * (fetched, never committed), for -j 1..cores: files/s, MB/s, peak RSS, beside `ctags -R` wall
 * time on the same tree; recall of ctags' function/class/method definitions among our entities;
 * call resolution rate per language. Writes its section of docs/benchmarks.md.
 *
 *   node dist/bench/code.js [--repos DIR]     (default $TMPDIR/threadmill-code-repos: one folder per repository)
 *   node dist/bench/code.js --resolution [--before OLD/dist/src/cli.js] [--sample 40]
 *       only the resolution among calls to names defined in the repository (REPOS and
 *       RESOLUTION_REPOS), this build beside an older one, and a seeded random sample of resolved
 *       edges per repository to judge by hand (docs/code.md lists the judged samples)
 *
 * A repository missing under --repos is fetched there (`git fetch --depth 1`): RESOLUTION_REPOS at
 * the commits the judged samples of docs/code.md were drawn from, the others at their default
 * branch; one that cannot be fetched (offline, `--no-fetch`) is skipped with a message. Not under
 * bench/: tsconfig compiles bench/**, and a fetched TypeScript repository there would break the
 * build.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { arg, timeCommand, writeSection } from './report.js';
import { openStore } from '../src/sinks/code-store.js';
import { callsOutsideTree } from '../src/formats/code/resolve.js';

interface Repo { name: string; url: string; language: string; commit?: string }

export const REPOS: Repo[] = [
  { name: 'flask', url: 'https://github.com/pallets/flask', language: 'Python' },
  { name: 'express', url: 'https://github.com/expressjs/express', language: 'JavaScript' },
  { name: 'gin', url: 'https://github.com/gin-gonic/gin', language: 'Go' },
  { name: 'ripgrep', url: 'https://github.com/BurntSushi/ripgrep', language: 'Rust' },
  { name: 'gson', url: 'https://github.com/google/gson', language: 'Java' },
  { name: 'redis', url: 'https://github.com/redis/redis', language: 'C' },
  { name: 'parseltongue', url: 'https://github.com/that-in-rust/parseltongue-rust-LLM-companion', language: 'Rust (+ others)' },
];

/** The repositories issue #17 measured resolution on (the sample in docs/code.md is from these). */
/** The issue #17 repositories, at the commits docs/code.md's judged samples come from. */
export const RESOLUTION_REPOS: Repo[] = [
  { name: 'flask', url: 'https://github.com/pallets/flask', language: 'Python', commit: '2ac89889f4cc330eabd50f295dcef02828522c69' },
  { name: 'cobra', url: 'https://github.com/spf13/cobra', language: 'Go', commit: 'adbc8813901bba65827259daa8e22ff94ec1f30e' },
  { name: 'gson', url: 'https://github.com/google/gson', language: 'Java', commit: '9835b6f90192f79cdf5300c528fc6212455fb6c1' },
  { name: 'tokio', url: 'https://github.com/tokio-rs/tokio', language: 'Rust', commit: 'ea91b33ca57ff0581b38e735cc108f831bccbdaa' },
  { name: 'vue', url: 'https://github.com/vuejs/core', language: 'TypeScript', commit: 'e2bede96134f757aad5c5b33ac9be055022dbfc8' },
];

const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const reposDir = arg('--repos') ?? join(tmpdir(), 'threadmill-code-repos');

/**
 * The repository's tree under reposDir, fetched there when missing (at its pinned commit, if it has
 * one); null when it cannot be had. A tree already there at another commit is used, with a warning:
 * its sample will not be docs/code.md's.
 */
function ensureRepo(repo: Repo): string | null {
  const tree = join(reposDir, repo.name);
  const git = (...args: string[]): { status: number | null; stdout: string } => spawnSync('git', ['-C', tree, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (existsSync(tree)) {
    const head = git('rev-parse', 'HEAD').stdout.trim();
    if (repo.commit && head && head !== repo.commit) process.stderr.write(`bench code: ${tree} is at ${head.slice(0, 12)}, not ${repo.commit.slice(0, 12)}: its figures and sample are not docs/code.md's\n`);
    return tree;
  }
  if (process.argv.includes('--no-fetch')) {
    process.stderr.write(`bench code: ${tree} missing, skipped (--no-fetch)\n`);
    return null;
  }
  process.stderr.write(`bench code: fetching ${repo.url} ${repo.commit ?? '(default branch)'} into ${tree}\n`);
  mkdirSync(tree, { recursive: true });
  const ok = git('init', '-q').status === 0 && git('fetch', '-q', '--depth', '1', repo.url, repo.commit ?? 'HEAD').status === 0 && git('checkout', '-q', 'FETCH_HEAD').status === 0;
  if (ok) return tree;
  rmSync(tree, { recursive: true, force: true });
  process.stderr.write(`bench code: could not fetch ${repo.url}; ${repo.name} skipped\n`);
  return null;
}

interface IndexRun { threads: number; seconds: number; cpuSeconds: number; files: number; mb: number; rssMiB: number; summary: Record<string, unknown> }

function indexOnce(dir: string, threads: number, db: string): IndexRun {
  rmSync(db, { force: true });
  const t = timeCommand(process.execPath, [cli, 'code', 'index', dir, '--db', db, '-j', String(threads), '--json', '-q']);
  if (t.status !== 0) throw new Error(`code index failed on ${dir}: ${t.stderr}`);
  const summary = JSON.parse(t.stdout) as { files_parsed: number; bytes_parsed: number };
  return { threads, seconds: t.seconds, cpuSeconds: t.cpuSeconds, files: summary.files_parsed, mb: summary.bytes_parsed / 1e6, rssMiB: t.peakRssMiB, summary };
}

/** Python's `member` is a method; elsewhere `member` is a field. */
function wanted(kind: string, file: string): boolean {
  if (kind === 'function' || kind === 'func' || kind === 'class' || kind === 'method') return true;
  return kind === 'member' && file.endsWith('.py');
}

/** ctags' definitions in the files we indexed, found among our entities: same file, same name, the tag's line inside the entity. */
function recall(dir: string, db: string): { tags: number; found: number; seconds: number; missed: string[] } {
  const start = performance.now();
  const r = spawnSync('ctags', ['-R', '--excmd=number', '--fields=+nK', '-f', '-', '.'], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = (performance.now() - start) / 1000;
  const g = new Database(db, { readonly: true });
  const indexed = new Set((g.prepare("SELECT path FROM files WHERE status = 'indexed'").all() as { path: string }[]).map((x) => x.path));
  const byName = g.prepare('SELECT start_line, end_line FROM entities WHERE file = ? AND name = ?');
  let tags = 0, found = 0;
  const missed: string[] = [];
  for (const line of r.stdout.split('\n')) {
    const f = line.split('\t');
    if (f.length < 4) continue;
    const name = f[0]!, file = f[1]!.replace(/^\.\//, ''), kind = f[3]!;
    const at = Number(/line:(\d+)/.exec(line)?.[1] ?? f[2]!.replace(/;"$/, ''));
    // ctags names anonymous functions AnonymousFunction<hash>: not definitions anyone looks up.
    if (!indexed.has(file) || !wanted(kind, file) || name.startsWith('AnonymousFunction')) continue;
    tags++;
    const rows = byName.all(file, name) as { start_line: number; end_line: number }[];
    if (rows.some((e) => e.start_line <= at && at <= e.end_line)) found++;
    else if (missed.length < 5) missed.push(`${kind} ${name} ${file}:${at}`);
  }
  g.close();
  return { tags, found, seconds, missed };
}

function ctagsTime(dir: string): { seconds: number; cpuSeconds: number } {
  return timeCommand('ctags', ['-R', '-f', '/dev/null', '.'], { cwd: dir });
}

const IN_REPO_NAME = "kind = 'calls' AND dst_name IN (SELECT name FROM entities WHERE kind NOT IN ('module', 'field'))";

/**
 * Calls whose callee name is defined somewhere in the repository (any entity but a module or a
 * field, by name), and how many of them are resolved: the issue's measure of how much `callers`
 * can see. Calls to names defined nowhere in the tree (the standard library, dependencies) are
 * left out. `outside`: those of the unresolved ones whose own text shows they call something
 * outside the tree although the tree defines the name too (`Arc::new`, `Poll::Ready`,
 * `json.dumps`; resolve.ts `outsideTree`, decision 0035), reported as a second figure without them.
 */
export async function inRepoResolution(db: string, root: string, withOutside = true): Promise<{ calls: number; resolved: number; outside: number | null }> {
  const g = new Database(db, { readonly: true });
  let counts: { n: number; r: number };
  let unresolved: number[];
  try {
    counts = g.prepare(`SELECT COUNT(*) AS n, COALESCE(SUM(resolved), 0) AS r FROM edges WHERE ${IN_REPO_NAME}`).get() as { n: number; r: number };
    unresolved = (g.prepare(`SELECT id FROM edges WHERE ${IN_REPO_NAME} AND resolved = 0`).all() as { id: number }[]).map((x) => x.id);
  } finally {
    g.close();
  }
  if (!withOutside) return { calls: counts.n, resolved: counts.r, outside: null };
  const store = await openStore(db, 'read');
  try {
    const outside = await callsOutsideTree(store, root);
    return { calls: counts.n, resolved: counts.r, outside: unresolved.filter((id) => outside.has(id)).length };
  } finally {
    await store.close();
  }
}

function rate(resolved: number, calls: number): string {
  return `${resolved.toLocaleString('en-US')} / ${calls.toLocaleString('en-US')} (${((resolved / Math.max(1, calls)) * 100).toFixed(1)}%)`;
}

/** `n` resolved call edges drawn with a seeded generator (the same sample on every run of one database). */
export function sampleEdges(db: string, n: number, seed = 17): { id: number; src: string; dst: string; file: string; line: number; name: string; receiver: string }[] {
  const g = new Database(db, { readonly: true });
  try {
    const rows = g.prepare("SELECT id, src, dst, file, line, dst_name AS name, receiver FROM edges WHERE kind = 'calls' AND resolved = 1 ORDER BY file, line, id").all() as { id: number; src: string; dst: string; file: string; line: number; name: string; receiver: string }[];
    let a = seed >>> 0;
    const next = (): number => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
    const out: typeof rows = [];
    const taken = new Set<number>();
    while (out.length < Math.min(n, rows.length)) {
      const i = Math.floor(next() * rows.length);
      if (!taken.has(i)) { taken.add(i); out.push(rows[i]!); }
    }
    return out;
  } finally {
    g.close();
  }
}

async function resolutionOnly(): Promise<void> {
  const before = arg('--before');
  const sample = Number(arg('--sample') ?? 0);
  const out: string[] = [];
  const withCtags = spawnSync('ctags', ['--version']).status === 0;
  const dir = mkdtempSync(join(tmpdir(), 'tm-bench-code-res-'));
  for (const repo of RESOLUTION_REPOS) {
    const tree = ensureRepo(repo);
    if (!tree) continue;
    const cell = async (cliPath: string, tag: string): Promise<string> => {
      const db = join(dir, `${repo.name}-${tag}.db`);
      const t = timeCommand(process.execPath, [cliPath, 'code', 'index', tree, '--db', db, '-j', '2', '--json', '-q']);
      if (t.status !== 0) throw new Error(`code index failed on ${tree}: ${t.stderr}`);
      // An older build's facts are not read by this classifier: it wrote a Rust call on a value (`x.f()`) like a path.
      const r = await inRepoResolution(db, tree, tag === 'after');
      if (tag === 'after' && sample > 0) {
        process.stdout.write(`## ${repo.name}: ${sample} resolved edges (seed 17)\n`);
        for (const e of sampleEdges(db, sample)) process.stdout.write(`${e.file}:${e.line}  ${e.receiver ? `${e.receiver}.` : ''}${e.name}  →  ${e.dst}\n`);
      }
      const mb = (JSON.parse(t.stdout) as { bytes_parsed?: number }).bytes_parsed ?? NaN;
      const rc = withCtags ? recall(tree, db) : null;
      const found = rc ? `${((rc.found / Math.max(1, rc.tags)) * 100).toFixed(1)}%` : 'n/a';
      return `${rate(r.resolved, r.calls)} | ${r.outside === null ? 'n/a' : rate(r.resolved, r.calls - r.outside)} | ${t.cpuSeconds.toFixed(1)} | ${(mb / 1e6 / t.cpuSeconds).toFixed(2)} | ${Math.round(t.peakRssMiB)} | ${found}`;
    };
    out.push(`| ${repo.name} (${repo.language}) | ${before ? await cell(before, 'before') : 'n/a | | | | | '} | ${await cell(cli, 'after')} |`);
  }
  rmSync(dir, { recursive: true, force: true });
  if (out.length === 0) {
    process.stderr.write('bench code: no repository could be had; docs/benchmarks.md left as it is\n');
    return;
  }
  writeSection('code-resolution', `## code index: calls to names defined in the repository (${new Date().toISOString().slice(0, 10)})

Of the calls whose callee name is defined somewhere in the repository, how many are resolved to
one definition (bench/code.ts \`--resolution\`, -j 2). "before" is the build before issue #17.
"w/o outside": the same without the unresolved calls whose text shows they call something outside
the tree although the tree defines that name too (\`Arc::new\`, \`Poll::Ready\`, \`json.dumps\`;
decision 0035), classified by this build's resolver (not for the older build, whose facts it does
not read: a Rust call on a value was written like a path). CPU s, MB of source per CPU s and peak
RSS of the whole index; "ctags": recall of universal-ctags' function/class/method definitions
among our entities (as in the code section).

| repository | before: resolved / calls | w/o outside | CPU s | MB per CPU s | RSS MiB | ctags | after: resolved / calls | w/o outside | CPU s | MB per CPU s | RSS MiB | ctags |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
${out.join('\n')}
`);
}

if (process.argv.includes('--resolution')) {
  await resolutionOnly();
  process.exit(0);
}

/** Issue #17 measured memory on spring-framework (9,199 Java files): ≤ 600 MB at -j 2. */
const SPRING: Repo = { name: 'spring', url: 'https://github.com/spring-projects/spring-framework', language: 'Java' };
const MEASURED = [...REPOS, ...RESOLUTION_REPOS.filter((r) => !REPOS.some((q) => q.name === r.name)), SPRING];

const cores = availableParallelism();
const threadCounts = [...new Set([1, 2, cores].filter((n) => n <= cores))];
const hasCtags = spawnSync('ctags', ['--version']).status === 0;
const work = mkdtempSync(join(tmpdir(), 'tm-bench-code-'));
const rows: string[] = [];
const recalls: string[] = [];
const resolution: string[] = [];
for (const repo of MEASURED) {
  const dir = ensureRepo(repo);
  if (!dir) continue;
  const db = join(work, `${repo.name}.db`);
  const runs = threadCounts.map((j) => indexOnce(dir, j, db));
  const ctags = hasCtags ? ctagsTime(dir) : { seconds: NaN, cpuSeconds: NaN };
  for (const r of runs) {
    const ct = Number.isNaN(ctags.seconds) ? 'n/a' : `${ctags.seconds.toFixed(2)} (${ctags.cpuSeconds.toFixed(2)})`;
    rows.push(`| ${repo.name} (${repo.language}) | ${r.threads} | ${r.files} | ${r.mb.toFixed(1)} | ${r.seconds.toFixed(2)} | ${r.cpuSeconds.toFixed(2)} | ${Math.round(r.files / r.seconds)} | ${Math.round(r.files / r.cpuSeconds)} | ${(r.mb / r.seconds).toFixed(2)} | ${(r.mb / r.cpuSeconds).toFixed(2)} | ${Math.round(r.rssMiB)} | ${ct} |`);
    process.stderr.write(`bench code: ${repo.name} -j ${r.threads}: ${r.files} files in ${r.seconds.toFixed(2)} s, ${Math.round(r.rssMiB)} MiB\n`);
  }
  const last = runs[runs.length - 1]!;
  if (hasCtags) {
    const rc = recall(dir, db);
    recalls.push(`| ${repo.name} | ${rc.tags} | ${rc.found} | ${((rc.found / Math.max(1, rc.tags)) * 100).toFixed(1)}% | ${rc.missed.map((m) => `\`${m}\``).join('<br>')} |`);
  }
  const byLang = last.summary.resolution_by_language as Record<string, { calls: number; resolved: number; rate: number }>;
  for (const [lang, s] of Object.entries(byLang)) if (s.calls >= 50) resolution.push(`| ${repo.name} | ${lang} | ${s.calls} | ${s.resolved} | ${(s.rate * 100).toFixed(1)}% |`);
}
rmSync(work, { recursive: true, force: true });
if (rows.length === 0) {
  process.stderr.write(`bench code: no repositories under ${reposDir}; nothing measured\n`);
} else {
  writeSection('code', `## code index (${new Date().toISOString().slice(0, 10)}, ${cores} cores)

Real repositories (\`REPOS\`, \`RESOLUTION_REPOS\` and spring-framework in bench/code.ts), indexed from scratch into SQLite; wall time of
the whole command (start-up, walk, parse, write, resolve) and its CPU time (user + sys of all
threads). ctags: \`ctags -R\` on the same tree (it also reads files we skip: vendored, ignored,
docs). Load average when this ran: ${loadavg()[0]!.toFixed(1)} (${cores} cores); on a shared machine
the CPU columns are the comparable ones.

| repository | -j | files | MB | wall s | CPU s | files/s (wall) | files per CPU s | MB/s (wall) | MB per CPU s | peak RSS MiB | ctags -R wall s (CPU s) |
|---|---|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Recall of universal-ctags' function/class/method definitions (Python \`member\` = method) in the
files we index: a tag counts when one of our entities in that file has its name and spans its line.

| repository | ctags definitions | found | recall | first misses |
|---|---|---|---|---|
${recalls.join('\n')}

Call resolution (calls resolved to one definition / all calls; the rest stay unresolved: external
libraries, receivers of unknown type, ambiguous names):

| repository | language | calls | resolved | rate |
|---|---|---|---|---|
${resolution.join('\n')}
`);
}
