/**
 * Values of expressions for call resolution (issue #17): the chains extract.ts writes
 * (`Builder::new_multi_thread().enable_all().build()?`, `<fx:0:app>.test_client()`) parsed into
 * steps, and declared type texts (`io::Result<Runtime>`, `&mut Self`, `t.Optional["Flask"]`) cut
 * down to the one class they name. Pure text; resolve.ts does the lookups.
 */
import type { Family } from './modules.js';

interface Ent { key: string; name: string; qname: string; kind: string; language: string; file: string; parent: string | null }

/** A value whose class is known (`cls`), or a type as written where `ctx` (a function) wrote it. */
export type Value = { cls: Ent } | { text: string; ctx: Ent };

/**
 * A chain's head (`<…>` or a path) and its steps: `()`, `?`, `.await`, `.#N`, `.name`.
 * null when the text is not one.
 */
export function parseChain(chain: string): { head: string; steps: string[] } | null {
  let i: number;
  if (chain.startsWith('<')) {
    let depth = 0;
    for (i = 0; i < chain.length; i++) {
      if (chain[i] === '<') depth++;
      else if (chain[i] === '>' && --depth === 0) break;
    }
    if (i >= chain.length) return null;
    i++;
  } else {
    i = /^[^(?<]*/.exec(chain)![0].length;
    if (i === 0) return null;
  }
  const head = chain.slice(0, i);
  const steps: string[] = [];
  const step = /\(\)|\?|\.#\d+|(?:\.|::)[\p{L}_$][\p{L}\p{N}_$]*/uy;
  while (i < chain.length) {
    step.lastIndex = i;
    const m = step.exec(chain);
    if (!m) return null;
    steps.push(m[0].startsWith('::') ? `.${m[0].slice(2)}` : m[0]);
    i += m[0].length;
  }
  return { head, steps };
}

/** Type arguments at the top level of `A, B<C, D>, (E, F)`. */
function topLevel(list: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (c === '<' || c === '(' || c === '[') depth++;
    else if (c === '>' || c === ')' || c === ']') depth--;
    else if (c === ',' && depth === 0) { out.push(list.slice(from, i).trim()); from = i + 1; }
  }
  const last = list.slice(from).trim();
  if (last) out.push(last);
  return out;
}

/** Leading `&`, `&'a mut`, `mut` of a Rust type. */
function derefText(t: string): string {
  return t.replace(/^(?:&\s*(?:'\w+\s+)?(?:mut\s+)?|mut\s+)+/, '').trim();
}

/**
 * `?` / `unwrap()` / `expect()`: a `Result<T, …>` or `Option<T>` (any path: `io::Result<T>`) gives
 * T. Anything else: null.
 */
export function unwrapped(v: Value): Value | null {
  if ('cls' in v) return null;
  const m = /^(?:[\w]+::)*(?:Result|Option)\s*<(.+)>$/s.exec(derefText(v.text));
  const first = m ? topLevel(m[1]!)[0] : undefined;
  return first ? { text: first, ctx: v.ctx } : null;
}

/** Element N of a tuple type `(A, B)`. */
export function tupleElement(v: Value, n: number): Value | null {
  if ('cls' in v) return null;
  const t = derefText(v.text);
  if (!t.startsWith('(') || !t.endsWith(')')) return null;
  const parts = topLevel(t.slice(1, -1));
  return parts.length > n ? { text: parts[n]!, ctx: v.ctx } : null;
}

const PATH = /^[\p{L}_$][\p{L}\p{N}_$]*(?:(?:\.|::)[\p{L}_$][\p{L}\p{N}_$]*)*$/u;

/**
 * The class a declared type names, as a path (`Builder`, `runtime::Runtime`, `Self`), or null when
 * it names none for certain: a tuple, a trait object, `impl Trait`, a function type, a union
 * other than `X | None`, an `async fn`'s value before `.await`.
 */
export function classOfText(text: string, family: Family): string | null {
  let t = text.trim();
  if (t.startsWith('async ')) return null;
  if (family === 'py') {
    t = t.replace(/^["']|["']$/g, '').trim();
    const opt = /^(?:(?:typing|t|te)\.)?Optional\[(.+)\]$/.exec(t);
    if (opt) t = opt[1]!.replace(/^["']|["']$/g, '').trim();
    const union = t.split('|').map((x) => x.trim()).filter((x) => x !== 'None');
    if (union.length !== 1) return null;
    t = union[0]!.replace(/\[.*\]$/s, '');
    if (/^(?:(?:typing|t|te|typing_extensions)\.)?Self$/.test(t)) return 'Self';
  } else {
    t = derefText(t);
    if (/^(?:impl|dyn)\b/.test(t)) return null;
    t = t.replace(/<.*>$/s, '').trim();
  }
  return PATH.test(t) ? t : null;
}

/** pytest's default test modules: `test_*.py` and `*_test.py`. */
export function isPythonTestModule(path: string): boolean {
  return /(?:^|\/)test_[^/]*\.py$|_test\.py$/.test(path);
}
