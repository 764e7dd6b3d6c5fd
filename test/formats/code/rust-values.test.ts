/**
 * Rust calls whose callee only traits, pointers and std types tell (issue #17, decision 0035):
 * generic parameters' bounds, `impl Trait`/`dyn Trait`, supertraits, extension traits from
 * blanket impls in scope, `Arc`/`Box`/`Pin` deref, `self: Pin<&mut Self>`, pin-project's
 * `project()`, `Option` methods, consts and statics, elements of sequences, `let rt = rt();` —
 * each beside the case that must stay unresolved — and the calls counted as outside the tree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { indexedTree } from './helpers.js';
import { openStore } from '../../../src/sinks/code-store.js';
import { callsOutsideTree } from '../../../src/formats/code/resolve.js';

const LIB = [
  'pub mod shapes;',
  'pub mod ext;',
  'pub mod other;',
  'use std::sync::Arc;',
  'use std::pin::Pin;',
  'use std::task::Poll;',
  'use std::sync;',
  'use crate::shapes::{Shape, Solid, Square, Twin};',
  'pub struct T;',
  'impl T { pub fn area(&self) -> u32 { 0 } }',
  'pub fn generic<S: Shape>(s: S) { s.area(); } // L:generic',
  'pub fn where_clause<S>(s: &S) where S: Shape { s.area(); } // L:where',
  'pub fn shadow<T: Shape>(t: T) { t.area(); } // L:shadow',
  'pub fn two<S: Shape + Twin>(s: S) { s.area(); } // L:two',
  'pub fn assoc<S: Shape>() { S::make(); } // L:assoc',
  'pub fn super_trait<S: Solid>(s: S) { s.area(); } // L:super',
  'pub fn imp(s: impl Shape) { s.area(); } // L:impl',
  'pub fn dyn_ref(s: &dyn Shape) { s.area(); } // L:dyn',
  'pub fn arc() { let a = Arc::new(Square::new()); a.side(); a.clone(); } // L:arc',
  'pub fn arc_impl() { let b = Arc::new(crate::shapes::Boxed); b.side(); } // L:arcimpl',
  'pub struct Holder { shared: Arc<Square>, next: Option<Square>, items: Vec<Square> }',
  'impl Holder {',
  '    pub fn run(&self) { self.shared.side(); self.next.as_ref().unwrap().side(); self.items[0].side(); } // L:fields',
  '    pub fn each(&self) { for s in self.items.iter() { s.side(); } } // L:for',
  '}',
  'pub struct Task;',
  'impl Task {',
  '    pub fn poll(self: Pin<&mut Self>) { self.as_mut().step(); self.get_mut().step(); } // L:pin',
  '    pub fn step(&mut self) {}',
  '}',
  'pub static SQUARE: Square = Square;',
  'pub fn statics() { SQUARE.side(); } // L:static',
  'pub fn rt() -> u32 { 1 }',
  'pub fn shadowed() { let rt = rt(); rt.count_ones(); } // L:rt',
  'pub fn closure() { let f = |other: u8| other.worker_index(); } // L:closure',
  'pub fn outside(h: &Holder) -> Poll<()> { let v: Vec<u8> = Vec::new(); drop(v); h.items.len(); Poll::Ready(()) } // L:outside',
  'pub fn inside() { crate::other::new(); } // L:inside',
  'pub fn opt() -> Option<Square> { None }',
  'pub fn opt_boxed() -> Option<crate::shapes::Boxed> { None }',
  'pub struct Wrap(pub Square);',
  'impl Wrap { pub fn run(&self) { self.0.side(); } } // L:tuple',
  'pub struct StdLock(sync::Mutex<u8>);',
  'impl StdLock { pub fn get(&self) { self.0.lock(); } } // L:stdlock',
  'mod state { pub struct St; impl St { pub fn load(&self) {} } }',
  'pub struct HasState { s: state::St }',
  'impl HasState { pub fn run(&self) { self.s.load(); } } // L:inline',
  'pub fn arms() { match opt() { Some(s) => { s.side(); } None => {} } } // L:arms',
  'pub fn arms2() { match opt() { Some(s) => { s.side(); } None => {} } match opt_boxed() { Some(s) => { s.side(); } None => {} } } // L:arms2',
  'pub fn pinned(mut s: Square) { Pin::new(&mut s).side(); Pin::new(&mut s).set(Square); } // L:pinnew',
  '',
].join('\n');

const SHAPES = [
  'pub trait Shape { fn area(&self) -> u32; fn make() -> Self where Self: Sized; }',
  'pub trait Twin { fn area(&self) -> u32; }',
  'pub trait Solid: Shape {}',
  'pub struct Square;',
  'impl Square { pub fn new() -> Square { Square } pub fn side(&self) -> u32 { 1 } }',
  'impl Shape for Square { fn area(&self) -> u32 { 1 } fn make() -> Self { Square } }',
  'pub struct Boxed;',
  'impl<B: Shape> Shape for Box<B> { fn area(&self) -> u32 { 2 } fn make() -> Self { unimplemented!() } }',
  'impl Boxed { pub fn side(&self) -> u32 { 4 } }',
  'pub trait Sided { fn side(&self) -> u32; }',
  'impl Sided for std::sync::Arc<Boxed> { fn side(&self) -> u32 { 5 } }',
  'impl Square { pub fn size(&self) -> u32 { 1 } }',
  'pub trait Measure { fn size(&self) -> u32; }',
  'impl Measure for Square { fn size(&self) -> u32 { Self::size(self) } } // L:inherent',
  '',
].join('\n');

const EXT = [
  'use crate::shapes::Shape;',
  'pub trait ShapeExt: Shape { fn doubled(&self) -> u32 { self.area() * 2 } }',
  'impl<S: Shape + ?Sized> ShapeExt for S {}',
  '',
].join('\n');

const USES = [
  'use rt::shapes::{Shape, Square};',
  'use rt::ext::ShapeExt;',
  'use rt::other::{Walker /* a comment */, Plain};',
  'use std::sync::Arc;',
  'pub struct Job { inner: Arc<Vec<u8>> }',
  'pub fn in_scope(s: Square) { s.doubled(); } // L:ext',
  'pub fn boxed(b: Box<Square>) { b.area(); } // L:box',
  'pub fn commented() { Walker::new(); Plain::new(); } // L:comment',
  '',
].join('\n');

const NO_EXT = [
  'use rt::shapes::Square;',
  'pub fn not_in_scope(s: Square) { s.doubled(); } // L:noext',
  '',
].join('\n');

const PROJECT = [
  'use std::pin::Pin;',
  'use crate::shapes::Square;',
  'pin_project! {',
  '    pub struct Fut { #[pin] inner: Square, plain: Square }',
  '}',
  'impl Fut {',
  '    pub fn poll(self: Pin<&mut Self>) { let me = self.project(); me.inner.as_mut().side(); me.plain.side(); } // L:project',
  '}',
  'pub trait Pollable { fn poll_it(self: Pin<&mut Self>); }',
  'impl<P> Pollable for Pin<P> { fn poll_it(self: Pin<&mut Self>) {} }',
  'pub struct Leaf;',
  'impl Pollable for Leaf { fn poll_it(self: Pin<&mut Self>) {} }',
  'pin_project! { pub struct Outer { #[pin] leaf: Leaf } }',
  'impl Outer { pub fn go(self: Pin<&mut Self>) { self.project().leaf.poll_it(); } } // L:pinself',
  '',
].join('\n');

const FILES: Record<string, string> = {
  'rs/Cargo.toml': '[package]\nname = "rt"\nversion = "0.1.0"\n',
  'rs/src/lib.rs': LIB,
  'rs/src/shapes.rs': SHAPES,
  'rs/src/ext.rs': EXT,
  'rs/src/other.rs': 'pub fn project() {}\npub mod sync { pub struct Mutex; impl Mutex { pub fn lock(&self) {} } }\npub struct Walker;\nimpl Walker { pub fn new() -> Walker { Walker } }\npub struct Plain;\nimpl Plain { pub fn new() -> Plain { Plain } }\npub fn new() {}\npub fn worker_index() {}\npub fn len() {}\npub fn drop() {}\npub enum Ready { Ready }\n',
  'rs/src/project.rs': PROJECT,
  'app/Cargo.toml': '[package]\nname = "app"\nversion = "0.1.0"\n',
  'app/src/lib.rs': 'pub mod uses;\npub mod no_ext;\n',
  'app/src/uses.rs': USES,
  'app/src/no_ext.rs': NO_EXT,
  'py/pkg/__init__.py': '',
  'py/pkg/json.py': 'def dumps(x):\n    return x\n',
  'py/pkg/mod.py': 'import json\nimport os\n\ndef f():\n    os.getcwd()\n    json.dumps(1)\n',
  'py/pkg/getcwd.py': 'def getcwd():\n    return 1\n',
};
// lib.rs needs the project module too.
FILES['rs/src/lib.rs'] = `pub mod project;\n${LIB}`;

const { db, edges } = await indexedTree('rust-values', FILES);

/** The line of `file` that carries the marker `// L:name`. */
function lineOf(file: string, marker: string): number {
  const i = FILES[file]!.split('\n').findIndex((l) => l.includes(`// L:${marker}`));
  assert.ok(i >= 0, marker);
  return i + 1;
}

/** Where the calls named `name` on a marked line go (qualified names, null when unresolved). */
function to(file: string, marker: string, name: string): (string | null)[] {
  const line = lineOf(file, marker);
  return edges.filter((e) => e.kind === 'calls' && e.file === file && e.line === line && e.name === name).map((e) => e.to);
}

const LIB_RS = 'rs/src/lib.rs';

test('rust: a generic parameter calls its bounds’ trait methods; never a type that shares its name, never one of two traits', () => {
  assert.deepEqual(to(LIB_RS, 'generic', 'area'), ['Shape::area']);
  assert.deepEqual(to(LIB_RS, 'where', 'area'), ['Shape::area'], 'a bound in a where clause');
  assert.deepEqual(to(LIB_RS, 'shadow', 'area'), ['Shape::area'], 'the parameter T hides the struct T');
  assert.deepEqual(to(LIB_RS, 'two', 'area'), [null], 'Shape and Twin both declare area');
  assert.deepEqual(to(LIB_RS, 'assoc', 'make'), ['Shape::make'], 'S::make() on the parameter');
  assert.deepEqual(to(LIB_RS, 'super', 'area'), ['Shape::area'], 'through the supertrait of Solid');
  const bounds = edges.filter((e) => e.kind === 'bounds' && e.file === LIB_RS && e.line === lineOf(LIB_RS, 'two')).map((e) => [e.receiver, e.name, e.to]);
  assert.deepEqual(bounds, [['S', 'Shape', 'Shape'], ['S', 'Twin', 'Twin']], 'bounds edges point at the traits');
});

test('rust: impl Trait and dyn Trait parameters call the trait’s methods', () => {
  assert.deepEqual(to(LIB_RS, 'impl', 'area'), ['Shape::area']);
  assert.deepEqual(to(LIB_RS, 'dyn', 'area'), ['Shape::area']);
});

test('rust: extension traits from a blanket impl, only where the trait is in scope', () => {
  assert.deepEqual(to('app/src/uses.rs', 'ext', 'doubled'), ['ShapeExt::doubled'], 'Square implements Shape; ShapeExt is imported');
  assert.deepEqual(to('app/src/no_ext.rs', 'noext', 'doubled'), [null], 'ShapeExt not imported: another trait’s method');
});

test('rust: Arc/Box/Pin are seen through unless the pointer has the method itself', () => {
  assert.deepEqual(to(LIB_RS, 'arc', 'side'), ['Square::side'], 'let a = Arc::new(Square::new())');
  assert.deepEqual(to(LIB_RS, 'arc', 'clone'), [null], 'Arc::clone is the pointer’s');
  assert.deepEqual(to(LIB_RS, 'arc', 'side'), ['Square::side'], 'the tree’s impl Sided for Arc<Boxed> is not for an Arc<Square>');
  assert.deepEqual(to(LIB_RS, 'arcimpl', 'side'), [null], 'an Arc<Boxed> has side() of its own (impl Sided for std::sync::Arc<Boxed>)');
  assert.deepEqual(to('app/src/uses.rs', 'box', 'area'), [null], 'the tree implements Shape for Box<B>: either may be called');
  assert.deepEqual(to(LIB_RS, 'pin', 'step'), ['Task::step', 'Task::step'], 'self: Pin<&mut Self>, as_mut() and get_mut()');
  assert.deepEqual(to(LIB_RS, 'pinnew', 'side'), ['Square::side'], 'Pin::new(&mut s) holds s');
  assert.deepEqual(to(LIB_RS, 'pinnew', 'set'), [null], 'Pin::set is the pin’s own');
});

test('rust: fields through Arc and Option, elements of a Vec, consts and statics', () => {
  assert.deepEqual(to(LIB_RS, 'fields', 'side'), ['Square::side', 'Square::side', 'Square::side']);
  assert.deepEqual(to(LIB_RS, 'for', 'side'), ['Square::side'], 'for s in self.items.iter()');
  assert.deepEqual(to(LIB_RS, 'static', 'side'), ['Square::side'], 'static SQUARE: Square');
});

test('rust: a match arm Some(x) / Ok(x) binds x to the value inside; bound again to another value, x is unknown from there', () => {
  assert.deepEqual(to(LIB_RS, 'arms', 'side'), ['Square::side']);
  assert.deepEqual(to(LIB_RS, 'arms2', 'side'), ['Square::side', null], 'after s is bound again (a Boxed), s is not known any more');
});

test('rust: tuple struct fields by position; a type path by qualified name only through a mod of the same file', () => {
  assert.deepEqual(to(LIB_RS, 'tuple', 'side'), ['Square::side'], 'self.0 of struct Wrap(Square)');
  assert.deepEqual(to(LIB_RS, 'inline', 'load'), ['state::St::load'], 'state::St beside mod state { … }');
  assert.deepEqual(to(LIB_RS, 'stdlock', 'lock'), [null], 'sync::Mutex with use std::sync is std’s, not other.rs’s sync::Mutex');
});

test('rust: pin-project’s project() gives the struct’s fields, pinned ones as Pin<&mut T>', () => {
  assert.deepEqual(to('rs/src/project.rs', 'project', 'side'), ['Square::side', 'Square::side']);
});

test('rust: a method taking self: Pin<&mut Self> is called on a Pin of its own type, never as the Pin’s own', () => {
  assert.deepEqual(to('rs/src/project.rs', 'pinself', 'poll_it'), ['Leaf::poll_it'], 'impl Pollable for Pin<P> does not capture it');
});

test('rust: inside impl Trait for T, Self::m() is T’s inherent m, not the impl’s own', () => {
  const g = new Database(db, { readonly: true });
  const dst = (g.prepare("SELECT dst FROM edges WHERE kind = 'calls' AND file = 'rs/src/shapes.rs' AND dst_name = 'size'").get() as { dst: string }).dst;
  g.close();
  assert.match(dst, new RegExp(`Square::size:rs/src/shapes\\.rs:${lineOf('rs/src/shapes.rs', 'inherent') - 2}-`), 'the inherent impl’s size, not the Measure impl’s (itself)');
});

test('rust: let binds after its statement; x.f() on an unknown value is never a module’s function', () => {
  assert.deepEqual(to(LIB_RS, 'rt', 'rt'), ['rt'], 'let rt = rt(); calls the function');
  assert.deepEqual(to(LIB_RS, 'closure', 'worker_index'), [null], 'a closure parameter named other, not mod other’s function');
  assert.deepEqual(to('app/src/uses.rs', 'comment', 'new'), ['Walker::new', 'Plain::new'], 'a comment inside a use list');
});

test('calls certainly outside the tree: std paths, the prelude, std types’ own methods, imports from outside', async () => {
  const store = await openStore(db, 'read');
  const outside = await callsOutsideTree(store, '');
  await store.close();
  const line = lineOf(LIB_RS, 'outside');
  const g = new Database(db, { readonly: true });
  const rows = g.prepare("SELECT id, file, line, dst_name AS name FROM edges WHERE kind = 'calls' AND resolved = 0").all() as { id: number; file: string; line: number; name: string }[];
  g.close();
  const counted = (file: string, at: number, name: string): boolean => rows.some((r) => r.file === file && r.line === at && r.name === name && outside.has(r.id));
  assert.ok(counted(LIB_RS, line, 'new'), 'Vec::new');
  assert.ok(counted(LIB_RS, line, 'drop'), 'drop(v), the prelude’s');
  assert.ok(counted(LIB_RS, line, 'len'), 'h.items.len(): items is a Vec');
  assert.ok(counted(LIB_RS, line, 'Ready'), 'Poll::Ready, Poll imported from std');
  assert.ok(counted(LIB_RS, lineOf(LIB_RS, 'arc'), 'clone'), 'Arc::clone');
  assert.ok(!counted('py/pkg/mod.py', 6, 'dumps'), 'import json beside pkg/json.py: not certain');
  assert.ok(counted('py/pkg/mod.py', 5, 'getcwd'), 'os.getcwd, os not in the tree');
  assert.ok(!counted(LIB_RS, lineOf(LIB_RS, 'closure'), 'worker_index'), 'a value of unknown type');
  assert.ok(!rows.some((r) => r.line === lineOf(LIB_RS, 'inside') && r.file === LIB_RS), 'crate::other::new() resolves');
  assert.ok(counted('rs/src/project.rs', lineOf('rs/src/project.rs', 'pinself'), 'project'), 'pin-project’s generated project()');
});
