/**
 * Every long command × the common flags, one table (issue 16): the runner gives them all the same
 * behaviour, so one expectation per flag holds for every command. A new long command adds one row
 * to COMMANDS. (A full disk per format: test/engine/error-catalogue.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { tableFromIPC } from 'apache-arrow';
import { join } from 'node:path';
import { cliPath, FAULT_ENV, runCli } from '../helpers/faults.js';
import { bamHeader, bamRecord, lcg, writeBam } from '../formats/bam/raw.js';
import { makeEvents, toJsonl } from '../formats/nostr/fixtures.js';
import { dumpDb, generateScan, scanText } from '../formats/fsscan/helpers.js';
import { nostrContents } from '../scale-out/helpers.js';
import { dumpDb as dumpGraph } from '../formats/code/helpers.js';

/** One long command: how to make its input (with one bad record or none), its output, and how to compare two outputs. */
interface LongCommand {
  name: string;
  input(dir: string, bad: boolean): string[];
  /** Arguments naming the output at `out` (none for commands that print their data). */
  output(out: string): string[];
  extra?: string[];
  /** What a run wrote at `out`, in a comparable form; stats: its --json stdout. */
  contents(out: string, stdout: string): unknown;
  /** Commands with no record errors skip the --rejects and --max-errors rows. */
  rejects: boolean;
  /** The `input` a rejected record names (default: the input given). */
  rejectedInput?: string;
}

function fastqInput(dir: string, bad: boolean): string[] {
  const recs = Array.from({ length: 3000 }, (_, i) => `@r${i}\n${'ACGT'.repeat(10)}\n+\n${bad && i === 1500 ? 'II' : 'I'.repeat(40)}\n`);
  const path = join(dir, 'in.fq');
  writeFileSync(path, recs.join(''));
  return [path];
}

function bamInput(dir: string, bad: boolean): string[] {
  // Random bases and qualities: the BGZF data stays several 64 KiB chunks (SIGINT must not meet the last one).
  const rand = lcg(5);
  const records = Array.from({ length: 12_000 }, (_, i) => bamRecord({
    name: `r${i}`, refId: bad && i === 6000 ? 9 : 0, pos: i, flag: 0, cigar: [[12, 0]],
    seq: Uint8Array.from({ length: 12 }, () => [1, 2, 4, 8][rand(4)]!), qual: Uint8Array.from({ length: 12 }, () => rand(41)),
  }));
  return [writeBam(join(dir, 'in.bam'), bamHeader([['chr1', 100_000]]), records, 4000)];
}

function fsscanInput(dir: string, bad: boolean): string[] {
  const path = join(dir, 'scan.list');
  writeFileSync(path, scanText(generateScan(7, 30, 2500).records, 7, bad ? ['this is not a scan line'] : []));
  return [path];
}

function nostrInput(dir: string, bad: boolean): string[] {
  const path = join(dir, 'events.jsonl');
  const lines = toJsonl(makeEvents(600, 3)).split('\n');
  if (bad) lines.splice(300, 0, '{"not": "an event"');
  writeFileSync(path, lines.join('\n'));
  return [path];
}

/** Day files and index rows; indexed_at is the time each run indexed the event. */
function nostrWithoutTimes(out: string): unknown {
  const c = nostrContents(out);
  return { days: c.days, rows: c.rows.map((r) => ({ ...(r as object), indexed_at: null })) };
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
/** BAM shards restart batches at each share (docs/scale-out.md): the rows are the same, the batch layout may not be. */
const arrowRows = (path: string): string => JSON.stringify(tableFromIPC(readFileSync(path)).toArray(), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

/** A tree of Python files (several batches at -j 1); bad: one has a syntax error (indexed, and reported). */
function codeInput(dir: string, bad: boolean): string[] {
  const root = join(dir, 'tree');
  mkdirSync(join(root, 'pkg'), { recursive: true });
  for (let i = 0; i < 40; i++) writeFileSync(join(root, 'pkg', `m${i}.py`), `from pkg.m${(i + 1) % 40} import f${(i + 1) % 40}\n\ndef f${i}(x):\n    return f${(i + 1) % 40}(x) if x else ${i}\n${'# padding\n'.repeat(200)}`);
  if (bad) writeFileSync(join(root, 'pkg', 'broken.py'), 'def broken(:\n    pass\n');
  return [root];
}

const statsJson = (_out: string, stdout: string): unknown => JSON.parse(stdout);

const COMMANDS: LongCommand[] = [
  { name: 'fastq stats', input: fastqInput, output: () => [], contents: statsJson, rejects: true },
  { name: 'fastq convert', input: fastqInput, output: (o) => ['-o', `${o}.arrow`], contents: (o) => sha256(`${o}.arrow`), rejects: true },
  { name: 'bam stats', input: bamInput, output: () => [], contents: statsJson, rejects: true },
  { name: 'bam convert', input: bamInput, output: (o) => ['-o', `${o}.arrow`], extra: ['--batch-size', '1000'], contents: (o) => arrowRows(`${o}.arrow`), rejects: true },
  { name: 'fsscan import', input: fsscanInput, output: (o) => ['--db', `${o}.db`], extra: ['--filesystem', 'fs1', '--scan-date', '2024-09-01', '--no-names'], contents: (o) => dumpDb(`${o}.db`), rejects: true },
  { name: 'code index', input: codeInput, output: (o) => ['--db', `${o}.db`], contents: (o) => dumpGraph(`${o}.db`), rejects: true, rejectedInput: 'pkg/broken.py' },
  { name: 'nostr convert', input: nostrInput, output: (o) => ['-o', o], extra: ['--no-validate-signatures'], contents: nostrWithoutTimes, rejects: true },
];

/** Small chunks: every input is several (code index plans files, not bytes). */
const CHUNK = ['--chunk-size', '65536'];

/** Paths a run may have written for output `out` (none must exist after a failed run). */
const outputPaths = (out: string): string[] => [out, `${out}.arrow`, `${out}.db`];

function run(c: LongCommand, inputs: string[], out: string, flags: string[]) {
  return runCli([...c.name.split(' '), ...inputs, ...c.output(out), ...(c.extra ?? []), ...(c.name === 'code index' ? [] : CHUNK), ...flags]);
}

for (const c of COMMANDS) {
  test(`${c.name}: --json, --quiet and --progress json`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-flags-'));
    const good = c.input(dir, false);
    const json = run(c, good, join(dir, 'a'), ['--json']);
    assert.equal(json.status, 0, json.stderr);
    assert.equal(json.stdout.trim().split('\n').length, 1);
    assert.equal(typeof JSON.parse(json.stdout), 'object');
    const quiet = run(c, good, join(dir, 'b'), ['--quiet']);
    assert.equal(quiet.status, 0, quiet.stderr);
    assert.equal(quiet.stderr, '');
    const progress = run(c, good, join(dir, 'c'), ['--progress', 'json']);
    assert.equal(progress.status, 0, progress.stderr);
    const events = progress.stderr.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    assert.equal(events.at(-1)!.type, 'summary', progress.stderr);
  });

  test(`${c.name}: --rejects keeps the bad record (file, offset, category, reason); --max-errors 0 fails leaving nothing`, { skip: !c.rejects }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-flags-'));
    const rejects = join(dir, 'rejects.jsonl');
    const bad = c.input(dir, true);
    const kept = run(c, bad, join(dir, 'a'), ['--rejects', rejects]);
    assert.equal(kept.status, 0, kept.stderr);
    const lines = readFileSync(rejects, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 1, readFileSync(rejects, 'utf8'));
    assert.equal(lines[0]!.input, c.rejectedInput ?? bad[0]);
    for (const k of ['offset', 'category', 'reason']) assert.notEqual(lines[0]![k] ?? null, null, k);
    assert.match(kept.stderr, /threadmill: (rejected|warning:) .*\(byte \d+\)/);
    const failed = run(c, bad, join(dir, 'b'), ['--max-errors', '0', '--rejects', join(dir, 'r2.jsonl')]);
    assert.equal(failed.status, 1);
    assert.match(failed.stderr, /^threadmill: error \[TOO_MANY_ERRORS\]/m);
    for (const p of [...outputPaths(join(dir, 'b')), join(dir, 'r2.jsonl')]) assert.equal(existsSync(p), false, `${p} left behind`);
  });

  test(`${c.name}: --shard 0/2 and 1/2, then merge, give what one run gives`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-flags-'));
    const good = c.input(dir, false);
    const whole = run(c, good, join(dir, 'whole'), ['--json', '-q']);
    assert.equal(whole.status, 0, whole.stderr);
    mkdirSync(join(dir, 'parts'));
    for (const i of [0, 1]) {
      const r = run(c, good, join(dir, 'parts', 'p{I}'), ['--shard', `${i}/2`, ...(c.output('x').length === 0 ? ['-o', join(dir, 'parts', 'p{I}')] : [])]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`threadmill ${c.name}: shard ${i}/2 → `));
    }
    const partPath = (i: number): string => {
      const named = c.output(join(dir, 'parts', `p${i}`));
      return named.length > 0 ? named[1]! : join(dir, 'parts', `p${i}`);
    };
    const merged = runCli([c.name.split(' ')[0]!, 'merge', partPath(1), partPath(0), ...c.output(join(dir, 'merged')), '--json', '-q']);
    assert.equal(merged.status, 0, merged.stderr);
    assert.deepEqual(c.contents(join(dir, 'merged'), merged.stdout), c.contents(join(dir, 'whole'), whole.stdout));
  });

  test(`${c.name}: SIGINT exits 130 INTERRUPTED and leaves no output`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-flags-'));
    const out = join(dir, 'out');
    const args = [...c.name.split(' '), ...c.input(dir, false), ...c.output(out), ...(c.extra ?? []), ...(c.name === 'code index' ? [] : CHUNK), '-j', '1'];
    // The run stops itself (SIGSTOP) before it takes its first chunk's result; SIGINT waits until SIGCONT.
    const child = spawn(process.execPath, [cliPath, ...args], { env: { ...process.env, [FAULT_ENV]: 'stop-at-chunk:1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    for (let i = 0; i < 600 && !/\) T /.test(readStat(child.pid!)); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(readStat(child.pid!), /\) T /, 'the run never reached its first chunk');
    child.kill('SIGINT');
    child.kill('SIGCONT');
    assert.equal(await done, 130, stderr);
    assert.match(stderr, /^threadmill: error \[INTERRUPTED\]/m);
    for (const p of outputPaths(out)) assert.equal(existsSync(p), false, `${p} left behind`);
  });
}

test('a SIGINT while the CLI still loads a format exits 130 INTERRUPTED', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-flags-'));
  const child = spawn(process.execPath, [cliPath, 'fastq', 'stats', ...fastqInput(dir, false)], { env: { ...process.env, [FAULT_ENV]: 'stop-at-start:1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  for (let i = 0; i < 600 && !/\) T /.test(readStat(child.pid!)); i++) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGINT');
  child.kill('SIGCONT');
  assert.equal(await done, 130, stderr);
  assert.match(stderr, /^threadmill: error \[INTERRUPTED\]/m);
});

function readStat(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return '';
  }
}
