/**
 * One parsed file → entities, references and imports (compact rows, see facts.ts). Runs in the
 * workers. Every capture of the language's query comes back in one native call; definitions are
 * then nested by byte range with one sweep in start order (a stack of open definitions), which
 * also gives each call, base type and binding its enclosing definition.
 */
import type ParserType from 'tree-sitter';
import { memberSeparator, type Language } from './languages.js';
import { CLASS_LIKE, type EntityKind, type EntityRow, type ImportRow, type RefKind, type RefRow } from './facts.js';
import { parseImport } from './imports.js';
import { STD_POINTER_PATH } from './values.js';

type Node = ParserType.SyntaxNode;

interface Def { node: Node; name: string; qualifiedName?: string; kind: EntityKind; owner?: string; recvName?: string; aliasOf?: string; returns?: string; pinned?: boolean }
/** `ctor`: a declared or constructed class; `chain`: an expression whose value's type is followed (index: its tuple element). */
interface Bind { name: string; ctor?: string; chain?: Node; index?: number; unwrap?: boolean; element?: boolean; pointerNew?: boolean }
interface Item {
  start: number; end: number; order: number; def?: Def; ref?: { kind: RefKind; callee: Node; receiver?: Node }; base?: { kind: RefKind; node: Node };
  bind?: Bind; imp?: Node; local?: string; localFrom?: number; retval?: { node: Node; yielded: boolean }; decorator?: { target: number; text: string }; fxparam?: string;
  attr?: { name: Node; type?: Node; value?: Node }; gparam?: { name: string; line: number; bounds?: Node }
}

export interface Extracted { entities: EntityRow[]; refs: RefRow[]; imports: ImportRow[]; pkg: string }

const MAX_SIGNATURE = 200;
const MAX_NAME = 200;

export function extractFacts(language: Language, text: string, tree: ParserType.Tree, query: ParserType.Query, includeCode: boolean): Extracted {
  const items: Item[] = [];
  let pkg = '';
  for (const m of query.matches(tree.rootNode)) {
    const item = itemOf(language, m.captures);
    if (item === 'package') pkg = m.captures[0]!.node.text;
    else if (item) items.push(item);
  }
  // Outer definitions before what they contain; a definition before a reference at its start.
  items.sort((a, b) => a.start - b.start || a.order - b.order || b.end - a.end);
  return sweep(language, text, items, includeCode, pkg);
}

function capture(captures: ParserType.QueryCapture[], name: string): Node | undefined {
  for (const c of captures) if (c.name === name) return c.node;
  return undefined;
}

function itemOf(language: Language, captures: ParserType.QueryCapture[]): Item | 'package' | null {
  for (const c of captures) {
    const n = c.node;
    if (c.name.startsWith('def.')) {
      const def = defOf(language, c.name.slice(4), n, captures);
      return def ? { start: n.startIndex, end: n.endIndex, order: 0, def } : null;
    }
    if (c.name === 'call' || c.name === 'new') {
      const callee = capture(captures, 'callee');
      if (!callee) return null;
      return { start: n.startIndex, end: n.endIndex, order: 1, ref: { kind: c.name === 'call' ? 'calls' : 'new', callee, receiver: capture(captures, 'receiver') } };
    }
    if (c.name === 'base.extends' || c.name === 'base.implements') {
      return { start: n.startIndex, end: n.endIndex, order: 1, base: { kind: c.name === 'base.extends' ? 'extends' : 'implements', node: n } };
    }
    if (c.name === 'bind') {
      const v = capture(captures, 'var');
      const ctor = capture(captures, 'ctor');
      const chain = capture(captures, 'chain');
      if (!v || (!ctor && !chain)) return null;
      if (ctor) return { start: n.startIndex, end: n.endIndex, order: 1, bind: { name: v.text, ctor: ctor.text.replace(/\s+/g, ' '), pointerNew: isPointerNew(n) } };
      // After a declared or constructed class of the same statement (order 2), which wins over it.
      // Each `.parent` is a call into the native tree: asked once per node.
      const vParent = v.parent;
      const elem = vParent?.type === 'mut_pattern' ? vParent : v;
      const elemParent = elem === v ? vParent : elem.parent;
      const index = elemParent?.type === 'tuple_pattern' ? elemParent.namedChildren.findIndex((x) => x.startIndex === elem.startIndex) : undefined;
      // `if let Some(x) = …` / `while let Ok(x) = …`: x is the value inside the Option or Result.
      const unwrap = vParent?.type === 'tuple_struct_pattern';
      // `for x in items`: x is an element.
      const element = n.type === 'for_expression';
      return { start: n.startIndex, end: n.endIndex, order: 2, bind: { name: v.text, chain: chain!, index, unwrap, element } };
    }
    if (c.name === 'return' || c.name === 'yield') {
      const value = capture(captures, 'retval');
      return value ? { start: n.startIndex, end: n.endIndex, order: 1, retval: { node: value, yielded: c.name === 'yield' } } : null;
    }
    if (c.name === 'decorator') {
      const target = n.parent?.childForFieldName('definition');
      return target ? { start: n.startIndex, end: n.endIndex, order: 1, decorator: { target: target.startIndex, text: n.text } } : null;
    }
    if (c.name === 'selfattr') {
      const name = capture(captures, 'attr');
      return name ? { start: n.startIndex, end: n.endIndex, order: 1, attr: { name, type: capture(captures, 'attrtype'), value: capture(captures, 'attrval') } } : null;
    }
    if (c.name === 'gparam') return { start: n.startIndex, end: n.endIndex, order: 1, gparam: { name: n.text, line: n.startPosition.row + 1, bounds: capture(captures, 'gbounds') } };
    if (c.name === 'fxparam') return { start: n.startIndex, end: n.endIndex, order: 1, fxparam: n.text };
    if (c.name === 'import') return { start: n.startIndex, end: n.endIndex, order: 1, imp: n };
    if (c.name === 'local') {
      // Rust only, where the parent says something: a generated 15 MB JavaScript file spent 1.3 of
      // its 45 worker CPU-s (profiled under load) asking every local's parent.
      const parent = language === 'rust' ? n.parent : null;
      // `Some(x) =>` binds x, not the variant's name.
      if (parent?.type === 'tuple_struct_pattern' && parent.childForFieldName('type')?.startIndex === n.startIndex) return null;
      return { start: n.startIndex, end: n.endIndex, order: 1, local: n.text, localFrom: parent?.type === 'let_declaration' ? parent.endIndex : 0 };
    }
    if (c.name === 'package') return 'package';
  }
  return null;
}

function defOf(language: Language, kindName: string, node: Node, captures: ParserType.QueryCapture[]): Def | null {
  if (kindName === 'decl') return cDeclarator(node, capture(captures, 'decl'));
  if (kindName === 'tfield') return tupleField(language, node);
  const nameNode = capture(captures, 'name');
  if (!nameNode) return null;
  let name = stripGenerics(nameNode.text);
  let kind = kindName as EntityKind;
  if (kindName === 'type') {
    const t = capture(captures, 'typeval')?.type;
    kind = t === 'struct_type' ? 'struct' : t === 'interface_type' ? 'interface' : 'type_alias';
  }
  if (kind === 'constant' && language === 'python' && !/^[A-Z][A-Z0-9_]*$/.test(name)) return null;
  let aliasOf: string | undefined;
  if (kind === 'constant' && isJs(language)) {
    // `const f = () => …` is a function (its own pattern); `const x = …` anything else a constant,
    // and `const f = g` an alias of whatever `g` is.
    if (node.parent?.firstChild?.type !== 'const') return null;
    const value = capture(captures, 'value');
    if (!value || FUNCTION_VALUES.has(value.type)) return null;
    // `const m = require('./m')` is an import (imports.ts), not a definition.
    if (value.type === 'call_expression' && value.childForFieldName('function')?.text === 'require') return null;
    if (value.type === 'identifier') aliasOf = value.text;
  }
  if (kind === 'namespace' || kind === 'module') name = name.replace(/\s+/g, '');
  const owner = capture(captures, 'owner')?.text;
  const pinned = language === 'rust' && (kind === 'field' ? pinAttribute(node) : kind === 'function' && pinnedSelf(node));
  return { node, name, kind, owner, recvName: capture(captures, 'recvname')?.text, aliasOf, returns: returnType(language, node, capture(captures, 'ret')), pinned };
}

/** A Rust tuple struct's field (`struct ReadHalf<'a>(&'a TcpStream)`): named by its position, `self.0`. */
function tupleField(language: Language, type: Node): Def | null {
  const index = type.parent?.childrenForFieldName('type').findIndex((t) => t.startIndex === type.startIndex) ?? -1;
  if (index < 0) return null;
  return { node: type, name: String(index), kind: 'field', returns: returnType(language, type, type), pinned: pinAttribute(type) };
}

/** A Rust function taking `self: Pin<…>`: a method called only on a Pin of its type. */
function pinnedSelf(fn: Node): boolean {
  const first = fn.childForFieldName('parameters')?.namedChildren.find((p) => p.type === 'parameter' || p.type === 'self_parameter');
  return first?.type === 'parameter' && first.childForFieldName('pattern')?.type === 'self'
    && /^(?:(?:std|core)::pin::)?Pin\s*</.test(first.childForFieldName('type')?.text ?? '');
}

/** A Rust field marked `#[pin]` (pin-project: its projection is a `Pin<&mut T>`). */
function pinAttribute(field: Node): boolean {
  for (let a = field.previousNamedSibling; a?.type === 'attribute_item'; a = a.previousNamedSibling) if (/^#\[\s*pin\s*\]$/.test(a.text)) return true;
  return false;
}

/** A declared return type as written (whitespace collapsed); a Rust `async fn`'s is marked `async ` (its value needs `.await`). */
function returnType(language: Language, node: Node, ret: Node | undefined): string | undefined {
  if (!ret) return undefined;
  const text = ret.text.replace(/\s+/g, ' ').trim();
  if (language === 'rust' && node.children.some((c) => c.type === 'function_modifiers' && /\basync\b/.test(c.text))) return `async ${text}`;
  return text;
}

const FUNCTION_VALUES = new Set(['arrow_function', 'function_expression', 'function', 'generator_function']);

function isJs(language: Language): boolean {
  return language === 'javascript' || language === 'typescript' || language === 'tsx';
}

/**
 * JS/TS: node types a definition may sit in and still be named in its enclosing scope. Anything
 * else between it and the enclosing definition (a call's arguments, an object literal, a callback)
 * makes it visible only inside that expression: `createApp({ render() {} })` binds no `render`.
 */
const JS_SCOPE_TRANSPARENT = new Set(['program', 'export_statement', 'lexical_declaration', 'variable_declaration', 'variable_declarator',
  'class_body', 'class_declaration', 'abstract_class_declaration', 'class', 'statement_block', 'expression_statement', 'assignment_expression',
  'if_statement', 'else_clause', 'internal_module', 'module', 'ambient_declaration', 'interface_body', 'interface_declaration', 'object_type',
  'try_statement', 'catch_clause', 'finally_clause', 'member_expression', 'decorator', 'public_field_definition']);

/** Definitions that bind their name in the scope they sit in (not object members or named function expressions). */
const JS_DECLARATIONS = new Set(['function_declaration', 'generator_function_declaration', 'variable_declarator', 'class_declaration', 'abstract_class_declaration']);

/**
 * null when a JS/TS definition is named in its enclosing definition's scope; otherwise the
 * anonymous function whose body it is named in (`it('…', () => { function helper() {} })`), or
 * 'nowhere' (an object literal's member, a named function expression passed as an argument).
 */
function anonymousScope(node: Node, owner: Open | undefined): Node | 'nowhere' | null {
  for (let p = node.parent; p; p = p.parent) {
    if (owner && p.startIndex === owner.start && p.endIndex === owner.end) return null;
    if (FUNCTION_VALUES.has(p.type) || p.type === 'object') {
      // The function or object that is the enclosing definition's own value (`const f = () => {…}`).
      const up = p.parent;
      if (owner && up && up.startIndex === owner.start && up.endIndex === owner.end) return null;
      return p.type === 'object' || !JS_DECLARATIONS.has(node.type) ? 'nowhere' : p;
    }
    if (!JS_SCOPE_TRANSPARENT.has(p.type)) return 'nowhere';
  }
  return null;
}

/** A JS/TS definition named only inside an anonymous function, and where that function's text is. */
interface AnonymousDef { start: number; end: number; name: string; index: number }

/**
 * Bare calls inside an anonymous function to a definition named in it (hoisted: a call may come
 * first) get the receiver `@N` (entity N of this file; write.ts turns it into the key). The
 * innermost such function decides; two definitions of one name there leave the call alone.
 */
function bindAnonymousCalls(refs: RefRow[], bare: { ref: number; at: number }[], defs: AnonymousDef[]): void {
  if (defs.length === 0) return;
  for (const b of bare) {
    const row = refs[b.ref]!;
    let best: AnonymousDef[] = [];
    for (const d of defs) {
      if (d.name !== row[3] || b.at < d.start || b.at >= d.end) continue;
      if (best.length === 0 || d.end - d.start < best[0]!.end - best[0]!.start) best = [d];
      else if (d.start === best[0]!.start && d.end === best[0]!.end) best.push(d);
    }
    if (best.length === 1) row[4] = `@${best[0]!.index}`;
  }
}

/** C/C++ function definitions: the name sits under pointer/reference declarators. */
function cDeclarator(node: Node, decl: Node | undefined): Def | null {
  let d: Node | null | undefined = decl;
  while (d && d.type !== 'function_declarator') d = d.childForFieldName('declarator');
  const nameNode = d?.childForFieldName('declarator');
  if (!nameNode) return null;
  const text = nameNode.text.replace(/\s+/g, '');
  const cut = text.lastIndexOf('::');
  if (cut < 0) return { node, name: text, kind: 'function' };
  return { node, name: text.slice(cut + 2), qualifiedName: text, kind: 'function', owner: text.slice(0, cut) };
}

function stripGenerics(s: string): string {
  const lt = s.indexOf('<');
  return (lt > 0 ? s.slice(0, lt) : s).trim();
}

/**
 * An open definition during the sweep. `binds`: locals whose value is known, as a chain (see
 * chainOf; `<C>` a value of class C). Python functions also gather what they return or yield
 * (`returns`, null once one is not followable) and whether pytest injects their parameters.
 */
interface Open {
  start: number; end: number; index: number; qualified: string; kind: EntityKind; recvName?: string; binds?: Map<string, string>; locals?: Map<string, number>;
  declared?: string; returns?: (string | null)[]; yields?: (string | null)[]; pytest?: 'test' | 'fixture'; fixtureName?: string; overload?: boolean; parametrized?: Set<string>;
  /** Python classes: `self.x = …` in their methods, by attribute: where first, and each value (a type, a chain, or null). */
  attrs?: Map<string, { line: number; values: (string | null)[] }>
}

/** Where a definition's local names live: functions and methods (not classes or modules). */
const SCOPE_KINDS: ReadonlySet<EntityKind> = new Set(['function', 'method']);

function sweep(language: Language, text: string, items: Item[], includeCode: boolean, pkg: string): Extracted {
  const sep = memberSeparator(language);
  const entities: EntityRow[] = [];
  const refs: RefRow[] = [];
  const imports: ImportRow[] = [];
  const stack: Open[] = [];
  const namespaces = new Set<string>();
  const anonymous: AnonymousDef[] = [];
  const bare: { ref: number; at: number }[] = [];
  const decorators = new Map<number, string[]>();
  // `pytest_generate_tests` may parametrize any argument; `pytestmark` may parametrize a whole module.
  const generated = language === 'python' && /\bpytest_generate_tests\b/.test(text);
  const moduleParams = language === 'python' && /\bpytestmark\b/.test(text) ? parametrizedNames(text) : new Set<string>();
  const pyFunctions: Open[] = [];
  const pyClasses: Open[] = [];
  let ctorBindAt = -1;
  for (const it of items) {
    while (stack.length > 0 && stack[stack.length - 1]!.end <= it.start) stack.pop();
    const top = stack[stack.length - 1];
    const src = top ? top.index : -1;
    if (it.def) {
      const d = it.def;
      const scope = isJs(language) ? anonymousScope(d.node, top) : null;
      const row = entityRow(language, sep, d, top, text, includeCode, namespaces, scope !== null);
      if (d.kind === 'namespace') namespaces.add(d.name);
      entities.push(row);
      if (scope !== null && scope !== 'nowhere') anonymous.push({ start: scope.startIndex, end: scope.endIndex, name: d.name, index: entities.length - 1 });
      const open: Open = { start: it.start, end: it.end, index: entities.length - 1, qualified: row[1], kind: row[2], recvName: d.recvName ?? enclosingRecv(stack) };
      stack.push(open);
      if (d.aliasOf) refs.push([entities.length - 1, 'aliases', d.node.startPosition.row + 1, cut(d.aliasOf, MAX_NAME), localReceiver(stack, d.aliasOf, 1)]);
      if (language === 'python' && SCOPE_KINDS.has(row[2])) {
        const decorated = decorators.get(it.start) ?? [];
        pytestRole(open, d, top, decorated, !generated);
        open.parametrized = parametrizedNames([...decorated, ...(top ? decorators.get(top.start) ?? [] : [])].join('\n'));
        for (const n of moduleParams) open.parametrized.add(n);
        open.overload = decorated.some((t) => /^@\s*(?:typing\s*\.\s*|t\s*\.\s*)?overload\s*$/.test(t));
        open.declared = d.returns;
        pyFunctions.push(open);
      } else if ((d.returns !== undefined || d.pinned) && FOLLOWS_VALUES.has(language)) {
        // A pinned field or `self: Pin<…>` method gets its row even without a declared type (marker `pin`).
        refs.push([open.index, 'returns', row[3], cut(d.returns ?? '', MAX_NAME), d.pinned ? 'pin' : '']);
      }
    } else if (it.ref) {
      const r = refOf(it.ref.kind, it.ref.callee, it.ref.receiver, stack, language);
      if (r && !(r.receiver === '' && NOT_CALLS.has(r.name))) {
        const receiver = r.receiver === '' && r.kind === 'calls' && language !== 'java' ? localReceiver(stack, r.name, 0, it.start) : r.receiver;
        if (receiver === '' && r.kind === 'calls') bare.push({ ref: refs.length, at: it.start });
        refs.push([src, r.kind, it.ref.callee.startPosition.row + 1, r.name, receiver]);
      }
    } else if (it.local !== undefined) {
      // Not the name a definition itself binds (`const f = () => …` is f's own declarator).
      if (top && SCOPE_KINDS.has(top.kind) && it.start !== top.start) {
        const locals = (top.locals ??= new Map());
        locals.set(it.local, Math.min(locals.get(it.local) ?? Infinity, it.localFrom ?? 0));
      }
    } else if (it.base) {
      const name = stripGenerics(it.base.node.text.replace(/\s+/g, ''));
      if (name) refs.push([src, it.base.kind, it.base.node.startPosition.row + 1, cut(name, MAX_NAME), '']);
    } else if (it.bind && top) {
      // `let a = Arc::new(x)`: the chain (x's value in an Arc) says more than the pointer's name.
      if (it.bind.ctor !== undefined && !(language === 'rust' && it.bind.pointerNew)) {
        ctorBindAt = it.start;
        bind(top, it.bind.name, `<${it.bind.ctor}>`);
      } else if (ctorBindAt !== it.start && (language !== 'python' || SCOPE_KINDS.has(top.kind))) {
        // A declared or constructed class of the same statement (`let c = C::new()`) already decided.
        // An expression we cannot follow binds nothing, as before values were followed.
        const value = chainValue(it.bind, stack, language);
        if (value) bind(top, it.bind.name, value);
      }
    } else if (it.retval) {
      if (top && language === 'python' && SCOPE_KINDS.has(top.kind)) {
        const value = it.retval.node.type === 'none' ? null : chainOf(it.retval.node, stack, language);
        (it.retval.yielded ? (top.yields ??= []) : (top.returns ??= [])).push(value);
      }
    } else if (it.decorator) {
      const list = decorators.get(it.decorator.target);
      if (list) list.push(it.decorator.text);
      else decorators.set(it.decorator.target, [it.decorator.text]);
    } else if (it.attr) {
      // Only in a method of the class itself (not a closure inside it): the attribute of that class.
      const cls = stack[stack.length - 2];
      if (top && SCOPE_KINDS.has(top.kind) && cls?.kind === 'class' && language === 'python') {
        // A declared type as written, or `=CHAIN` (null: a value we cannot follow).
        const chain = !it.attr.type && it.attr.value && it.attr.value.type !== 'none' ? chainOf(it.attr.value, stack, language) : undefined;
        const value = it.attr.type ? it.attr.type.text.replace(/\s+/g, ' ') : chain === undefined ? undefined : chain === null ? null : `=${chain}`;
        if (value !== undefined) {
          const attrs = (cls.attrs ??= new Map());
          const seen = attrs.get(it.attr.name.text);
          if (seen) seen.values.push(value);
          else attrs.set(it.attr.name.text, { line: it.attr.name.startPosition.row + 1, values: [value] });
          if (!pyClasses.includes(cls)) pyClasses.push(cls);
        }
      }
    } else if (it.gparam) {
      if (top && it.gparam.name !== 'Self') for (const b of boundNames(it.gparam.bounds)) refs.push([top.index, 'bounds', it.gparam.line, cut(b, MAX_NAME), it.gparam.name]);
    } else if (it.fxparam !== undefined) {
      const name = it.fxparam;
      if (top?.pytest && it.start !== top.start && name !== 'self' && name !== 'cls' && !top.parametrized?.has(name)) bind(top, name, `<fx:0:${name}>`);
    } else if (it.imp) {
      for (const row of parseImport(language, it.imp.text)) imports.push([it.imp.startPosition.row + 1, row[0], row[1], row[2]]);
    }
  }
  bindAnonymousCalls(refs, bare, anonymous);
  for (const f of pyFunctions) pythonReturns(f, entities[f.index]!, refs);
  for (const c of pyClasses) pythonAttributes(c, entities, refs);
  return { entities, refs, imports, pkg };
}

/**
 * The traits a Rust generic parameter's bounds name, as written without type arguments
 * (`AsyncRead`, `io::Write`); '' when it names none (it is still a parameter: `<T>`, `T: ?Sized`,
 * `F: Fn()`, lifetimes).
 */
function boundNames(bounds: Node | undefined): string[] {
  const out: string[] = [];
  for (const b of bounds?.namedChildren ?? []) {
    const t = b.type === 'generic_type' ? b.childForFieldName('type') : b;
    if (t && (t.type === 'type_identifier' || t.type === 'scoped_type_identifier')) out.push(t.text.replace(/\s+/g, ''));
  }
  return out.length > 0 ? out : [''];
}

/** Languages whose call chains and declared return types are followed (resolve.ts valueOf). */
const FOLLOWS_VALUES: ReadonlySet<Language> = new Set(['python', 'rust']);

/** Two different values bound to one name: we cannot tell which a later call means (''). */
function bind(top: Open, name: string, value: string): void {
  const binds = (top.binds ??= new Map());
  const prev = binds.get(name);
  binds.set(name, prev === undefined || prev === value ? value : '');
}

/**
 * pytest: a function whose plain parameters are fixtures — a fixture (`@pytest.fixture`, its name
 * possibly given by `name=`), or a test (`test*` at module level or in a `Test*` class; resolve.ts
 * checks the file is a test module). A file that defines `pytest_generate_tests` may parametrize
 * any parameter, so there no function gets fixtures.
 */
function pytestRole(open: Open, d: Def, parent: Open | undefined, decorators: string[], testsApply: boolean): void {
  const fixture = decorators.find((t) => /^@\s*(?:pytest\s*\.\s*)?fixture\b/.test(t));
  if (fixture !== undefined) {
    open.pytest = 'fixture';
    open.fixtureName = /\bname\s*=\s*["'](\w+)["']/.exec(fixture)?.[1] ?? d.name;
  } else if (d.name.startsWith('test') && (!parent || (parent.kind === 'class' && lastSegment(parent.qualified).startsWith('Test')))) {
    open.pytest = 'test';
  }
  if (!testsApply && open.pytest === 'test') open.pytest = undefined;
}

function lastSegment(qualified: string): string {
  return qualified.slice(qualified.lastIndexOf('.') + 1);
}

/**
 * Names `parametrize` calls in `text` give values to (each string of their first 400 characters,
 * split at commas: over-inclusive, which only leaves a fixture unfollowed). Read from a test's
 * decorators and its class's, and from the whole module when it sets `pytestmark`.
 */
function parametrizedNames(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/parametrize\s*\(/g)) {
    const head = text.slice(m.index! + m[0].length, m.index! + m[0].length + 400);
    for (const q of head.matchAll(/["']([\w\s,]+)["']/g)) for (const n of q[1]!.split(',')) out.add(n.trim());
  }
  return out;
}

/**
 * A Python function's `returns` row: its declared return type, else — when every value it returns
 * is the same followable chain (a fixture: every value it yields, if it yields) — that chain
 * (`=Flask()`). A generator's returns are not its value. A fixture always gets a row (receiver
 * `fixture`, or `fixture:NAME` when renamed), so a nearer fixture of unknown value still hides a
 * farther one. An `@overload` stub is marked `overload` (a call means the implementation).
 */
function pythonReturns(f: Open, row: EntityRow, refs: RefRow[]): void {
  let value = '';
  if (f.declared !== undefined) value = cut(f.declared, MAX_NAME);
  else {
    const values = f.pytest === 'fixture' && f.yields ? f.yields : f.yields ? undefined : f.returns;
    const first = values?.[0];
    if (values && first && first.length <= MAX_NAME && values.every((v) => v === first)) value = `=${first}`;
  }
  const marker = f.pytest === 'fixture' ? (f.fixtureName === row[0] ? 'fixture' : `fixture:${f.fixtureName}`) : f.overload ? 'overload' : '';
  if (value || marker) refs.push([f.index, 'returns', row[3], value, marker]);
}

/**
 * Python instance attributes (`self.config = self.make_config()` in a method) as `field` entities
 * of their class, each with a `returns` row when every assignment in the class gives one value (a
 * declared `self.x: T`, or one followable chain; `None` ignored). An attribute named like a
 * definition of the class (a method) is left to that definition.
 */
function pythonAttributes(cls: Open, entities: EntityRow[], refs: RefRow[]): void {
  const own = new Set<string>();
  for (const e of entities) if (e[6] === cls.index) own.add(e[0]);
  for (const [name, a] of cls.attrs ?? []) {
    if (own.has(name)) continue;
    entities.push([cut(name, MAX_NAME), cut(`${cls.qualified}.${name}`, MAX_NAME * 2), 'field', a.line, a.line, cut(`self.${name}`, MAX_SIGNATURE), cls.index, null]);
    const first = a.values[0];
    if (first && first.length <= MAX_NAME && a.values.every((v) => v === first)) {
      refs.push([entities.length - 1, 'returns', a.line, first, '']);
    }
  }
}

/** A bound local's value: the chain of its expression (a tuple element `.#N`); undefined for `None` (no methods to call). */
function chainValue(b: Bind, stack: Open[], language: Language): string | null | undefined {
  if (!b.chain || b.chain.type === 'none') return undefined;
  if (!FOLLOWS_VALUES.has(language)) return null;
  let chain = chainOf(b.chain, stack, language);
  if (chain === null) return null;
  // Rust: `let rt = rt.clone();` — Clone::clone returns Self, so the value keeps its type.
  if (language === 'rust' && chain.endsWith('.clone()')) chain = chain.slice(0, -8);
  if (b.unwrap) return `${chain}?`;
  if (b.element) return `${chain}.[]`;
  return b.index !== undefined && b.index >= 0 ? `${chain}.#${b.index}` : chain;
}

/**
 * An expression as a call chain resolve.ts can follow, or null: a head — a path resolved where the
 * call is (`Builder::new_multi_thread`, `flask.Flask`), `<self>`, a bound local's own chain, or a
 * pytest fixture `<fx:N:name>` (N scopes up from the reference) — then steps: `()` a call, `.name`,
 * `?`, `.await`, `.#N` a tuple element. `Builder::new().enable_all().build()?`.
 */
function chainOf(n: Node, stack: Open[], language: Language, depth = 0): string | null {
  if (depth > 16) return null;
  const inner = (x: Node | null | undefined): string | null => (x ? chainOf(x, stack, language, depth + 1) : null);
  switch (n.type) {
    case 'parenthesized_expression': return inner(n.namedChildren[0]);
    case 'call': case 'call_expression': {
      const held = pointerNew(n);
      if (held) {
        const arg = inner(held.arg);
        return arg === null ? null : `${arg}!${held.ptr}`;
      }
      const f = inner(n.childForFieldName('function'));
      return f === null ? null : `${f}()`;
    }
    case 'generic_function': return inner(n.childForFieldName('function'));
    case 'attribute': case 'field_expression': {
      const object = inner(n.childForFieldName(n.type === 'attribute' ? 'object' : 'value'));
      const field = n.childForFieldName(n.type === 'attribute' ? 'attribute' : 'field');
      if (object === null || !field) return null;
      return field.type === 'integer_literal' ? `${object}.#${field.text}` : `${object}.${field.text}`;
    }
    case 'try_expression': { const v = inner(n.namedChildren[0]); return v === null ? null : `${v}?`; }
    // Rust `&x` is x's value for calls (auto-ref); `*x` what x points at; `x[i]` an element.
    case 'reference_expression': return inner(n.childForFieldName('value'));
    case 'unary_expression': { const v = n.text.startsWith('*') ? inner(n.namedChildren[0]) : null; return v === null ? null : `${v}.*`; }
    case 'index_expression': { const v = inner(n.namedChildren[0]); return v === null ? null : `${v}.[]`; }
    case 'await_expression': { const v = inner(n.namedChildren[0]); return v === null ? null : `${v}.await`; }
    // `self: Pin<&mut Self>` (a declared type of self) is followed as that type.
    case 'self': return boundValue(stack, 'self') ?? '<self>';
    case 'scoped_identifier': {
      const path = n.text.replace(/\s+/g, '').replace(/::<[^()]*?>/g, '');
      return SIMPLE_PATH.test(path) ? path : null;
    }
    case 'identifier': {
      if (language === 'python' && (n.text === 'self' || n.text === 'cls')) return '<self>';
      const b = boundValue(stack, n.text);
      return b === undefined ? n.text : b;
    }
    default: return null;
  }
}

/**
 * Rust `Arc::new(x)`, `Rc::new(x)`, `Box::new(x)`, `Pin::new(&mut x)` (also by std path): the pointer and its one
 * argument, whose value the pointer holds (resolve.ts checks the tree defines no such type).
 */
const POINTER_PATH = new RegExp(`^${STD_POINTER_PATH}$`);

function pointerNew(call: Node): { ptr: string; arg: Node | undefined } | null {
  const f = call.childForFieldName('function');
  if (f?.type !== 'scoped_identifier' || f.childForFieldName('name')?.text !== 'new') return null;
  const ptr = POINTER_PATH.exec(f.childForFieldName('path')?.text.replace(/\s+/g, '') ?? '')?.[1];
  if (!ptr) return null;
  const args = call.childForFieldName('arguments')?.namedChildren ?? [];
  return { ptr, arg: args.length === 1 ? args[0] : undefined };
}

function isPointerNew(bind: Node): boolean {
  const value = bind.childForFieldName('value');
  return value?.type === 'call_expression' && pointerNew(value) !== null;
}

/** A bound local's value as seen from the innermost open definition: a chain, null (a local of unknown value), undefined (not a local). */
function boundValue(stack: Open[], name: string): string | null | undefined {
  for (let i = stack.length - 1; i >= 0; i--) {
    const b = stack[i]!.binds?.get(name);
    // `<fx:N:…>` counts scopes from where the value was bound; from here it is further up.
    if (b !== undefined) return b === '' ? null : shiftFixtures(b, stack.length - 1 - i);
    if (stack[i]!.locals?.has(name)) return null;
  }
  return undefined;
}

function shiftFixtures(chain: string, by: number): string {
  return by === 0 ? chain : chain.replace(/<fx:(\d+):/g, (_, n: string) => `<fx:${Number(n) + by}:`);
}

/** A receiver for a bound value: `new:C` for a value of a known class, else `=chain`. */
function receiverOf(value: string): string {
  const m = /^<([^<>]+)>$/.exec(value);
  return m && m[1] !== 'self' && !m[1]!.startsWith('fx:') ? `new:${m[1]}` : `=${value}`;
}

/**
 * A bare name bound as a local or parameter of an enclosing function shadows every outer
 * definition: `local:N`, N scopes up from the reference's source (resolve.ts then looks only at
 * functions defined in that scope).
 * `skip` open definitions are left out (an alias's own scope). A Rust `let` binds from the end of
 * its statement (`let rt = rt();` calls the function `rt`); elsewhere a local binds in the whole
 * function, as Python and JavaScript scope it.
 */
function localReceiver(stack: Open[], name: string, skip: number, at = Infinity): string {
  for (let i = stack.length - 1 - skip; i >= 0; i--) if ((stack[i]!.locals?.get(name) ?? Infinity) <= at) return `local:${stack.length - 1 - skip - i}`;
  return '';
}

function enclosingRecv(stack: Open[]): string | undefined {
  for (let i = stack.length - 1; i >= 0; i--) if (stack[i]!.recvName) return stack[i]!.recvName;
  return undefined;
}

/** Marks a definition visible only inside an anonymous expression (see anonymousScope). */
export const ANONYMOUS_SCOPE = '<anonymous>';

function entityRow(language: Language, sep: string, d: Def, parent: Open | undefined, text: string, includeCode: boolean, namespaces: Set<string>, hidden: boolean): EntityRow {
  let kind = d.kind;
  let qualified: string;
  if (d.owner !== undefined && language === 'go') {
    qualified = `${stripGenerics(d.owner)}.${d.name}`;
    kind = 'method';
  } else if (d.qualifiedName !== undefined) {
    // C++ `void A::f() {…}` outside its class: a method unless the qualifier is a namespace.
    const ownerLast = d.owner!.slice(d.owner!.lastIndexOf(':') + 1);
    kind = namespaces.has(ownerLast) || ownerLast === 'std' ? 'function' : 'method';
    qualified = parent ? `${parent.qualified}${sep}${d.qualifiedName}` : d.qualifiedName;
  } else {
    const own = hidden ? `${ANONYMOUS_SCOPE}${sep}${d.name}` : d.name;
    qualified = parent ? `${parent.qualified}${sep}${own}` : own;
    if (kind === 'function' && parent && CLASS_LIKE.has(parent.kind)) kind = 'method';
  }
  const n = d.node;
  const body = n.childForFieldName('body');
  const sigEnd = body && body.startIndex > n.startIndex ? body.startIndex : Math.min(n.endIndex, lineEnd(text, n.startIndex));
  const signature = cut(text.slice(n.startIndex, Math.min(sigEnd, n.startIndex + MAX_SIGNATURE * 2)).replace(/\s+/g, ' ').trim(), MAX_SIGNATURE);
  const code = includeCode ? text.slice(n.startIndex, n.endIndex) : null;
  return [cut(d.name, MAX_NAME), cut(qualified, MAX_NAME * 2), kind, n.startPosition.row + 1, n.endPosition.row + 1, signature, parent ? parent.index : -1, code];
}

/** At most `n` UTF-16 units, never half of a surrogate pair (which SQLite would store as U+FFFD). */
function cut(s: string, n: number): string {
  if (s.length <= n) return s;
  const c = s.charCodeAt(n - 1);
  return s.slice(0, c >= 0xd800 && c <= 0xdbff ? n - 1 : n);
}

function lineEnd(text: string, from: number): number {
  const nl = text.indexOf('\n', from);
  return nl < 0 ? text.length : nl;
}

/** Language keywords that parse as calls. */
const NOT_CALLS = new Set(['require', 'super', 'static_cast', 'dynamic_cast', 'reinterpret_cast', 'const_cast', 'sizeof', 'typeid', 'decltype']);

// Identifiers are Unicode letters, digits, `_`, `$` (Python, JS, Rust, Go, Java all allow non-ASCII names).
const SIMPLE_PATH = /^[\p{L}_$][\p{L}\p{N}_$]*(?:(?:\.|::|->|\?\.)[\p{L}_$~][\p{L}\p{N}_$]*)*$/u;
const SELF_NAMES = new Set(['self', 'this', 'cls', 'Self']);

/** A call's callee text → the name as written and its receiver (see RefRow). */
function refOf(kind: RefKind, callee: Node, receiverNode: Node | undefined, stack: Open[], language: Language): { kind: RefKind; name: string; receiver: string } | null {
  let text = callee.text.replace(/\s+/g, '');
  text = text.replace(/::<.*>$/, '').replace(/<[^()]*>$/, '');
  if (receiverNode) text = `${receiverNode.text.replace(/\s+/g, '')}.${text}`;
  if (text.startsWith('super().')) text = `super.${text.slice(8)}`;
  if (FOLLOWS_VALUES.has(language) && /^(?:self|\p{L}[\p{L}\p{N}_]*)\./u.test(text) && kind === 'calls') {
    // `self.io.registration()`, `c.inner.get()`: the value of a field of self or of a bound local.
    const chain = objectChain(callee, stack, language);
    const last = /([\p{L}_$][\p{L}\p{N}_$]*)$/u.exec(text);
    if (chain?.startsWith('<') && chain.includes('>.') && last) return { kind, name: cut(last[1]!, MAX_NAME), receiver: `=${chain}` };
  }
  if (!SIMPLE_PATH.test(text)) {
    const last = /([\p{L}_$][\p{L}\p{N}_$]*)$/u.exec(text);
    if (!last) return null;
    const chain = FOLLOWS_VALUES.has(language) ? objectChain(callee, stack, language) : null;
    return { kind, name: cut(last[1]!, MAX_NAME), receiver: chain !== null && chain.length <= MAX_NAME * 2 ? `=${chain}` : '?' };
  }
  const m = /^(.*?)(\.|::|->|\?\.)([\p{L}_$~][\p{L}\p{N}_$]*)$/u.exec(text);
  if (!m) return { kind, name: text, receiver: '' };
  let receiver = m[1]!;
  const recvName = stack.length > 0 ? enclosingRecv(stack) : undefined;
  const typedSelf = language === 'rust' && receiver === 'self' ? boundValue(stack, 'self') : undefined;
  if (typedSelf) receiver = receiverOf(typedSelf);
  else if (SELF_NAMES.has(receiver) || (language === 'go' && receiver === recvName)) receiver = receiver === 'Self' ? 'Self' : 'self';
  else if (language === 'rust' && m[2] === '.') {
    // Rust `x.f()` is always a call on a value (a module or type is written `x::f()`). A name no
    // local binds may be a `const`/`static` (resolve.ts looks; a local cannot shadow one): `=NAME`.
    const bound = /[.:>]/.test(receiver) ? undefined : boundValue(stack, receiver);
    const head = bound === undefined ? objectChain(callee, stack, language) : null;
    receiver = bound ? receiverOf(bound) : head && !head.startsWith('<') ? `=${head}` : '?';
  } else if (receiver !== 'super' && !/[.:>]/.test(receiver) && m[2] !== '::') {
    // `task::spawn()` is a path even where a local is named `task`; `x.f()` is a call on x's value.
    const bound = boundValue(stack, receiver);
    if (bound) receiver = receiverOf(bound);
  }
  return { kind, name: m[3]!, receiver };
}

/** The chain of what a method is called on (`a.b().c` → `a.b()`), for the languages whose values are followed. */
function objectChain(callee: Node, stack: Open[], language: Language): string | null {
  const f = callee.type === 'generic_function' ? callee.childForFieldName('function') : callee;
  if (!f) return null;
  const object = f.type === 'attribute' ? f.childForFieldName('object') : f.type === 'field_expression' ? f.childForFieldName('value') : null;
  return object ? chainOf(object, stack, language) : null;
}
