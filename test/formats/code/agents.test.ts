/**
 * What agents use: `code mcp` driven by the MCP SDK's own client over stdio, `context` (the same
 * answer from the library, the CLI and HTTP), the file outline, ranked fuzzy search, and the
 * HTTP server's answers to bad limits and over-long requests.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { indexCode } from '../../../src/formats/code/index-run.js';
import { callers, show } from '../../../src/formats/code/graph-queries.js';
import { context, estimateTokens, fileOutline, fuzzySearch } from '../../../src/formats/code/agent-queries.js';
import { openStore } from '../../../src/sinks/code-store.js';
import { fixtureTree, servedGraph } from './helpers.js';

const { root, dir } = fixtureTree();
const db = join(dir, 'agents.db');
await indexCode({ root, db, threads: 1 });
const store = await openStore(db, 'read');
after(() => store.close());
const cli = new URL('../../../src/cli.js', import.meta.url).pathname;

test('context: the target source read from the indexed folder, neighbours by signature, within the budget', async () => {
  const c = await context(store, 'helper', 400);
  assert.equal(c.pieces[0]!.relation, 'target');
  assert.equal(c.pieces[0]!.source, 'def helper(x):\n    return str(x)');
  assert.deepEqual(c.pieces.filter((p) => p.relation === 'caller').map((p) => p.qualified_name).sort(), ['Circle.describe', 'main']);
  assert.ok(c.tokens <= 400, `${c.tokens} tokens`);
  // What is handed back is what was counted (within rounding per piece).
  assert.ok(estimateTokens(JSON.stringify(c.pieces)) <= 400 + c.pieces.length * 2, `${estimateTokens(JSON.stringify(c.pieces))}`);
  const tiny = await context(store, 'helper', 60);
  assert.ok(tiny.tokens <= 60 || tiny.pieces.length === 1, 'only the target when the budget is spent');
  assert.ok(tiny.omitted >= 1);
  assert.equal(estimateTokens('abcdefgh'), 2);
  await assert.rejects(context(store, 'helper', 0), { code: 'BAD_REQUEST' });
  const cliJson = spawnSync(process.execPath, [cli, 'code', 'query', 'context', 'helper', '--budget', '400', '--db', db, '--json'], { encoding: 'utf8' });
  assert.equal(cliJson.status, 0, cliJson.stderr);
  assert.deepEqual(JSON.parse(cliJson.stdout), JSON.parse(JSON.stringify(c)));
});

test('outline and fuzzy search rank exact, prefix, substring, then subsequence', async () => {
  const o = await fileOutline(store, 'py/shapes.py');
  assert.deepEqual(o.entities.map((e) => e.qualified_name).slice(0, 3), ['Shape', 'Shape.area', 'Circle']);
  await assert.rejects(fileOutline(store, 'no/such.py'), { code: 'NOT_FOUND' });
  const s = await fuzzySearch(store, 'helper');
  assert.equal(s[0]!.name, 'helper');
  assert.equal(s[0]!.rank, 0);
  const sub = await fuzzySearch(store, 'dscrb');
  assert.ok(sub.length > 0 && sub.every((r) => r.rank === 5 && /describe/i.test(r.name)), JSON.stringify(sub));
});

test('code mcp: the SDK client lists the tools and calls each over stdio', async () => {
  const client = new Client({ name: 'threadmill-test', version: '1.0.0' });
  const transport = new StdioClientTransport({ command: process.execPath, args: [cli, 'code', 'mcp', '--db', db], stderr: 'pipe' });
  await client.connect(transport);
  try {
    const tools = (await client.listTools()).tools.map((t) => t.name).sort();
    assert.deepEqual(tools, ['blast_radius', 'callees', 'callers', 'context', 'file_outline', 'search', 'show']);
    const call = async (name: string, args: Record<string, unknown>): Promise<{ body: Record<string, unknown>; isError: boolean }> => {
      const r = await client.callTool({ name, arguments: args }) as { content: { type: string; text: string }[]; isError?: boolean };
      return { body: JSON.parse(r.content[0]!.text) as Record<string, unknown>, isError: r.isError === true };
    };
    assert.deepEqual((await call('callers', { name: 'helper' })).body, JSON.parse(JSON.stringify(await callers(store, 'helper'))));
    assert.deepEqual((await call('show', { name: 'helper' })).body, JSON.parse(JSON.stringify(await show(store, 'helper'))));
    assert.equal(((await call('search', { query: 'helper', limit: 3 })).body as unknown as { name: string }[])[0]!.name, 'helper');
    assert.ok(((await call('callees', { name: 'python:function:main:py/app.py:5-11' })).body.hops as unknown[]).length >= 3);
    assert.ok(((await call('blast_radius', { name: 'python:class:Shape:py/shapes.py:2-4' })).body.hops as unknown[]).length >= 2);
    assert.equal(((await call('file_outline', { path: 'py/shapes.py' })).body.entities as unknown[]).length, (await fileOutline(store, 'py/shapes.py')).entities.length);
    assert.deepEqual((await call('context', { name: 'helper', budget: 400 })).body, JSON.parse(JSON.stringify(await context(store, 'helper', 400))));
    const amb = await call('callers', { name: 'area' });
    assert.equal(amb.isError, true);
    assert.equal((amb.body.error as { code: string }).code, 'AMBIGUOUS_NAME');
    assert.ok((amb.body.matches as unknown[]).length >= 5);
    const bad = await client.callTool({ name: 'context', arguments: { name: 'helper', budget: -5 } }) as { isError?: boolean };
    assert.equal(bad.isError, true, 'a negative budget is refused by the schema');
  } finally {
    await client.close();
  }
});

test('HTTP: context and outline; limit 0 or -5 is a 400; a 20 KB query gets a JSON error body', async () => {
  const server = await servedGraph(store);
  const { get, port } = server;
  try {
    assert.deepEqual((await get('/context?name=helper&budget=400')).body, JSON.parse(JSON.stringify(await context(store, 'helper', 400))));
    assert.equal((await get('/outline?path=py/shapes.py')).status, 200);
    for (const limit of ['0', '-5', 'x', '']) {
      const r = await get(`/search?q=a&limit=${limit}`);
      assert.equal(r.status, 400, `limit=${limit}`);
      assert.equal((r.body.error as { code: string }).code, 'BAD_REQUEST');
    }
    assert.equal((await get('/search?q=a&limit=2')).body.length, 2);
    // Node's HTTP parser refuses a request line over 16 KiB before any handler runs.
    const long = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: `/search?q=${'a'.repeat(20_000)}` }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => { body += d.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(long.status, 431);
    assert.equal((JSON.parse(long.body) as { error: { code: string } }).error.code, 'REQUEST_TOO_LARGE');
  } finally {
    server.close();
  }
});
