/**
 * nostr convert past its memory budget (issue 14): a data budget of a few KiB forces every spill and
 * multi-pass branch on small inputs. Each run is compared with the in-memory run byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, gunzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { convertNostr, type ConvertOptions } from '../../../src/formats/nostr/pipeline.js';
import { readPbGz } from '../../../src/formats/nostr/pb-reader.js';
import { makeEvents, toJsonl, type TestEvent } from './fixtures.js';
import { rng } from '../../helpers/random.js';

process.env.SOURCE_DATE_EPOCH = '1700000000';
const root = mkdtempSync(join(tmpdir(), 'tm-nostr-scale-'));
const cli = new URL('../../../src/cli.js', import.meta.url).pathname;
let dirs = 0;
const freshDir = (): string => join(root, `out${++dirs}`);
const TINY = 2048;

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(dir).sort()) out[n] = createHash('sha256').update(readFileSync(join(dir, n))).digest('hex');
  return out;
}

async function convert(inputs: string[], outDir: string, extra: Partial<ConvertOptions> = {}) {
  return convertNostr({ inputs, outDir, threads: 2, chunkSize: 1 << 16, ...extra });
}

async function eventsOf(dir: string): Promise<{ id: string; content: string }[]> {
  const out: { id: string; content: string }[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.pb.gz')).sort()) for await (const e of readPbGz(join(dir, f))) out.push({ id: e.id, content: e.content });
  return out;
}

/** 500 events, then 700 copies of them in a shuffled order: duplicates in other chunks and spills. */
const events = makeEvents(500, 11);
const rnd = rng(5);
const copies = Array.from({ length: 700 }, () => events[Math.floor(rnd() * events.length)]!);
const input = join(root, 'dups.jsonl');
writeFileSync(input, toJsonl([...events.slice(0, 300), ...copies, ...events.slice(300)]));

test('a tiny budget spills, deduplicates in many passes and writes the bytes of the in-memory run, for -j 1, 2 and 3', async () => {
  const ref = freshDir();
  const inMemory = await convert([input], ref);
  assert.equal(inMemory.written, 500);
  assert.equal(inMemory.duplicates, 700);
  assert.equal(inMemory.spilled_bytes, 0);
  assert.equal(inMemory.dedup_passes, 1);
  for (const threads of [1, 2, 3]) {
    const dir = freshDir();
    const s = await convert([input], dir, { threads, dataBudget: TINY });
    assert.ok(s.spilled_bytes > 0, `-j ${threads}: spilled`);
    assert.ok(s.dedup_passes > 1, `-j ${threads}: a day took ${s.dedup_passes} passes`);
    assert.equal(s.written, 500);
    assert.deepEqual(snapshot(dir), snapshot(ref), `-j ${threads}: same bytes as in memory`);
  }
});

test('stdin and .gz under a tiny budget give the bytes of the file in memory', async () => {
  const ref = freshDir();
  await convert([input], ref);
  const gz = join(root, 'dups.jsonl.gz');
  writeFileSync(gz, gzipSync(readFileSync(input)));
  const fromGz = freshDir();
  await convert([gz], fromGz, { dataBudget: TINY });
  assert.deepEqual(snapshot(fromGz), snapshot(ref));
  const fromStdin = freshDir();
  const r = spawnSync(process.execPath, [cli, 'nostr', 'convert', '-', '-o', fromStdin, '-q', '-j', '2', '--chunk-size', '65536', '--data-budget', String(TINY)], { input: readFileSync(input) });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.deepEqual(snapshot(fromStdin), snapshot(ref));
});

test('a second run into the same DIR adds only new events, in memory or spilled, with the same bytes', async () => {
  const first = toJsonl(events.slice(0, 250));
  const all = toJsonl([...copies.slice(0, 300), ...events]);
  const a = join(root, 'first.jsonl');
  const b = join(root, 'all.jsonl');
  writeFileSync(a, first);
  writeFileSync(b, all);
  const ref = freshDir();
  await convert([a], ref);
  const second = await convert([b], ref);
  const dir = freshDir();
  await convert([a], dir, { dataBudget: TINY });
  const spilled = await convert([b], dir, { dataBudget: TINY });
  assert.equal(second.written, 250);
  assert.equal(spilled.written, 250);
  assert.deepEqual(snapshot(dir), snapshot(ref));
  const db = new Database(join(dir, 'index.db'), { readonly: true });
  assert.equal(db.prepare('SELECT COUNT(*) FROM events').pluck().get(), 500);
  db.close();
  assert.deepEqual((await eventsOf(dir)).map((e) => e.id).sort(), events.map((e) => e.id).sort());
});

test('without id checks the first of two events with one id wins, in the day file and in index.db', async () => {
  // Same id, other content and kind: possible only with --no-validate-event-ids.
  const base = events.slice(0, 40);
  const forged = base.map((e) => ({ ...e, content: `forged ${e.content}`, kind: e.kind + 1 }));
  const path = join(root, 'forged.jsonl');
  writeFileSync(path, toJsonl([...base.slice(0, 20), ...forged, ...base.slice(20)]));
  const options = { validateIds: false, validateSignatures: false };
  const ref = freshDir();
  await convert([path], ref, options);
  const dir = freshDir();
  const s = await convert([path], dir, { ...options, dataBudget: 512 });
  assert.ok(s.dedup_passes > 1);
  assert.deepEqual(snapshot(dir), snapshot(ref));
  const firstContent = new Map<string, string>();
  for (const e of [...base.slice(0, 20), ...forged, ...base.slice(20)] as TestEvent[]) if (!firstContent.has(e.id)) firstContent.set(e.id, e.content);
  for (const e of await eventsOf(dir)) assert.equal(e.content, firstContent.get(e.id));
  const db = new Database(join(dir, 'index.db'), { readonly: true });
  const kinds = new Map((db.prepare('SELECT id, kind FROM events').all() as { id: string; kind: number }[]).map((r) => [r.id, r.kind]));
  db.close();
  for (const e of base.slice(0, 20)) assert.equal(kinds.get(e.id), e.kind, 'the first copy (original) is indexed');
  for (const e of base.slice(20)) assert.equal(kinds.get(e.id), e.kind + 1, 'the first copy (forged) is indexed');
});

test('libdeflate and node:zlib day files decompress to the same events', async () => {
  const native = freshDir();
  await convert([input], native);
  process.env.THREADMILL_NATIVE = '0';
  const zlib = freshDir();
  try {
    await convert([input], zlib);
  } finally {
    delete process.env.THREADMILL_NATIVE;
  }
  const days = readdirSync(native).filter((n) => n.endsWith('.pb.gz')).sort();
  assert.deepEqual(readdirSync(zlib).filter((n) => n.endsWith('.pb.gz')).sort(), days);
  for (const d of days) assert.ok(gunzipSync(readFileSync(join(native, d))).equals(gunzipSync(readFileSync(join(zlib, d)))), `${d}: same events`);
  assert.ok(existsSync(join(zlib, 'index.db')));
});

test('--defer-indexes leaves the query indexes to `index finish`; the rows, and a later run into DIR, are as without it', async () => {
  const rowsOf = (dir: string): { rows: unknown[]; indexes: string[] } => {
    const db = new Database(join(dir, 'index.db'), { readonly: true });
    try {
      return {
        rows: db.prepare('SELECT id, kind, pubkey, created_at, file_path, indexed_at FROM events ORDER BY id').all(),
        indexes: (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'idx_%' ORDER BY name").pluck().all() as string[]),
      };
    } finally {
      db.close();
    }
  };
  const first = join(root, 'defer-first.jsonl');
  writeFileSync(first, toJsonl(events.slice(0, 200)));
  const ref = freshDir();
  await convert([first], ref);
  const dir = freshDir();
  await convert([first], dir, { deferIndexes: true, dataBudget: TINY });
  assert.deepEqual(rowsOf(dir).indexes, ['idx_created_at']);
  assert.deepEqual(rowsOf(dir).rows, rowsOf(ref).rows);
  // A second, deferred run deduplicates against the deferred index like any other.
  const again = await convert([input], dir, { deferIndexes: true });
  const refAgain = await convert([input], ref);
  assert.equal(again.written, refAgain.written);
  assert.deepEqual(rowsOf(dir).rows, rowsOf(ref).rows);
  const r = spawnSync(process.execPath, [cli, 'nostr', 'index', 'finish', dir, '--json']);
  assert.equal(r.status, 0, r.stderr.toString());
  assert.deepEqual((JSON.parse(r.stdout.toString()) as { built: string[] }).built.sort(), ['idx_file_path', 'idx_kind', 'idx_pubkey']);
  assert.deepEqual(rowsOf(dir).indexes, rowsOf(ref).indexes);
  const v = spawnSync(process.execPath, [cli, 'nostr', 'index', 'verify', dir, '--json']);
  assert.equal(v.status, 0, v.stdout.toString());
});
