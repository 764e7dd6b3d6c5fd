import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { indexCode } from '../../../src/formats/code/index-run.js';
import { fixtureTree, dumpDb, edgesOf, entitiesOf, type EdgeView } from './helpers.js';

const { root, dir } = fixtureTree();
const db1 = join(dir, 'j1.db');
const db2 = join(dir, 'j2.db');
const first = await indexCode({ root, db: db1, threads: 1 });
await indexCode({ root, db: db2, threads: 2 });
const edges = edgesOf(db1);

function resolved(file: string, line: number, name: string): string | null | undefined {
  const hits = edges.filter((e) => e.file === file && e.line === line && e.name === name && e.kind !== 'imports');
  assert.equal(hits.length, 1, `one edge ${name} at ${file}:${line}, got ${JSON.stringify(hits)}`);
  return hits[0]!.to;
}

function edge(kind: string, file: string, from: string, name: string): EdgeView {
  const hit = edges.find((e) => e.kind === kind && e.file === file && e.from === from && e.name === name);
  assert.ok(hit, `${kind} edge ${from} → ${name} in ${file}`);
  return hit;
}

test('-j 1 and -j 2 write the same database', () => {
  assert.deepEqual(dumpDb(db1), dumpDb(db2));
});

test('the walk skips by reason and lists every skip in the database', () => {
  assert.deepEqual(first.skipped, { vendored: 3, ignored: 4, unsupported: 2, binary: 1 });
  const files = dumpDb(db1).files as { path: string; status: string; skip_reason: string | null }[];
  const skips = Object.fromEntries(files.filter((f) => f.status === 'skipped').map((f) => [f.path, f.skip_reason]));
  assert.deepEqual(skips, {
    '.git/': 'vendored', 'node_modules/': 'vendored', 'py/build/': 'vendored',
    'ignored_dir/': 'ignored', 'debug.log': 'ignored', 'py/secret.py': 'ignored', 'local_only.py': 'ignored',
    'README.md': 'unsupported', 'go/go.mod': 'unsupported', 'py/blob.py': 'binary',
  });
  assert.equal(first.files_parsed, 27);
});

test('a file over --max-file-size is skipped as too_large', async () => {
  const s = await indexCode({ root, db: join(dir, 'small.db'), threads: 1, maxFileSize: 2000 });
  assert.equal(s.skipped.too_large, 1);
  assert.ok(!entitiesOf(join(dir, 'small.db'), 'py/huge.py').length);
});

test('python: classes, methods named by their owner, constants; calls through imports, self, aliases and locals', () => {
  assert.deepEqual(entitiesOf(db1, 'py/shapes.py'), [
    ['module', 'py/shapes.py'], ['class', 'Shape'], ['method', 'Shape.area'], ['class', 'Circle'], ['method', 'Circle.__init__'], ['field', 'Circle.r'],
    ['method', 'Circle.area'], ['method', 'Circle.describe'], ['function', 'helper'], ['constant', 'RATIO'],
  ]);
  assert.equal(edge('extends', 'py/shapes.py', 'Circle', 'Shape').to, 'Shape');
  assert.equal(resolved('py/shapes.py', 14, 'area'), 'Circle.area');
  assert.equal(resolved('py/app.py', 6, 'Circle'), 'Circle');
  assert.equal(resolved('py/app.py', 7, 'area'), 'Circle.area');
  assert.equal(resolved('py/app.py', 8, 'h'), 'helper');
  assert.equal(resolved('py/app.py', 9, 'helper'), 'helper');
  assert.equal(resolved('py/app.py', 10, 'unknown_function'), null);
  // Two star imports both define twin(): ambiguous, so unresolved.
  assert.equal(resolved('py/uses_dup.py', 5, 'twin'), null);
});

test('javascript: require, ES imports, new, this, arrow functions bound to const', () => {
  assert.deepEqual(entitiesOf(db1, 'js/main.js').slice(1), [['function', 'twice'], ['function', 'run']]);
  assert.equal(edge('extends', 'js/lib.js', 'Counter', 'Base').to, 'Base');
  assert.equal(resolved('js/lib.js', 6, 'hello'), 'Base.hello');
  assert.equal(resolved('js/main.js', 4, 'add'), 'add');
  assert.equal(resolved('js/main.js', 6, 'Counter'), 'Counter');
  assert.equal(resolved('js/main.js', 7, 'inc'), 'Counter.inc');
  assert.equal(resolved('js/main.js', 8, 'format'), 'format');
  assert.equal(resolved('js/main.js', 9, 'mystery'), null);
});

test('typescript and tsx: interfaces, abstract classes, implements, enums, type aliases', () => {
  assert.deepEqual(entitiesOf(db1, 'ts/model.ts').slice(1), [
    ['interface', 'Named'], ['method', 'Named.name'], ['class', 'Animal'], ['method', 'Animal.name'], ['method', 'Animal.speak'], ['class', 'Dog'],
    ['method', 'Dog.name'], ['type_alias', 'Id'], ['enum', 'Color'], ['function', 'makeDog'],
  ]);
  assert.equal(edge('implements', 'ts/model.ts', 'Animal', 'Named').to, 'Named');
  assert.equal(edge('extends', 'ts/model.ts', 'Dog', 'Animal').to, 'Animal');
  assert.equal(resolved('ts/app.ts', 6, 'speak'), 'Animal.speak');
  assert.equal(resolved('ts/app.ts', 4, 'makeDog'), 'makeDog');
  assert.equal(resolved('ts/app.ts', 7, 'speak'), null);
  assert.equal(resolved('ts/view.tsx', 4, 'main'), 'main');
  assert.equal(edge('extends', 'ts/view.tsx', 'Panel', 'Component').to, null);
});

test('rust: impl methods as Type::f, use paths, Type::f calls, trait impls, unresolved externals', () => {
  const lib = entitiesOf(db1, 'rs/src/lib.rs');
  for (const e of [['trait', 'Area'], ['struct', 'Counter'], ['impl', 'Counter'], ['method', 'Counter::new'], ['method', 'Counter::bump'], ['method', 'Counter::area'], ['function', 'run']]) {
    assert.ok(lib.some((x) => x[0] === e[0] && x[1] === e[1]), `${e.join(' ')} in ${JSON.stringify(lib)}`);
  }
  assert.equal(resolved('rs/src/lib.rs', 11, 'get'), 'Counter::get');
  assert.equal(resolved('rs/src/lib.rs', 20, 'new'), 'Counter::new');
  assert.equal(resolved('rs/src/lib.rs', 21, 'bump'), 'Counter::bump');
  assert.equal(resolved('rs/src/lib.rs', 23, 'norm'), 'Point::norm');
  assert.equal(resolved('rs/src/lib.rs', 25, 'distance'), 'distance');
  assert.equal(resolved('rs/src/lib.rs', 24, 'thing'), null);
  assert.equal(edges.find((e) => e.kind === 'implements' && e.file === 'rs/src/lib.rs')?.to, 'Area');
});

test('go: methods named Type.Method, same-package calls, imported packages through go.mod, embedding', () => {
  assert.deepEqual(entitiesOf(db1, 'go/server/server.go').slice(1), [
    ['interface', 'Handler'], ['struct', 'Base'], ['method', 'Base.Log'], ['struct', 'Server'], ['field', 'Server.port'], ['function', 'NewServer'], ['method', 'Server.Start'],
  ]);
  assert.equal(resolved('go/server/server.go', 20, 'Log'), 'Base.Log');
  assert.equal(resolved('go/server/server.go', 21, 'listen'), 'listen');
  assert.equal(resolved('go/main.go', 7, 'NewServer'), 'NewServer');
  assert.equal(resolved('go/main.go', 9, 'undefinedThing'), null);
});

test('java: same package, imports, constructors to the class, implicit this', () => {
  assert.equal(edge('extends', 'java/com/acme/Circle.java', 'Circle', 'Shape').to, 'Shape');
  assert.equal(resolved('java/com/acme/Circle.java', 7, 'square'), 'Util.square');
  assert.equal(resolved('java/com/acme/Circle.java', 8, 'format'), 'Circle.format');
  assert.equal(resolved('java/com/acme/app/Main.java', 8, 'Circle'), 'Circle');
  assert.equal(resolved('java/com/acme/app/Main.java', 9, 'describe'), 'Circle.describe');
  assert.equal(resolved('java/com/acme/app/Main.java', 10, 'println'), null);
  assert.equal(edges.find((e) => e.kind === 'imports' && e.file === 'java/com/acme/app/Main.java')?.to, 'java/com/acme/Circle.java');
});

test('c and c++: functions through included headers, classes in namespaces, out-of-class methods', () => {
  assert.equal(resolved('c/main.c', 4, 'clamp'), 'clamp');
  assert.equal(resolved('c/main.c', 7, 'printf'), null);
  assert.deepEqual(entitiesOf(db1, 'cpp/shape.cpp').slice(1), [['namespace', 'geo'], ['method', 'geo::Square::area']]);
  assert.equal(resolved('cpp/shape.hpp', 12, 'area'), 'geo::Square::area');
  assert.equal(resolved('cpp/main.cpp', 8, 'Square'), 'geo::Square');
  assert.equal(resolved('cpp/main.cpp', 9, 'twice'), null);
  assert.equal(edge('extends', 'cpp/shape.hpp', 'geo::Square', 'Shape').to, 'geo::Shape');
});

test('keys are unique and name language, kind, qualified name, file and lines', () => {
  const keys = (dumpDb(db1).entities as { key: string }[]).map((e) => e.key);
  assert.equal(new Set(keys).size, keys.length);
  assert.ok(keys.includes('python:method:Circle.area:py/shapes.py:10-11'));
});

test('an interrupted run leaves no database and no temporaries', async () => {
  const ac = new AbortController();
  ac.abort('SIGINT');
  const db = join(dir, 'aborted.db');
  await assert.rejects(indexCode({ root, db, threads: 1, signal: ac.signal }), { code: 'INTERRUPTED' });
  assert.equal(existsSync(db), false);
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('aborted')), []);
});

test('a missing folder is INPUT_NOT_FOUND; a file is NOT_A_DIRECTORY', async () => {
  await assert.rejects(indexCode({ root: join(dir, 'nope'), db: join(dir, 'x.db') }), { code: 'INPUT_NOT_FOUND' });
  await assert.rejects(indexCode({ root: db1, db: join(dir, 'x.db') }), { code: 'NOT_A_DIRECTORY' });
});
