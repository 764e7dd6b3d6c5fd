import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { indexCode } from '../../../src/formats/code/index-run.js';
import { fixtureTree, dumpDb, edgesOf, entitiesOf } from './helpers.js';

test('a second index re-parses only changed files, removes deleted ones, adds new ones and re-resolves', async () => {
  const { root, dir } = fixtureTree();
  const db = join(dir, 'inc.db');
  const first = await indexCode({ root, db, threads: 2 });
  assert.equal(first.files_parsed, 27);

  const again = await indexCode({ root, db, threads: 2 });
  assert.deepEqual([again.files_parsed, again.files_unchanged, again.files_removed], [0, 27, 0]);
  assert.equal(again.entities, first.entities);
  assert.equal(again.calls_resolved, first.calls_resolved);

  // Change: helper renamed, so app.py's `h(1)` and `sh.helper(2)` no longer resolve.
  writeFileSync(join(root, 'py/shapes.py'), 'class Shape:\n    def area(self):\n        return 0\n\nclass Circle(Shape):\n    pass\n\ndef helper2(x):\n    return x\n');
  // Delete: util.js, so main.js's util.format() no longer resolves.
  rmSync(join(root, 'js/util.js'));
  // Add: a module that defines the function app.py calls but never imports (stays unresolved).
  writeFileSync(join(root, 'py/extra.py'), 'def unknown_function(x):\n    return x\n');
  const third = await indexCode({ root, db, threads: 2 });
  assert.deepEqual([third.files_parsed, third.files_unchanged, third.files_removed], [2, 25, 1]);
  assert.deepEqual(entitiesOf(db, 'py/shapes.py').map((e) => e[1]), ['py/shapes.py', 'Shape', 'Shape.area', 'Circle', 'helper2']);
  assert.deepEqual(entitiesOf(db, 'js/util.js'), []);
  const edges = edgesOf(db);
  const at = (file: string, line: number): (string | null)[] => edges.filter((e) => e.file === file && e.line === line && e.kind === 'calls').map((e) => e.to);
  assert.deepEqual(at('py/app.py', 8), [null]);
  assert.deepEqual(at('py/app.py', 9), [null]);
  assert.deepEqual(at('js/main.js', 8), [null]);
  // `c.area()` on a Circle still resolves: now to the inherited Shape.area.
  assert.deepEqual(at('py/app.py', 7), ['Shape.area']);

  // The incremental result equals a fresh index of the same tree.
  const fresh = join(dir, 'fresh.db');
  await indexCode({ root, db: fresh, threads: 1 });
  assert.deepEqual(dumpDb(db), dumpDb(fresh));

  // Restoring the files brings the first graph back exactly.
  const { root: pristine } = fixtureTree();
  copyFileSync(join(pristine, 'py/shapes.py'), join(root, 'py/shapes.py'));
  copyFileSync(join(pristine, 'js/util.js'), join(root, 'js/util.js'));
  rmSync(join(root, 'py/extra.py'));
  await indexCode({ root, db, threads: 2 });
  const back = join(dir, 'back.db');
  await indexCode({ root: pristine, db: back, threads: 1 });
  assert.deepEqual(dumpDb(db), dumpDb(back));
});

test('--include-code stores entity text, and switching it re-parses everything', async () => {
  const { root, dir } = fixtureTree();
  const db = join(dir, 'code.db');
  await indexCode({ root, db, threads: 1 });
  const withCode = await indexCode({ root, db, threads: 1, includeCode: true });
  assert.equal(withCode.files_parsed, 27);
  const helper = (dumpDb(db).entities as { qualified_name: string; code: string | null }[]).find((e) => e.qualified_name === 'helper');
  assert.equal(helper?.code, 'def helper(x):\n    return str(x)');
});
