import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { indexCode } from '../../../src/formats/code/index-run.js';
import Database from 'better-sqlite3';
import { edgesOf } from './helpers.js';

test('python: modules by their import name (src layout, package chains) and names re-exported by a package', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-pypkg-'));
  const files: Record<string, string> = {
    'src/pkg/__init__.py': 'from .core import Engine as Engine\n',
    'src/pkg/core.py': 'class Engine:\n    def run(self):\n        return 1\n',
    // Another module whose path ends in "pkg", but inside the package `other`: imported as other.pkg.
    'tests/other/__init__.py': '',
    'tests/other/pkg.py': 'class Engine:\n    pass\n',
    'tests/test_app.py': 'import pkg\n\ndef test_run():\n    e = pkg.Engine()\n    return e.run()\n',
  };
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, 'tree', rel)), { recursive: true });
    writeFileSync(join(dir, 'tree', rel), text);
  }
  const db = join(dir, 'g.db');
  await indexCode({ root: join(dir, 'tree'), db, threads: 1 });
  const calls = edgesOf(db).filter((e) => e.file === 'tests/test_app.py' && e.kind === 'calls').map((e) => [e.line, e.name, e.to]);
  assert.deepEqual(calls, [[4, 'Engine', 'Engine'], [5, 'run', 'Engine.run']]);
  const imp = edgesOf(db).find((e) => e.kind === 'imports' && e.file === 'tests/test_app.py');
  assert.equal(imp?.to, 'src/pkg/__init__.py');
  // The call resolves to the class in src/pkg/core.py, not the one in tests/other/pkg.py.
  const g = new Database(db, { readonly: true });
  const dst = g.prepare("SELECT dst FROM edges WHERE file = 'tests/test_app.py' AND line = 4").get() as { dst: string };
  g.close();
  assert.equal(dst.dst, 'python:class:Engine:src/pkg/core.py:1-3');
});
