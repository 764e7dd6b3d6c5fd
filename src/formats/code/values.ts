/**
 * Values of expressions for call resolution (issue #17): the chains extract.ts writes
 * (`Builder::new_multi_thread().enable_all().build()?`, `<fx:0:app>.test_client()`) parsed into
 * steps, and declared type texts (`io::Result<Runtime>`, `&mut Self`, `t.Optional["Flask"]`) cut
 * down to the one class they name. Pure text; resolve.ts does the lookups.
 */
import type { Family } from './modules.js';

interface Ent { key: string; name: string; qname: string; kind: string; language: string; file: string; parent: string | null }

/**
 * A value whose class is known (`cls`; `ptr`: held by a Rust std pointer, `Arc::new(C::new())`;
 * `projected`: pin-project's `project()` of it, whose fields are its fields, pinned or not), or a
 * type as written where `ctx` (a function) wrote it.
 */
export type Value = { cls: Ent; ptr?: string; projected?: boolean } | { text: string; ctx: Ent };

/**
 * Rust's std pointers as a path (`Arc`, `std::sync::Arc`, …; the name captured), for every
 * pattern that names them: extraction's `Arc::new(x)`, chains' `!Arc` step, pointer types, impls
 * written for a pointer.
 */
const STD_POINTERS = 'Arc|Rc|Box|Pin';
export const STD_POINTER_PATH = `(?:(?:std|alloc|core)::(?:sync|rc|boxed|pin)::)?(${STD_POINTERS})`;

/** One step of a chain (parseChain); `!Arc` wraps the value so far in that pointer. */
const CHAIN_STEP = new RegExp(String.raw`\(\)|\?|\.#\d+|\.\*|\.\[\]|!(?:${STD_POINTERS})|(?:\.|::)[\p{L}_$][\p{L}\p{N}_$]*`, 'uy');

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
  const step = CHAIN_STEP;
  while (i < chain.length) {
    step.lastIndex = i;
    const m = step.exec(chain);
    if (!m) return null;
    steps.push(m[0].startsWith('::') ? `.${m[0].slice(2)}` : m[0]);
    i += m[0].length;
  }
  return { head, steps };
}

/** Type arguments at the top level of `A, B<C, D>, (E, F)` (or bounds, `A + B<C>`, split at `+`). */
function topLevel(list: string, sep = ','): string[] {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (c === '<' || c === '(' || c === '[') depth++;
    else if (c === '>' || c === ')' || c === ']') depth--;
    else if (c === sep && depth === 0) { out.push(list.slice(from, i).trim()); from = i + 1; }
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

/** `Option`/`Result` methods that give the same kind of value back, for `?`/`unwrap()` after them (`self.waker.take()?`). */
const KEEPS_OPTION = new Set(['as_ref', 'as_mut', 'as_deref', 'as_deref_mut', 'take', 'replace', 'clone', 'cloned', 'copied', 'ok']);

/** The value of `name()` on an `Option`/`Result` when it is one of those (its first type argument unchanged), else null. */
export function optionMethod(v: Value, name: string): Value | null {
  return KEEPS_OPTION.has(name) && unwrapped(v) ? v : null;
}

/**
 * An element of a std sequence (`x[i]`, `for x in xs`): `Vec<T>`, `VecDeque<T>`, `HashSet<T>`,
 * `BTreeSet<T>`, an array `[T; N]` or slice `[T]` (also boxed or borrowed) gives T.
 */
export function elementOf(v: Value): Value | null {
  if ('cls' in v) return null;
  const t = derefText(v.text).replace(/^Box\s*<(.*)>$/s, '$1').trim();
  const seq = /^(?:(?:std|alloc)::collections::|std::vec::)?(?:Vec|VecDeque|HashSet|BTreeSet)\s*<(.+)>$/s.exec(t);
  if (seq) return { text: topLevel(seq[1]!)[0]!, ctx: v.ctx };
  const arr = /^\[(.+)\]$/s.exec(t);
  return arr ? { text: topLevel(arr[1]!, ';')[0]!, ctx: v.ctx } : null;
}

/** `iter()`, `iter_mut()`, `into_iter()`, `drain(…)` of a std sequence: iterated (`for x in xs.iter()`), they give its elements. */
export function sequenceMethod(v: Value, name: string): Value | null {
  return SEQUENCE_ITERATORS.has(name) && elementOf(v) ? v : null;
}

const SEQUENCE_ITERATORS = new Set(['iter', 'iter_mut', 'into_iter', 'drain']);

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

/**
 * Rust's std pointers a method call sees through (Deref): `Arc<T>`, `Rc<T>`, `Box<T>`, `Pin<P>`
 * (also `&`/`&mut` of them), by name or std path. resolve.ts checks the tree defines no type of
 * that name and that the pointer itself has no method of the called name.
 */
const POINTER = new RegExp(`^${STD_POINTER_PATH}\\s*<(.+)>$`, 's');

/** The pointer and what it points at, or null when the value is not one of Rust's std pointers. */
export function pointee(v: Value): { ptr: string; inner: Value } | null {
  if ('cls' in v) return v.ptr ? { ptr: v.ptr, inner: { cls: v.cls } } : null;
  const m = POINTER.exec(derefText(v.text));
  const first = m ? topLevel(m[2]!)[0] : undefined;
  return first ? { ptr: m![1]!, inner: { text: first, ctx: v.ctx } } : null;
}

/**
 * What the pointer's own methods give: `Pin::as_mut()` the same pin, `Pin::get_mut()` and
 * `Arc::as_ref()` what it points at, `Arc::clone()` the same pointer; null for any other name.
 */
export function pointerMethod(v: Value, p: { ptr: string; inner: Value }, name: string): Value | null {
  const same = p.ptr === 'Pin' ? PIN_SAME : POINTER_SAME;
  if (same.has(name)) return v;
  return (p.ptr === 'Pin' ? PIN_INNER : POINTER_INNER).has(name) ? p.inner : null;
}

const PIN_SAME = new Set(['as_mut', 'as_ref', 'into_ref']);
const PIN_INNER = new Set(['get_mut', 'get_ref', 'get_unchecked_mut', 'into_inner']);
const POINTER_SAME = new Set(['clone']);
const POINTER_INNER = new Set(['as_ref', 'as_mut', 'borrow', 'borrow_mut', 'deref', 'deref_mut']);

/**
 * The traits an `impl A + B` / `dyn A + B` type names (without type arguments, lifetimes,
 * `?Sized`), or null when the type is not one.
 */
export function traitBounds(v: Value): string[] | null {
  if ('cls' in v) return null;
  const m = /^(?:impl|dyn)\s+(.+)$/s.exec(derefText(v.text).replace(/^\((.*)\)$/s, '$1'));
  if (!m) return null;
  return topLevel(m[1]!, '+').map((b) => b.replace(/<.*>$/s, '').trim()).filter((b) => PATH.test(b));
}

/** pytest's default test modules: `test_*.py` and `*_test.py`. */
export function isPythonTestModule(path: string): boolean {
  return /(?:^|\/)test_[^/]*\.py$|_test\.py$/.test(path);
}
