/**
 * `code index` gets the error log from the engine: a file indexed despite syntax errors is a record
 * error — echoed, written by --rejects (JSON lines naming the file, line and byte offset), and
 * --max-errors N fails the run without writing the graph.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const cli = new URL('../../../src/cli.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tm-code-rej-'));
const root = join(dir, 'tree');
mkdirSync(join(root, 'pkg'), { recursive: true });
writeFileSync(join(root, 'pkg/ok.py'), 'def ok():\n    return 1\n');
writeFileSync(join(root, 'pkg/bad.py'), '# é\ndef ok():\n    return 1\n\ndef broken(:\n    pass\n');
// The ';' at line 2, column 15: byte 15 + 14.
writeFileSync(join(root, 'worse.js'), 'function f() {\n  return [1, 2;\n}\n');

function index(...args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [cli, 'code', 'index', root, '-j', '2', ...args], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

test('--rejects lists the files with syntax errors (file, line, byte offset); they are still indexed', () => {
  const db = join(dir, 'g.db');
  const rejects = join(dir, 'r.jsonl');
  const r = index('--db', db, '--rejects', rejects, '--progress', 'json');
  assert.equal(r.status, 0, r.stderr);
  const rows = readFileSync(rejects, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(rows.map((x) => [x.input, x.line, x.offset, x.category]), [['pkg/bad.py', 5, 40, 'syntax_error'], ['worse.js', 2, 29, 'syntax_error']]);
  assert.match(String(rows[0]!.reason), /column 12/);
  const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.filter((l) => l.type === 'warning' && /syntax_error/.test(String(l.message))).length, 2, 'both echoed');
  assert.ok(lines.some((l) => l.phase === 'walking the folder') && lines.some((l) => l.phase === 'resolving calls'), 'the steps are shown');
  const g = new Database(db, { readonly: true });
  assert.deepEqual(g.prepare("SELECT path, parse_errors FROM files WHERE status = 'indexed' ORDER BY path").all(), [
    { path: 'pkg/bad.py', parse_errors: 1 }, { path: 'pkg/ok.py', parse_errors: 0 }, { path: 'worse.js', parse_errors: 1 },
  ]);
  g.close();
});

test('--max-errors 1 with two such files: TOO_MANY_ERRORS, no graph and no rejects file', () => {
  const db = join(dir, 'none.db');
  const r = index('--db', db, '--rejects', join(dir, 'none.jsonl'), '--max-errors', '1', '-q');
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /\[TOO_MANY_ERRORS\].*worse\.js:2 \(byte 29\)/);
  assert.equal(existsSync(db), false);
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('none')), []);
});
