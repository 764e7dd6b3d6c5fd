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

type Node = ParserType.SyntaxNode;

interface Def { node: Node; name: string; qualifiedName?: string; kind: EntityKind; owner?: string; recvName?: string; aliasOf?: string }
interface Item { start: number; end: number; order: number; def?: Def; ref?: { kind: RefKind; callee: Node; receiver?: Node }; base?: { kind: RefKind; node: Node }; bind?: { name: string; ctor: string }; imp?: Node; local?: string }

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
      return v && ctor ? { start: n.startIndex, end: n.endIndex, order: 1, bind: { name: v.text, ctor: ctor.text } } : null;
    }
    if (c.name === 'import') return { start: n.startIndex, end: n.endIndex, order: 1, imp: n };
    if (c.name === 'local') return { start: n.startIndex, end: n.endIndex, order: 1, local: n.text };
    if (c.name === 'package') return 'package';
  }
  return null;
}

function defOf(language: Language, kindName: string, node: Node, captures: ParserType.QueryCapture[]): Def | null {
  if (kindName === 'decl') return cDeclarator(node, capture(captures, 'decl'));
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
  return { node, name, kind, owner, recvName: capture(captures, 'recvname')?.text, aliasOf };
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

interface Open { start: number; end: number; index: number; qualified: string; kind: EntityKind; recvName?: string; binds?: Map<string, string>; locals?: Set<string> }

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
      stack.push({ start: it.start, end: it.end, index: entities.length - 1, qualified: row[1], kind: row[2], recvName: d.recvName ?? enclosingRecv(stack) });
      if (d.aliasOf) refs.push([entities.length - 1, 'aliases', d.node.startPosition.row + 1, cut(d.aliasOf, MAX_NAME), localReceiver(stack, d.aliasOf, 1)]);
    } else if (it.ref) {
      const r = refOf(it.ref.kind, it.ref.callee, it.ref.receiver, stack, language);
      if (r && !(r.receiver === '' && NOT_CALLS.has(r.name))) {
        const receiver = r.receiver === '' && r.kind === 'calls' && language !== 'java' ? localReceiver(stack, r.name, 0) : r.receiver;
        if (receiver === '' && r.kind === 'calls') bare.push({ ref: refs.length, at: it.start });
        refs.push([src, r.kind, it.ref.callee.startPosition.row + 1, r.name, receiver]);
      }
    } else if (it.local !== undefined) {
      // Not the name a definition itself binds (`const f = () => …` is f's own declarator).
      if (top && SCOPE_KINDS.has(top.kind) && it.start !== top.start) (top.locals ??= new Set()).add(it.local);
    } else if (it.base) {
      const name = stripGenerics(it.base.node.text.replace(/\s+/g, ''));
      if (name) refs.push([src, it.base.kind, it.base.node.startPosition.row + 1, cut(name, MAX_NAME), '']);
    } else if (it.bind && top) {
      const binds = (top.binds ??= new Map());
      const prev = binds.get(it.bind.name);
      // Two different classes bound to one name: we cannot tell which a later call means.
      binds.set(it.bind.name, prev === undefined || prev === it.bind.ctor ? it.bind.ctor : '');
    } else if (it.imp) {
      for (const row of parseImport(language, it.imp.text)) imports.push([it.imp.startPosition.row + 1, row[0], row[1], row[2]]);
    }
  }
  bindAnonymousCalls(refs, bare, anonymous);
  return { entities, refs, imports, pkg };
}

/**
 * A bare name bound as a local or parameter of an enclosing function shadows every outer
 * definition: `local:N`, N scopes up from the reference's source (resolve.ts then looks only at
 * functions defined in that scope).
 * `skip` open definitions are left out (an alias's own scope).
 */
function localReceiver(stack: Open[], name: string, skip: number): string {
  for (let i = stack.length - 1 - skip; i >= 0; i--) if (stack[i]!.locals?.has(name)) return `local:${stack.length - 1 - skip - i}`;
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
  if (!SIMPLE_PATH.test(text)) {
    const last = /([\p{L}_$][\p{L}\p{N}_$]*)$/u.exec(text);
    return last ? { kind, name: cut(last[1]!, MAX_NAME), receiver: '?' } : null;
  }
  const m = /^(.*?)(?:\.|::|->|\?\.)([\p{L}_$~][\p{L}\p{N}_$]*)$/u.exec(text);
  if (!m) return { kind, name: text, receiver: '' };
  let receiver = m[1]!;
  const recvName = stack.length > 0 ? enclosingRecv(stack) : undefined;
  if (SELF_NAMES.has(receiver) || (language === 'go' && receiver === recvName)) receiver = receiver === 'Self' ? 'Self' : 'self';
  else if (receiver !== 'super' && !/[.:>]/.test(receiver)) {
    const bound = boundClass(stack, receiver);
    if (bound) receiver = `new:${bound}`;
  }
  return { kind, name: m[2]!, receiver };
}

/** The class a local (or Java field) was bound to in the innermost definition that binds it (never guessed). */
function boundClass(stack: Open[], name: string): string | undefined {
  for (let i = stack.length - 1; i >= 0; i--) {
    const b = stack[i]!.binds?.get(name);
    if (b !== undefined) return b || undefined;
    // A local of unknown type hides a field or outer variable of the same name.
    if (stack[i]!.locals?.has(name)) return undefined;
  }
  return undefined;
}
