import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { indexCode } from '../../../src/formats/code/index-run.js';
import { callers, callees, blastRadius, search, show, cycles, stats, stronglyConnected, AmbiguousName } from '../../../src/formats/code/graph-queries.js';
import { openStore } from '../../../src/sinks/code-store.js';
import { fixtureTree, servedGraph } from './helpers.js';
import { writeFileSync } from 'node:fs';

const { root, dir } = fixtureTree();
// A call cycle and an import cycle on top of the fixture.
writeFileSync(join(root, 'py/ping.py'), 'from pong import pong\n\ndef ping(n):\n    return pong(n - 1)\n');
writeFileSync(join(root, 'py/pong.py'), 'from ping import ping\n\ndef pong(n):\n    return ping(n - 1) if n else 0\n');
const db = join(dir, 'q.db');
await indexCode({ root, db, threads: 2, includeCode: true });
const store = await openStore(db, 'read');
after(() => store.close());

const cli = new URL('../../../src/cli.js', import.meta.url).pathname;
function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, 'code', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('callers and callees, by hop', async () => {
  const c = await callers(store, 'helper', 2);
  assert.deepEqual(c.hops.map((h) => [h.depth, h.entity.qualified_name]), [[1, 'main'], [1, 'Circle.describe']]);
  const e = await callees(store, 'python:function:main:py/app.py:5-11');
  assert.deepEqual(e.hops.map((h) => h.entity.qualified_name), ['Circle', 'helper', 'Circle.area', 'Circle.describe']);
  assert.deepEqual(e.unresolved?.map((u) => u.name), ['unknown_function']);
});

test('a name with several definitions is answered with the list, never a guess', async () => {
  await assert.rejects(callers(store, 'area'), (err: unknown) => {
    assert.ok(err instanceof AmbiguousName);
    assert.equal(err.code, 'AMBIGUOUS_NAME');
    assert.ok(err.matches.length >= 5);
    return true;
  });
  await assert.rejects(show(store, 'no_such_thing'), { code: 'NOT_FOUND' });
});

test('blast radius groups reverse reachability (calls and inheritance) by hop', async () => {
  const b = await blastRadius(store, 'python:class:Shape:py/shapes.py:2-4', 3);
  assert.deepEqual(b.hops.map((h) => [h.depth, h.entity.qualified_name]), [[1, 'Circle'], [2, 'main']]);
  assert.deepEqual(b.by_depth, { 1: 1, 2: 1 });
});

test('search, show (with code), cycles and stats', async () => {
  assert.deepEqual((await search(store, 'circ')).map((r) => r.qualified_name), ['Circle', 'Circle', 'Circle.Circle', 'Circle.__init__', 'Circle.area', 'Circle.area', 'Circle.describe', 'Circle.describe', 'Circle.format', 'Circle.r'], 'a Python attribute assigned in a method is a field');
  assert.deepEqual((await search(store, 'Counter::*')).map((r) => r.qualified_name), ['Counter::area', 'Counter::bump', 'Counter::get', 'Counter::n', 'Counter::new'], 'a Rust struct field is an entity');
  const s = await show(store, 'helper');
  assert.equal(s.code, 'def helper(x):\n    return str(x)');
  assert.equal(s.callers, 2);
  assert.equal(s.unresolved_calls, 1);
  const c = await cycles(store);
  assert.deepEqual(c.calls, [['python:function:ping:py/ping.py:3-4', 'python:function:pong:py/pong.py:3-4']]);
  assert.deepEqual(c.imports, [['py/ping.py', 'py/pong.py']]);
  const st = await stats(store) as { files: Record<string, number>; call_resolution: Record<string, { calls: number }> };
  assert.equal(st.files.python, 8);
  assert.equal(st.call_resolution.python?.calls, 12);
});

test('strongly connected components: self-loops count, chains do not', () => {
  assert.deepEqual(stronglyConnected([['a', 'b'], ['b', 'c'], ['c', 'a'], ['d', 'd'], ['e', 'f']]), [['a', 'b', 'c'], ['d']]);
});

test('serve answers the same queries as JSON over HTTP on 127.0.0.1', async () => {
  const server = await servedGraph(store);
  const get = server.get;
  try {
    const health = await get('/health');
    assert.equal(health.status, 200);
    assert.equal(health.body.ok, true);
    assert.equal(health.body.files, 29);
    const c = await get('/callers?name=helper');
    assert.deepEqual(c.body, JSON.parse(JSON.stringify(await callers(store, 'helper'))));
    const amb = await get('/callers?name=area');
    assert.equal(amb.status, 409);
    assert.ok((amb.body.matches as unknown[]).length >= 5);
    assert.equal((await get('/show?key=nothing')).status, 404);
    assert.equal((await get('/callers')).status, 400);
    assert.equal((await get('/callers?name=helper&depth=0')).status, 400);
    assert.equal((await get('/nope')).status, 404);
    assert.deepEqual((await get('/cycles')).body, JSON.parse(JSON.stringify(await cycles(store))));
  } finally {
    server.close();
  }
});

test('the CLI: table and --json answers, exit 1 with the list for an ambiguous name, exit 2 on usage', () => {
  const json = run('query', 'callers', 'helper', '--db', db, '--json');
  assert.equal(json.status, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout).hops.map((h: { entity: { qualified_name: string } }) => h.entity.qualified_name), ['main', 'Circle.describe']);
  const table = run('query', 'callees', 'main', '--db', db);
  assert.equal(table.status, 1);
  assert.match(table.stderr, /AMBIGUOUS_NAME/);
  assert.match(table.stderr, /go:function:main:go\/main\.go/);
  const ambJson = run('query', 'show', 'main', '--db', db, '--json');
  assert.equal(ambJson.status, 1);
  assert.ok(JSON.parse(ambJson.stdout).matches.length >= 3);
  assert.equal(run('query', 'stats', '--db', join(dir, 'missing.db')).status, 1);
  assert.equal(run('index', root, '--db', join(dir, 'x.db'), '--languages', 'cobol').status, 2);
  const idx = run('index', root, '--db', join(dir, 'cli.db'), '--languages', 'python,go', '--json', '-j', '2');
  assert.equal(idx.status, 0, idx.stderr);
  const summary = JSON.parse(idx.stdout);
  assert.equal(summary.files_parsed, 11);
  assert.equal(summary.skipped.language, 18);
  assert.ok(summary.resolution_by_language.python.rate > 0.5);
});

test('code serve (the command) answers /health on 127.0.0.1 and stops on SIGTERM', async () => {
  const child = spawn(process.execPath, [cli, 'code', 'serve', '--db', db, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let err = '';
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(err);
        if (m) resolve(Number(m[1]));
      });
      child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
    });
    const r = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { ok: boolean }).ok, true);
  } finally {
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  }
});
