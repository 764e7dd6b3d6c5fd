/**
 * Issue 8, nostr outputs: index.db and the day files disagreeing (a day file deleted by hand, a
 * day file the index does not name, an older copy put back), and `nostr index verify`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, rmSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { convertNostr } from '../../../src/formats/nostr/pipeline.js';
import { readPbGz } from '../../../src/formats/nostr/pb-reader.js';
import { verifyIndex, type VerifyReport } from '../../../src/formats/nostr/index-verify.js';
import { makeEvents, toJsonl, type TestEvent } from './fixtures.js';

process.env.SOURCE_DATE_EPOCH = '1700000000';
const root = mkdtempSync(join(tmpdir(), 'tm-nostr-drift-'));
const cli = new URL('../../../src/cli.js', import.meta.url).pathname;
const events = makeEvents(120, 23);
const input = join(root, 'in.jsonl');
writeFileSync(input, toJsonl(events));
const dayOf = (e: TestEvent): string => `${new Date(e.created_at * 1000).toISOString().slice(0, 10).replace(/-/g, '_')}.pb.gz`;
let dirs = 0;

async function converted(threads = 2, inputs = [input]): Promise<string> {
  const dir = join(root, `out${++dirs}`);
  await convertNostr({ inputs, outDir: dir, threads, chunkSize: 1 << 12 });
  return dir;
}

function dayFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(dir).filter((f) => f.endsWith('.pb.gz')).sort()) out[n] = createHash('sha256').update(readFileSync(join(dir, n))).digest('hex');
  return out;
}

function rows(dir: string): unknown[] {
  const db = new Database(join(dir, 'index.db'), { readonly: true });
  try {
    return db.prepare('SELECT id, kind, pubkey, created_at, file_path, indexed_at FROM events ORDER BY id').all();
  } finally {
    db.close();
  }
}

function withIndex(dir: string, sql: string, ...args: unknown[]): number {
  const db = new Database(join(dir, 'index.db'));
  try {
    return db.prepare(sql).run(...args).changes;
  } finally {
    db.close();
  }
}

/** The two busiest days, so each has events to lose. */
const [dayA, dayB] = Object.entries(events.reduce<Record<string, number>>((m, e) => ((m[dayOf(e)] = (m[dayOf(e)] ?? 0) + 1), m), {}))
  .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([d]) => d) as [string, string];
const inDay = (d: string): TestEvent[] => events.filter((e) => dayOf(e) === d);

test('a day file deleted by hand is restored by the next convert, byte for byte, at -j 1 and -j 2', async () => {
  const ref = await converted();
  for (const threads of [1, 2]) {
    const dir = await converted(threads);
    rmSync(join(dir, dayA));
    const warnings: string[] = [];
    const s = await convertNostr({ inputs: [input], outDir: dir, threads, chunkSize: 1 << 12, warn: (m) => warnings.push(m) });
    assert.equal(s.written, inDay(dayA).length, `-j ${threads}: the deleted day's events are written again`);
    assert.equal(s.duplicates, events.length - inDay(dayA).length);
    assert.match(warnings.join('\n'), new RegExp(`${inDay(dayA).length} events in a day file that is missing \\(${dayA}\\)`));
    assert.deepEqual(dayFiles(dir), dayFiles(ref));
    assert.deepEqual(rows(dir), rows(ref));
    assert.equal((await verifyIndex(dir)).ok, true);
  }
});

test('lookup and stats refuse to report events in a day file that is missing (INDEX_MISMATCH)', async () => {
  const dir = await converted();
  rmSync(join(dir, dayA));
  const gone = inDay(dayA)[0]!;
  const kept = inDay(dayB)[0]!;
  const lookup = spawnSync(process.execPath, [cli, 'nostr', 'lookup', dir, kept.id, gone.id], { encoding: 'utf8' });
  assert.equal(lookup.status, 1);
  assert.match(lookup.stderr, new RegExp(`\\[INDEX_MISMATCH\\].*${gone.id} in ${dayA}, which is missing`));
  assert.equal(lookup.stdout, '');
  const stats = spawnSync(process.execPath, [cli, 'nostr', 'stats', dir, '--json'], { encoding: 'utf8' });
  assert.equal(stats.status, 1);
  assert.match(stats.stderr, new RegExp(`\\[INDEX_MISMATCH\\].*lists ${inDay(dayA).length} events in a day file that is missing \\(${dayA}\\)`));
  assert.equal(stats.stdout, '');
});

test('a day file that the index does not name is indexed before converting, so its events are not written twice', async () => {
  const dir = await converted(2, [writeInput('without-b.jsonl', events.filter((e) => dayOf(e) !== dayB))]);
  const other = await converted(2, [writeInput('only-b.jsonl', inDay(dayB))]);
  copyFileSync(join(other, dayB), join(dir, dayB));
  const s = await convertNostr({ inputs: [input], outDir: dir, threads: 2, chunkSize: 1 << 12 });
  assert.equal(s.written, 0);
  const ids: string[] = [];
  for await (const e of readPbGz(join(dir, dayB))) ids.push(e.id);
  assert.deepEqual(ids, inDay(dayB).map((e) => e.id));
  assert.equal((await verifyIndex(dir)).ok, true);
});

function writeInput(name: string, evs: TestEvent[]): string {
  const p = join(root, name);
  writeFileSync(p, toJsonl(evs));
  return p;
}

test('index verify: exit 0 on agreement; each kind of difference counted, with examples, exit 1 and --json', async () => {
  const dir = await converted();
  const ok = spawnSync(process.execPath, [cli, 'nostr', 'index', 'verify', dir], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, new RegExp(`${new Set(events.map(dayOf)).size} day files, ${events.length} events, ${events.length} index rows: index.db agrees`));
  // An older copy of day B put back: fewer events than its rows (stale rows).
  const older = await converted(2, [writeInput('b-older.jsonl', inDay(dayB).slice(0, 1))]);
  copyFileSync(join(older, dayB), join(dir, dayB));
  rmSync(join(dir, dayA)); // missing file
  const [c1, c2, c3] = events.filter((e) => dayOf(e) !== dayA && dayOf(e) !== dayB);
  withIndex(dir, 'UPDATE events SET kind = kind + 1 WHERE id = ?', c1!.id); // field mismatch
  withIndex(dir, 'DELETE FROM events WHERE id = ?', c2!.id); // unindexed event, and its file counts one row short
  withIndex(dir, 'UPDATE events SET file_path = ? WHERE id = ?', dayB, c3!.id); // wrong file
  const before = dayFiles(dir);
  const indexBefore = readFileSync(join(dir, 'index.db'));
  const r = spawnSync(process.execPath, [cli, 'nostr', 'index', 'verify', dir, '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /\[INDEX_MISMATCH\].*disagrees with the day files/);
  const report = JSON.parse(r.stdout) as VerifyReport;
  const countMismatches = new Set([dayB, dayOf(c2!), dayOf(c3!)]).size;
  assert.deepEqual(report.problems, {
    missing_file: 1, corrupt_file: 0, count_mismatch: countMismatches, unindexed_event: 1, wrong_file: 1, field_mismatch: 1,
    stale_row: inDay(dayB).length - 1, duplicate_event: 0, wrong_day: 0, bad_id: 0,
  });
  const ids = (p: string): string[] => report.findings.filter((f) => f.problem === p).map((f) => f.id ?? f.file).sort();
  assert.deepEqual(ids('missing_file'), [dayA]);
  assert.deepEqual(ids('field_mismatch'), [c1!.id]);
  assert.deepEqual(ids('unindexed_event'), [c2!.id]);
  assert.deepEqual(ids('wrong_file'), [c3!.id]);
  assert.deepEqual(ids('stale_row'), inDay(dayB).slice(1).map((e) => e.id).sort().slice(0, 10));
  assert.deepEqual(await verifyIndex(dir, 0), report, 'the same report when no file\'s rows fit in memory');
  assert.deepEqual(dayFiles(dir), before, 'verify changes nothing');
  assert.ok(readFileSync(join(dir, 'index.db')).equals(indexBefore), 'verify changes nothing');
  // A day file cut short is reported (not a crash), and the other files are still checked.
  const cut = readFileSync(join(dir, dayB));
  writeFileSync(join(dir, dayB), cut.subarray(0, cut.length - 9));
  const corrupt = await verifyIndex(dir);
  assert.equal(corrupt.problems.corrupt_file, 1);
  assert.deepEqual(corrupt.findings.filter((f) => f.problem === 'corrupt_file').map((f) => f.file), [dayB]);
  assert.equal(corrupt.problems.field_mismatch, 1);
});
