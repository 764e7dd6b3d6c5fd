/**
 * The PostgreSQL store gives the same graph and the same answers as SQLite. Needs a server:
 * THREADMILL_TEST_PG_URL, or the throw-away cluster of scripts/start-postgres.sh (which .ci/run
 * starts); skips with a message where none is reachable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import pg from 'pg';
import { indexCode } from '../../../src/formats/code/index-run.js';
import { callers, callees, blastRadius, search, show, cycles, stats } from '../../../src/formats/code/graph-queries.js';
import { openStore, type CodeStore } from '../../../src/sinks/code-store.js';
import { fixtureTree } from './helpers.js';

const url = process.env.THREADMILL_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:55432/threadmill_test';

async function reachable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SET client_min_messages = warning');
    // A clean graph: this test owns the test database.
    for (const t of ['edges', 'imports', 'entities', 'files', 'meta']) await client.query(`DROP TABLE IF EXISTS ${t}`);
    return null;
  } catch (err) {
    return `no PostgreSQL at ${url.replace(/:[^:@/]*@/, ':***@')} (${(err as Error).message}); start one with scripts/start-postgres.sh`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const skip = await reachable();

/** Every table through the store interface, numbers normalized (pg returns BIGINT as text). */
async function dump(store: CodeStore): Promise<unknown> {
  const norm = (rows: Record<string, unknown>[]): unknown[] => rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^\d+$/.test(v) && (k === 'bytes' || k === 'id') ? Number(v) : v])));
  return {
    files: norm(await store.query('SELECT * FROM files ORDER BY path')),
    entities: norm(await store.query('SELECT * FROM entities ORDER BY key')),
    edges: norm(await store.query('SELECT src, dst, kind, file, line, dst_name, receiver, resolved FROM edges ORDER BY file, line, kind, dst_name, receiver, src')),
    imports: norm(await store.query('SELECT * FROM imports ORDER BY file, line, module, name, alias')),
  };
}

test('PostgreSQL holds the same graph and answers the same queries as SQLite', { skip: skip ?? false }, async () => {
  const { root, dir } = fixtureTree();
  const sqlitePath = join(dir, 'same.db');
  const a = await indexCode({ root, db: sqlitePath, threads: 2, includeCode: true });
  const b = await indexCode({ root, db: url, threads: 2, includeCode: true });
  assert.deepEqual({ ...b, db: '', seconds: 0, files_per_second: 0 }, { ...a, db: '', seconds: 0, files_per_second: 0 });
  // Incremental on the server too.
  const again = await indexCode({ root, db: url, threads: 1, includeCode: true });
  assert.equal(again.files_unchanged, 27);
  const lite = await openStore(sqlitePath, 'read');
  const server = await openStore(url, 'read');
  try {
    assert.deepEqual(await dump(server), await dump(lite));
    const asks: [string, (s: CodeStore) => Promise<unknown>][] = [
      ['callers', (s) => callers(s, 'helper', 3)],
      ['callees', (s) => callees(s, 'python:method:Circle.describe:py/shapes.py:13-14', 2)],
      ['blast-radius', (s) => blastRadius(s, 'python:class:Shape:py/shapes.py:2-4', 3)],
      ['search', (s) => search(s, 'c*e')],
      ['search wildcard', (s) => search(s, 'Counter::*')],
      ['show', (s) => show(s, 'helper')],
      ['cycles', (s) => cycles(s)],
      ['stats', (s) => stats(s)],
    ];
    for (const [name, ask] of asks) assert.deepEqual(await ask(server), await ask(lite), name);
    await assert.rejects(callers(server, 'area'), { code: 'AMBIGUOUS_NAME' });
  } finally {
    await lite.close();
    await server.close();
  }
});

test('an unreachable server is DB_UNREACHABLE', async () => {
  await assert.rejects(openStore('postgres://nobody@127.0.0.1:1/none', 'read'), { code: 'DB_UNREACHABLE' });
});
