/**
 * Which indexed file(s) an import names, per language family. Only what the language's own rules
 * make certain: relative ES paths with the extensions TypeScript tries, Python modules by their
 * dotted path (a unique suffix when the import root is below the indexed folder), Rust
 * `crate::`/`self::`/`super::` paths, Go import paths under a go.mod module, Java packages, and
 * C/C++ quoted includes (beside the includer, or a unique path suffix). Anything else is external.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';

export type Family = 'py' | 'js' | 'rust' | 'go' | 'java' | 'c';

export function familyOf(language: string): Family {
  switch (language) {
    case 'python': return 'py';
    case 'javascript': case 'typescript': case 'tsx': return 'js';
    case 'rust': return 'rust';
    case 'go': return 'go';
    case 'java': return 'java';
    default: return 'c';
  }
}

export interface FileInfo { path: string; language: string; family: Family; pkg: string | null }

const JS_EXTS = ['.ts', '.tsx', '.d.ts', '.js', '.jsx', '.mjs', '.cjs', '.mts', '.cts'];

function stripExt(path: string): string {
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  return dot > slash ? path.slice(0, dot) : path;
}

export class ModuleIndex {
  private readonly paths = new Set<string>();
  private readonly byBaseName = new Map<string, string[]>();
  private readonly pyDotted = new Map<string, string>();
  private readonly pyImportName = new Map<string, string[]>();
  /** Python: the folder a file is imported from (the sys.path entry it needs), and whether it is in a package. */
  private readonly pyRoot = new Map<string, { root: string; packaged: boolean }>();
  private readonly rustMods = new Map<string, string>();
  private readonly rustFileMod = new Map<string, { crate: string; mod: string }>();
  private readonly pkgFiles = new Map<string, string[]>();
  private readonly dirFiles = new Map<string, string[]>();
  private readonly goModules = new Map<string, string | null>();

  constructor(readonly files: Map<string, FileInfo>, private readonly root: string) {
    for (const f of files.values()) this.paths.add(f.path);
    for (const f of files.values()) {
      push(this.byBaseName, f.path.slice(f.path.lastIndexOf('/') + 1), f.path);
      if (f.family === 'py') this.addPython(f.path);
      else if (f.family === 'rust') this.addRust(f.path);
      if (f.family === 'java' && f.pkg) push(this.pkgFiles, f.pkg, f.path);
      if (f.family === 'go') push(this.dirFiles, `${posix.dirname(f.path)}|${f.pkg ?? ''}`, f.path);
    }
  }

  private addPython(path: string): void {
    let mod = stripExt(path).replace(/\//g, '.');
    if (mod.endsWith('.__init__')) mod = mod.slice(0, -9);
    this.pyDotted.set(mod, path);
    const name = this.pythonImportName(path);
    push(this.pyImportName, name, path);
    const depth = name.split('.').length - (path.endsWith('__init__.py') ? 0 : 1);
    const dirs = posix.dirname(path).split('/');
    this.pyRoot.set(path, { root: dirs.slice(0, dirs.length - depth).join('/'), packaged: name.includes('.') || path.endsWith('__init__.py') });
  }

  /**
   * The name Python imports a file by: its path from the first folder above the top of its
   * package chain (folders with `__init__.py`), e.g. `src/flask/app.py` → `flask.app`.
   */
  private pythonImportName(path: string): string {
    const parts = stripExt(path).split('/');
    if (parts[parts.length - 1] === '__init__') parts.pop();
    let top = parts.length - 1;
    while (top > 0 && this.paths.has(`${parts.slice(0, top).join('/')}/__init__.py`)) top--;
    return parts.slice(top).join('.');
  }

  /** Python: the package a file's relative imports start from. */
  private pyPackage(path: string): string[] {
    const parts = stripExt(path).split('/');
    parts.pop();
    return parts;
  }

  private addRust(path: string): void {
    const at = path.lastIndexOf('src/');
    if (at < 0 || (at > 0 && path[at - 1] !== '/')) return;
    const crate = path.slice(0, at + 4);
    let mod = stripExt(path.slice(at + 4));
    if (mod === 'lib' || mod === 'main') mod = '';
    if (mod.endsWith('/mod')) mod = mod.slice(0, -4);
    const rustMod = mod.replace(/\//g, '::');
    this.rustMods.set(`${crate}|${rustMod}`, path);
    this.rustFileMod.set(path, { crate, mod: rustMod });
  }

  rustModuleOf(path: string): { crate: string; mod: string } | null {
    return this.rustFileMod.get(path) ?? null;
  }

  private readonly resolved = new Map<string, string[]>();

  /** Files a module spec names, seen from `from`. Empty when external or unknown. Memoized: calls ask again and again. */
  resolve(from: string, spec: string): string[] {
    const id = `${from}\n${spec}`;
    let hit = this.resolved.get(id);
    if (!hit) {
      hit = this.resolveUncached(from, spec);
      this.resolved.set(id, hit);
    }
    return hit;
  }

  private resolveUncached(from: string, spec: string): string[] {
    const info = this.files.get(from);
    if (!info) return [];
    switch (info.family) {
      case 'py': return this.resolvePython(from, spec);
      case 'js': return this.resolveJs(from, spec);
      case 'rust': return this.resolveRust(from, spec);
      case 'go': return this.resolveGo(from, spec);
      case 'java': return this.pkgFiles.get(spec) ?? [];
      case 'c': return this.resolveInclude(from, spec);
    }
  }

  private resolvePython(from: string, spec: string): string[] {
    const dots = /^\.*/.exec(spec)![0].length;
    if (dots > 0) {
      const base = this.pyPackage(from);
      if (dots - 1 > base.length) return [];
      const parts = [...base.slice(0, base.length - (dots - 1)), ...spec.slice(dots).split('.').filter(Boolean)];
      const hit = this.pyDotted.get(parts.join('.'));
      return hit ? [hit] : [];
    }
    // An absolute import names a module by its import name: `import logging` inside package
    // `flask` is the standard library, never flask/logging.py (Python 3 has no implicit relative
    // imports). A lone script counts only beside the importer (same sys.path entry); a package
    // module counts from anywhere in the tree (the project installs or puts it on the path).
    const here = this.pyRoot.get(from);
    const exact = this.pyDotted.get(spec);
    const named = new Set([...(this.pyImportName.get(spec) ?? []), ...(exact ? [exact] : [])]);
    const hits = [...named].filter((p) => {
      const r = this.pyRoot.get(p);
      return r !== undefined && (r.packaged || r.root === here?.root);
    });
    return hits.length === 1 ? hits : [];
  }

  /** Python: `from pkg import name` where `name` is a submodule of pkg (`from . import views`). */
  pythonSubmodule(from: string, module: string, name: string): string[] {
    return this.resolvePython(from, module.endsWith('.') ? `${module}${name}` : `${module}.${name}`);
  }

  private resolveJs(from: string, spec: string): string[] {
    if (spec.startsWith('.')) return this.jsFile(posix.normalize(posix.join(posix.dirname(from), spec)));
    // A bare specifier: a `paths` mapping of the nearest tsconfig, else a package of this workspace.
    for (const target of this.tsconfigFor(from)?.map(spec) ?? []) {
      const hit = this.jsFile(target);
      if (hit.length > 0) return hit;
    }
    return this.workspacePackage(spec);
  }

  /** The file an import path names, with the extensions and index files TypeScript tries. */
  private jsFile(p: string): string[] {
    const stem = /\.(m|c)?jsx?$/.test(p) ? stripExt(p) : p;
    const tries = [p, ...JS_EXTS.map((e) => stem + e), ...JS_EXTS.map((e) => `${p}/index${e}`)];
    for (const t of tries) if (this.paths.has(t)) return [t];
    return [];
  }

  private readonly tsconfigs = new Map<string, TsPaths | null>();

  /** The nearest tsconfig.json (or jsconfig.json) at or above a file's folder, inside the indexed tree. */
  private tsconfigFor(from: string): TsPaths | null {
    for (let dir = posix.dirname(from); ; dir = posix.dirname(dir)) {
      const d = dir === '.' ? '' : dir;
      let cfg = this.tsconfigs.get(d);
      if (cfg === undefined) this.tsconfigs.set(d, (cfg = readTsPaths(this.root, d)));
      if (cfg) return cfg;
      if (d === '') return null;
    }
  }

  private packages: Map<string, string[]> | null = null;

  /**
   * `@scope/name[/sub]` → a package.json of the indexed tree with that name, and the entry its own
   * `source`/`module`/`main`/`types` (or `exports`) names when that file is indexed; a subpath must
   * name an indexed file under the package. Built output that is not in the tree resolves nothing.
   */
  private workspacePackage(spec: string): string[] {
    if (!this.packages) this.packages = workspacePackages(this.root, this.paths);
    const parts = spec.split('/');
    const nameLen = spec.startsWith('@') ? 2 : 1;
    const dirs = this.packages.get(parts.slice(0, nameLen).join('/')) ?? [];
    if (dirs.length !== 1) return [];
    const dir = dirs[0]!;
    const prefix = dir === '' ? '' : `${dir}/`;
    if (parts.length > nameLen) return this.jsFile(posix.normalize(prefix + parts.slice(nameLen).join('/')));
    for (const entry of packageEntries(this.root, dir)) {
      const hit = this.jsFile(posix.normalize(prefix + entry));
      if (hit.length > 0) return hit;
    }
    return [];
  }

  /** Rust: `crate::a::b`, `self::x`, `super::x` → the file of that module (or of its parent, for an item path). */
  rustModulePath(from: string, spec: string): { crate: string; mod: string } | null {
    const parts = spec.split('::').filter(Boolean);
    const here = this.rustModuleOf(from);
    // A crate of this workspace by its Cargo.toml name (`tokio::sync`, `tokio_util::codec`).
    const crate = parts.length > 0 && parts[0] !== 'crate' && parts[0] !== 'self' && parts[0] !== 'super' ? this.rustCrates().get(parts[0]!) : undefined;
    if (crate && !(here && this.rustMods.has(`${here.crate}|${[...(here.mod ? here.mod.split('::') : []), parts[0]].join('::')}`))) {
      return { crate, mod: parts.slice(1).join('::') };
    }
    if (!here) return null;
    let mod: string[];
    if (parts[0] === 'crate') mod = parts.slice(1);
    else if (parts[0] === 'self' || parts[0] === 'super') {
      mod = here.mod ? here.mod.split('::') : [];
      while (parts[0] === 'self' || parts[0] === 'super') {
        if (parts.shift() === 'super') mod.pop();
      }
      mod = [...mod, ...parts];
    } else {
      // Rust 2018: a path may start at a child module of the current one (`use task::spawn` in lib.rs).
      const child = [...(here.mod ? here.mod.split('::') : []), parts[0]!].join('::');
      if (!this.rustMods.has(`${here.crate}|${child}`)) return null;
      mod = [...(here.mod ? here.mod.split('::') : []), ...parts];
    }
    return { crate: here.crate, mod: mod.join('::') };
  }

  private crates: Map<string, string> | null = null;

  /**
   * Crate names (`[package] name`, `-` read as `_`, or `[lib] name`) → their `src/` folder, from
   * the Cargo.toml beside each indexed `src/` folder. Two crates of one name: neither.
   */
  rustCrates(): Map<string, string> {
    if (this.crates) return this.crates;
    const found = new Map<string, string[]>();
    for (const { crate } of this.rustFileMod.values()) {
      const dir = crate.slice(0, -4);
      const file = join(this.root, dir, 'Cargo.toml');
      if (!existsSync(file)) continue;
      const toml = readFileSync(file, 'utf8');
      const name = /^\[lib\][^[]*?^name\s*=\s*"([^"]+)"/ms.exec(toml)?.[1] ?? /^\[package\][^[]*?^name\s*=\s*"([^"]+)"/ms.exec(toml)?.[1];
      if (name) { const list = found.get(name.replace(/-/g, '_')) ?? []; if (!list.includes(crate)) list.push(crate); found.set(name.replace(/-/g, '_'), list); }
    }
    this.crates = new Map([...found].filter(([, v]) => v.length === 1).map(([k, v]) => [k, v[0]!]));
    return this.crates;
  }

  private resolveRust(from: string, spec: string): string[] {
    const m = this.rustModulePath(from, spec);
    const hit = m ? this.rustMods.get(`${m.crate}|${m.mod}`) : undefined;
    return hit ? [hit] : [];
  }

  /** Go: the package directory of an import path, through the go.mod above the importing file. */
  private resolveGo(from: string, spec: string): string[] {
    for (let dir = posix.dirname(from); ; dir = posix.dirname(dir)) {
      const mod = this.goModule(dir);
      if (mod !== null && (spec === mod || spec.startsWith(`${mod}/`))) {
        const target = posix.normalize(posix.join(dir, spec.slice(mod.length)));
        return this.goPackageFiles(target === '.' ? '' : target);
      }
      if (dir === '.' || dir === '') return [];
    }
  }

  private goModule(dir: string): string | null {
    let mod = this.goModules.get(dir);
    if (mod === undefined) {
      const file = join(this.root, dir === '.' ? '' : dir, 'go.mod');
      mod = existsSync(file) ? /^module\s+(\S+)/m.exec(readFileSync(file, 'utf8'))?.[1] ?? null : null;
      this.goModules.set(dir, mod);
    }
    return mod;
  }

  /** Go files of one package: same directory, same package clause (tests may declare x_test). */
  goPackageFiles(dir: string, pkg?: string): string[] {
    const out: string[] = [];
    for (const [k, files] of this.dirFiles) {
      const [d, p] = k.split('|');
      if ((d === dir || (dir === '' && d === '.')) && (pkg === undefined ? !p!.endsWith('_test') : p === pkg)) out.push(...files);
    }
    return out;
  }

  javaPackageFiles(pkg: string): string[] {
    return this.pkgFiles.get(pkg) ?? [];
  }

  private resolveInclude(from: string, spec: string): string[] {
    const beside = posix.normalize(posix.join(posix.dirname(from), spec));
    if (this.paths.has(beside)) return [beside];
    const base = spec.slice(spec.lastIndexOf('/') + 1);
    const hits = (this.byBaseName.get(base) ?? []).filter((p) => p === spec || p.endsWith(`/${spec}`));
    return hits.length === 1 ? hits : [];
  }

  /** C/C++: the source files that implement a header (same folder, same stem). */
  companions(header: string): string[] {
    const stem = stripExt(header);
    const out: string[] = [];
    for (const ext of ['.c', '.cc', '.cpp', '.cxx']) if (this.paths.has(stem + ext) && stem + ext !== header) out.push(stem + ext);
    return out;
  }
}

/** A tsconfig's `compilerOptions.paths`, relative to the indexed root. */
class TsPaths {
  constructor(private readonly base: string, private readonly paths: [string, string[]][]) {}

  /** Candidate paths for a specifier: exact patterns, then `prefix*suffix` ones, longest prefix first (TypeScript's order). */
  map(spec: string): string[] {
    const out: string[] = [];
    const star = this.paths.filter(([p]) => p.includes('*')).sort((a, b) => b[0].indexOf('*') - a[0].indexOf('*'));
    for (const [pattern, targets] of [...this.paths.filter(([p]) => !p.includes('*')), ...star]) {
      const at = pattern.indexOf('*');
      let captured: string | null = null;
      if (at < 0) captured = pattern === spec ? '' : null;
      else if (spec.startsWith(pattern.slice(0, at)) && spec.endsWith(pattern.slice(at + 1)) && spec.length >= pattern.length - 1) captured = spec.slice(at, spec.length - (pattern.length - at - 1));
      if (captured === null) continue;
      for (const t of targets) out.push(posix.normalize(posix.join(this.base, t.replace('*', captured))));
      if (out.length > 0) return out;
    }
    return out;
  }
}

/**
 * tsconfig.json is JSON with comments and trailing commas. Comments are removed by a scan that
 * skips strings (a `//` inside a path string stays); a parser library for one small file a run
 * would be a dependency for ~15 lines.
 */
function parseJsonc(text: string): unknown {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      out += text.slice(start, i + 1);
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      i = text.indexOf('*/', i + 2);
      if (i < 0) break;
      i++;
    } else out += c;
  }
  return JSON.parse(out.replace(/,(\s*[}\]])/g, '$1'));
}

function readJson(file: string): Record<string, unknown> | null {
  try {
    const v = parseJsonc(readFileSync(file, 'utf8'));
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** `compilerOptions.paths` of `dir`'s tsconfig.json/jsconfig.json, following relative `extends`. */
function readTsPaths(root: string, dir: string): TsPaths | null {
  for (const name of ['tsconfig.json', 'jsconfig.json']) {
    let file = join(root, dir, name);
    if (!existsSync(file)) continue;
    let rel = dir;
    for (let hops = 0; hops < 5; hops++) {
      const cfg = readJson(file);
      const options = (cfg?.compilerOptions ?? {}) as { paths?: Record<string, string[]>; baseUrl?: string };
      if (options.paths && typeof options.paths === 'object') {
        const base = posix.normalize(posix.join(rel, options.baseUrl ?? '.'));
        const paths = Object.entries(options.paths).filter((e): e is [string, string[]] => Array.isArray(e[1]));
        return new TsPaths(base === '.' ? '' : base, paths.map(([k, v]) => [k, v.filter((t) => typeof t === 'string')]));
      }
      const ext = typeof cfg?.extends === 'string' && cfg.extends.startsWith('.') ? cfg.extends : null;
      if (!ext) break;
      rel = posix.normalize(posix.join(rel, posix.dirname(ext)));
      file = join(root, rel, posix.basename(ext.endsWith('.json') ? ext : `${ext}.json`));
      if (!existsSync(file)) break;
    }
    // A tsconfig without paths still ends the search: its folder is the project.
    return new TsPaths(dir, []);
  }
  return null;
}

/** package.json names → their folders, for the folders above indexed files. */
function workspacePackages(root: string, paths: Set<string>): Map<string, string[]> {
  const dirs = new Set<string>();
  for (const p of paths) for (let d = posix.dirname(p); !dirs.has(d); d = posix.dirname(d)) { dirs.add(d); if (d === '.') break; }
  const out = new Map<string, string[]>();
  for (const d of [...dirs].sort()) {
    const dir = d === '.' ? '' : d;
    const pkg = existsSync(join(root, dir, 'package.json')) ? readJson(join(root, dir, 'package.json')) : null;
    if (pkg && typeof pkg.name === 'string') push(out, pkg.name, dir);
  }
  return out;
}

function packageEntries(root: string, dir: string): string[] {
  const pkg = readJson(join(root, dir, 'package.json')) ?? {};
  const out: string[] = [];
  for (const k of ['source', 'module', 'main', 'types', 'typings']) if (typeof pkg[k] === 'string') out.push(pkg[k] as string);
  const exp = pkg.exports;
  const dot = exp && typeof exp === 'object' ? (exp as Record<string, unknown>)['.'] ?? exp : exp;
  if (typeof dot === 'string') out.push(dot);
  else if (dot && typeof dot === 'object') for (const v of Object.values(dot as Record<string, unknown>)) if (typeof v === 'string') out.push(v);
  return out.filter((e) => !e.startsWith('/') && !e.includes('..'));
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
