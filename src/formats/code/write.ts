/**
 * One file's facts → rows. Keys are built here, from what the worker returned:
 * `language:kind:qualified_name:path:start-end`, with `#2`, `#3`… when two definitions of one
 * file would still collide (e.g. two overloads on one line), so a key is unique and the same on
 * every run. Each file also gets a `module` entity: the source of its top-level calls and imports.
 */
import type { CodeStore } from '../../sinks/code-store.js';
import { EDGE_COLUMNS, ENTITY_COLUMNS, FILE_COLUMNS, IMPORT_COLUMNS } from '../../sinks/code-store.js';
import type { FileFacts } from './facts.js';

export function moduleKey(language: string, path: string, lines: number): string {
  return `${language}:module:${path}:${path}:1-${Math.max(1, lines)}`;
}

/** The first and last line a key names (`…:start-end`, a `#N` suffix aside), or null. */
export function keyLines(key: string): [number, number] | null {
  const m = /:(\d+)-(\d+)(?:#\d+)?$/.exec(key);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/**
 * Rows of many files gathered per table and written with one insertMany per table: a batch of
 * ~300 files is 4 calls instead of ~1,200 (PostgreSQL: 4 round trips instead of 1,200). Rows
 * keep the files' order, so edge ids are the ones a file-by-file write gives.
 */
export class FactsWriter {
  private files: unknown[][] = [];
  private entities: unknown[][] = [];
  private edges: unknown[][] = [];
  private imports: unknown[][] = [];

  constructor(private readonly store: CodeStore) {}

  /** The file being written piece by piece: its parse errors and package so far (huge-files.ts). */
  private pieces = { parseErrors: 0, pkg: '' };

  /**
   * One file's facts, or one piece of a huge file's: the module entity comes with the first
   * piece, the `files` row with the last. Keys stay unique without seeing the other pieces:
   * pieces hold disjoint lines, and a key names its lines. Returns the file's parse errors once
   * its last piece is in and its `files` row is written (callers count files by it), else null.
   */
  add(f: FileFacts): { parseErrors: number } | null {
    const [index, count] = f.piece ?? [0, 1];
    const modKey = moduleKey(f.language, f.path, f.lines);
    if (index === 0) {
      this.pieces = { parseErrors: 0, pkg: '' };
      const base = f.path.slice(f.path.lastIndexOf('/') + 1);
      const moduleName = base.includes('.') ? base.slice(0, base.lastIndexOf('.')) : base;
      this.entities.push([modKey, moduleName, f.path, 'module', f.language, f.path, 1, Math.max(1, f.lines), null, null, null]);
    }
    this.pieces.parseErrors = Math.max(this.pieces.parseErrors, f.parseErrors);
    this.pieces.pkg ||= f.pkg;
    const done = index === count - 1 ? { parseErrors: this.pieces.parseErrors } : null;
    if (done) this.files.push([f.path, f.language, f.bytes, f.lines, f.sha256, 'indexed', null, this.pieces.pkg || null, done.parseErrors]);
    const keys: string[] = [];
    const used = new Set<string>([modKey]);
    for (const [name, qualified, kind, start, end, signature, parent, code] of f.entities) {
      let key = `${f.language}:${kind}:${qualified}:${f.path}:${start}-${end}`;
      for (let n = 2; used.has(key); n++) key = `${f.language}:${kind}:${qualified}:${f.path}:${start}-${end}#${n}`;
      used.add(key);
      keys.push(key);
      this.entities.push([key, name, qualified, kind, f.language, f.path, start, end, signature, parent < 0 ? modKey : keys[parent]!, code]);
    }
    for (const [src, kind, line, name, receiver] of f.refs) {
      const srcKey = src < 0 ? modKey : keys[src]!;
      if (kind === 'new') this.edges.push([srcKey, null, 'calls', f.path, line, name, receiver ? `#new:${receiver}` : '#new', 0]);
      // `@N`: entity N of this file, found by extract.ts in the same anonymous function.
      else this.edges.push([srcKey, null, kind, f.path, line, name, receiver.startsWith('@') ? `@${keys[Number(receiver.slice(1))] ?? ''}` : receiver, 0]);
    }
    for (const [line, module, name, alias] of f.imports) this.imports.push([f.path, line, module, name, alias]);
    return done;
  }

  /** Writes what was added since the last flush (call before deleting rows, and at the end). */
  async flush(): Promise<void> {
    const { files, entities, edges, imports } = this;
    this.files = [];
    this.entities = [];
    this.edges = [];
    this.imports = [];
    if (files.length > 0) await this.store.insertMany('files', FILE_COLUMNS, files);
    if (entities.length > 0) await this.store.insertMany('entities', ENTITY_COLUMNS, entities);
    if (edges.length > 0) await this.store.insertMany('edges', EDGE_COLUMNS, edges);
    if (imports.length > 0) await this.store.insertMany('imports', IMPORT_COLUMNS, imports);
  }
}

/** Everything a file contributed; edges from other files into it are unresolved by resolveGraph. */
export async function removeFile(store: CodeStore, path: string): Promise<void> {
  await store.execute('DELETE FROM entities WHERE file = ?', [path]);
  await store.execute('DELETE FROM edges WHERE file = ?', [path]);
  await store.execute('DELETE FROM imports WHERE file = ?', [path]);
  await store.execute('DELETE FROM files WHERE path = ?', [path]);
}
