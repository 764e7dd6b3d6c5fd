/**
 * The error catalogue (src/engine/error-catalogue.ts) against the code, the docs and the tests:
 * every code literal in src/ is catalogued, every row is used, explicit exit statuses agree with
 * it, docs/errors.md lists exactly it, and every code is provoked by a test (here, or named in
 * another test file). Then the faults found by fault injection (#16): a full disk (a small tmpfs)
 * is DISK_FULL naming the output for every format's main output, and an input changed during a
 * run is INPUT_CHANGED naming it, with nothing written in either case.
 *
 * UPDATE_ERROR_DOCS=1 rewrites the generated table in docs/errors.md from the catalogue.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync, copyFileSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { ERROR_CATALOGUE, exitStatusOf, isErrorCode, type CatalogueEntry, type ErrorCode } from '../../src/engine/error-catalogue.js';
import { ThreadmillError, InterruptedError, fromErrorShape, toErrorShape } from '../../src/engine/errors.js';
import { asFatal } from '../../src/engine/fatal.js';
import { WorkerPool } from '../../src/engine/pool.js';
import { runChunks } from '../../src/index.js';
import { cliPath, FAULT_ENV, runCliAsync, type CliRun } from '../helpers/faults.js';
import { syntheticFastq } from '../formats/fastq/helpers.js';
import { generateScan, scanText } from '../formats/fsscan/helpers.js';
import { makeEvents, toJsonl } from '../formats/nostr/fixtures.js';
import { writeFixtureTree } from '../formats/code/fixtures.js';
import { servedGraph } from '../formats/code/helpers.js';
import { openStore } from '../../src/sinks/code-store.js';
import { bamHeader, bamRecord, bgzf, lcg, writeBam } from '../formats/bam/raw.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const linesTask = new URL('./fixtures/lines-task.js', import.meta.url);
const CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

// ---------------------------------------------------------------------------------------------
// The table against the code and the docs

function filesUnder(dir: string, ext: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p, ext));
    else if (p.endsWith(ext)) out.push(p);
  }
  return out;
}

const sources = filesUnder(join(repo, 'src'), '.ts').filter((f) => !f.endsWith('error-catalogue.ts'));
/** A code: a quoted UPPER_SNAKE name, or any upper-case name where an error's code is given or compared. */
const CODE_LITERAL = /'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'|(?:Error|super|partError)\(\s*'([A-Z][A-Z0-9_]*)'|\bcode(?:: | === | !== )'([A-Z][A-Z0-9_]*)'/g;
/** Upper-case names in src/ that are not threadmill's codes: system and library codes, environment variables, SAM flag names. */
const NOT_OURS = [/^E[A-Z]+$/, /^SQLITE_[A-Z]+$/, /^HPE_/, /^THREADMILL_[A-Z_]+$/, /^(SLURM_ARRAY_TASK_ID|JOB_COMPLETION_INDEX|AWS_BATCH_JOB_ARRAY_INDEX)$/, /^PROPER_PAIR$/];

function codeLiterals(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of sources) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(CODE_LITERAL)) {
      const code = m[1] ?? m[2] ?? m[3]!;
      if (NOT_OURS.some((re) => re.test(code))) continue;
      found.set(code, [...(found.get(code) ?? []), relative(repo, file)]);
    }
  }
  return found;
}

test('every error code in src/ is in the catalogue, and every catalogued code is used in src/', () => {
  const found = codeLiterals();
  const unknown = [...found].filter(([code]) => !isErrorCode(code)).map(([code, files]) => `${code} (${files.join(', ')})`);
  assert.deepEqual(unknown, [], 'codes missing from src/engine/error-catalogue.ts');
  const unused = CODES.filter((code) => !found.has(code));
  assert.deepEqual(unused, [], 'catalogued codes no source file uses (dead: remove them)');
});

test('an explicit exitCode agrees with the catalogue (SIGTERM 143 aside)', () => {
  const wrong: string[] = [];
  for (const file of sources) {
    for (const [i, line] of readFileSync(file, 'utf8').split('\n').entries()) {
      const code = /(?:Error|super)\(\s*'([A-Z][A-Z0-9_]*)'/.exec(line)?.[1];
      const exit = /exitCode: (\d+)/.exec(line)?.[1];
      if (!code || !exit || !isErrorCode(code)) continue;
      if (Number(exit) !== exitStatusOf(code) && !(code === 'INTERRUPTED' && exit === '143')) wrong.push(`${relative(repo, file)}:${i + 1} ${code} exit ${exit}, catalogue ${exitStatusOf(code)}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test("ThreadmillError's exit status comes from the catalogue unless given", () => {
  assert.equal(new ThreadmillError('USAGE', 'x').exitCode, 2);
  assert.equal(new ThreadmillError('DISK_FULL', 'x').exitCode, 1);
  assert.equal(new ThreadmillError('DISK_FULL', 'x', { exitCode: 3 }).exitCode, 3);
  assert.equal(new InterruptedError('SIGINT').exitCode, 130);
  assert.equal(new InterruptedError('SIGTERM').exitCode, 143);
  // A worker's error keeps a catalogued code; any other becomes WORKER_FAILED, the original its cause.
  const kept = fromErrorShape(toErrorShape(new ThreadmillError('PB_CORRUPT', 'cut')), 'chunk 3');
  assert.equal(kept.code, 'PB_CORRUPT');
  const other = fromErrorShape(toErrorShape(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' })), 'chunk 3');
  assert.equal(other.code, 'WORKER_FAILED');
  assert.equal((other.cause as { code?: string }).code, 'ENOSPC');
});

const DOCS = join(repo, 'docs', 'errors.md');
const BEGIN = '<!-- catalogue: generated from src/engine/error-catalogue.ts (UPDATE_ERROR_DOCS=1 node --test dist/test/engine/error-catalogue.test.js) -->';
const END = '<!-- end of catalogue -->';

function catalogueTable(): string {
  const rows = CODES.map((code) => {
    const e = ERROR_CATALOGUE[code] as CatalogueEntry;
    return `| \`${code}\` | ${e.exit ?? '–'} | ${e.http ?? ''} | ${e.meaning.replace(/\|/g, '\\|')} |`;
  });
  return [BEGIN, '', '| code | exit | HTTP | meaning |', '|---|---:|---:|---|', ...rows, '', END].join('\n');
}

test('docs/errors.md lists exactly the catalogue', () => {
  const text = readFileSync(DOCS, 'utf8');
  const at = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  assert.ok(at >= 0 && end > at, `${DOCS} has no generated catalogue between its markers`);
  const updated = text.slice(0, at) + catalogueTable() + text.slice(end + END.length);
  if (process.env.UPDATE_ERROR_DOCS === '1') writeFileSync(DOCS, updated);
  else assert.equal(text, updated, 'docs/errors.md differs from the catalogue: rerun with UPDATE_ERROR_DOCS=1');
});

// ---------------------------------------------------------------------------------------------
// Provoking every code

const provoked = new Set<ErrorCode>();
let work = '';
before(() => {
  work = mkdtempSync(join(tmpdir(), 'tm-catalogue-'));
});
after(() => rmSync(work, { recursive: true, force: true }));

type Ran = CliRun;

/** The CLI in the test's work folder. */
const cli = (args: string[], options: Parameters<typeof runCliAsync>[1] = {}): Promise<Ran> => runCliAsync(args, { cwd: work, ...options });

function assertFailed(r: Ran, code: ErrorCode, mentions: string[] = []): void {
  const exit = exitStatusOf(code);
  assert.match(r.stderr, new RegExp(`threadmill: error \\[${code}\\]: `), r.stderr);
  assert.equal(r.status, exit, r.stderr);
  for (const m of mentions) assert.ok(r.stderr.includes(m), `the message names ${m}: ${r.stderr}`);
}

/** Registers a test that provokes `code`; the meta-test below counts them. */
function provokes(code: ErrorCode, fn: () => Promise<void> | void): void {
  provoked.add(code);
  test(`provokes ${code}`, fn);
}

function fixture(name: string, content: string | Buffer): string {
  const p = join(work, name);
  writeFileSync(p, content);
  return p;
}

/** A BAM of `n` records of random bases and qualities (so that it does not compress to nothing), in small BGZF blocks. */
function randomBam(name: string, n: number): string {
  const next = lcg(n);
  const records = Array.from({ length: n }, (_, k) => bamRecord({
    name: `read${k}`, refId: 0, pos: k, cigar: [[60, 0]],
    seq: Uint8Array.from({ length: 60 }, () => [1, 2, 4, 8][next(4)]!), qual: Uint8Array.from({ length: 60 }, () => next(41)),
  }));
  return writeBam(join(work, name), bamHeader([['chr1', 100000]]), records, 16384);
}

describe('codes provoked through the CLI', { concurrency: 3 }, () => {
  provokes('BAD_STORE', async () => {
    mkdirSync(join(work, 'tree-a'), { recursive: true });
    assertFailed(await cli(['code', 'index', 'tree-a', '--db', 'foo://somewhere']), 'BAD_STORE');
  });
  provokes('BAD_OUTPUT', async () => {
    mkdirSync(join(work, 'tree-b/dir.db'), { recursive: true });
    assertFailed(await cli(['code', 'index', 'tree-b', '--db', 'tree-b/dir.db']), 'BAD_OUTPUT', ['tree-b/dir.db']);
  });
  provokes('DB_NOT_FOUND', async () => {
    assertFailed(await cli(['code', 'query', 'stats', '--db', 'missing.db']), 'DB_NOT_FOUND', ['missing.db']);
  });
  provokes('BAD_DB', async () => {
    fixture('not-a-graph.db', 'hello\n');
    assertFailed(await cli(['code', 'query', 'stats', '--db', 'not-a-graph.db']), 'BAD_DB', ['not-a-graph.db']);
  });
  provokes('FSSCAN_NO_DATABASE', async () => {
    fixture('not-a-scan.db', 'hello\n');
    assertFailed(await cli(['fsscan', 'query', '--db', 'not-a-scan.db']), 'FSSCAN_NO_DATABASE', ['not-a-scan.db']);
  });
  provokes('FSSCAN_BAD_DATE', async () => {
    fixture('20240101_srv_fsd.list', scanText(generateScan(3, 2, 5).records, 3));
    // 2024-13-45 was taken as 2025-02-14.
    for (const date of ['2024-13-45', '2024-02-30', '24-1-1']) {
      assertFailed(await cli(['fsscan', 'import', '20240101_srv_fsd.list', '--db', 'd.db', '--scan-date', date]), 'FSSCAN_BAD_DATE', [date]);
    }
    assert.equal(existsSync(join(work, 'd.db')), false);
  });
  provokes('SHARD_UNSEEKABLE', async () => {
    // stdin was INPUT_NOT_FOUND "cannot read -" when a part's manifest named its inputs.
    assertFailed(await cli(['fastq', 'stats', '-', '--shard', '0/2', '-o', 'part-{I}'], { input: syntheticFastq(10, 1) }), 'SHARD_UNSEEKABLE', ['stdin']);
  });
  provokes('INPUT_UNREADABLE', async () => {
    mkdirSync(join(work, 'a-directory'), { recursive: true });
    assertFailed(await cli(['fastq', 'stats', 'a-directory']), 'INPUT_UNREADABLE', ['a-directory']);
  });
  provokes('GZIP_CORRUPT', async () => {
    const gz = gzipSync(syntheticFastq(3000, 2));
    gz.fill(0xff, gz.length >> 1, (gz.length >> 1) + 64);
    fixture('bad.fq.gz', gz);
    assertFailed(await cli(['fastq', 'stats', 'bad.fq.gz']), 'GZIP_CORRUPT', ['bad.fq.gz']);
  });
  provokes('BAM_BAD_HEADER', async () => {
    // "BAM\1" and a negative header text length.
    fixture('bad-header.bam', Buffer.concat([bgzf(Buffer.from([0x42, 0x41, 0x4d, 0x01, 0xff, 0xff, 0xff, 0xff])), bgzf(new Uint8Array(0))]));
    assertFailed(await cli(['bam', 'stats', 'bad-header.bam']), 'BAM_BAD_HEADER', ['bad-header.bam']);
  });
  provokes('BAM_BAD_INDEX', async () => {
    writeBam(join(work, 'indexed.bam'), bamHeader([['chr1', 1000]]), [bamRecord({ name: 'r1', refId: 0, pos: 10 })]);
    // A .bai that says five references follow and ends.
    fixture('indexed.bam.bai', Buffer.from([0x42, 0x41, 0x49, 0x01, 5, 0, 0, 0]));
    assertFailed(await cli(['bam', 'stats', 'indexed.bam', 'chr1:1-100']), 'BAM_BAD_INDEX', ['indexed.bam.bai']);
  });
  provokes('FSSCAN_SUM_OVERFLOW', async () => {
    // Ten files of 1 PiB (the most one line may say) in one directory: 2^53.3 bytes.
    const lines = Array.from({ length: 10 }, (_, i) => `<0> ${100 + i} 1 0 s=1125899906842624 a=1099511627776 u=0 g=0 m=FAu p=-rw-r--r-- ac=2025-01-17 07:42:17 mt=2024-08-30 23:13:56 cr=2024-08-30 23:13:56 nl=1 -- /gpfs/fsx/big/f${i}.dat\n`);
    fixture('20240101_srv_fsx.list', lines.join(''));
    assertFailed(await cli(['fsscan', 'import', '20240101_srv_fsx.list', '--db', 'x.db']), 'FSSCAN_SUM_OVERFLOW', ['20240101_srv_fsx.list']);
    assert.equal(existsSync(join(work, 'x.db')), false);
  });
  provokes('OUTPUT_RECOVERY_FAILED', async () => {
    mkdirSync(join(work, 'journaled'), { recursive: true });
    fixture('journaled/.threadmill-journal-1-1@abcdefabcdef.json', '{');
    fixture('j.fq', syntheticFastq(10, 3));
    assertFailed(await cli(['fastq', 'convert', 'j.fq', '-o', 'journaled/out.arrow']), 'OUTPUT_RECOVERY_FAILED', ['.threadmill-journal-1-1@abcdefabcdef.json']);
  });
  provokes('IPC_CODEC_UNAVAILABLE', async () => {
    // A module hook that makes lz4-napi fail to load, as on a platform without its binary.
    const hook = fixture('block-lz4.mjs', `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent("export async function resolve(s, c, n) { if (s === 'lz4-napi') throw new Error('lz4-napi blocked for a test'); return n(s, c); }"));\n`);
    fixture('c.fq', syntheticFastq(50, 4));
    assertFailed(await cli(['fastq', 'convert', 'c.fq', '-o', 'c.arrow', '--compression', 'lz4'], { nodeArgs: ['--import', hook] }), 'IPC_CODEC_UNAVAILABLE', ['lz4']);
    assert.equal(existsSync(join(work, 'c.arrow')), false);
  });
  provokes('MERGE_FAILED', async () => {
    fixture('m.fq', syntheticFastq(400, 5));
    for (const i of [0, 1]) assert.equal((await cli(['fastq', 'convert', 'm.fq', '--shard', `${i}/2`, '-o', `m-part${i}.arrow`, '--quiet'])).status, 0);
    writeFileSync(join(work, 'm-part1.arrow', 'data.arrow'), 'ARROW1\0\0not arrow at all');
    assertFailed(await cli(['fastq', 'merge', 'm-part0.arrow', 'm-part1.arrow', '-o', 'm.arrow']), 'MERGE_FAILED', ['m-part1.arrow']);
    assert.equal(existsSync(join(work, 'm.arrow')), false);
  });
  provokes('INDEX_CORRUPT', async () => {
    fixture('events-a.jsonl', toJsonl(makeEvents(20, 1)));
    assert.equal((await cli(['nostr', 'convert', 'events-a.jsonl', '-o', 'pb-a', '--quiet'])).status, 0);
    const index = join(work, 'pb-a', 'index.db');
    const bytes = readFileSync(index);
    bytes.write('not a sqlite file', 0);
    writeFileSync(index, bytes);
    // Was INTERNAL "file is not a database".
    assertFailed(await cli(['nostr', 'convert', 'events-a.jsonl', '-o', 'pb-a']), 'INDEX_CORRUPT', ['pb-a/index.db', 'nostr index rebuild']);
  });
  provokes('INDEX_WRITE_FAILED', async () => {
    // An index.db of another schema: the writer cannot insert (was "index writer crashed: undefined").
    mkdirSync(join(work, 'pb-b'), { recursive: true });
    const db = new Database(join(work, 'pb-b', 'index.db'));
    db.exec('CREATE TABLE events (id TEXT PRIMARY KEY, created_at INTEGER, file_path TEXT)');
    db.close();
    fixture('events-b.jsonl', toJsonl(makeEvents(20, 2)));
    assertFailed(await cli(['nostr', 'convert', 'events-b.jsonl', '-o', 'pb-b']), 'INDEX_WRITE_FAILED', ['pb-b/index.db', 'no column named']);
    assert.deepEqual(readdirSync(join(work, 'pb-b')), ['index.db']);
  });
  provokes('SERVE_FAILED', async () => {
    mkdirSync(join(work, 'tree-s'), { recursive: true });
    writeFixtureTree(join(work, 'tree-s'));
    assert.equal((await cli(['code', 'index', 'tree-s', '--db', 's.db', '--quiet'])).status, 0);
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      assertFailed(await cli(['code', 'serve', '--db', 's.db', '--port', String(port)]), 'SERVE_FAILED', [String(port)]);
    } finally {
      taken.close();
    }
  });
});

describe('codes provoked through the library', () => {
  provokes('POOL_CLOSED', async () => {
    const pool = new WorkerPool(linesTask, {}, 1);
    await pool.close();
    await assert.rejects(pool.call('anything', null), { code: 'POOL_CLOSED' });
  });
  provokes('RUN_FAILED', async () => {
    const input = fixture('lines.txt', 'a\nb\n');
    await assert.rejects(runChunks({ inputs: [input], taskModule: linesTask, taskOptions: {}, threads: 1, onChunk() { throw new TypeError('a sink bug'); } }),
      (err: ThreadmillError) => err.code === 'RUN_FAILED' && err.cause instanceof TypeError);
  });
  provokes('WORKER_FAILED', async () => {
    const input = fixture('lines-fail.txt', 'a\nfail here\n');
    await assert.rejects(runChunks({ inputs: [input], taskModule: linesTask, taskOptions: { failOn: 'fail here' }, threads: 1, onChunk() {} }), { code: 'WORKER_FAILED' });
  });
  provokes('INTERNAL', () => {
    // The CLI's policy (cli/common.ts action): anything that is not a ThreadmillError is a bug.
    const fatal = asFatal(new TypeError('x is undefined'));
    assert.equal(fatal.code, 'INTERNAL');
    assert.equal(fatal.exitCode, 1);
    assert.equal(asFatal(new ThreadmillError('PB_CORRUPT', 'cut')).code, 'PB_CORRUPT');
  });
  provoked.add('NO_ROUTE');
  provoked.add('METHOD_NOT_ALLOWED');
  test('provokes NO_ROUTE and METHOD_NOT_ALLOWED (code serve)', async () => {
    mkdirSync(join(work, 'tree-h'), { recursive: true });
    writeFixtureTree(join(work, 'tree-h'));
    assert.equal((await cli(['code', 'index', 'tree-h', '--db', 'h.db', '--quiet'])).status, 0);
    const store = await openStore(join(work, 'h.db'), 'read');
    const served = await servedGraph(store);
    try {
      const none = await served.get('/no-such-route');
      assert.equal(none.status, 404);
      assert.equal((none.body.error as { code: string }).code, 'NO_ROUTE');
      const post = await fetch(`http://127.0.0.1:${served.port}/stats`, { method: 'POST' });
      assert.equal(post.status, 405);
      assert.equal(((await post.json()) as { error: { code: string } }).error.code, 'METHOD_NOT_ALLOWED');
    } finally {
      served.close();
      await store.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// A full disk: DISK_FULL naming the output, for every format's main output

let tmpfs: string | null = null;
let tmpfsSkip: string | false = false;

describe('a full disk is DISK_FULL naming the output', () => {
  before(() => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-full-'));
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=32k', 'tmpfs', dir], { encoding: 'utf8' });
    if (r.status === 0) tmpfs = dir;
    else tmpfsSkip = `cannot mount a small tmpfs here (${(r.stderr || r.error?.message || 'mount failed').trim()}): a full disk is not tested`;
  });
  after(() => {
    if (tmpfs) spawnSync('umount', [tmpfs]);
  });

  const cases: { name: string; input: () => string; args: (input: string, out: string) => string[]; output: string }[] = [
    { name: 'fastq convert → Parquet', input: () => fixture('full.fq', syntheticFastq(4000, 6)), args: (i, o) => ['fastq', 'convert', i, '-o', o], output: 'reads.parquet' },
    { name: 'bam convert → Arrow', input: () => randomBam('full.bam', 1000), args: (i, o) => ['bam', 'convert', i, '-o', o], output: 'reads.arrow' },
    { name: 'nostr convert', input: () => fixture('full.jsonl', toJsonl(makeEvents(300, 7))), args: (i, o) => ['nostr', 'convert', i, '-o', o], output: 'pb' },
    { name: 'fsscan import', input: () => fixture('20240101_srv_fsf.list', scanText(generateScan(8, 40, 3000).records, 8)), args: (i, o) => ['fsscan', 'import', i, '--db', o], output: 'scan.db' },
    { name: 'code index', input: () => { const d = join(work, 'tree-f'); mkdirSync(d, { recursive: true }); writeFixtureTree(d); return d; }, args: (i, o) => ['code', 'index', i, '--db', o], output: 'graph.db' },
  ];
  provoked.add('DISK_FULL');
  for (const c of cases) {
    test(c.name, async (t) => {
      if (!tmpfs) return t.skip(tmpfsSkip || 'no tmpfs');
      for (const name of readdirSync(tmpfs)) rmSync(join(tmpfs, name), { recursive: true, force: true });
      const out = join(tmpfs, c.output);
      const r = await cli([...c.args(c.input(), out), '-j', '1']);
      assertFailed(r, 'DISK_FULL', [out]);
      assert.deepEqual(readdirSync(tmpfs), [], 'a failed run leaves nothing on the full device');
    });
  }
});

// ---------------------------------------------------------------------------------------------
// An input that changes during the run: INPUT_CHANGED naming it

/** Runs the CLI until it stops itself at the n-th `point` (THREADMILL_FAULT=stop-at-…), calls `change`, and lets it go on. */
async function runChangedAt(args: string[], point: string, n: number, change: () => void): Promise<Ran> {
  const child = spawn(process.execPath, [cliPath, ...args], { cwd: work, env: { ...process.env, [FAULT_ENV]: `stop-at-${point}:${n}` } });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  child.stdin.end();
  const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
  let exited = false;
  void closed.then(() => { exited = true; });
  for (let waited = 0; ; waited += 20) {
    assert.ok(!exited, `the run ended before it reached ${point} ${n}: ${stderr}`);
    assert.ok(waited < 60_000, `the run never stopped at ${point} ${n}`);
    const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('T')) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  change();
  child.kill('SIGCONT');
  return { status: await closed, stdout, stderr };
}

describe('an input changed during the run is INPUT_CHANGED naming it', { concurrency: 2 }, () => {
  const halve = (path: string) => () => truncateSync(path, statSync(path).size >> 1);
  const small = ['-j', '1', '--chunk-size', '65536'];
  const cases: { name: string; input: () => string; args: (input: string) => string[]; change: (input: string) => () => void; output?: string; point?: number }[] = [
    // These two exited 0 with half the records.
    { name: 'fastq convert, the file cut short', input: () => fixture('changing.fq', syntheticFastq(8000, 9)), args: (i) => ['fastq', 'convert', i, '-o', 'changing.arrow', ...small], change: halve, output: 'changing.arrow' },
    { name: 'fsscan import, the file cut short', input: () => fixture('20240101_srv_fsc.list', scanText(generateScan(9, 30, 3000).records, 9)), args: (i) => ['fsscan', 'import', i, '--db', 'changing.db', ...small], change: halve, output: 'changing.db' },
    { name: 'bam convert, the file cut short', input: () => randomBam('changing.bam', 6000), args: (i) => ['bam', 'convert', i, '-o', 'changing-bam.arrow', ...small], change: halve, output: 'changing-bam.arrow' },
    { name: 'nostr convert, the file cut short', input: () => fixture('changing.jsonl', toJsonl(makeEvents(600, 10))), args: (i) => ['nostr', 'convert', i, '-o', 'changing-pb', ...small], change: halve, output: 'changing-pb' },
    { name: 'fastq stats, the file replaced by a same-size copy', input: () => fixture('replaced.fq', syntheticFastq(8000, 11)), args: (i) => ['fastq', 'stats', i, ...small], change: (i) => () => { copyFileSync(i, `${i}.copy`); renameSync(`${i}.copy`, i); } },
    { name: 'fastq stats, the file rewritten in place (mtime)', input: () => fixture('touched.fq', syntheticFastq(8000, 12)), args: (i) => ['fastq', 'stats', i, ...small], change: (i) => () => utimesSync(i, new Date(), new Date(Date.now() + 5000)) },
    { name: 'fastq stats, a gzip stream cut short', input: () => fixture('changing.fq.gz', gzipSync(syntheticFastq(30000, 13))), args: (i) => ['fastq', 'stats', i, ...small], change: halve, point: 1 },
  ];
  provoked.add('INPUT_CHANGED');
  for (const c of cases) {
    test(c.name, async () => {
      const input = c.input();
      const r = await runChangedAt(c.args(input), 'read', c.point ?? 3, c.change(input));
      assertFailed(r, 'INPUT_CHANGED', [input]);
      if (c.output) assert.equal(existsSync(join(work, c.output)), false, 'no output that looks complete');
    });
  }
});

// ---------------------------------------------------------------------------------------------

test('every catalogued code is provoked by a test (here, or named in another test file)', () => {
  const others = filesUnder(join(repo, 'test'), '.ts').filter((f) => !f.endsWith('error-catalogue.test.ts')).map((f) => readFileSync(f, 'utf8')).join('\n');
  const untested = CODES.filter((code) => !provoked.has(code) && !new RegExp(`\\b${code}\\b`).test(others));
  assert.deepEqual(untested, []);
});
