/**
 * Directory outputs (issue 8): the exclusive lock, kill -9 in the middle of a multi-file commit
 * (index.db renamed last, readers finishing the journal), and `index rebuild` of a missing
 * directory. Driven through `nostr convert`, the pipeline that writes a directory and a database.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { cliPath, holdLock, killAtRename, runCli } from '../helpers/faults.js';
import { makeEvents, toJsonl, type TestEvent } from '../formats/nostr/fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'tm-outputs-nostr-'));
const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };
const dayOf = (e: TestEvent): string => `${new Date(e.created_at * 1000).toISOString().slice(0, 10).replace(/-/g, '_')}.pb.gz`;
const events = makeEvents(120, 11);
const days = [...new Set(events.map(dayOf))].sort();
// Run 1: two thirds of the events of the first 8 days. Run 2: every event of days 5–12, so it
// appends to days 5–8 (and finds run 1's events there as duplicates) and creates days 9–12.
const firstDays = new Set(days.slice(0, 8));
const run1 = events.filter((e, i) => firstDays.has(dayOf(e)) && i % 3 !== 0);
const run2 = events.filter((e) => days.indexOf(dayOf(e)) >= 4);
const input1 = join(root, 'run1.jsonl');
const input2 = join(root, 'run2.jsonl');
await import('node:fs').then((fs) => {
  fs.writeFileSync(input1, toJsonl(run1));
  fs.writeFileSync(input2, toJsonl(run2));
});
const convertArgs = (input: string, dir: string): string[] => ['nostr', 'convert', input, '-o', dir, '-q', '-j', '1'];

function convertOk(input: string, dir: string): void {
  const r = runCli(convertArgs(input, dir), { env });
  assert.equal(r.status, 0, r.stderr);
}

const base = join(root, 'base');
convertOk(input1, base);
const run2Renames = new Set(run2.filter((e) => !run1.includes(e)).map(dayOf)).size + 1; // day files with new events, then index.db

function copyOfBase(name: string): string {
  const dir = join(root, name);
  cpSync(base, dir, { recursive: true });
  return dir;
}

/** The day files index.db names, read directly (no threadmill reader, so no recovery). */
function filesNamedByIndex(dir: string): string[] {
  const db = new Database(join(dir, 'index.db'), { readonly: true });
  try {
    return db.prepare('SELECT DISTINCT file_path FROM events ORDER BY 1').pluck().all() as string[];
  } finally {
    db.close();
  }
}

const idsOf = (jsonl: string): string[] => jsonl.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { id: string }).id).sort();

test('a second writer of a locked directory fails at once naming the holder pid; after release it runs', async () => {
  const dir = copyOfBase('locked');
  const before = readdirSync(dir).sort();
  const holder = await holdLock(dir);
  try {
    const started = Date.now();
    const r = runCli(convertArgs(input2, dir), { env });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`error \\[OUTPUT_LOCKED\\]: .*pid ${holder.pid}\\b`));
    assert.ok(Date.now() - started < 10_000, 'fails at once, does not wait');
    const rebuild = runCli(['nostr', 'index', 'rebuild', dir], { env });
    assert.match(rebuild.stderr, /error \[OUTPUT_LOCKED\]/);
    assert.deepEqual(readdirSync(dir).sort(), [...before, '.threadmill-lock'].sort(), 'nothing written');
  } finally {
    await holder.release();
  }
  convertOk(input2, dir);
  assert.equal(filesNamedByIndex(dir).length, new Set([...run1, ...run2].map(dayOf)).size);
});

test('two converts into one directory at once: no event is lost, index.db agrees with the day files', async () => {
  const dir = join(root, 'race');
  const start = (input: string): Promise<{ code: number | null; stderr: string }> => new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, ...convertArgs(input, dir)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
  const results = await Promise.all([start(input1), start(input2)]);
  for (const r of results) assert.ok(r.code === 0 || /OUTPUT_LOCKED/.test(r.stderr), r.stderr);
  const expected = new Set<string>();
  results.forEach((r, i) => r.code === 0 && (i === 0 ? run1 : run2).forEach((e) => expected.add(e.id)));
  const stats = runCli(['nostr', 'stats', dir, '--json'], { env });
  assert.equal(stats.status, 0, stats.stderr);
  assert.equal((JSON.parse(stats.stdout) as { total_events: number }).total_events, expected.size);
  const files = readdirSync(dir).filter((n) => n.endsWith('.pb.gz')).map((n) => join(dir, n));
  assert.deepEqual(idsOf(runCli(['nostr', 'cat', ...files], { env }).stdout), [...expected].sort());
});

for (const n of new Set([1, 5, run2Renames])) {
  test(`kill -9 at rename ${n} of ${run2Renames}: index.db never names a missing file; cat finishes the commit first`, () => {
    const dir = copyOfBase(`kill-${n}`);
    const killed = runCli(convertArgs(input2, dir), { env: killAtRename(n, env) });
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    for (const f of filesNamedByIndex(dir)) assert.ok(existsSync(join(dir, f)), `index.db names ${f}, which is not in place`);

    // cat of the day files in place right now (as `nostr cat DIR/*.pb.gz` would list them).
    const listed = readdirSync(dir).filter((f) => f.endsWith('.pb.gz'));
    const cat = runCli(['nostr', 'cat', ...listed.map((f) => join(dir, f))], { env });
    assert.equal(cat.status, 0, cat.stderr);
    const union = [...new Map([...run1, ...run2].map((e) => [e.id, e])).values()];
    assert.deepEqual(idsOf(cat.stdout), union.filter((e) => listed.includes(dayOf(e))).map((e) => e.id).sort(), 'cat finished the commit first');
    // After cat's recovery the directory is run 2's whole result: every day in place, in the index.
    // (The killed run's lock stays until the next writer takes it over: its pid is dead.)
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.') && f !== '.threadmill-lock'), []);
    assert.deepEqual(filesNamedByIndex(dir), [...new Set(union.map(dayOf))].sort());
  });
}

test('index rebuild of a missing directory is INPUT_NOT_FOUND and creates nothing', () => {
  const missing = join(root, 'no', 'such', 'dir');
  const r = runCli(['nostr', 'index', 'rebuild', missing], { env });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /error \[INPUT_NOT_FOUND\]: .*no\/such\/dir/);
  assert.equal(existsSync(join(root, 'no')), false);
});
