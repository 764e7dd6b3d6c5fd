/**
 * Calls on values whose class only a return type or a pytest fixture tells (issue #17): pytest
 * fixtures (conftest, the test's class, `name=`, parametrized names, non-test modules), Python
 * `@overload` stubs, declared return types through call chains (`?`, `unwrap`, `.await`, tuple
 * elements) and Rust impls of same-named types in different modules.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { indexedTree } from './helpers.js';

const FILES: Record<string, string> = {
  'py/pkg/__init__.py': '',
  'py/pkg/app.py': [
    'from typing import overload',
    '',
    'class Client:',
    '    def get(self, url):',
    '        return url',
    '',
    'class App:',
    '    def client(self) -> "Client":',
    '        return Client()',
    '',
    '    def route(self, rule):',
    '        return rule',
    '',
    '    @overload',
    '    def pick(self, x: int) -> int: ...',
    '    @overload',
    '    def pick(self, x: str) -> str: ...',
    '    def pick(self, x):',
    '        return x',
    '',
    'def make():',
    '    return App()',
    '',
  ].join('\n'),
  'py/tests/conftest.py': [
    'import pytest',
    'from pkg.app import App, make',
    '',
    '@pytest.fixture',
    'def app():',
    '    app = make()',
    '    return app',
    '',
    '@pytest.fixture',
    'def client(app):',
    '    return app.client()',
    '',
    '@pytest.fixture(name="named")',
    'def _named_fixture():',
    '    yield App()',
    '',
  ].join('\n'),
  'py/tests/test_things.py': [
    'import pytest',
    '',
    'def test_route(app):',
    '    app.route("/")',
    '    app.pick(1)',
    '',
    'def test_client(client):',
    '    client.get("/")',
    '',
    '',
    'def test_chain(app):',
    '    app.client().get("/")',
    '',
    '@pytest.mark.parametrize("app", [1])',
    'def test_param(app):',
    '    app.route("/")',
    '',
    'def test_named(named):',
    '    named.route("/")',
    '',
    'def helper(app):',
    '    app.route("/")',
    '',
    'class TestGroup:',
    '    @pytest.fixture',
    '    def app(self):',
    '        return None',
    '',
    '    def test_in_class(self, app):',
    '        app.route("/")',
    '',
    'def uses_import():',
    '    from pkg import app',
    '    return app',
    '',
  ].join('\n'),
  'py/pkg/not_tests.py': 'def test_thing(app):\n    app.route("/")\n',
  'py/pkg/holder.py': [
    'from pkg.app import App, Client',
    '',
    'class Base:',
    '    def __init__(self, app: App):',
    '        self.app = app',
    '        self.client: Client = app.client()',
    '        self.maybe = App()',
    '',
    '    def reset(self):',
    '        self.maybe = Client()',
    '',
    'class Holder(Base):',
    '    def run(self):',
    '        self.app.route("/")',
    '        self.client.get("/")',
    '        self.maybe.route("/")',
    '',
  ].join('\n'),
  'rs/Cargo.toml': '[package]\nname = "rt"\nversion = "0.1.0"\n',
  'rs/src/lib.rs': [
    'pub mod a;',
    'pub mod b;',
    'pub struct Builder;',
    'pub struct Runtime;',
    'impl Builder {',
    '    pub fn new() -> Builder { Builder }',
    '    pub fn enable(&mut self) -> &mut Self { self }',
    '    pub fn build(&mut self) -> std::io::Result<Runtime> { Ok(Runtime) }',
    '}',
    'impl Runtime {',
    '    pub fn block_on(&self) -> u32 { 1 }',
    '}',
    'pub fn run() {',
    '    let rt = Builder::new().enable().build().unwrap();',
    '    rt.block_on();',
    '    Builder::new().enable().build().expect("x").block_on();',
    '    let (tx, rx) = crate::a::channel();',
    '    tx.send();',
    '    rx.recv();',
    '    Builder::new().block_on();',
    '}',
    'pub async fn make() -> Runtime { Runtime }',
    'pub async fn go() { make().await.block_on(); make().block_on(); }',
    'pub fn other(s: b::Sender) { s.send(); }',
    'pub struct Server { rt: Runtime, send: b::Sender }',
    'impl Server {',
    '    pub fn serve(&self) { self.rt.block_on(); self.send.send(); self.send(); }',
    '    pub fn send(&self) {}',
    '}',
    'pub fn maybe() -> Option<Runtime> { None }',
    'pub fn lets() { if let Some(r) = maybe() { r.block_on(); } }',
    '',
  ].join('\n'),
  'rs/src/a.rs': 'pub struct Sender;\npub struct Receiver;\nimpl Sender { pub fn send(&self) {} }\nimpl Receiver { pub fn recv(&self) {} }\npub fn channel() -> (Sender, Receiver) { (Sender, Receiver) }\n',
  'rs/src/b.rs': 'pub struct Sender;\nimpl Sender { pub fn send(&self) {} }\n',
};

const { db, edges } = await indexedTree('values', FILES);

function to(file: string, line: number, name: string, nth = 0): string | null | undefined {
  const e = edges.filter((x) => x.file === file && x.line === line && x.name === name && x.kind === 'calls');
  return e[nth]?.to;
}

test('pytest: a test parameter is the nearest fixture of its name, typed by what the fixture returns', () => {
  const f = 'py/tests/test_things.py';
  assert.equal(to(f, 4, 'route'), 'App.route', 'app: conftest fixture returning make() -> App()');
  assert.equal(to(f, 8, 'get'), 'Client.get', 'client: app.client() declared -> "Client"');
  assert.equal(to(f, 12, 'get'), 'Client.get', 'a chain on a fixture');
  assert.equal(to(f, 19, 'route'), 'App.route', 'a fixture renamed with name= (its yielded value)');
  assert.equal(to(f, 5, 'pick'), 'App.pick', 'an import of app inside another function (uses_import) does not hide the fixture');
});

test('pytest: never guessed — parametrized names, non-tests, non-test modules, a nearer fixture of unknown value', () => {
  const f = 'py/tests/test_things.py';
  assert.equal(to(f, 16, 'route'), null, 'parametrize gives app its value');
  assert.equal(to(f, 22, 'route'), null, 'helper is not a test');
  assert.equal(to(f, 30, 'route'), null, "the class's own fixture hides conftest's and returns None");
  assert.equal(to('py/pkg/not_tests.py', 2, 'route'), null, 'not a test module');
  const fixtures = edges.filter((e) => e.kind === 'returns' && e.file === 'py/tests/conftest.py').map((e) => [e.from, e.receiver, e.to]);
  assert.deepEqual(fixtures, [['app', 'fixture', 'App'], ['client', 'fixture', 'Client'], ['_named_fixture', 'fixture:named', 'App']]);
});

test('python: a call means the implementation, not an @overload stub', () => {
  const g = new Database(db, { readonly: true });
  const dst = (g.prepare("SELECT dst FROM edges WHERE kind = 'calls' AND file = 'py/tests/test_things.py' AND line = 5").get() as { dst: string }).dst;
  g.close();
  assert.match(dst, /App\.pick:py\/pkg\/app\.py:18-19$/);
});

test('rust: declared return types through chains — unwrap/expect, ?, .await, tuple elements', () => {
  const f = 'rs/src/lib.rs';
  assert.equal(to(f, 15, 'block_on'), 'Runtime::block_on', 'let rt = Builder::new().enable().build().unwrap()');
  assert.equal(to(f, 16, 'block_on'), 'Runtime::block_on', 'the chain itself, through &mut Self and io::Result<Runtime>');
  assert.equal(to(f, 18, 'send'), 'Sender::send');
  assert.equal(to(f, 19, 'recv'), 'Receiver::recv');
  assert.equal(to(f, 20, 'block_on'), null, 'Builder has no block_on');
  assert.equal(to(f, 23, 'block_on', 0), 'Runtime::block_on', 'an async fn value after .await');
  assert.equal(to(f, 23, 'block_on', 1), null, 'an async fn value before .await is a future');
});

test('rust: a field of self has its declared type; a method named like a field is still the method', () => {
  const f = 'rs/src/lib.rs';
  assert.equal(to(f, 27, 'block_on'), 'Runtime::block_on');
  const sends = edges.filter((x) => x.kind === 'calls' && x.file === f && x.line === 27 && x.name === 'send').map((x) => [x.receiver, x.to]);
  assert.deepEqual(sends, [['=<self>.send', 'Sender::send'], ['self', 'Server::send']]);
});

test('python: attributes assigned in methods have the value of their one assignment (or declared type), also from a base', () => {
  const f = 'py/pkg/holder.py';
  assert.equal(to(f, 14, 'route'), 'App.route', 'self.app = app (app: App), assigned in Base');
  assert.equal(to(f, 15, 'get'), 'Client.get', 'self.client: Client');
  assert.equal(to(f, 16, 'route'), null, 'self.maybe is assigned an App and a Client');
});

test('rust: if let Some(x) = … binds x to the value inside', () => {
  assert.equal(to('rs/src/lib.rs', 31, 'block_on'), 'Runtime::block_on');
});

test("rust: a method of one type is never another module's type of the same name", () => {
  const sends = edges.filter((x) => x.kind === 'calls' && x.name === 'send');
  const keyOf = (line: number): string | undefined => {
    const e = sends.find((x) => x.file === 'rs/src/lib.rs' && x.line === line);
    return e ? `${e.to}` : undefined;
  };
  assert.equal(keyOf(18), 'Sender::send');
  assert.equal(keyOf(24), 'Sender::send');
  const g = new Database(db, { readonly: true });
  const dsts = g.prepare("SELECT line, dst FROM edges WHERE kind = 'calls' AND dst_name = 'send' ORDER BY line").all() as { line: number; dst: string }[];
  assert.match(dsts[0]!.dst, /rs\/src\/a\.rs/, 'tuple element 0 of a::channel() is a::Sender');
  assert.match(dsts[1]!.dst, /rs\/src\/b\.rs/, 'a parameter typed b::Sender');
  g.close();
});
