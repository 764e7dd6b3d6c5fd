import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { walkSources } from '../../../src/formats/code/walk.js';
import { parseImport } from '../../../src/formats/code/imports.js';
import { planBatches } from '../../../src/engine/many-inputs.js';
import { factsOfFile } from '../../../src/formats/code/task.js';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'tm-walk-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return root;
}

test('.gitignore at every level, deeper rules win (negation), vendored folders by whole segment', () => {
  const root = tree({
    '.gitignore': '*.gen.py\n/top_only.py\n',
    'a/.gitignore': '!keep.gen.py\nlocal/\n',
    'a/keep.gen.py': 'x = 1\n',
    'a/drop.gen.py': 'x = 1\n',
    'a/local/x.py': 'x = 1\n',
    'a/top_only.py': 'x = 1\n',
    'top_only.py': 'x = 1\n',
    'my_vendor/ok.go': 'package x\n',
    'vendored.go': 'package x\n',
    'pkg/vendor/dep.go': 'package dep\n',
    'src/target/t.rs': 'fn t() {}\n',
    'x/__pycache__/m.py': 'x = 1\n',
  });
  symlinkSync(join(root, 'vendored.go'), join(root, 'link.go'));
  const w = walkSources(root, { maxFileSize: 1 << 20 });
  assert.deepEqual(w.files.map((f) => f.path), ['a/keep.gen.py', 'a/top_only.py', 'my_vendor/ok.go', 'vendored.go']);
  assert.deepEqual(w.skipped.map((s) => `${s.path} ${s.reason}`), [
    'a/drop.gen.py ignored', 'a/local/ ignored', 'link.go symlink', 'pkg/vendor/ vendored', 'src/target/ vendored', 'top_only.py ignored', 'x/__pycache__/ vendored',
  ]);
});

test('--languages and the size limit are skip reasons too', () => {
  const root = tree({ 'a.py': 'x = 1\n', 'b.go': 'package b\n', 'c.h': 'int f(void);\n', 'big.py': `# ${'x'.repeat(100)}\n` });
  const w = walkSources(root, { maxFileSize: 50, languages: ['python', 'cpp'] });
  assert.deepEqual(w.files.map((f) => f.path), ['a.py', 'c.h']);
  assert.deepEqual(w.skipped.map((s) => `${s.path} ${s.reason}`), ['b.go language', 'big.py too_large']);
});

test('import statements of each language', () => {
  assert.deepEqual(parseImport('python', 'from .pkg.mod import (a, b as c)'), [['.pkg.mod', 'a', 'a'], ['.pkg.mod', 'b', 'c']]);
  assert.deepEqual(parseImport('python', 'import os.path, numpy as np'), [['os.path', '', 'os'], ['numpy', '', 'np']]);
  assert.deepEqual(parseImport('typescript', "import Def, { a, b as c, type T } from './x'"), [['./x', 'default', 'Def'], ['./x', 'a', 'a'], ['./x', 'b', 'c'], ['./x', 'T', 'T']]);
  assert.deepEqual(parseImport('javascript', "{ f, g: h } = require('./m')"), [['./m', 'f', 'f'], ['./m', 'g', 'h']]);
  assert.deepEqual(parseImport('rust', 'pub use crate::a::{b, c::{d as e, self}, *};'), [['crate::a', 'b', 'b'], ['crate::a::c', 'd', 'e'], ['crate::a::c', '', 'c'], ['crate::a', '*', '*']]);
  // `as` inside a name (`task`, `alias`) is not the keyword.
  assert.deepEqual(parseImport('rust', 'pub use task::spawn;'), [['task', 'spawn', 'spawn']]);
  assert.deepEqual(parseImport('rust', 'use base::alias as basis;'), [['base', 'alias', 'basis']]);
  assert.deepEqual(parseImport('go', 'f "fmt"'), [['fmt', '', 'f']]);
  assert.deepEqual(parseImport('go', '"example.com/x/server"'), [['example.com/x/server', '', 'server']]);
  assert.deepEqual(parseImport('java', 'import static com.a.B.max;'), [['com.a.B', 'max', 'max']]);
  assert.deepEqual(parseImport('java', 'import com.a.*;'), [['com.a', '*', '*']]);
  assert.deepEqual(parseImport('c', '#include "sub/x.h"\n'), [['sub/x.h', '*', '']]);
  assert.deepEqual(parseImport('c', '#include <stdio.h>\n'), []);
});

test('many-inputs plan: consecutive batches closed by weight or count, nothing lost or reordered', () => {
  const items = [5, 1, 1, 8, 2, 2, 2, 2, 9].map((weight, i) => ({ weight, i }));
  const batches = planBatches(items, 4, 3);
  assert.deepEqual(batches.map((b) => b.map((x) => x.i)), [[0], [1, 2, 3], [4, 5], [6, 7], [8]]);
  assert.deepEqual(batches.flat().map((x) => x.i), items.map((x) => x.i));
});

test('a file with a syntax error is indexed, and the first error is located by line, column and byte', async () => {
  const root = tree({ 'bad.py': '# é\ndef ok():\n    return 1\n\ndef broken(:\n    pass\n' });
  const f = await factsOfFile({ abs: join(root, 'bad.py'), path: 'bad.py', language: 'python', weight: 10 }, { maxFileSize: 1 << 20, includeCode: false });
  assert.equal(f.status, 'indexed');
  assert.equal(f.parseErrors, 1);
  assert.deepEqual(f.errorAt, [5, 12, 40]); // the ':' after 'def broken(', past a 2-byte é
  assert.ok(f.entities.some((e) => e[1] === 'ok'));
});

test("another run's unfinished outputs in the tree (a part, a --db temporary) are neither walked nor counted", () => {
  const root = tree({
    'a.py': 'x = 1\n',
    '.graph.db.threadmill-tmp-123-1@abcdef012345': 'not a source file',
    '.1.threadmill-tmp-9-2@abcdef012345/facts.jsonl': '{}\n',
    '.1.threadmill-tmp-9-2@abcdef012345/m.py': 'y = 2\n',
  });
  const w = walkSources(root, { maxFileSize: 1 << 20 });
  assert.deepEqual(w.files.map((f) => f.path), ['a.py']);
  assert.deepEqual(w.skipped, []);
});
