import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { convertNostr } from '../../../src/formats/nostr/pipeline.js';
import { rebuildIndex } from '../../../src/formats/nostr/index-rebuild.js';
import { makeEvents, toJsonl } from './fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'tm-nostr-index-'));
const cli = new URL('../../../src/cli.js', import.meta.url).pathname;
const events = makeEvents(150, 11);
const input = join(root, 'in.jsonl');
writeFileSync(input, toJsonl(events));

function rows(dir: string): unknown[] {
  const db = new Database(join(dir, 'index.db'), { readonly: true });
  try {
    return db.prepare('SELECT id, kind, pubkey, created_at, file_path FROM events ORDER BY id').all();
  } finally {
    db.close();
  }
}

function indexNames(dir: string): string[] {
  const db = new Database(join(dir, 'index.db'), { readonly: true });
  try {
    return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'idx_%' ORDER BY name").pluck().all() as string[]);
  } finally {
    db.close();
  }
}

test('index.db has Proton Beam\'s columns and indexes, one row per written event', async () => {
  const dir = join(root, 'a');
  await convertNostr({ inputs: [input], outDir: dir, threads: 2 });
  const got = rows(dir) as { id: string; file_path: string; created_at: number }[];
  assert.equal(got.length, 150);
  assert.deepEqual(got.map((r) => r.id), events.map((e) => e.id).sort());
  for (const r of got) assert.equal(r.file_path, `${new Date(r.created_at * 1000).toISOString().slice(0, 10).replace(/-/g, '_')}.pb.gz`);
  assert.deepEqual(indexNames(dir), ['idx_created_at', 'idx_file_path', 'idx_kind', 'idx_pubkey']);
});

test('index rebuild recreates the same rows from the .pb.gz files; a missing index is rebuilt before converting', async () => {
  const dir = join(root, 'b');
  await convertNostr({ inputs: [input], outDir: dir, threads: 2 });
  const before = rows(dir);
  rmSync(join(dir, 'index.db'));
  const r = spawnSync(process.execPath, [cli, 'nostr', 'index', 'rebuild', dir, '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const days = new Set(events.map((e) => Math.floor(e.created_at / 86400))).size;
  assert.deepEqual(JSON.parse(r.stdout), { ...JSON.parse(r.stdout), files: days, events: 150, duplicates: 0 });
  assert.deepEqual(rows(dir), before);
  rmSync(join(dir, 'index.db'));
  const warnings: string[] = [];
  const s = await convertNostr({ inputs: [input], outDir: dir, threads: 2, warn: (m) => warnings.push(m) });
  assert.equal(s.written, 0, 'every event was found through the rebuilt index');
  assert.equal(s.duplicates, 150);
  assert.match(warnings.join('\n'), /rebuilding/);
  assert.deepEqual(rows(dir), before);
  const summary = await rebuildIndex(dir);
  assert.equal(summary.events, 150);
});

test('lookup finds ids (text and --json) and exits 1 when one is missing; stats and lookup need an index', async () => {
  const dir = join(root, 'c');
  await convertNostr({ inputs: [input], outDir: dir, threads: 1 });
  const [a, b] = [events[0]!, events[1]!];
  const missing = '0'.repeat(64);
  const text = spawnSync(process.execPath, [cli, 'nostr', 'lookup', dir, a.id, b.id], { encoding: 'utf8' });
  assert.equal(text.status, 0);
  assert.deepEqual(text.stdout.trim().split('\n').map((l) => l.split('\t').slice(0, 4)), [a, b].map((e) => [e.id, String(e.kind), e.pubkey, String(e.created_at)]));
  const json = spawnSync(process.execPath, [cli, 'nostr', 'lookup', dir, a.id, missing, '--json'], { encoding: 'utf8' });
  assert.equal(json.status, 1);
  const [found, notFound] = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { found: boolean; id: string; file_path?: string });
  assert.equal(found!.found, true);
  assert.ok(existsSync(found!.file_path!));
  assert.deepEqual(notFound, { id: missing, found: false });
  const stats = spawnSync(process.execPath, [cli, 'nostr', 'stats', dir, '--json'], { encoding: 'utf8' });
  const st = JSON.parse(stats.stdout) as { total_events: number; unique_pubkeys: number; kinds: { kind: number; events: number }[] };
  assert.equal(st.total_events, 150);
  assert.equal(st.unique_pubkeys, new Set(events.map((e) => e.pubkey)).size);
  assert.equal(st.kinds.reduce((n, k) => n + k.events, 0), 150);
  const none = spawnSync(process.execPath, [cli, 'nostr', 'stats', join(root, 'nothing')], { encoding: 'utf8' });
  assert.equal(none.status, 1);
  assert.match(none.stderr, /\[INDEX_NOT_FOUND\]/);
});
