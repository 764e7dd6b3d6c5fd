/**
 * Import statements → [module as written, imported name, local name] triples. The query has
 * already found the statement; its text is small and regular enough that reading it here is
 * simpler than one query pattern per import form (Rust use-trees nest, Python has five forms).
 * Imported name '' means the module itself is bound to the local name; '*' means everything.
 */
import type { Language } from './languages.js';

export type ImportTriple = [string, string, string];

export function parseImport(language: Language, text: string): ImportTriple[] {
  switch (language) {
    case 'python': return pythonImport(text);
    case 'javascript': case 'typescript': case 'tsx': return esImport(text);
    case 'rust': return rustUse(text);
    case 'go': return goImport(text);
    case 'java': return javaImport(text);
    case 'c': case 'cpp': return cInclude(text);
  }
}

function clean(s: string): string {
  return s.replace(/#[^\n]*/g, '').replace(/[()\\]/g, ' ').replace(/\s+/g, ' ').trim();
}

function pythonImport(raw: string): ImportTriple[] {
  const text = clean(raw);
  const from = /^from\s+(\S+)\s+import\s+(.+)$/.exec(text);
  const out: ImportTriple[] = [];
  if (from) {
    for (const part of from[2]!.split(',')) {
      const [name, alias] = part.trim().split(/\s+as\s+/);
      if (name) out.push([from[1]!, name, alias ?? name]);
    }
    return out;
  }
  const imp = /^import\s+(.+)$/.exec(text);
  for (const part of imp ? imp[1]!.split(',') : []) {
    const [name, alias] = part.trim().split(/\s+as\s+/);
    // `import a.b` binds `a`; `import a.b as c` binds the module a.b to c.
    if (name) out.push(alias ? [name, '', alias] : [name, '', name.split('.')[0]!]);
  }
  return out;
}

const ES_FROM = /^import\s+(?:type\s+)?(.*?)\s*from\s*['"]([^'"]+)['"]/s;
/** `export * from 'x'`, `export * as ns from 'x'`, `export { a as b } from 'x'` (re-exports). */
const ES_REEXPORT = /^export\s+(?:type\s+)?(.*?)\s*from\s*['"]([^'"]+)['"]/s;
const REQUIRE = /^(\{[^}]*\}|[\w$]+)\s*=\s*require\s*\(\s*['"]([^'"]+)['"]\s*\)/s;

function esImport(raw: string): ImportTriple[] {
  const text = raw.trim();
  const req = REQUIRE.exec(text);
  if (req) return bindings(req[1]!, req[2]!, true);
  const re = ES_REEXPORT.exec(text);
  // A re-export binds nothing in the file itself: `*` with no local name, followed by resolve.ts
  // when another module asks what this one exports.
  if (re) return re[1]!.trim() === '*' ? [[re[2]!, '*', '']] : bindings(re[1]!, re[2]!, false);
  const m = ES_FROM.exec(text);
  return m ? bindings(m[1]!, m[2]!, false) : [];
}

/** `X`, `* as ns`, `{a, b as c}`, `X, {a}` (import) or `{a, b: c}` / `m` (require). */
function bindings(clause: string, source: string, isRequire: boolean): ImportTriple[] {
  const out: ImportTriple[] = [];
  const braces = /\{([^}]*)\}/.exec(clause);
  const rest = clause.replace(/\{[^}]*\}/, '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const r of rest) {
    const ns = /^\*\s+as\s+([\w$]+)$/.exec(r);
    if (ns) out.push([source, '', ns[1]!]);
    else if (/^[\w$]+$/.test(r)) out.push([source, isRequire ? '' : 'default', r]);
  }
  for (const part of braces ? braces[1]!.split(',') : []) {
    const p = part.trim().replace(/^type\s+/, '');
    if (!p) continue;
    const [name, alias] = p.split(isRequire ? /\s*:\s*/ : /\s+as\s+/);
    if (name && /^[\w$]+$/.test(name)) out.push([source, name, (alias ?? name).trim()]);
  }
  return out;
}

function rustUse(raw: string): ImportTriple[] {
  // `as` becomes `@` before spaces go: split on the word, never inside a name (`task::spawn`).
  const text = raw.replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g, '').replace(/\s+as\s+/g, '@').replace(/\s+/g, ' ').trim()
    .replace(/^(?:pub(?:\s*\([^)]*\))?\s+)?use\s+/, '').replace(/\s+/g, '').replace(/;$/, '');
  const out: ImportTriple[] = [];
  expandUseTree(text, '', out);
  return out;
}

/** Expands `a::{b, c::{d as e}, *}` into full paths. */
function expandUseTree(tree: string, prefix: string, out: ImportTriple[]): void {
  const brace = tree.indexOf('{');
  if (brace < 0) {
    const [path, alias] = tree.split('@');
    if (!path) return;
    const full = prefix + path;
    const cut = full.lastIndexOf('::');
    const name = cut < 0 ? full : full.slice(cut + 2);
    const module = cut < 0 ? '' : full.slice(0, cut);
    if (name === 'self') out.push([module, '', alias ?? module.slice(module.lastIndexOf(':') + 1)]);
    else out.push([module, name, alias ?? name]);
    return;
  }
  const head = prefix + tree.slice(0, brace);
  const inner = tree.slice(brace + 1, tree.lastIndexOf('}'));
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= inner.length; i++) {
    const ch = inner[i];
    if (ch === '{') depth++;
    else if (ch === '}') depth--;
    else if ((ch === ',' || i === inner.length) && depth === 0) {
      const part = inner.slice(start, i);
      if (part) expandUseTree(part, head, out);
      start = i + 1;
    }
  }
}

function goImport(raw: string): ImportTriple[] {
  const m = /^(?:([\w.]+)\s+)?"([^"]+)"$/.exec(raw.trim());
  if (!m) return [];
  const path = m[2]!;
  const alias = m[1] ?? path.slice(path.lastIndexOf('/') + 1);
  return alias === '_' ? [] : [[path, alias === '.' ? '*' : '', alias]];
}

function javaImport(raw: string): ImportTriple[] {
  const m = /^import\s+(static\s+)?([\w.]+)(\.\*)?\s*;/.exec(raw.replace(/\s+/g, ' ').trim());
  if (!m) return [];
  const path = m[2]!;
  if (m[3]) return [[path, '*', '*']];
  const cut = path.lastIndexOf('.');
  const name = path.slice(cut + 1);
  return [[path.slice(0, cut), name, name]];
}

function cInclude(raw: string): ImportTriple[] {
  const m = /#\s*include\s*"([^"]+)"/.exec(raw);
  return m ? [[m[1]!, '*', '']] : [];
}
