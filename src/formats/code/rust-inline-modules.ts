/**
 * Rust modules written inline (`pub mod unix { pub use super::async_fd::AsyncFd; }`,
 * `mod pool { pub fn run_one() {} }`) as scopes of their own, keyed by the module's entity key,
 * beside the file modules that modules.ts resolves. A path that modules.ts cannot take to a file
 * (`tokio::io::unix::AsyncFd`, `crate::loom::sync::atomic::AtomicUsize`) is walked segment by
 * segment through inline modules, and through the `use`s and glob re-exports that bring them into
 * another module (tokio's loom/mod.rs `pub(crate) use self::std::*`). Issue #17: tokio reaches
 * most of its synchronisation types and its public `io::unix` and `task` paths this way.
 */
import { ByName } from './by-name.js';
import { keyLines } from './write.js';

interface Ent { key: string; name: string; kind: string; language: string; file: string; parent: string | null }
interface Import { file: string; line: number; module: string; name: string; alias: string }

/** A definition's lines, from its key (`…:47-81`). */
function lineRange(key: string): [number, number] {
  return keyLines(key) ?? [0, 0];
}

export class RustInlineModules {
  /** Inline module key → its file. */
  private readonly fileOf = new Map<string, string>();
  /** Scope (a file, or an inline module's key) → the inline modules declared directly in it. */
  private readonly declared = new Map<string, ByName<Ent>>();
  /** Inline modules of each file, to place a `use` by its line. */
  private readonly ofFile = new Map<string, Ent[]>();

  /** `isFileModule`: a `mod x;` whose file the tree has (modules.ts resolves those). */
  constructor(entities: Iterable<Ent>, private readonly byKey: Map<string, Ent>, isFileModule: (e: Ent) => boolean) {
    for (const e of entities) {
      if (e.kind !== 'module' || e.parent === null || e.language !== 'rust' || isFileModule(e)) continue;
      this.fileOf.set(e.key, e.file);
      const scope = this.scopeOf(e);
      let m = this.declared.get(scope);
      if (!m) this.declared.set(scope, (m = new ByName()));
      m.add(e.name, e);
      const list = this.ofFile.get(e.file);
      if (list) list.push(e);
      else this.ofFile.set(e.file, [e]);
    }
  }

  get size(): number {
    return this.fileOf.size;
  }

  /** The file a scope lies in. */
  fileOfScope(scope: string): string {
    return this.fileOf.get(scope) ?? scope;
  }

  /** The innermost inline module around `e` (its key), else e's file. */
  scopeOf(e: Ent): string {
    for (let p = e.parent ? this.byKey.get(e.parent) : undefined; p; p = p.parent ? this.byKey.get(p.parent) : undefined) {
      if (p.kind === 'module') return p.parent === null ? p.file : p.key;
    }
    return e.file;
  }

  isInline(key: string): boolean {
    return this.fileOf.has(key);
  }

  /** Inline modules named `name` declared directly in `scope`. */
  declaredIn(scope: string, name: string): Ent[] {
    return this.declared.get(scope)?.get(name) ?? [];
  }

  /**
   * A `use` inside an inline module, as its scope and the same `use` written from the file's own
   * module: `self::x` in `mod a { mod b { … } }` is `self::a::b::x`, `super::x` is `self::a::x`, and
   * a path starting at a name (Rust 2018) starts in the inline module. Null for a `use` outside
   * any inline module.
   */
  place(i: Import, crateNames: ReadonlyMap<string, string>): { scope: string; imp: Import } | null {
    const around = (this.ofFile.get(i.file) ?? []).filter((m) => { const [a, b] = lineRange(m.key); return a <= i.line && i.line <= b; });
    if (around.length === 0) return null;
    const inner = around.reduce((x, y) => (lineRange(y.key)[0] >= lineRange(x.key)[0] ? y : x));
    const chain: string[] = [];
    for (let p: Ent | undefined = inner; p && p.parent !== null && p.kind === 'module'; p = this.byKey.get(p.parent)) chain.unshift(p.name);
    const parts = i.module.split('::');
    let module = i.module;
    if (parts[0] === 'self' || parts[0] === 'super') {
      const at = [...chain];
      let above = 0;
      while (parts[0] === 'self' || parts[0] === 'super') {
        if (parts.shift() === 'super' && at.pop() === undefined) above++;
      }
      module = [...(above > 0 ? Array<string>(above).fill('super') : ['self']), ...at, ...parts].join('::');
    } else if (parts[0] !== 'crate' && !crateNames.has(parts[0]!) && !['std', 'core', 'alloc'].includes(parts[0]!)) {
      module = ['self', ...chain, ...parts].join('::');
    }
    return { scope: inner.key, imp: { ...i, module } };
  }
}
