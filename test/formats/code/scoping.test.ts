/**
 * Scoping defects found on real repositories (issue #17), each as a small fixture: absolute
 * imports vs sibling modules, relative imports of submodules, definitions nested in callbacks and
 * object literals, locals that shadow outer names, constants bound to expressions and aliases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { indexCode } from '../../../src/formats/code/index-run.js';
import { AmbiguousName, callers } from '../../../src/formats/code/graph-queries.js';
import { openStore } from '../../../src/sinks/code-store.js';
import { edgesOf, entitiesOf, indexedTree } from './helpers.js';

const FILES: Record<string, string> = {
  // flask's layout: a package with modules named like the standard library.
  'src/pkg/__init__.py': 'from . import views\n',
  'src/pkg/logging.py': 'def getLogger(name):\n    return name\n',
  'src/pkg/app.py': 'import logging\nimport json as _json\n\ndef dump(obj, fp):\n    return _json.dump(obj, fp)\n\ndef log():\n    return logging.getLogger("x")\n',
  'src/pkg/views.py': 'def index():\n    return 1\n',
  'src/pkg/json/__init__.py': 'import json as _json\n\ndef dumps(o):\n    return _json.dumps(o)\n',
  'src/pkg/routes.py': 'from . import views\n\ndef route():\n    return views.index()\n\ndef shadow(index):\n    return index()\n',
  // vue's shapes: constants bound to expressions, aliases, callbacks and object literals.
  'ts/vnode.ts': 'export const createVNode = (__DEV__ ? createWithTransform : _createVNode);\n'
    + 'function _createVNode(t: string) { return t; }\nfunction createWithTransform(t: string) { return t; }\n'
    + 'export const h = createVNode;\nexport function render(v: unknown) { return v; }\n',
  'ts/app.ts': "import { createVNode, render } from './vnode';\nimport { parse } from './parse';\n"
    + 'const app = createApp({ render() { return 1; }, parse: () => 2 });\n'
    + 'export function mount(root: unknown) {\n  render(createVNode());\n  return parse(root);\n}\n'
    + "describe('x', () => { function helper() { return 0; } helper(); }); helper();\n"
    + 'export function withLocal(render: (n: number) => number) {\n  function inner() { return 1; }\n  inner();\n  return render(1);\n}\n'
    + 'export interface Api { call(n: number): void; }\n'
    + "it('y', () => { function twin() { return 1; } function f() { function twin() { return 2; } return twin(); } class K { m() { return this.n(); } n() { return 0; } } return f(); });\n",
  'ts/parse.ts': 'export function parse(x: unknown) { return x; }\nexport const table = { parse: (s: string) => s };\n',
  // A workspace: tsconfig paths, barrels, and a package found by its package.json name.
  'ws/tsconfig.json': '{\n  // comments and trailing commas, as tsc allows\n  "compilerOptions": { "paths": { "@ws/*": ["./packages/*/src"], }, },\n}\n',
  'ws/packages/a/src/index.ts': "export * from './h'\nexport { mount as start } from './mount'\n",
  'ws/packages/a/src/h.ts': 'export function h(t: string) { return t; }\n',
  'ws/packages/a/src/mount.ts': 'export function mount() { return 1; }\n',
  'ws/packages/b/src/use.ts': "import { h, start } from '@ws/a';\nimport { util } from 'named-pkg';\nh('div');\nstart();\nutil();\n",
  'ws/tools/package.json': '{ "name": "named-pkg", "source": "lib/main.ts" }\n',
  'ws/tools/lib/main.ts': 'export function util() { return 0; }\n',
  'go/go.mod': 'module example.com/m\n',
  'go/s.go': 'package m\n\ntype S struct {\n\tName string\n\tRun  func()\n}\n',
  'rs/src/lib.rs': 'pub trait Store {\n    type Item;\n    fn get(&self) -> Self::Item;\n}\n',
};

const { db, edges } = await indexedTree('scope', FILES);

function to(file: string, line: number, name: string, kind = 'calls'): string | null | undefined {
  const e = edges.filter((x) => x.file === file && x.line === line && x.name === name && x.kind === kind);
  assert.ok(e.length <= 1, `one ${kind} edge ${file}:${line} ${name}`);
  return e[0]?.to;
}

test('python: absolute imports never mean a sibling module of the same name', () => {
  assert.equal(to('src/pkg/app.py', 5, 'dump'), null, '_json.dump is the standard library, not pkg.app.dump');
  assert.equal(to('src/pkg/app.py', 8, 'getLogger'), null, 'import logging is not src/pkg/logging.py');
  assert.equal(to('src/pkg/json/__init__.py', 4, 'dumps'), null, 'no fake recursion through import json as _json');
  const imports = edges.filter((e) => e.kind === 'imports' && e.file === 'src/pkg/app.py');
  assert.deepEqual(imports.map((e) => [e.name, e.to]), [['logging', null], ['json', null]]);
});

test('python: from . import views is the submodule; a parameter shadows a module-level name', () => {
  assert.equal(edges.find((e) => e.kind === 'imports' && e.file === 'src/pkg/routes.py')?.to, 'src/pkg/views.py');
  assert.equal(to('src/pkg/routes.py', 4, 'index'), 'index');
  assert.equal(to('src/pkg/routes.py', 7, 'index'), null, 'the parameter index, not views.index');
});

test('ts: definitions inside callbacks and object literals are not file-level; imports and locals win', () => {
  const names = entitiesOf(db, 'ts/app.ts').map(([k, q]) => `${k} ${q}`);
  for (const n of ['constant app', 'function app.<anonymous>.render', 'function app.<anonymous>.parse', 'function <anonymous>.helper', 'function withLocal.inner', 'method Api.call']) {
    assert.ok(names.includes(n), `${n} in ${JSON.stringify(names)}`);
  }
  assert.equal(to('ts/app.ts', 5, 'render'), 'render', 'the imported render, not the object literal\'s');
  assert.equal(to('ts/app.ts', 6, 'parse'), 'parse', 'the imported parse, not a { parse: … } property');
  const helper = edges.filter((e) => e.file === 'ts/app.ts' && e.name === 'helper').map((e) => [e.from, e.to]);
  assert.deepEqual(helper, [['ts/app.ts', '<anonymous>.helper'], ['ts/app.ts', null]], 'helper is visible inside its callback only');
  assert.equal(to('ts/app.ts', 11, 'inner'), 'withLocal.inner');
  assert.equal(to('ts/app.ts', 12, 'render'), null, 'the parameter render shadows the import');
  assert.equal(to('ts/app.ts', 15, 'twin'), '<anonymous>.f.twin', 'the nearer nested twin, not the callback\'s');
  assert.equal(to('ts/app.ts', 15, 'f'), '<anonymous>.f');
  assert.equal(to('ts/app.ts', 15, 'n'), '<anonymous>.K.n', 'a class inside a callback still has members');
});

test('ts: a const bound to any expression is a constant; calls resolve to it; a plain reference is an alias', () => {
  assert.deepEqual(entitiesOf(db, 'ts/vnode.ts').slice(1).map(([k, q]) => `${k} ${q}`),
    ['constant createVNode', 'function _createVNode', 'function createWithTransform', 'constant h', 'function render']);
  assert.equal(to('ts/app.ts', 5, 'createVNode'), 'createVNode');
  assert.equal(to('ts/vnode.ts', 4, 'createVNode', 'aliases'), 'createVNode');
});

test('ts: workspace imports through tsconfig paths and package.json names, barrels and re-exports', () => {
  assert.equal(to('ws/packages/b/src/use.ts', 3, 'h'), 'h', 'export * from');
  assert.equal(to('ws/packages/b/src/use.ts', 4, 'start'), 'mount', 'export { mount as start } from');
  assert.equal(to('ws/packages/b/src/use.ts', 5, 'util'), 'util', 'a package of the tree by its name and source entry');
});

test('go struct fields and rust associated types are entities', () => {
  assert.deepEqual(entitiesOf(db, 'go/s.go').slice(1), [['struct', 'S'], ['field', 'S.Name'], ['field', 'S.Run']]);
  assert.ok(entitiesOf(db, 'rs/src/lib.rs').some(([k, q]) => k === 'type_alias' && q === 'Store::Item'));
});

test('rust: workspace crates by Cargo.toml name, 2018 relative use paths, items inside cfg_… macros', async () => {
  const files: Record<string, string> = {
    'Cargo.toml': '[workspace]\nmembers = ["rt", "app"]\n',
    'rt/Cargo.toml': '[package]\nname = "my-rt"\nversion = "0.1.0"\n',
    // Pool is re-exported twice (as tokio's sync/mod.rs does under cfg_sync! and cfg_not_sync!): one definition.
    'rt/src/lib.rs': 'macro_rules! cfg_rt { ($($i:item)*) => { $($i)* } }\npub mod task;\ncfg_rt! {\n    pub use task::spawn;\n    pub use task::Pool;\n}\ncfg_not_rt! {\n    pub(crate) use task::Pool;\n}\n',
    'rt/src/task.rs': 'cfg_rt! {\n    pub fn spawn(f: u32) -> u32 { f }\n}\npub struct Pool;\nimpl Pool { pub fn new() -> Pool { Pool } }\n',
    'app/Cargo.toml': '[package]\nname = "app"\nversion = "0.1.0"\n',
    'app/src/main.rs': 'use my_rt::task;\nuse my_rt::Pool;\nfn main() {\n    my_rt::spawn(1);\n    task::spawn(2);\n    Pool::new();\n}\n',
  };
  const root = mkdtempSync(join(tmpdir(), 'tm-code-crates-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, 'tree', rel)), { recursive: true });
    writeFileSync(join(root, 'tree', rel), text);
  }
  await indexCode({ root: join(root, 'tree'), db: join(root, 'g.db'), threads: 1 });
  const calls = edgesOf(join(root, 'g.db')).filter((e) => e.file === 'app/src/main.rs' && e.kind === 'calls').map((e) => [e.line, e.receiver, e.to]);
  assert.deepEqual(calls, [[4, 'my_rt', 'spawn'], [5, 'task', 'spawn'], [6, 'Pool', 'Pool::new']]);
});

test('rust: paths through inline modules and glob re-exports; cfg alternatives stay unresolved', async () => {
  const { edges } = await indexedTree('inline-mods', {
    'src/lib.rs': 'pub mod io;\nmod loom;\nmod loom2;\npub mod blocking;\npub mod rt;\nmod mocks;\nmod user;\n',
    // tokio's io/mod.rs: a public path that exists only as an inline module re-exporting a file module's type.
    'src/io/mod.rs': 'mod async_fd;\npub mod unix {\n    pub use super::async_fd::AsyncFd;\n}\n',
    'src/io/async_fd.rs': 'pub struct AsyncFd;\nimpl AsyncFd { pub fn new() -> AsyncFd { AsyncFd } }\n',
    // tokio's loom: a glob re-export of a module whose `sync` and `sync::atomic` are inline.
    'src/loom/mod.rs': 'mod std;\npub(crate) use self::std::*;\n',
    'src/loom/std.rs': [
      'mod atomic_usize;',
      'mod pl;',
      'pub(crate) mod sync {',
      '    pub(crate) mod atomic {',
      '        pub(crate) use crate::loom::std::atomic_usize::AtomicUsize;',
      '    }',
      '    #[cfg(feature = "pl")]',
      '    pub(crate) use crate::loom::std::pl::Condvar;',
      '    #[cfg(not(feature = "pl"))]',
      '    pub(crate) use std::sync::Condvar;',
      '}',
      '',
    ].join('\n'),
    // …and as tokio has it: cfg(loom) takes `sync` from a mock whose `atomic` comes from the loom crate.
    'src/loom2/mod.rs': '#[cfg(not(loom))]\nmod std2;\n#[cfg(not(loom))]\npub(crate) use self::std2::*;\n#[cfg(loom)]\nmod mocked;\n#[cfg(loom)]\npub(crate) use self::mocked::*;\n',
    'src/loom2/std2.rs': 'pub(crate) mod sync {\n    pub(crate) mod atomic {\n        pub(crate) use crate::loom::std::atomic_usize::AtomicUsize;\n    }\n}\n',
    'src/loom2/mocked.rs': 'pub(crate) use loom::*;\npub(crate) mod sync {\n    pub(crate) use loom::sync::*;\n}\n',
    'src/loom/std/atomic_usize.rs': 'pub(crate) struct AtomicUsize;\nimpl AtomicUsize { pub(crate) fn new() -> Self { AtomicUsize } }\n',
    'src/loom/std/pl.rs': 'pub(crate) struct Condvar;\nimpl Condvar { pub(crate) fn new() -> Self { Condvar } }\n',
    // tokio's blocking.rs: a re-export under one cfg, a stub of the same name under the other.
    'src/blocking.rs': '#[cfg(feature = "rt")]\npub(crate) use crate::rt::spawn_blocking;\n#[cfg(not(feature = "rt"))]\npub(crate) fn spawn_blocking() {}\n',
    'src/rt.rs': 'pub fn spawn_blocking() {}\n',
    'src/mocks.rs': 'pub(crate) mod pool {\n    pub(crate) fn run_one() {}\n}\n',
    'src/user.rs': [
      'use crate::io::unix::AsyncFd;',
      'use crate::loom::sync::atomic::AtomicUsize;',
      'use crate::loom::sync::Condvar;',
      'use crate::mocks::*;',
      'use crate::blocking::spawn_blocking;',
      'use crate::loom2::sync::atomic::AtomicUsize as Either;',
      'pub fn f() {',
      '    AsyncFd::new();',
      '    AtomicUsize::new();',
      '    Condvar::new();',
      '    pool::run_one();',
      '    spawn_blocking();',
      '    Either::new();',
      '}',
      '',
    ].join('\n'),
  });
  const calls = edges.filter((e) => e.file === 'src/user.rs' && e.kind === 'calls').map((e) => [e.line, e.receiver, e.to]);
  assert.deepEqual(calls, [
    [8, 'AsyncFd', 'AsyncFd::new'],
    [9, 'AtomicUsize', 'AtomicUsize::new'],
    [10, 'Condvar', null],
    [11, 'pool', 'pool::run_one'],
    [12, '', null],
    [13, 'Either', null],
  ]);
});

test('a function and a method of one name are both listed; Java overloads are one group', async () => {
  const files: Record<string, string> = {
    'app.py': 'def url_for(x):\n    return x\n\nclass Flask:\n    def url_for(self, x):\n        return url_for(x)\n',
    'A.java': 'class A {\n  void f(int x) {}\n  void f(String s) {}\n  void g() { f(1); }\n  void h() { this.f("x"); }\n}\n',
  };
  const root = mkdtempSync(join(tmpdir(), 'tm-code-names-'));
  for (const [rel, text] of Object.entries(files)) writeFileSync(join(root, rel), text);
  const gdb = join(root, 'g.db');
  await indexCode({ root, db: gdb, threads: 1 });
  const store = await openStore(gdb, 'read');
  try {
    await assert.rejects(callers(store, 'url_for'), (err: unknown) => {
      assert.ok(err instanceof AmbiguousName);
      assert.deepEqual(err.matches.map((m) => m.qualified_name).sort(), ['Flask.url_for', 'url_for']);
      return true;
    });
    assert.deepEqual((await callers(store, 'Flask.url_for')).hops, []);
    assert.deepEqual((await callers(store, 'python:function:url_for:app.py:1-2')).hops.map((h) => h.entity.qualified_name), ['Flask.url_for']);
    const f = await callers(store, 'A.f');
    assert.equal(f.target.start_line, 2);
    assert.deepEqual((f.target as { overloads?: string[] }).overloads, ['java:method:A.f:A.java:3-3']);
    assert.deepEqual(f.hops.map((h) => h.entity.qualified_name), ['A.g', 'A.h']);
  } finally {
    await store.close();
  }
});

test('a name with a byte that is not UTF-8 stays whole; a different root is refused unless --replace', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tm-code-bytes-'));
  mkdirSync(join(root, 'a'));
  mkdirSync(join(root, 'b'));
  // Latin-1 é (0xE9) in a name: the file is not UTF-8.
  writeFileSync(join(root, 'a', 'lat.py'), Buffer.concat([Buffer.from('def caf'), Buffer.from([0xe9]), Buffer.from('_x():\n    return 1\n\ndef user():\n    return caf'), Buffer.from([0xe9]), Buffer.from('_x()\n')]));
  writeFileSync(join(root, 'b', 'm.py'), 'def f():\n    return 1\n');
  const gdb = join(root, 'g.db');
  await indexCode({ root: join(root, 'a'), db: gdb, threads: 1 });
  const calls = edgesOf(gdb).filter((e) => e.kind === 'calls');
  assert.deepEqual(calls.map((e) => [e.name, e.to]), [['caf\u00e9_x', 'caf\u00e9_x']]);
  await assert.rejects(indexCode({ root: join(root, 'b'), db: gdb, threads: 1 }), { code: 'ROOT_MISMATCH' });
  assert.equal(entitiesOf(gdb, 'lat.py').length, 3, 'the refused run left the graph as it was');
  await indexCode({ root: join(root, 'b'), db: gdb, threads: 1, replace: true });
  assert.deepEqual(entitiesOf(gdb, 'lat.py'), []);
  assert.deepEqual(entitiesOf(gdb, 'm.py').slice(1), [['function', 'f']]);
});
