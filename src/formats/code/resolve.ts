/**
 * Call resolution: each reference (a call as written, a base type) → the one definition the
 * language's scoping makes certain, or nothing. Scopes are tried innermost first; the first
 * scope that holds any candidate decides, and two or more candidates there leave the reference
 * unresolved: a wrong edge is worse than none. Runs over the whole graph after every index (a
 * changed file can change what a call in an unchanged file means); base types first, since
 * `self.f()` looks through the class's resolved bases.
 */
import type { CodeStore } from '../../sinks/code-store.js';
import { EDGE_COLUMNS } from '../../sinks/code-store.js';
import { ByName } from './by-name.js';
import { checkpoint } from './checkpoint.js';
import { ModuleIndex, familyOf, type Family, type FileInfo } from './modules.js';
import { RustInlineModules } from './rust-inline-modules.js';
import { keyLines } from './write.js';
import { collectGarbage } from './parsers.js';
import { classOfText, elementOf, isPythonTestModule, optionMethod, sequenceMethod, parseChain, pointee, pointerMethod, STD_POINTER_PATH, traitBounds, tupleElement, unwrapped, type Value } from './values.js';

interface Ent { key: string; name: string; qname: string; kind: string; language: string; file: string; parent: string | null }
interface Ref { id: number; src: string; kind: string; file: string; name: string; receiver: string; dst: string | null; resolved: number }
interface Import { file: string; line: number; module: string; name: string; alias: string }

export interface ResolutionStats { byLanguage: Record<string, { calls: number; resolved: number }> }

const CLASS_KINDS = new Set(['class', 'struct', 'interface', 'trait', 'enum', 'type_alias']);
const CALLABLE = new Set(['function', 'method', 'class', 'struct', 'macro', 'constant']);
/** Definitions whose nested definitions are local to them (a bare name there means the nested one). */
const SCOPES = new Set(['function', 'method']);
/** JS/TS definitions reachable only inside an anonymous expression (see extract.ts). */
const ANONYMOUS = '<anonymous>';
const CONTAINER = new Set(['class', 'struct', 'interface', 'trait', 'impl', 'enum']);
/** Methods that take a `Result`/`Option` to its value (when the type is one). */
const UNWRAPS = new Set(['unwrap', 'expect', 'unwrap_unchecked', 'unwrap_or', 'unwrap_or_else', 'unwrap_or_default']);
/**
 * Methods Rust's std pointers have themselves, through the std traits they implement (`Clone`,
 * `AsRef`, `PartialEq`, `Error`, …; a `Box` of an iterator, future, reader or writer is one too;
 * `Pin`'s inherent methods): a call of one of these names on the pointer is the pointer's, not
 * its target's. A method taking `self: Pin<&mut Self>` (`poll`) is the target's, called on the Pin.
 */
const SHARED_OWN = ['clone', 'clone_from', 'to_owned', 'to_string', 'into', 'try_into', 'borrow', 'borrow_mut', 'as_ref', 'as_mut',
  'deref', 'deref_mut', 'drop', 'eq', 'ne', 'cmp', 'partial_cmp', 'lt', 'le', 'gt', 'ge', 'max', 'min', 'clamp', 'hash', 'fmt', 'type_id', 'source'];
const POINTER_OWN: Record<string, ReadonlySet<string>> = {
  Arc: new Set(SHARED_OWN),
  Rc: new Set(SHARED_OWN),
  Box: new Set([...SHARED_OWN, 'next', 'size_hint', 'next_back', 'poll', 'read', 'read_exact', 'read_to_end', 'read_to_string', 'write', 'write_all', 'flush', 'seek', 'call']),
  Pin: new Set([...SHARED_OWN, 'set', 'get_mut', 'get_ref', 'into_ref', 'get_unchecked_mut', 'map_unchecked', 'map_unchecked_mut', 'into_inner', 'as_deref_mut']),
};
/**
 * The pointers' methods whatever they point at (`Arc<T>: Clone` for every T, `Box<T>: Clone`
 * only for a `Clone` T): a call counted outside the tree must be one of these.
 */
const ALWAYS_OWN: Record<string, ReadonlySet<string>> = {
  Arc: new Set(['clone', 'as_ref', 'borrow', 'deref', 'drop', 'into', 'try_into', 'type_id']),
  Rc: new Set(['clone', 'as_ref', 'borrow', 'deref', 'drop', 'into', 'try_into', 'type_id']),
  Box: new Set(['as_ref', 'as_mut', 'borrow', 'borrow_mut', 'deref', 'deref_mut', 'drop', 'into', 'try_into']),
  Pin: new Set(['as_mut', 'as_ref', 'set', 'get_mut', 'get_ref', 'into_ref', 'get_unchecked_mut', 'map_unchecked', 'map_unchecked_mut', 'into_inner', 'as_deref_mut', 'deref', 'into']),
};
/** Rust path roots that are the tree's own, and the standard library's. */
const RUST_TREE_ROOTS = new Set(['crate', 'self', 'super', 'Self']);
const RUST_STD_ROOTS = new Set(['std', 'core', 'alloc']);
/** Names Rust's prelude brings into every module (types, traits, functions, constructors), and its primitive types. */
const RUST_PRELUDE = new Set(['Vec', 'Box', 'Option', 'Some', 'None', 'Ok', 'Err', 'Result', 'String', 'ToString', 'ToOwned', 'Default',
  'Iterator', 'IntoIterator', 'DoubleEndedIterator', 'ExactSizeIterator', 'Extend', 'From', 'Into', 'TryFrom', 'TryInto', 'FromIterator',
  'Clone', 'Copy', 'Send', 'Sync', 'Sized', 'Unpin', 'Drop', 'Fn', 'FnMut', 'FnOnce', 'AsRef', 'AsMut', 'PartialEq', 'Eq', 'PartialOrd', 'Ord', 'drop',
  'bool', 'char', 'str', 'u8', 'u16', 'u32', 'u64', 'u128', 'usize', 'i8', 'i16', 'i32', 'i64', 'i128', 'isize', 'f32', 'f64']);
/** Rust's prelude functions and constructors a bare call may mean. */
const RUST_PRELUDE_CALLS = new Set(['drop', 'Some', 'Ok', 'Err']);
/** Definitions of every kind a name may be bound to (modules are reached through imports). */
const ANY_DEFINITION = new Set(['function', 'method', 'class', 'struct', 'enum', 'trait', 'interface', 'impl', 'namespace', 'type_alias', 'constant', 'macro', 'field']);
/** A receiver that is a qualifier path as written (not a value marker: `=…`, `new:…`, `local:…`, `?`). */
/** The type an impl is written for, when it is a std pointer (`impl Schedule for Arc<Handle>`). */
const IMPL_FOR_POINTER = new RegExp(String.raw`\bfor\s+(${STD_POINTER_PATH}\s*<.*)$`, 's');
const QUALIFIER = /^[\p{L}_$][\p{L}\p{N}_$]*(?:(?:\.|::)[\p{L}_$][\p{L}\p{N}_$]*)*$/u;
/** Languages where a bare name inside a class may mean a member (implicit `this`). */
const IMPLICIT_THIS = new Set(['java', 'cpp']);

function sepOf(family: Family): string {
  return family === 'rust' || family === 'c' ? '::' : '.';
}

function splitQualified(text: string): { qualifier: string; last: string } | null {
  const m = /^(.*?)(?:\.|::|->)([^.:>]+)$/.exec(text);
  return m ? { qualifier: m[1]!, last: m[2]! } : null;
}

export class Resolver {
  private readonly byKey = new Map<string, Ent>();
  private readonly fileLevel = new Map<string, ByName<Ent>>();
  private readonly children = new Map<string, ByName<Ent>>();
  /** Per language family, by qualified name. */
  private readonly byQname = new Map<Family, ByName<Ent>>();
  private readonly importsOf = new Map<string, Import[]>();
  private readonly bases = new Map<string, string[]>();
  /** Classes whose header names any base (resolved or not). */
  private readonly hasBases = new Set<string>();
  /** A function's `returns` row: a declared type, or `=chain` (see facts.ts). */
  private readonly returnsOf = new Map<string, string>();
  /** pytest fixtures by their fixture name: per file (module level) and per class. */
  private readonly fixtures = new Map<string, ByName<Ent>>();
  private readonly fixtureKeys = new Set<string>();
  private readonly overloadStubs = new Set<string>();
  /**
   * Rust fields marked `#[pin]` (their struct is pin-projected: `project()`), and methods taking
   * `self: Pin<…>` (called only on a Pin of their type, never on the value itself).
   */
  private readonly pinned = new Set<string>();
  /** Rust generic parameters: definition key → parameter → its bounds as written ('' declares it). */
  private readonly generics = new Map<string, Map<string, string[]>>();
  readonly modules: ModuleIndex;
  private readonly inline: RustInlineModules;
  /** The `use`s written inside a Rust inline module (a file's own scope does not have them). */
  private readonly innerImports = new Set<Import>();

  constructor(entities: Ent[], readonly files: Map<string, FileInfo>, imports: Import[], root: string) {
    for (const e of entities) this.byKey.set(e.key, e);
    this.modules = new ModuleIndex(files, root);
    this.inline = new RustInlineModules(entities, this.byKey, (m) => this.modules.resolve(m.file, `self::${m.name}`).length > 0);
    for (const e of entities) {
      if (e.kind === 'module') continue;
      // The definition itself is reachable only inside its anonymous expression; what it contains
      // (a class's methods, a function's nested functions) is scoped as usual below it.
      // includes() first: the two strings built per definition were ~300 MB of garbage for a 50 MB file.
      const hidden = e.qname.includes(ANONYMOUS) && (e.qname.endsWith(`${ANONYMOUS}.${e.name}`) || e.qname.endsWith(`${ANONYMOUS}::${e.name}`));
      if (!hidden && this.isFileLevel(e)) {
        add(this.fileLevel, e.file, e.name, e);
        // Also the top level of its inline module (still the file's too, as before inline modules were scopes).
        const scope = this.inline.size > 0 && e.language === 'rust' ? this.inline.scopeOf(e) : e.file;
        if (scope !== e.file) add(this.fileLevel, scope, e.name, e);
      }
      if (e.parent && !hidden) add(this.children, e.parent, e.name, e);
      add(this.byQname, familyOf(e.language), e.qname, e);
    }
    for (const i of imports) {
      // A `use` inside an inline module is written as seen from the file's module, and is also its module's own.
      const placed = this.inline.size > 0 && this.family(i.file) === 'rust' ? this.inline.place(i, this.modules.rustCrates()) : null;
      if (placed) {
        this.innerImports.add(placed.imp);
        pushTo(this.importsOf, placed.scope, placed.imp);
      }
      pushTo(this.importsOf, i.file, placed?.imp ?? i);
    }
  }

  /** Top level of its file, or inside namespaces only (C++ `namespace geo { … }`). */
  private isFileLevel(e: Ent): boolean {
    for (let p = e.parent ? this.byKey.get(e.parent) : undefined; p; p = p.parent ? this.byKey.get(p.parent) : undefined) {
      if (p.kind === 'module') return true;
      if (p.kind !== 'namespace') return false;
    }
    return true;
  }

  /** A `returns` row (facts.ts): what the function returns, and whether it is a pytest fixture. */
  noteReturns(ref: Ref): void {
    const fn = this.byKey.get(ref.src);
    if (!fn) return;
    this.returnsOf.set(fn.key, ref.name);
    if (ref.receiver === 'overload') this.overloadStubs.add(fn.key);
    if (ref.receiver === 'pin') this.pinned.add(fn.key);
    if (ref.receiver === 'fixture' || ref.receiver.startsWith('fixture:')) {
      this.fixtureKeys.add(fn.key);
      const parent = fn.parent ? this.byKey.get(fn.parent) : undefined;
      const scope = parent && parent.kind === 'class' ? parent.key : fn.file;
      add(this.fixtures, scope, ref.receiver === 'fixture' ? fn.name : ref.receiver.slice(8), fn);
    }
  }

  /**
   * Whether an unresolved call certainly means something outside the indexed tree, as its own
   * text shows: a qualifier path (`Arc::new`, `io::Error::new`, `json.dumps`) or a bare name bound
   * only by imports from outside the tree (followed through the tree's re-exports), or — in Rust,
   * where a path starts at a name in scope — a path starting at `std`/`core`/`alloc` or at a name
   * nothing in the tree binds (a prelude type, another crate: `Vec::new`, `futures::join`), and
   * `drop`/`Some`/`Ok`/`Err` where nothing in the tree binds them; a call on a value of a type from
   * outside the tree that answers it itself (valueOutside), and pin-project's generated `project()`.
   * A call on a value of unknown type (`x.len()`) is never counted. See decision 0035.
   */
  outsideTree(ref: Ref): boolean {
    const src = this.byKey.get(ref.src);
    if (!src || ref.kind !== 'calls') return false;
    const rust = this.family(src.file) === 'rust';
    const r = ref.receiver;
    if (r === '') return this.nameOutside(ref.name, src, rust && RUST_PRELUDE_CALLS.has(ref.name));
    if (rust && (r.startsWith('=') || r.startsWith('new:'))) {
      const v = r.startsWith('=') ? this.valueOf(r.slice(1), src, 0) : { text: r.slice(4), ctx: src };
      if (!v) return false;
      // pin-project's `project()`, written by its macro: no `project` of the tree is called.
      if (this.memberOfValue(v, ref.name, src).length === 0 && this.projection(v, ref.name)) return true;
      return this.valueOutside(v, ref.name);
    }
    if (!QUALIFIER.test(r) || r === 'self' || r === 'Self' || r === 'super') return false;
    return this.nameOutside(r.split(/::|\./)[0]!, src, rust);
  }

  /**
   * A Rust call `name` on a value whose type is from outside the tree and answers the call itself:
   * its name is bound outside the tree where the type is written; it has no type arguments
   * (lifetimes aside), or is a std type that hands no call on to what it holds (`Option`,
   * `AtomicUsize`, …; a std pointer only for its own methods, else what it points at is asked);
   * and no impl in the tree for that type name, nor a blanket impl, has a method `name`.
   */
  private valueOutside(v: Value, name: string): boolean {
    for (let hops = 0; hops < 4; hops++) {
      if ('cls' in v || this.classOf(v) || this.boundTraits(v)) return false;
      const p = this.pointerOf(v);
      if (p) {
        if (this.implsHave(p.ptr, name)) return false;
        if (ALWAYS_OWN[p.ptr]!.has(name)) return this.nameOutside(p.ptr, v.ctx, true);
        if (POINTER_OWN[p.ptr]!.has(name)) return false;
        v = p.inner;
        continue;
      }
      const t = outsideType(v.text);
      if (!t || (t.path !== '' && !this.nameOutside(t.path.split('::')[0]!, v.ctx, true))) return false;
      return !t.deref.some((n) => this.implsHave(n, name));
    }
    return false;
  }

  /**
   * A name bound where `src` is only by imports of things outside the tree, or (`unboundCounts`)
   * bound by nothing of the tree: no definition, import, module or generic parameter of that name
   * in scope, and every glob import of the file resolved.
   */
  private nameOutside(name: string, src: Ent, unboundCounts: boolean): boolean {
    const file = src.file;
    if (this.family(file) === 'rust') {
      if (RUST_TREE_ROOTS.has(name) || this.modules.rustCrates().has(name) || this.genericBounds(name, src) !== null) return false;
      if (this.rustModuleNamed(name, file)) return false;
      if (RUST_STD_ROOTS.has(name)) return true;
    }
    if (this.lookupName(name, src, ANY_DEFINITION).length > 0) return false;
    const imports = this.importsOf.get(file) ?? [];
    const bindings = imports.filter((i) => i.alias === name && i.name !== '*');
    if (bindings.length > 0) return bindings.every((i) => this.importOutside(i, file, 8));
    // A glob of the tree may bring in a module of that name (`use super::*` and a `mod pool { … }`):
    // only the prelude's names, which no module is called, are certain past one.
    const prelude = RUST_PRELUDE.has(name);
    return unboundCounts && imports.every((i) => i.name !== '*' || this.pathOutside(i.module, file) || (prelude && this.modules.resolve(file, i.module).length > 0));
  }

  /**
   * An import of something outside the tree: a path that starts outside it, or a name that the
   * tree's module it names does not define but re-exports from outside (`crate::loom::Arc`).
   */
  private importOutside(i: Import, file: string, depth: number): boolean {
    const files = this.modules.resolve(file, i.module);
    if (files.length === 0) return this.pathOutside(i.module, file);
    if (depth === 0 || i.name === '' || this.inFiles(files, i.name, ANY_DEFINITION).length > 0) return false;
    if (this.family(file) === 'rust' && this.modules.resolve(file, `${i.module}::${i.name}`).length > 0) return false;
    const again = files.flatMap((f) => (this.importsOf.get(f) ?? []).filter((j) => j.alias === i.name && j.name !== '*'));
    return again.length > 0 && again.every((j) => this.importOutside(j, j.file, depth - 1));
  }

  /**
   * An import path the tree has no file for that cannot be the tree's: Rust, not from `crate`,
   * `self`, `super`, a workspace crate or a child module; Python, not relative and not named like
   * any folder or module of the tree (`import json` beside `flask/json/` is not counted); ES, not
   * relative; Go and Java, any.
   */
  private pathOutside(spec: string, file: string): boolean {
    const family = this.family(file);
    if (family === 'rust') {
      const first = spec.split('::')[0]!;
      return !RUST_TREE_ROOTS.has(first) && !this.modules.rustCrates().has(first) && !this.rustModuleNamed(first, file);
    }
    if (family === 'py') return !spec.startsWith('.') && !this.treeSegments().has(spec.split('.')[0]!);
    if (family === 'js') return !spec.startsWith('.') && !spec.startsWith('/');
    return family === 'go' || family === 'java';
  }

  private segments: Set<string> | null = null;

  /** Every folder name and file stem of the tree. */
  private treeSegments(): Set<string> {
    if (!this.segments) {
      this.segments = new Set();
      for (const path of this.files.keys()) for (const part of path.split('/')) this.segments.add(part.replace(/\.[^.]*$/, ''));
    }
    return this.segments;
  }

  /** A `bounds` row (facts.ts): a generic parameter of a Rust function, impl or trait, and one bound. */
  noteBounds(ref: Ref): void {
    let params = this.generics.get(ref.src);
    if (!params) this.generics.set(ref.src, (params = new Map()));
    const list = params.get(ref.receiver);
    if (list) list.push(ref.name);
    else params.set(ref.receiver, [ref.name]);
  }

  /** The trait a `bounds` row names (for its edge), or null. */
  boundTrait(ref: Ref): string | null {
    const def = this.byKey.get(ref.src);
    return def && ref.name ? this.traitNamed(ref.name, def)?.key ?? null : null;
  }

  noteBase(classKey: string): void {
    this.hasBases.add(classKey);
  }

  /** The class a `returns` row names (for its edge), or null. */
  returnedClass(ref: Ref): string | null {
    const fn = this.byKey.get(ref.src);
    const v = fn ? this.returned(fn, 0) : null;
    return v ? this.classOf(v)?.key ?? null : null;
  }

  setBases(classKey: string, base: string): void {
    const list = this.bases.get(classKey);
    if (list) { if (!list.includes(base)) list.push(base); } else this.bases.set(classKey, [base]);
  }

  private family(file: string): Family {
    return this.files.get(this.inline.fileOfScope(file))?.family ?? 'c';
  }

  /** The one definition `ref` means, or null. */
  resolveRef(ref: Ref): string | null {
    const src = this.byKey.get(ref.src);
    if (!src) return null;
    if (ref.kind === 'extends' || ref.kind === 'implements') return one(this.typeNamed(ref.name, src));
    const r = ref.receiver;
    if (r === '') return this.pick(this.lookupName(ref.name, src, CALLABLE));
    if (r.startsWith('local:')) return one(this.localDefinition(ref.name, src, Number(r.slice(6))));
    if (r.startsWith('@')) {
      // A function between the call and the anonymous scope may define the name again, nearer.
      const nearer = this.nestedInScopes(ref.name, src, CALLABLE);
      if (nearer.length > 0) return one(nearer);
      return this.byKey.has(r.slice(1)) ? r.slice(1) : null;
    }
    if (r === '#new') return one(this.typeNamed(ref.name, src));
    if (r.startsWith('#new:')) return one(this.typeNamed(`${r.slice(5)}${sepOf(this.family(src.file))}${ref.name}`, src));
    if (r === 'self' || r === 'Self') {
      const cls = this.enclosingType(src);
      return cls ? this.pick(this.member(cls, ref.name, new Set())) : null;
    }
    if (r === 'super') {
      const cls = this.enclosingType(src);
      return cls ? this.pick(this.inBases(cls, ref.name, new Set([cls.key]))) : null;
    }
    if (r.startsWith('new:') && this.family(src.file) === 'rust') return this.pick(this.memberOfValue({ text: r.slice(4), ctx: src }, ref.name, src));
    if (r.startsWith('new:')) {
      const cls = one(this.typeNamed(r.slice(4), src));
      const ent = cls ? this.byKey.get(cls) : undefined;
      return ent && CLASS_KINDS.has(ent.kind) ? this.pick(this.member(ent, ref.name, new Set())) : null;
    }
    if (r === '?') return null;
    if (r.startsWith('=')) {
      const v = this.valueOf(r.slice(1), src, 0);
      return v ? this.pick(this.memberOfValue(v, ref.name, src)) : null;
    }
    return this.pick(this.qualifiedCall(r, ref.name, src));
  }

  /**
   * What a chain (extract.ts chainOf) evaluates to where `src` is: each call's callee resolved
   * by the usual rules and its declared (or, in Python, single returned) type taken; `?` and
   * `unwrap()`/`expect()` on a `Result`/`Option` take its first type argument; `!Arc` wraps in a
   * pointer, `.*` dereferences, `.[]` takes an element (decision 0035). Any step that is not
   * certain (an unknown callee, two candidates) gives null.
   */
  private valueOf(chain: string, src: Ent, depth: number): Value | null {
    const parsed = depth > 8 ? null : parseChain(chain);
    if (!parsed) return null;
    const { head, steps } = parsed;
    let cur: Value | null;
    let i = 0;
    if (head.startsWith('<')) cur = this.headValue(head.slice(1, -1), src, depth);
    else if (steps[0] === '()') {
      cur = this.callValue(this.pathCallees(head, src), depth);
      i = 1;
    } else cur = this.constantValue(head, src, depth);
    for (; i < steps.length && cur; i++) {
      const step = steps[i]!;
      if (step === '?') cur = unwrapped(cur);
      else if (step === '.await') cur = 'text' in cur && cur.text.startsWith('async ') ? { text: cur.text.slice(6), ctx: cur.ctx } : null;
      else if (step.startsWith('.#')) cur = tupleElement(cur, Number(step.slice(2))) ?? this.fieldValue(cur, step.slice(2), depth);
      else if (step.startsWith('!')) cur = this.wrapped(cur, step.slice(1), src);
      else if (step === '.*') cur = this.derefValue(cur);
      else if (step === '.[]') cur = elementOf(cur);
      else if (steps[i + 1] === '()') {
        cur = this.methodValue(cur, step.slice(1), src, depth);
        i++;
      } else cur = this.fieldValue(cur, step.slice(1), depth);
    }
    return cur;
  }

  /**
   * The value of calling `name()` on a value: what std's `Option`/`Result`, pointers and
   * sequences give back, else the one callee's declared type, else pin-project's projection.
   */
  private methodValue(v: Value, name: string, src: Ent, depth: number): Value | null {
    const p = this.pointerOf(v);
    const std = UNWRAPS.has(name) ? unwrapped(v) : optionMethod(v, name) ?? (p ? pointerMethod(v, p, name) : null) ?? this.iterated(v, name);
    if (std) return std;
    const callees = this.memberOfValue(v, name, src);
    return callees.length === 0 ? this.projection(v, name) : this.callValue(callees, depth);
  }

  /** A field's declared type (Rust struct fields, also through an `Arc`/`Box`; a pinned field of a projection is pinned). */
  private fieldValue(v: Value, name: string, depth: number): Value | null {
    const cls = this.classOf(this.pointeeOf(v) ?? v);
    const field = cls ? this.fieldOf(cls, name) : null;
    const value = field ? this.returned(field, depth) : null;
    const pinned = value && 'text' in value && 'cls' in v && v.projected && this.pinned.has(field!.key);
    return pinned ? { text: `Pin<&mut ${value.text}>`, ctx: value.ctx } : value;
  }

  /** The one field `name` of a struct (of an impl's type), or a Python class's attribute (its own, else its bases'). */
  private fieldOf(cls: Ent, name: string, seen = new Set<string>()): Ent | null {
    const type = cls.kind === 'impl' ? this.byKey.get(this.implType(cls) ?? '') : cls;
    if (!type || seen.has(type.key)) return null;
    seen.add(type.key);
    const own = (this.children.get(type.key)?.get(name) ?? []);
    if (own.length > 0) return own.length === 1 && own[0]!.kind === 'field' ? own[0]! : null;
    if (type.language !== 'python') return null;
    const found = new Set<Ent>();
    for (const b of this.bases.get(type.key) ?? []) {
      const base = this.byKey.get(b);
      const f = base ? this.fieldOf(base, name, seen) : null;
      if (f) found.add(f);
    }
    return found.size === 1 ? [...found][0]! : null;
  }

  /** `<self>`, a pytest fixture `<fx:N:name>`, or a declared class `<C>`. */
  private headValue(head: string, src: Ent, depth: number): Value | null {
    if (head === 'self') {
      const cls = this.enclosingType(src);
      return cls ? { cls } : null;
    }
    const fx = /^fx:(\d+):(.+)$/.exec(head);
    if (fx) return this.fixtureValue(fx[2]!, this.up(src, Number(fx[1])), depth);
    return { text: head, ctx: src };
  }

  private up(e: Ent | undefined, n: number): Ent | undefined {
    for (let i = 0; i < n && e; i++) e = e.parent ? this.byKey.get(e.parent) : undefined;
    return e;
  }

  /** Candidates for a called path: a bare name by scope, `Self::f`, or `q.f` / `Q::f`. */
  private pathCallees(path: string, src: Ent): Ent[] {
    const q = splitQualified(path);
    if (!q) return this.lookupName(path, src, CALLABLE);
    if (q.qualifier === 'Self') {
      const cls = this.enclosingType(src);
      return cls ? this.member(cls, q.last, new Set()) : [];
    }
    return this.qualifiedCall(q.qualifier, q.last, src);
  }

  /**
   * A Rust `const`/`static` named by a path: its declared type. Certain where scoping finds one:
   * a local binding can never shadow a const or static (in a pattern the name means the const).
   */
  private constantValue(path: string, src: Ent, depth: number): Value | null {
    if (src.language !== 'rust') return null;
    const key = one(this.pathCallees(path, src));
    const e = key ? this.byKey.get(key) : undefined;
    return e && e.kind === 'constant' ? this.returned(e, depth) : null;
  }

  /** The value of calling the one candidate: a class constructs an instance, a function gives what it returns. */
  private callValue(cands: Ent[], depth: number): Value | null {
    const key = this.pick(cands);
    const e = key ? this.byKey.get(key) : undefined;
    if (!e) return null;
    if (e.kind === 'class' || e.kind === 'struct') return { cls: e };
    return e.kind === 'function' || e.kind === 'method' ? this.returned(e, depth) : null;
  }

  private returned(fn: Ent, depth: number): Value | null {
    const text = this.returnsOf.get(fn.key);
    if (!text) return null;
    if (text.startsWith('=')) return this.valueOf(text.slice(1), fn, depth + 1);
    return { text, ctx: fn };
  }

  /** The one class a value has, or null. */
  private classOf(v: Value): Ent | null {
    if ('cls' in v) return v.cls;
    const name = classOfText(v.text, familyOf(v.ctx.language));
    if (!name) return null;
    if (name === 'Self') return this.enclosingType(v.ctx);
    // A generic parameter hides any type of its name.
    if (v.ctx.language === 'rust' && this.genericBounds(name, v.ctx) !== null) return null;
    const key = one(this.typeNamed(name, v.ctx));
    const cls = key ? this.byKey.get(key) : undefined;
    return cls && CLASS_KINDS.has(cls.kind) ? cls : null;
  }

  /**
   * Members `name` of a value: those of its class, else (Rust) of a blanket extension trait in
   * scope at `src`; of the traits it is known by (a generic parameter's bounds, `impl A`, `dyn A`);
   * or, through Rust's std pointers (Deref), of its target, when the pointer itself has no
   * method of that name.
   */
  private memberOfValue(v: Value, name: string, src: Ent): Ent[] {
    if ('cls' in v && v.projected) return [];
    for (let hops = 0; hops < 4; hops++) {
      if ('cls' in v && v.ptr && this.pointerHas(v.ptr, name, v.cls)) return [];
      const cls = this.classOf(v);
      if (cls) {
        const own = this.member(cls, name, new Set());
        return own.length > 0 || cls.language !== 'rust' ? own : this.extensionMembers(this.traitsOf([cls.key]), name, src);
      }
      const traits = this.boundTraits(v);
      if (traits) {
        const own = distinct(traits.flatMap((t) => this.member(t, name, new Set())));
        return own.length > 0 ? own : this.extensionMembers(this.traitsOf(traits.map((t) => t.key)), name, src);
      }
      const p = this.pointerOf(v);
      if (!p || this.pointerHas(p.ptr, name, this.classOf(p.inner))) return [];
      v = p.inner;
    }
    return [];
  }

  /**
   * pin-project's `project()`/`project_ref()` on a struct with `#[pin]` fields that has no method
   * of that name itself (the macro generates it): a value whose fields are the struct's.
   */
  private projection(v: Value, name: string): Value | null {
    if (name !== 'project' && name !== 'project_ref') return null;
    const cls = this.classOf(this.pointeeOf(v) ?? v);
    const type = cls?.kind === 'impl' ? this.byKey.get(this.implType(cls) ?? '') : cls;
    if (!type || type.language !== 'rust' || this.member(type, name, new Set()).length > 0) return null;
    const pinned = (this.children.get(type.key)?.values() ?? []);
    for (const list of pinned) if (list.some((f) => f.kind === 'field' && this.pinned.has(f.key))) return { cls: type, projected: true };
    return null;
  }

  /** A Rust std pointer and its target (`Arc<Shared>` → Shared), unless the tree defines a type of the pointer's name. */
  private pointerOf(v: Value): { ptr: string; inner: Value } | null {
    const p = pointee(v);
    if (!p || ('text' in v && (v.ctx.language !== 'rust' || this.typeNamed(p.ptr, v.ctx).length > 0))) return null;
    return p;
  }

  /** What a value reached through std pointers points at (fields have no pointer of their own to hide them). */
  private pointeeOf(v: Value): Value | null {
    let p = this.pointerOf(v);
    for (let hops = 0; p && hops < 4; hops++) {
      const next = this.pointerOf(p.inner);
      if (!next) return p.inner;
      p = next;
    }
    return null;
  }

  /** `*x`: what a std pointer or a reference points at; a class's own value unless the tree gives it a `Deref`. */
  private derefValue(v: Value): Value | null {
    const p = this.pointerOf(v);
    if (p) return p.inner;
    // `**self` in `impl Wait for &mut T` is a T: a class known only as an impl for no type of the tree is not followed.
    if ('cls' in v) return (v.cls.kind === 'impl' && this.implType(v.cls) === null) || this.member(v.cls, 'deref', new Set()).length > 0 ? null : v;
    return /^&/.test(v.text.trim()) ? { text: v.text.trim().replace(/^&\s*(?:'\w+\s+)?(?:mut\s+)?/, ''), ctx: v.ctx } : null;
  }

  /** `xs.iter()` of a std sequence the tree gives no `iter` of its own: iterated, its elements (values.ts sequenceMethod). */
  private iterated(v: Value, name: string): Value | null {
    const seq = sequenceMethod(v, name);
    const type = seq && 'text' in v ? outsideType(v.text) : null;
    return seq && type && !type.deref.some((n) => this.implsHave(n, name)) ? seq : null;
  }

  /** `Arc::new(x)` (chain step `!Arc`): x's value held by the pointer. */
  private wrapped(v: Value, ptr: string, src: Ent): Value | null {
    if (this.typeNamed(ptr, src).length > 0) return null;
    return 'cls' in v ? (v.ptr ? null : { cls: v.cls, ptr }) : { text: `${ptr}<${v.text}>`, ctx: v.ctx };
  }

  /**
   * Whether a call `name` on a std pointer may be the pointer's own method: one of the std
   * methods it has, or one the tree gives it (implsHave).
   */
  private pointerHas(ptr: string, name: string, target: Ent | null): boolean {
    return POINTER_OWN[ptr]!.has(name) || this.implsHave(ptr, name, target);
  }

  /** The type an impl for a std pointer is written for (`Arc<Handle>` of `impl Schedule for Arc<Handle>`), from its signature. */
  private readonly pointerImplTypes = new Map<string, string>();

  noteImplType(key: string, signature: string): void {
    const m = IMPL_FOR_POINTER.exec(signature.replace(/\s+where\s.*$/s, '').replace(/\s*\{.*$/s, ''));
    if (m) this.pointerImplTypes.set(key, m[1]!.trim());
  }

  /**
   * Whether an impl for a std pointer may be for a pointer to `target`: its pointee is a generic
   * parameter of the impl, a type not known for certain, or `target` itself (`impl Schedule for
   * Arc<Handle>` is not for an `Arc<Semaphore>`).
   */
  private pointerImplFor(impl: Ent, target: Ent): boolean {
    const text = this.pointerImplTypes.get(impl.key);
    const inner = text ? pointee({ text, ctx: impl })?.inner : undefined;
    if (!inner || 'cls' in inner) return true;
    const arg = classOfText(inner.text, 'rust');
    if (!arg || this.generics.get(impl.key)?.has(arg)) return true;
    const cls = this.classOf(inner);
    const want = target.kind === 'impl' ? this.implType(target) : target.key;
    return !cls || (cls.kind === 'impl' ? this.implType(cls) : cls.key) === want;
  }

  private readonly implMethods = new Map<string, boolean>();
  private rustImpls: Map<string, Ent[]> | null = null;

  /**
   * Whether the tree gives a type it does not define (`Box`, `Vec`) a method `name`: an impl for
   * that type name (`impl<T> AsyncRead for Box<T>`), or a blanket impl whose bounds it may meet
   * (a bound outside the tree, or the tree's traits all implemented for that type name): either
   * may be the method called.
   */
  private implsHave(typeName: string, name: string, target: Ent | null = null): boolean {
    if (!this.rustImpls) {
      this.rustImpls = new Map();
      // By the type's last name: `impl … for std::sync::Arc<X>` is an impl for `Arc`.
      for (const e of this.byKey.values()) if (e.kind === 'impl' && e.language === 'rust') pushTo(this.rustImpls, e.name.slice(e.name.lastIndexOf(':') + 1), e);
    }
    const id = `${typeName}|${name}|${target?.key ?? ''}`;
    let has = this.implMethods.get(id);
    if (has === undefined) {
      // '[]': impls for any slice (`impl Foo for [u8]`), which a `Vec` hands calls on to.
      const named = typeName === '[]' ? [...this.rustImpls].filter(([n]) => n.startsWith('[')).flatMap(([, l]) => l) : this.rustImpls.get(typeName) ?? [];
      const impls = target ? named.filter((e) => this.pointerImplFor(e, target)) : named;
      const implemented = this.traitsOf(impls.map((e) => e.key));
      // A method taking `self: Pin<&mut Self>` is never called on the value itself: it needs a Pin of it.
      const callable = (owner: Ent): boolean => this.member(owner, name, new Set()).some((m) => !this.pinned.has(m.key));
      has = impls.some(callable)
        || this.blanketImpls().some((b) => (!b.bounds || b.bounds.every((t) => implemented.has(t.key)))
          && (this.bases.get(b.impl.key) ?? []).some((t) => callable(this.byKey.get(t)!)));
      this.implMethods.set(id, has);
    }
    return has;
  }

  private readonly traitCache = new Map<string, Ent | null>();

  /** A trait by name as written where `def` is. */
  private traitNamed(name: string, def: Ent): Ent | null {
    const id = `${def.key}|${name}`;
    let t = this.traitCache.get(id);
    if (t === undefined) {
      const key = one(this.typeNamed(name, def));
      const e = key ? this.byKey.get(key) : undefined;
      t = e && e.kind === 'trait' ? e : null;
      this.traitCache.set(id, t);
    }
    return t;
  }

  /**
   * The tree's traits among the bounds of generic parameter `name` as seen from `ctx` (bounds of
   * its functions', impl's and trait's parameters and where clauses; Rust forbids shadowing one),
   * or null when `name` is no generic parameter there. Bounds outside the tree are left out.
   */
  private genericBounds(name: string, ctx: Ent): Ent[] | null {
    let found = false;
    const out: Ent[] = [];
    for (let p: Ent | undefined = ctx; p; p = p.parent ? this.byKey.get(p.parent) : undefined) {
      const bounds = this.generics.get(p.key)?.get(name);
      if (!bounds) continue;
      found = true;
      for (const b of bounds) {
        const t = b ? this.traitNamed(b, p) : null;
        if (t) out.push(t);
      }
    }
    return found ? out : null;
  }

  /** The traits a Rust value is known only by (a generic parameter, `impl A + B`, `dyn A`), or null. */
  private boundTraits(v: Value): Ent[] | null {
    if ('cls' in v || v.ctx.language !== 'rust') return null;
    const written = traitBounds(v);
    if (written) return written.map((b) => this.traitNamed(b, v.ctx)).filter((t): t is Ent => t !== null);
    const name = classOfText(v.text, 'rust');
    return name && !name.includes('::') ? this.genericBounds(name, v.ctx) : null;
  }

  /** Traits that types with these impls or bounds implement: the traits themselves, their impls' traits, supertraits. */
  private traitsOf(start: string[]): Set<string> {
    const out = new Set<string>();
    const todo = [...start];
    while (todo.length > 0) {
      const k = todo.pop()!;
      const e = this.byKey.get(k);
      if (!e) continue;
      if (e.kind === 'trait') { if (out.has(k)) continue; out.add(k); }
      for (const b of this.basesOf(e)) if (!out.has(b)) todo.push(b);
    }
    return out;
  }

  private blanket: { impl: Ent; bounds: Ent[] | null }[] | null = null;

  /**
   * Rust impls for any type (`impl<R: AsyncRead + ?Sized> AsyncReadExt for R {}`) with the
   * tree's traits their parameter needs (null: a bound outside the tree, never known to hold).
   */
  private blanketImpls(): { impl: Ent; bounds: Ent[] | null }[] {
    if (this.blanket) return this.blanket;
    this.blanket = [];
    for (const [key, params] of this.generics) {
      const impl = this.byKey.get(key);
      const bounds = impl && impl.kind === 'impl' ? params.get(impl.name) : undefined;
      if (!impl || !bounds) continue;
      const traits = bounds.filter((b) => b !== '').map((b) => this.traitNamed(b, impl));
      this.blanket.push({ impl, bounds: traits.every((t) => t !== null) ? (traits as Ent[]) : null });
    }
    return this.blanket;
  }

  /**
   * Methods `name` of the tree's extension traits a value gets from blanket impls (tokio's
   * `AsyncWriteExt::write_all` on a `TcpStream`, which implements `AsyncWrite`): impls whose
   * bounds are all among the value's traits, of a trait in scope where the call is (Rust calls
   * a trait's method only where the trait is imported or defined).
   */
  private extensionMembers(implemented: Set<string>, name: string, src: Ent): Ent[] {
    const out: Ent[] = [];
    for (const b of this.blanketImpls()) {
      if (!b.bounds || !b.bounds.every((t) => implemented.has(t.key))) continue;
      for (const t of this.bases.get(b.impl.key) ?? []) {
        const trait = this.byKey.get(t);
        if (trait && trait.kind === 'trait' && this.traitInScope(trait, src)) out.push(...this.member(trait, name, new Set()));
      }
    }
    return distinct(out);
  }

  /** A Rust trait defined in the caller's module, or imported there (by name, `as _`, or a glob) by a `use` that reaches the caller. */
  private traitInScope(trait: Ent, src: Ent): boolean {
    if (trait.file === src.file && this.ancestorsOf(src).has(trait.parent ?? '') && !this.inlineModuleBetween(src, trait.parent)) return true;
    for (const i of this.importsOf.get(src.file) ?? []) {
      if ((i.name !== '*' && i.name !== trait.name) || !this.importReaches(i, src)) continue;
      if (this.exported(this.scopesOf(src.file, i.module), trait.name, CLASS_KINDS).some((e) => e.key === trait.key)) return true;
    }
    return false;
  }

  private ancestorsOf(e: Ent): Set<string> {
    const out = new Set<string>();
    for (let p: Ent | undefined = e; p; p = p.parent ? this.byKey.get(p.parent) : undefined) out.add(p.key);
    return out;
  }

  /** An inline `mod m { … }` between a definition and an outer scope (its names do not reach in without `use`). */
  private inlineModuleBetween(e: Ent, outer: string | null): boolean {
    for (let p = e.parent ? this.byKey.get(e.parent) : undefined; p && p.key !== outer; p = p.parent ? this.byKey.get(p.parent) : undefined) {
      if (p.kind === 'module' && p.parent !== null) return true;
    }
    return false;
  }

  private readonly fileEntities = new Map<string, Ent[]>();

  /** A `use` reaches a definition when every definition around the `use` also encloses it (a `use` in a function is local to it). */
  private importReaches(i: Import, src: Ent): boolean {
    const ancestors = this.ancestorsOf(src);
    return this.definedIn(i.file).every((e) => ancestors.has(e.key) || !containsLine(e.key, i.line));
  }

  /** The definitions of a file (not its own module entity). */
  private definedIn(file: string): Ent[] {
    if (this.fileEntities.size === 0) {
      for (const e of this.byKey.values()) if (e.parent !== null) pushTo(this.fileEntities, e.file, e);
    }
    return this.fileEntities.get(file) ?? [];
  }

  /** A Rust module of the tree a path in `file` may start at: a child module file, or a `mod` the file declares (also `#[path]` ones). */
  private rustModuleNamed(name: string, file: string): boolean {
    return this.modules.resolve(file, name).length > 0 || this.definedIn(file).some((e) => e.kind === 'module' && e.name === name);
  }

  /**
   * The value pytest passes for fixture `name` to `requester` (a test in a test module, or a
   * fixture): the fixture defined nearest — the test's class (unless it has bases), the module
   * (unless it imports that name or everything), then `conftest.py` from the test's folder up —
   * skipping the requester itself (a fixture that overrides one of its own name). Any
   * `pytest_generate_tests` on the way may parametrize it: then nothing is certain.
   */
  private fixtureValue(name: string, requester: Ent | undefined, depth: number): Value | null {
    if (!requester || !SCOPES.has(requester.kind) || familyOf(requester.language) !== 'py') return null;
    if (!this.fixtureKeys.has(requester.key) && !(requester.name.startsWith('test') && isPythonTestModule(requester.file))) return null;
    const parent = requester.parent ? this.byKey.get(requester.parent) : undefined;
    const levels: { scope: string; file: string | null }[] = [];
    if (parent && parent.kind === 'class') levels.push({ scope: parent.key, file: null });
    levels.push({ scope: requester.file, file: requester.file });
    for (let dir = dirname(requester.file); ; dir = dirname(dir)) {
      const conftest = dir ? `${dir}/conftest.py` : 'conftest.py';
      if (this.files.has(conftest) && conftest !== requester.file) levels.push({ scope: conftest, file: conftest });
      if (!dir) break;
    }
    for (const level of levels) if (level.file && this.fileLevel.get(level.file)?.has('pytest_generate_tests')) return null;
    for (const level of levels) {
      const hits = (this.fixtures.get(level.scope)?.get(name) ?? []).filter((f) => f.key !== requester.key);
      if (hits.length > 1) return null;
      if (hits.length === 1) return this.fixtureResult(hits[0]!, depth);
      if (level.file === null && this.hasBases.has(level.scope)) return null;
      if (level.file && (this.importsOf.get(level.file) ?? []).some((i) => (i.alias === name || i.name === '*') && this.atModuleLevel(i))) return null;
    }
    return null;
  }

  /**
   * One definition of `list` (see overloadOrOne), leaving out Python `@overload` stubs when the
   * implementation is among the candidates: at run time the name means the implementation.
   */
  private pick(list: Ent[]): string | null {
    const real = this.overloadStubs.size > 0 ? list.filter((e) => !this.overloadStubs.has(e.key)) : list;
    return overloadOrOne(real.length > 0 ? real : list);
  }

  /** An import outside every top-level definition of its file (one inside a function binds a local). */
  private atModuleLevel(i: Import): boolean {
    for (const list of this.fileLevel.get(i.file)?.values() ?? []) {
      for (const e of list) if (containsLine(e.key, i.line)) return false;
    }
    return true;
  }

  /** A fixture's value: what it returns or yields; a declared `Iterator[X]`/`Generator[X, …]` yields X. */
  private fixtureResult(fx: Ent, depth: number): Value | null {
    const v = this.returned(fx, depth);
    if (!v || 'cls' in v) return v;
    const m = /^(?:[\w.]+\.)?(?:Iterator|Iterable|Generator|AsyncIterator|AsyncGenerator)\[(.+)\]$/.exec(v.text);
    return m ? { text: m[1]!.split(',')[0]!.trim(), ctx: v.ctx } : v;
  }

  /** `q.f()` / `Q::f()`: q a module alias, a type, or (Rust) a crate path. */
  private qualifiedCall(qualifier: string, name: string, src: Ent): Ent[] {
    const mod = this.moduleFiles(qualifier, src.file);
    if (mod) return this.exported(mod, name, CALLABLE);
    // `T::default()` on a Rust generic parameter: its bounds' (never a type that happens to be named T).
    const bounds = src.language === 'rust' && !qualifier.includes('::') ? this.genericBounds(qualifier, src) : null;
    if (bounds) return distinct(bounds.flatMap((t) => this.member(t, name, new Set())));
    const types = this.typeNamed(qualifier, src);
    if (types.length !== 1) return [];
    const cls = this.byKey.get(types[0]!);
    return cls && CLASS_KINDS.has(cls.kind) ? this.member(cls, name, new Set()) : [];
  }

  /** Files a qualifier names when it is a module: an import alias, a Rust path, a Go package. */
  private moduleFiles(qualifier: string, file: string): string[] | null {
    const family = this.family(file);
    if (family === 'rust' && (/^(crate|self|super)(::|$)/.test(qualifier) || this.modules.rustCrates().has(qualifier.split('::')[0]!))) {
      const files = nonEmpty(this.scopesOf(file, qualifier));
      if (files) return files;
    }
    // The same path imported twice (at the top and again in a function) is one binding.
    const binding = [...new Map((this.importsOf.get(file) ?? []).filter((i) => i.alias === qualifier).map((i) => [`${i.module}\n${i.name}`, i])).values()];
    // Rust: a path may start at a child module of the current one (`b::Sender` beside `mod b;`).
    if (binding.length === 0 && family === 'rust') return nonEmpty(this.scopesOf(file, qualifier));
    if (binding.length !== 1) return null;
    const b = binding[0]!;
    if (b.name === '') return nonEmpty(this.scopesOf(file, b.module));
    if (family === 'rust' || family === 'py') {
      // `use crate::geom;` / `from pkg import mod`: the imported name may be a module itself.
      const files = family === 'rust' ? this.scopesOf(file, `${b.module}::${b.name}`) : this.modules.pythonSubmodule(file, b.module, b.name);
      if (files.length === 1 && this.inFiles(this.scopesOf(file, b.module), b.name, CLASS_KINDS).length === 0) return files;
    }
    return null;
  }

  private readonly inlinePaths = new Map<string, string[]>();

  /**
   * The scopes a module path names from `from` (a file, or a Rust inline module's key): files, else
   * (Rust) inline modules reached by rust-inline-modules.ts's walk. Several scopes where cfg
   * alternatives both bring a module of that name (tokio's loom: `std` and `mocked`): each is
   * asked for a name, and it is certain only where they agree (exported(), unknownInAlternative()).
   */
  private scopesOf(from: string, spec: string, depth = 0): string[] {
    const file = this.inline.fileOfScope(from);
    const files = this.modules.resolve(file, spec);
    if (files.length > 0 || this.inline.size === 0 || depth > 8 || this.family(file) !== 'rust') return files;
    const id = `${file}\n${spec}`;
    let hit = this.inlinePaths.get(id);
    if (!hit) {
      this.inlinePaths.set(id, []);
      hit = this.inlinePath(file, spec, depth);
      this.inlinePaths.set(id, hit);
    }
    return hit;
  }

  /** The longest prefix of `spec` that is a file module, then one inline module per segment. */
  private inlinePath(file: string, spec: string, depth: number): string[] {
    const segs = spec.split('::');
    for (let i = segs.length - 1; i >= 0; i--) {
      if (i === 0 && /^(std|core|alloc|crate|self|super)$/.test(segs[0]!)) return [];
      let scopes = i === 0 ? [file] : this.modules.resolve(file, segs.slice(0, i).join('::'));
      if (scopes.length === 0) continue;
      for (const seg of segs.slice(i)) {
        const next = scopes.map((scope) => this.moduleIn(scope, seg, depth));
        if (this.unknownInAlternative(scopes, next)) return [];
        scopes = [...new Set(next.flat())];
        if (scopes.length === 0 || scopes.length > 4) return [];
      }
      return scopes;
    }
    return [];
  }

  /**
   * Of cfg alternatives (scopes one path reaches), one that found nothing but glob-imports
   * something outside the tree may have it from there: tokio's `cfg(loom)` `sync` takes `atomic`
   * from `loom::sync::*`, so `crate::loom::sync::atomic::AtomicUsize` is tokio's wrapper in one
   * build and loom's in the other, and neither is certain.
   */
  private unknownInAlternative(scopes: string[], found: unknown[][]): boolean {
    return scopes.length > 1 && found.some((f, k) => f.length === 0 && this.scopeImports(scopes[k]!).some((i) => i.name === '*' && this.scopesOf(scopes[k]!, i.module).length === 0));
  }

  /** The module `seg` names inside `scope`: an inline module declared there, a child file, or one a `use` or glob brings in. */
  private moduleIn(scope: string, seg: string, depth: number): string[] {
    const own = this.inline.declaredIn(scope, seg);
    if (own.length > 0) return own.map((m) => m.key);
    if (!this.inline.isInline(scope)) {
      const child = this.modules.resolve(scope, `self::${seg}`);
      if (child.length > 0) return child;
    }
    const imports = this.scopeImports(scope);
    const named = imports.filter((i) => i.alias === seg && i.name !== '*')
      .flatMap((i) => this.scopesOf(scope, i.name === '' ? i.module : `${i.module}::${i.name}`, depth + 1));
    if (named.length > 0) return named;
    const targets = imports.filter((i) => i.name === '*').flatMap((i) => this.scopesOf(scope, i.module, depth + 1));
    const found = targets.map((t) => this.moduleIn(t, seg, depth + 1));
    return this.unknownInAlternative(targets, found) ? [] : found.flat();
  }

  /** Python: the submodule `from m import name` imports, when name is a module and m defines no such name. */
  pythonSubmodule(file: string, module: string, name: string): string[] | null {
    const files = this.modules.pythonSubmodule(file, module, name);
    if (files.length !== 1) return null;
    return this.inFiles(this.modules.resolve(file, module), name, CALLABLE).length === 0 ? files : null;
  }

  filesDefining(files: string[], name: string): string[] {
    return files.filter((f) => this.fileLevel.get(f)?.has(name));
  }

  private readonly exportCache = new Map<string, Ent[]>();

  /**
   * Definitions a module makes visible under `name`: its own, else what it re-exports under that
   * name (Python `from .app import Flask`, ES `export { f } from './x'`, Rust `pub use`), else what
   * its star re-exports give (`export * from`, `from .x import *`; two that both give the name
   * leave it ambiguous, as in ES), followed through barrels up to 8 files deep.
   */
  private exported(files: string[], name: string, kinds: Set<string>, depth = 8): Ent[] {
    // Rust modules that cfg alternatives both bring in (scopesOf) answer each for itself: one's own
    // `Mutex` must not hide the other's re-exported one.
    if (files.length > 1 && this.family(files[0]!) === 'rust') {
      const per = files.map((f) => this.exported([f], name, kinds, depth));
      return this.unknownInAlternative(files, per) ? [] : distinct(per.flat());
    }
    const id = `${files.join('\0')}|${name}|${kinds === CALLABLE ? 'c' : kinds === CLASS_KINDS ? 't' : [...kinds].join(',')}|${depth}`;
    let hit = this.exportCache.get(id);
    if (!hit) {
      this.exportCache.set(id, []);
      hit = this.exportedUncached(files, name, kinds, depth);
      this.exportCache.set(id, hit);
    }
    return hit;
  }

  private exportedUncached(files: string[], name: string, kinds: Set<string>, depth: number): Ent[] {
    const own = this.inFiles(files, name, kinds);
    if (own.length > 0 && files.length === 1 && this.cfgAlternative(files[0]!, name, own, kinds)) return [];
    if (own.length > 0 || depth === 0) return own;
    const out: Ent[] = [];
    const rust = this.family(files[0]!) === 'rust';
    let outside = false;
    for (const f of files) {
      for (const i of this.scopeImports(f)) {
        if (i.alias !== name || i.name === '' || i.name === '*') continue;
        const got = this.exported(this.scopesOf(f, i.module), i.name, kinds, depth - 1);
        outside ||= got.length === 0 && rust && this.atModuleLevel(i);
        out.push(...got);
      }
    }
    // Two re-exports of one definition (tokio's sync/mod.rs: `pub use mutex::Mutex` under cfg_sync!
    // and again under cfg_not_sync!) name one thing, not two; a Rust name bound again to something
    // outside the tree (`use std::sync::Condvar` as the other cfg alternative) is not certain.
    if (out.length > 0) return outside ? [] : distinct(out);
    const targets: string[][] = [];
    for (const f of files) {
      for (const i of this.scopeImports(f)) {
        if (i.name === '*' && (i.alias === '' || i.alias === '*') && this.family(f) !== 'c') targets.push(this.scopesOf(f, i.module));
      }
    }
    const found = targets.map((t) => this.exported(t, name, kinds, depth - 1));
    // Rust: two glob re-exports are cfg alternatives (loom/mod.rs: `self::std::*`, `self::mocked::*`).
    if (rust && this.unknownInAlternative(targets.filter((t) => t.length === 1).map((t) => t[0]!), found.filter((_, k) => targets[k]!.length === 1))) return [];
    return found.flat();
  }

  /**
   * Rust: a module that defines `name` and also imports it by name. Both in one scope is a compile
   * error unless cfg attributes keep one (tokio's blocking.rs: `pub(crate) use
   * crate::runtime::spawn_blocking` under cfg_rt!, a panicking `fn spawn_blocking` under
   * cfg_not_rt!), so which one a call means depends on the build: neither is certain. A `use`
   * inside a function binds only there (bounded.rs imports the trait `chan::Semaphore` in methods).
   */
  private cfgAlternative(scope: string, name: string, own: Ent[], kinds: Set<string>): boolean {
    if (this.family(scope) !== 'rust' || !own.some((e) => this.inline.scopeOf(e) === scope)) return false;
    // Only a `use` of the tree's own definition of that kind is known to clash: a function and an
    // imported macro of one name live in different namespaces (tokio_test's assert_pending! beside a
    // test file's fn assert_pending).
    return this.scopeImports(scope).some((i) => i.alias === name && i.name !== '*' && i.name !== '' && this.atModuleLevel(i)
      && this.exported(this.scopesOf(scope, i.module), i.name, kinds).some((e) => !own.includes(e) && (e.kind === 'macro') === (own[0]!.kind === 'macro')));
  }

  /** The `use`s of a scope: a file's own, without those written inside its inline modules. */
  private scopeImports(scope: string): Import[] {
    const all = this.importsOf.get(scope) ?? [];
    return this.innerImports.size === 0 || this.inline.isInline(scope) ? all : all.filter((i) => !this.innerImports.has(i));
  }

  private inFiles(files: string[], name: string, kinds: Set<string>): Ent[] {
    const out: Ent[] = [];
    for (const f of files) for (const e of this.fileLevel.get(f)?.get(name) ?? []) if (kinds.has(e.kind)) out.push(e);
    return out;
  }

  /** A name bound as a local `up` scopes above `src`: only a definition nested in that scope is certain. */
  private localDefinition(name: string, src: Ent, up: number): Ent[] {
    let scope: Ent | undefined = src;
    for (let i = 0; i < up && scope; i++) scope = scope.parent ? this.byKey.get(scope.parent) : undefined;
    return scope ? (this.children.get(scope.key)?.get(name) ?? []).filter((e) => CALLABLE.has(e.kind)) : [];
  }

  /** Definitions nested in the functions enclosing `src` (innermost first): they shadow everything outside. */
  private nestedInScopes(name: string, src: Ent, kinds: Set<string>): Ent[] {
    for (let p: Ent | undefined = src; p && SCOPES.has(p.kind); p = p.parent ? this.byKey.get(p.parent) : undefined) {
      const nested = (this.children.get(p.key)?.get(name) ?? []).filter((e) => kinds.has(e.kind));
      if (nested.length > 0) return nested;
    }
    return [];
  }

  /** A bare name, scope by scope; the first scope with candidates decides. */
  lookupName(name: string, src: Ent, kinds: Set<string>): Ent[] {
    const file = src.file;
    const info = this.files.get(file);
    if (!info) return [];
    const nested = this.nestedInScopes(name, src, kinds);
    if (nested.length > 0) return nested;
    if (IMPLICIT_THIS.has(info.language)) {
      for (let cls = this.enclosingType(src); cls; cls = cls.parent ? this.enclosingType(this.byKey.get(cls.parent)!) : null) {
        const hits = this.member(cls, name, new Set()).filter((e) => kinds.has(e.kind));
        if (hits.length > 0) return hits;
        if (!cls.parent) break;
      }
    }
    const local = this.inFiles([file], name, kinds);
    if (local.length > 0) return this.cfgAlternative(file, name, local, kinds) ? [] : local;
    const imported = this.imported(name, file, kinds);
    if (imported.length > 0) return imported;
    return this.inFiles(this.packageScope(info), name, kinds);
  }

  /** Names bound by imports: `from m import f as g`, `import {f} from './x'`, `use a::f`, Java imports, globs. */
  private imported(name: string, file: string, kinds: Set<string>): Ent[] {
    const out: Ent[] = [];
    const globs: Ent[] = [];
    const rust = this.family(file) === 'rust';
    let outside = false;
    for (const i of this.importsOf.get(file) ?? []) {
      if (i.name === '*' && i.alias !== '') {
        globs.push(...this.inFiles(this.scopesOf(file, i.module), name, kinds));
      } else if (i.alias === name && i.name !== '' && i.name !== '*') {
        const got = this.exported(this.scopesOf(file, i.module), i.name, kinds);
        outside ||= got.length === 0 && rust && this.atModuleLevel(i);
        out.push(...got);
      }
    }
    // Rust: the same name imported twice, once from outside the tree (or from something
    // uncertain), is two cfg alternatives (fs/file.rs: mocks under cfg(test), else the real one).
    if (out.length > 0) return outside ? [] : distinct(out);
    return distinct(globs);
  }

  /** Same package: Go's directory, Java's package; C/C++: included headers and their sources. */
  private readonly scopes = new Map<string, string[]>();

  private packageScope(info: FileInfo): string[] {
    let files = this.scopes.get(info.path);
    if (!files) this.scopes.set(info.path, (files = this.packageScopeUncached(info)));
    return files;
  }

  private packageScopeUncached(info: FileInfo): string[] {
    if (info.family === 'go') return this.modules.goPackageFiles(dirname(info.path), info.pkg ?? '').filter((f) => f !== info.path);
    if (info.family === 'java') return info.pkg !== null ? this.modules.javaPackageFiles(info.pkg).filter((f) => f !== info.path) : [];
    if (info.family === 'c') {
      const out: string[] = [];
      for (const i of this.importsOf.get(info.path) ?? []) {
        for (const h of this.modules.resolve(info.path, i.module)) out.push(h, ...this.modules.companions(h));
      }
      return [...new Set(out)].filter((f) => f !== info.path);
    }
    return [];
  }

  /** A type by name as written (`Shape`, `m.Shape`, `geo::Shape`). */
  typeNamed(text: string, src: Ent): string[] {
    const q = splitQualified(text);
    if (!q) return this.lookupName(text, src, CLASS_KINDS).map((e) => e.key);
    const mod = this.moduleFiles(q.qualifier, src.file);
    if (mod) return this.exported(mod, q.last, CLASS_KINDS).map((e) => e.key);
    const family = this.family(src.file);
    const qname = text.replace(/\.|::|->/g, sepOf(family));
    const hits = (this.byQname.get(family)?.get(qname) ?? []).filter((e) => CLASS_KINDS.has(e.kind));
    // Rust nests no type in a type: by qualified name, only a `mod` of this file (`state::AtomicState`
    // beside `mod state { … }`), never another file's (`sync::RwLock` with `use std::sync` is std's).
    if (family === 'rust') return hits.filter((e) => e.file === src.file && this.rustModuleNamed(q.qualifier.split('::')[0]!, src.file)).map((e) => e.key);
    return hits.map((e) => e.key);
  }

  /** The class, struct, trait or impl a definition sits in (Go: its receiver type). */
  enclosingType(e: Ent | undefined): Ent | null {
    for (let p = e; p; p = p.parent ? this.byKey.get(p.parent) : undefined) {
      if (p !== e && CONTAINER.has(p.kind)) return p;
      if (p.kind === 'method' && p.language === 'go') {
        const owner = p.qname.slice(0, p.qname.lastIndexOf('.'));
        const hits = this.lookupName(owner, p, CLASS_KINDS);
        return hits.length === 1 ? hits[0]! : null;
      }
    }
    return null;
  }

  /** Members named `name` of a type: nested definitions, same-qualified definitions (impls, out-of-class C++, Go methods), then bases. */
  member(cls: Ent, name: string, seen: Set<string>): Ent[] {
    seen.add(cls.key);
    if (cls.kind === 'impl' && cls.language === 'rust' && this.hasBases.has(cls.key)) {
      const inherent = this.inherentMethods(cls, name);
      if (inherent.length > 0) return inherent;
    }
    const family = familyOf(cls.language);
    const found = new Map<string, Ent>();
    // Rust fields are not members a call can mean (a method may share a field's name).
    const callable = (e: Ent): boolean => e.kind !== 'module' && !(e.kind === 'field' && (family === 'rust' || family === 'py'));
    for (const e of this.children.get(cls.key)?.get(name) ?? []) if (callable(e)) found.set(e.key, e);
    for (const e of this.byQname.get(family)?.get(`${cls.qname}${sepOf(family)}${name}`) ?? []) {
      if (callable(e) && this.sameUnit(cls, e) && !this.otherType(cls, e)) found.set(e.key, e);
    }
    if (found.size > 0) return [...found.values()];
    return this.inBases(cls, name, seen);
  }

  /**
   * Rust: in `impl Trait for T`, `self.m()` and `Self::m()` mean T's inherent `m` before the impl's
   * own (`Self::poll_accept(self, cx)` in `impl Listener for UnixListener` is UnixListener's).
   */
  private inherentMethods(impl: Ent, name: string): Ent[] {
    const type = this.byKey.get(this.implType(impl) ?? '');
    if (!type) return [];
    return this.member(type, name, new Set()).filter((m) => {
      const owner = m.parent ? this.byKey.get(m.parent) : undefined;
      return owner?.kind === 'impl' && !this.hasBases.has(owner.key);
    });
  }

  /**
   * Rust: a member of an impl whose type is certainly another type of the same name (tokio has
   * five `Sender`s, each with `impl Sender { fn send }`): the impl's type resolved where it is written.
   */
  private otherType(cls: Ent, member: Ent): boolean {
    if (cls.language !== 'rust') return false;
    const impl = member.parent ? this.byKey.get(member.parent) : undefined;
    if (!impl || impl.kind !== 'impl') return false;
    const want = cls.kind === 'impl' ? this.implType(cls) : cls.key;
    const have = this.implType(impl);
    return want !== null && have !== null && want !== have;
  }

  private readonly implTypes = new Map<string, string | null>();

  /** The type an impl is for, resolved from the impl's own scope, or null. */
  private implType(impl: Ent): string | null {
    let t = this.implTypes.get(impl.key);
    if (t === undefined) {
      this.implTypes.set(impl.key, null);
      // `impl<T: Bound> Trait for T`: the impl's own parameter, never a type that happens to be named T.
      t = this.generics.get(impl.key)?.has(impl.name) ? null : one(this.typeNamed(impl.name, impl));
      this.implTypes.set(impl.key, t);
    }
    return t;
  }

  private inBases(cls: Ent, name: string, seen: Set<string>): Ent[] {
    const out: Ent[] = [];
    for (const b of this.basesOf(cls)) {
      const base = this.byKey.get(b);
      if (base && !seen.has(b)) out.push(...this.member(base, name, seen));
    }
    return out;
  }

  /** Resolved bases; a Rust impl's bases are those of its type's other impls (traits' default methods). */
  private basesOf(cls: Ent): string[] {
    const own = this.bases.get(cls.key) ?? [];
    if (cls.language !== 'rust') return own;
    const all = [...own];
    for (const e of this.byQname.get('rust')?.get(cls.qname) ?? []) if (e.key !== cls.key && this.sameUnit(cls, e)) all.push(...(this.bases.get(e.key) ?? []));
    return all;
  }

  /** Where same-qualified definitions belong together: Go package, Rust crate, anywhere for C++/others. */
  private sameUnit(a: Ent, b: Ent): boolean {
    if (a.file === b.file) return true;
    const fam = familyOf(a.language);
    if (fam === 'go') return dirname(a.file) === dirname(b.file);
    if (fam === 'rust') return this.modules.rustModuleOf(a.file)?.crate === this.modules.rustModuleOf(b.file)?.crate;
    return fam === 'c';
  }
}

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

/** Languages with overloading: methods of one class sharing a name are one overload group. */
const OVERLOADING = new Set(['java', 'cpp']);

/**
 * One definition, or — where the language overloads (Java, C++) and every candidate is a method
 * of the same class with the same name — the group, stood for by its first declaration (queries
 * answer for the whole group, see graph-queries.ts). Which overload runs depends on argument
 * types we do not follow; that it is one of these is certain.
 */
function overloadOrOne(list: Ent[]): string | null {
  const single = one(list);
  if (single || list.length < 2) return single;
  const first = list[0]!;
  if (!OVERLOADING.has(first.language) || !first.parent) return null;
  for (const e of list) if (e.parent !== first.parent || e.name !== first.name || e.kind !== first.kind) return null;
  return list.reduce((a, b) => (startLine(b.key) < startLine(a.key) ? b : a)).key;
}

/** Whether an entity's key (`…:start-end`) spans a line. */
function containsLine(key: string, line: number): boolean {
  const lines = keyLines(key);
  return lines !== null && lines[0] <= line && line <= lines[1];
}

/**
 * Std types that hand no method call on to a type they hold (no `Deref` to a type argument);
 * `Vec` and `String` hand calls on to slices and `str`, outside the tree unless it implements
 * something for them (the impl names to check).
 */
const HOLDS_NOTHING = new Map<string, string[]>([
  ...['Option', 'Result', 'VecDeque', 'HashMap', 'HashSet', 'BTreeMap', 'BTreeSet', 'LinkedList', 'BinaryHeap', 'Cell', 'RefCell',
    'UnsafeCell', 'NonNull', 'Mutex', 'RwLock', 'Condvar', 'OnceCell', 'OnceLock', 'AtomicPtr', 'PhantomData', 'Weak', 'JoinHandle']
    .map((n): [string, string[]] => [n, [n]]),
  ['Vec', ['Vec', '[]']], ['String', ['String', 'str']],
]);

/**
 * A Rust type as written that may be from outside the tree and answer calls itself: its path and
 * the impl names that could give it methods; null for tuples, slices, function types, and
 * generic types not in HOLDS_NOTHING (they may hand a call on to a type argument).
 */
function outsideType(text: string): { path: string; deref: string[] } | null {
  const t = text.replace(/^(?:&\s*(?:'\w+\s+)?(?:mut\s+)?)+/, '').trim();
  // A slice or array: the language's own type ('' needs no name looked up), with what the tree implements for slices.
  if (/^\[.*\]$/s.test(t)) return { path: '', deref: ['[]'] };
  const m = /^([\p{L}_][\p{L}\p{N}_]*(?:::[\p{L}_][\p{L}\p{N}_]*)*)\s*(?:<(.*)>)?$/su.exec(t);
  if (!m) return null;
  const last = m[1]!.slice(m[1]!.lastIndexOf(':') + 1);
  const args = (m[2] ?? '').replace(/'\w+|'_|,/g, '').trim();
  if (args && !HOLDS_NOTHING.has(last)) return null;
  return { path: m[1]!, deref: HOLDS_NOTHING.get(last) ?? [last] };
}

function distinct(list: Ent[]): Ent[] {
  return [...new Map(list.map((e) => [e.key, e])).values()];
}

function startLine(key: string): number {
  return keyLines(key)?.[0] ?? 0;
}

function one(keys: (string | Ent)[]): string | null {
  const set = new Set(keys.map((k) => (typeof k === 'string' ? k : k.key)));
  return set.size === 1 ? [...set][0]! : null;
}

function nonEmpty(list: string[]): string[] | null {
  return list.length > 0 ? list : null;
}

function add<K>(map: Map<K, ByName<Ent>>, outer: K, name: string, e: Ent): void {
  let m = map.get(outer);
  if (!m) map.set(outer, (m = new ByName()));
  m.add(name, e);
}

/** Appends to the list under `key`. */
function pushTo<V>(map: Map<string, V[]>, key: string, v: V): void {
  const list = map.get(key);
  if (list) list.push(v);
  else map.set(key, [v]);
}

/**
 * The resolver over the store's definitions and imports, with the type facts noted (bases,
 * declared return types, generic bounds); the type edges' new destinations go to `updates`.
 */
async function loadResolver(store: CodeStore, root: string, updates: [number, string | null, number][], signal?: AbortSignal): Promise<{ resolver: Resolver; files: Map<string, FileInfo>; imports: Import[]; entities: Ent[] }> {
  // Rows are used as they come, renamed in SQL: a second object per row (90,000 on redis) cost
  // more in garbage collection than the lookups themselves.
  const entities = await loadEntities(store, signal);
  const files = new Map<string, FileInfo>();
  for (const r of await store.query<{ path: string; language: string; package: string | null }>("SELECT path, language, package FROM files WHERE status = 'indexed' ORDER BY path")) {
    files.set(r.path, { path: r.path, language: r.language, family: familyOf(r.language), pkg: r.package });
  }
  // PostgreSQL returns BIGINT as a string; SQLite already gives numbers.
  const imports = await store.query<Import>('SELECT file, line, module, name, alias FROM imports ORDER BY file, line, module, name, alias');
  if (store.dialect !== 'sqlite') for (const i of imports) i.line = Number(i.line);
  const resolver = new Resolver(entities, files, imports, root);
  // What the tree's impls for std pointers are for (`impl Schedule for Arc<Handle>`): their signatures.
  for (const r of await store.query<{ key: string; signature: string }>(`SELECT key, signature FROM entities WHERE kind = 'impl' AND language = 'rust'
    AND (name IN ('Arc', 'Rc', 'Box', 'Pin') OR name LIKE '%::Arc' OR name LIKE '%::Rc' OR name LIKE '%::Box' OR name LIKE '%::Pin')`)) {
    resolver.noteImplType(r.key, r.signature);
  }
  const types = await pagedRefs(store, "kind IN ('returns', 'extends', 'implements', 'bounds')", 0);
  for (const ref of types) {
    if (ref.kind === 'returns') resolver.noteReturns(ref);
    if (ref.kind === 'bounds') resolver.noteBounds(ref);
    if (ref.kind !== 'extends' && ref.kind !== 'implements') continue;
    // The source of a base reference is the class (or impl) whose header names it.
    resolver.noteBase(ref.src);
    const dst = resolver.resolveRef(ref);
    noteChange(updates, ref, dst);
    if (dst) resolver.setBases(ref.src, dst);
  }
  for (const ref of types) {
    if (ref.kind === 'returns' || ref.kind === 'bounds') noteChange(updates, ref, ref.kind === 'returns' ? resolver.returnedClass(ref) : resolver.boundTrait(ref));
  }
  return { resolver, files, imports, entities };
}

function noteChange(updates: [number, string | null, number][], ref: Ref, dst: string | null): void {
  if (dst !== ref.dst || (dst !== null) !== (ref.resolved === 1)) updates.push([ref.id, dst, dst === null ? 0 : 1]);
}

/**
 * Ids of the unresolved calls whose callee is certainly outside the indexed tree (Resolver.outsideTree):
 * bench/code.ts reports resolution among calls to in-repo names with and without them.
 */
export async function callsOutsideTree(store: CodeStore, root: string): Promise<Set<number>> {
  const { resolver } = await loadResolver(store, root, []);
  const out = new Set<number>();
  for (let after = 0; ;) {
    const page = await pagedRefs(store, "kind = 'calls' AND resolved = 0", after, CALL_PAGE);
    if (page.length === 0) break;
    after = page[page.length - 1]!.id;
    for (const ref of page) if (resolver.outsideTree(ref)) out.add(ref.id);
  }
  return out;
}

/**
 * Resolves every edge of the graph again and rebuilds the import edges. `signal` is looked at
 * between pages: an interrupt stops a long resolution within a page.
 */
export async function resolveGraph(store: CodeStore, root: string, signal?: AbortSignal): Promise<ResolutionStats> {
  const updates: [number, string | null, number][] = [];
  const { resolver, files, imports, entities } = await loadResolver(store, root, updates, signal);
  const decide = (ref: Ref): string | null => {
    const dst = resolver.resolveRef(ref);
    noteChange(updates, ref, dst);
    return dst;
  };
  const stats: ResolutionStats = { byLanguage: {} };
  // Calls page by page (spring-framework has 504,000): the resolver holds the definitions, not every call.
  for (let after = 0; ;) {
    const page = await pagedRefs(store, "kind IN ('calls', 'aliases')", after, CALL_PAGE);
    if (page.length === 0) break;
    after = page[page.length - 1]!.id;
    for (const ref of page) {
      const dst = decide(ref);
      if (ref.kind !== 'calls') continue;
      const lang = files.get(ref.file)?.language ?? 'unknown';
      const s = (stats.byLanguage[lang] ??= { calls: 0, resolved: 0 });
      s.calls++;
      if (dst) s.resolved++;
    }
    await store.updateEdges(updates);
    updates.length = 0;
    collectGarbageSometimes();
    await checkpoint(signal);
  }
  await rebuildImportEdges(store, resolver, imports, entities);
  return stats;
}

/**
 * A full collection once the heap has grown by GC_GROWTH (64 MB) since the last one. Each page of calls
 * leaves its rows and the resolver's temporary lists behind, and V8 lets a main thread with room
 * to grow keep them: spring-framework's resolution took RSS from ~500 MB to ~1 GB of mostly
 * garbage. ~0.1-0.2 s per collection there.
 */
function collectGarbageSometimes(): void {
  const used = process.memoryUsage().heapUsed;
  if (used < lastLive + GC_GROWTH) return;
  collectGarbage();
  lastLive = process.memoryUsage().heapUsed;
}

const GC_GROWTH = 64 << 20;
let lastLive = 0;

/**
 * Every definition, read ENTITY_PAGE rows at a time (keyset on key: the same order as one query).
 * Each row comes with its own copy of every string; the resolver keeps all entities for the whole
 * resolution, so repeated names, qualified names, files, kinds and languages are made one string,
 * and a parent key the parent's own key (spring-framework: 120,000 entities). One query for a
 * 50 MB file's 933,831 entities held ~125 MB more RSS than reading them in pages, and sharing
 * took its entities from 336 to 187 MB of heap (measured 2026-12-04).
 */
async function loadEntities(store: CodeStore, signal: AbortSignal | undefined): Promise<Ent[]> {
  const seen = new Map<string, string>();
  const one = (s: string): string => {
    const t = seen.get(s);
    if (t !== undefined) return t;
    seen.set(s, s);
    return s;
  };
  const entities: Ent[] = [];
  for (let after = '';;) {
    const page = await store.query<Ent>(`SELECT key, name, qualified_name AS qname, kind, language, file, parent_key AS parent FROM entities
      WHERE key > ? ORDER BY key LIMIT ${ENTITY_PAGE}`, [after]);
    if (page.length === 0) break;
    for (const e of page) {
      e.key = one(e.key);
      e.name = one(e.name);
      e.qname = one(e.qname);
      e.kind = one(e.kind);
      e.language = one(e.language);
      e.file = one(e.file);
      entities.push(e);
    }
    after = page[page.length - 1]!.key;
    // The rows' own copies of the shared strings are garbage now; collected, the heap stays near what is kept.
    collectGarbageSometimes();
    await checkpoint(signal);
  }
  for (const e of entities) if (e.parent !== null) e.parent = one(e.parent);
  return entities;
}

const ENTITY_PAGE = 100_000;

/** Calls read and resolved per page: ~20,000 rows of ~0.5 KB as JS objects at a time. */
const CALL_PAGE = 20000;

/** Edges of some kinds after id `after` in id order (all of them, or a page of `limit`). */
async function pagedRefs(store: CodeStore, kinds: string, after: number, limit?: number): Promise<Ref[]> {
  const refs = await store.query<Ref>(`SELECT id, src, kind, file, dst_name AS name, receiver, dst, resolved FROM edges
    WHERE ${kinds} AND id > ? ORDER BY id${limit ? ` LIMIT ${limit}` : ''}`, [after]);
  // PostgreSQL returns BIGINT as a string; SQLite already gives numbers.
  if (store.dialect !== 'sqlite') for (const r of refs) { r.id = Number(r.id); r.resolved = Number(r.resolved); }
  return refs;
}

async function rebuildImportEdges(store: CodeStore, resolver: Resolver, imports: Import[], entities: Ent[]): Promise<void> {
  const moduleOf = new Map<string, string>();
  for (const e of entities) if (e.kind === 'module') moduleOf.set(e.file, e.key);
  await store.execute("DELETE FROM edges WHERE kind = 'imports'");
  const rows: unknown[][] = [];
  const seen = new Set<string>();
  for (const i of imports) {
    // `from . import views`: the import is of the submodule views, not of the package.
    const sub = resolver.files.get(i.file)?.family === 'py' && i.name !== '' && i.name !== '*' ? resolver.pythonSubmodule(i.file, i.module, i.name) : null;
    const id = `${i.file}\n${sub ? `${i.module}\n${i.name}` : i.module}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const src = moduleOf.get(i.file);
    if (!src) continue;
    // A Go import names a package (a folder of files): the edge goes to its first file's module.
    let targets = sub ?? resolver.modules.resolve(i.file, i.module).sort();
    // A Java import names a class of a package: the file that defines it.
    if (resolver.files.get(i.file)?.family === 'java' && i.name !== '*') targets = resolver.filesDefining(targets, i.name);
    const dst = targets.length === 1 || (targets.length > 1 && resolver.files.get(i.file)?.family === 'go') ? moduleOf.get(targets[0]!) ?? null : null;
    rows.push([src, dst, 'imports', i.file, i.line, sub ? `${i.module}${i.module.endsWith('.') ? '' : '.'}${i.name}` : i.module, '', dst ? 1 : 0]);
  }
  await store.insertMany('edges', EDGE_COLUMNS, rows);
}
