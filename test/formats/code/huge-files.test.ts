import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { indexCode } from '../../../src/formats/code/index-run.js';
import { withPieces } from '../../../src/formats/code/huge-files.js';
import { factsOfFile, type FileItem } from '../../../src/formats/code/task.js';
import { mergeCode, planCodeShare, writeCodeShare } from '../../../src/formats/code/shard.js';
import type { Part } from '../../../src/engine/parts.js';
import { dumpDb } from './helpers.js';

/** 60 top-level blocks of ~190 bytes: classes, functions, a nested arrow, an anonymous callback. */
function bigJs(): string {
  const parts: string[] = [];
  for (let i = 0; i < 60; i++) {
    parts.push(`export class C${i} {\n  m() { return f${i}(1); }\n}\nfunction f${i}(x) {\n  const inner = () => g(x);\n  return inner();\n}\n// a comment\ndescribe(() => { function h() {} h(); });\n`);
  }
  return `${parts.join('')}import { q } from './q';\n`;
}

function folder(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'tm-huge-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(root, name), text);
  return root;
}

function itemOf(root: string, path: string, language: FileItem['language']): FileItem {
  const bytes = Buffer.byteLength(bigJs());
  return { abs: join(root, path), path, language, weight: bytes, bytes };
}

test('a huge file indexed in pieces, on one thread or two, gives the graph of one whole parse', async () => {
  const root = folder({ 'big.js': bigJs(), 'q.js': 'export function q() { return 1; }\n', 'small.py': 'def s():\n    return 2\n' });
  const dir = mkdtempSync(join(tmpdir(), 'tm-huge-db-'));
  const pieces = withPieces([itemOf(root, 'big.js', 'javascript')], { maxFileSize: 1 << 20, hugeFile: 100, pieceChars: 500 });
  assert.ok(pieces.length > 10, `${pieces.length} pieces`);
  assert.deepEqual(pieces.map((p) => p.piece?.index), pieces.map((_, i) => i));
  const whole = await indexCode({ root, db: join(dir, 'whole.db'), threads: 1 });
  const one = await indexCode({ root, db: join(dir, 'one.db'), threads: 1, hugeFile: 100, pieceChars: 500 });
  const two = await indexCode({ root, db: join(dir, 'two.db'), threads: 2, hugeFile: 100, pieceChars: 500 });
  for (const s of [one, two]) {
    assert.equal(s.files_parsed, 3);
    assert.equal(s.entities, whole.entities);
    assert.equal(s.calls_resolved, whole.calls_resolved);
  }
  assert.ok(whole.entities > 300);
  const expected = dumpDb(join(dir, 'whole.db'));
  assert.deepEqual(dumpDb(join(dir, 'one.db')), expected);
  assert.deepEqual(dumpDb(join(dir, 'two.db')), expected);
});

test('a syntax error in a later piece is located on the file\'s line and byte offset', async () => {
  const text = bigJs().replace('function f40(x) {', 'function f40(x {');
  const root = folder({ 'big.js': text });
  const item = { ...itemOf(root, 'big.js', 'javascript'), bytes: Buffer.byteLength(text) };
  const whole = await factsOfFile(item, { maxFileSize: 1 << 20, includeCode: false });
  const pieces = withPieces([item], { maxFileSize: 1 << 20, hugeFile: 100, pieceChars: 500 });
  const errors = [];
  for (const p of pieces) errors.push((await factsOfFile(p, { maxFileSize: 1 << 20, includeCode: false })).errorAt);
  assert.ok(whole.errorAt);
  assert.ok(whole.errorAt[2] > 5000, 'the error is past the first pieces');
  assert.deepEqual(errors.find((e) => e !== undefined), whole.errorAt);
  assert.equal(errors.filter((e) => e !== undefined).length, 1);
});

test('a huge file changed between the plan and its parse stops the run with INPUT_CHANGED', async () => {
  const root = folder({ 'big.js': bigJs() });
  const pieces = withPieces([itemOf(root, 'big.js', 'javascript')], { maxFileSize: 1 << 20, hugeFile: 100, pieceChars: 500 });
  appendFileSync(join(root, 'big.js'), 'function late() {}\n');
  await assert.rejects(factsOfFile(pieces[3]!, { maxFileSize: 1 << 20, includeCode: false }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'INPUT_CHANGED');
    assert.match(err.message, /big\.js changed while it was indexed/);
    return true;
  });
});

test('shards of a tree with a huge file, merged, give the graph of one run; the file counts once', async () => {
  const root = folder({ 'big.js': bigJs(), 'q.js': 'export function q() { return f1(1); }\n', 'small.py': 'def s():\n    return 2\n' });
  const dir = mkdtempSync(join(tmpdir(), 'tm-huge-shard-'));
  await indexCode({ root, db: join(dir, 'whole.db'), threads: 1 });
  const parts: Part[] = [];
  for (const index of [0, 1]) {
    const o = { root, threads: 2, hugeFile: 100, pieceChars: 500 };
    const plan = planCodeShare(o, { index, count: 2 });
    const path = join(dir, `p${index}`);
    mkdirSync(path);
    const w = await writeCodeShare(plan, path, o);
    parts.push({ path, manifest: { options: plan.options, data: { root: w.root, skipped: w.skipped, files: w.files } } as unknown as Part['manifest'] });
  }
  const merged = await mergeCode(parts, join(dir, 'merged.db'));
  assert.equal(merged.files, 3);
  assert.deepEqual(dumpDb(join(dir, 'merged.db')), dumpDb(join(dir, 'whole.db')));
});
