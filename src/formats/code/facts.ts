/**
 * What a worker hands back for one file: compact rows (arrays, not objects), so that one batch
 * of hundreds of files crosses postMessage as a few flat structures and the main thread builds
 * no per-entity objects it does not need. Shared by the worker (extract.ts) and the writer.
 */
import type { Language } from './languages.js';

export type EntityKind = 'function' | 'method' | 'class' | 'struct' | 'enum' | 'trait' | 'interface' | 'impl' | 'module' | 'namespace' | 'type_alias' | 'constant' | 'macro' | 'field';

/** [name, qualified_name, kind, start_line, end_line, signature, parent index (-1: the file's module), code or null] */
export type EntityRow = [string, string, EntityKind, number, number, string, number, string | null];

/** How a reference was written; resolve.ts decides what it points at. */
/**
 * `aliases`: a constant bound to a plain name (`export const h = createVNode`). `returns`: a
 * function's return type as declared (`-> Runtime`), or `=chain` for the one expression a Python
 * function returns (extract.ts chainOf); receiver `fixture` / `fixture:NAME` marks a pytest fixture,
 * `overload` a Python `@overload` stub. `bounds`: a Rust generic parameter (receiver) of the
 * function, impl or trait and one trait bound it has as written (name; '' only declares it).
 * A Rust field's `returns` has receiver `pin` when it is marked `#[pin]` (pin-project), a method's
 * when it takes `self: Pin<…>`.
 */
export type RefKind = 'calls' | 'new' | 'extends' | 'implements' | 'aliases' | 'returns' | 'bounds';

/**
 * [source entity index (-1: the file's module), kind, line, name as written, receiver]
 * receiver: '' plain name; 'self' for self/this/the Go receiver; 'super'; 'new:C' for a local
 * bound to `C(...)`; '?' for an expression we do not follow; otherwise the qualifier as written.
 */
export type RefRow = [number, RefKind, number, string, string];

/** [line, module as written, imported name ('' = the module itself, '*' = everything), local name] */
export type ImportRow = [number, string, string, string];

export type FileStatus = 'indexed' | 'unchanged' | 'binary' | 'too_large' | 'unreadable';

export interface FileFacts {
  path: string;
  status: FileStatus;
  language: Language;
  bytes: number;
  lines: number;
  sha256: string;
  /** Java/Go package as declared; '' elsewhere. */
  pkg: string;
  /** 1 when tree-sitter recovered from syntax errors (the file is still indexed). */
  parseErrors: number;
  /** Where the first syntax error is: [line (1-based), column (1-based), byte offset]. */
  errorAt?: [number, number, number];
  entities: EntityRow[];
  refs: RefRow[];
  imports: ImportRow[];
  /** Why the file could not be read, for status 'unreadable'. */
  reason?: string;
  /** [index, count] for one piece of a huge file (huge-files.ts): the pieces come in order, each with the file's own bytes, lines and sha256. */
  piece?: [number, number];
}

export const CLASS_LIKE: ReadonlySet<EntityKind> = new Set(['class', 'struct', 'interface', 'trait', 'impl', 'enum']);
