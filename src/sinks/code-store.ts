/**
 * The code graph store: one small interface that SQLite and PostgreSQL both implement, so that
 * indexing, resolution and every query are written once. SQL is written with `?` placeholders
 * and the portable subset both engines accept; the PostgreSQL store renumbers them to `$n`.
 * The schema is documented in docs/code.md.
 */
import { ThreadmillError } from '../engine/errors.js';

export const CODE_SCHEMA_VERSION = '1';

export type Row = Record<string, unknown>;

export interface CodeStore {
  readonly dialect: 'sqlite' | 'postgres';
  /** Where the store is, for messages (a path or a URL without its password). */
  readonly location: string;
  query<T = Row>(sql: string, params?: unknown[]): Promise<T[]>;
  execute(sql: string, params?: unknown[]): Promise<void>;
  /** Many rows into one table, inside the current transaction. */
  insertMany(table: string, columns: readonly string[], rows: unknown[][]): Promise<void>;
  /** Sets `dst` and `resolved` of edges by id: [id, dst, resolved]. */
  updateEdges(rows: [number, string | null, number][]): Promise<void>;
  begin(): Promise<void>;
  commit(): Promise<void>;
  /** Undoes the run: the store reads as it did before begin() (SQLite: the temporary is removed). */
  rollback(): Promise<void>;
  close(): Promise<void>;
}

export const FILE_COLUMNS = ['path', 'language', 'bytes', 'lines', 'sha256', 'status', 'skip_reason', 'package', 'parse_errors'] as const;
export const ENTITY_COLUMNS = ['key', 'name', 'qualified_name', 'kind', 'language', 'file', 'start_line', 'end_line', 'signature', 'parent_key', 'code'] as const;
export const EDGE_COLUMNS = ['src', 'dst', 'kind', 'file', 'line', 'dst_name', 'receiver', 'resolved'] as const;
export const IMPORT_COLUMNS = ['file', 'line', 'module', 'name', 'alias'] as const;

/** DDL for both engines; `id` is the one column whose type differs. */
export function schemaStatements(dialect: 'sqlite' | 'postgres'): string[] {
  const id = dialect === 'sqlite' ? 'id INTEGER PRIMARY KEY' : 'id BIGSERIAL PRIMARY KEY';
  // Byte order on both engines (SQLite's BINARY), so that every ORDER BY answers alike whatever
  // the server's default collation is.
  const text = dialect === 'sqlite' ? 'TEXT' : 'TEXT COLLATE "C"';
  return [
    `CREATE TABLE IF NOT EXISTS meta (key ${text} PRIMARY KEY, value ${text} NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS files (path ${text} PRIMARY KEY, language ${text}, bytes BIGINT NOT NULL, lines INTEGER NOT NULL,
      sha256 ${text}, status ${text} NOT NULL, skip_reason ${text}, package ${text}, parse_errors INTEGER NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS entities (key ${text} PRIMARY KEY, name ${text} NOT NULL, qualified_name ${text} NOT NULL, kind ${text} NOT NULL,
      language ${text} NOT NULL, file ${text} NOT NULL, start_line INTEGER NOT NULL, end_line INTEGER NOT NULL, signature ${text},
      parent_key ${text}, code ${text})`,
    `CREATE TABLE IF NOT EXISTS edges (${id}, src ${text} NOT NULL, dst ${text}, kind ${text} NOT NULL, file ${text} NOT NULL,
      line INTEGER NOT NULL, dst_name ${text} NOT NULL, receiver ${text} NOT NULL, resolved INTEGER NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS imports (file ${text} NOT NULL, line INTEGER NOT NULL, module ${text} NOT NULL, name ${text} NOT NULL, alias ${text} NOT NULL)`,
  ];
}

/** Built after the bulk load of a fresh graph (cheaper than maintaining them row by row); kept by later runs. */
export function indexStatements(): string[] {
  return [
    'CREATE INDEX IF NOT EXISTS entities_name ON entities (name)',
    'CREATE INDEX IF NOT EXISTS entities_qualified ON entities (qualified_name)',
    'CREATE INDEX IF NOT EXISTS entities_file ON entities (file)',
    'CREATE INDEX IF NOT EXISTS edges_src ON edges (src)',
    'CREATE INDEX IF NOT EXISTS edges_dst ON edges (dst)',
    'CREATE INDEX IF NOT EXISTS edges_file ON edges (file)',
    'CREATE INDEX IF NOT EXISTS imports_file ON imports (file)',
  ];
}

/** `sqlite:PATH`, a bare path, or `postgres://…` / `postgresql://…`. */
export type StoreTarget = { dialect: 'sqlite'; path: string } | { dialect: 'postgres'; url: string };

export function parseStoreTarget(spec: string): StoreTarget {
  if (/^postgres(ql)?:\/\//.test(spec)) return { dialect: 'postgres', url: spec };
  if (spec.startsWith('sqlite:')) return { dialect: 'sqlite', path: spec.slice(7) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) throw new ThreadmillError('BAD_STORE', `unknown store ${JSON.stringify(spec.replace(/:[^:@/]*@/, ':***@'))}: use a path, sqlite:PATH or postgres://…`, { exitCode: 2 });
  return { dialect: 'sqlite', path: spec };
}

/** Store opening, loaded lazily so a SQLite run never loads `pg` (and the reverse). */
export async function openStore(spec: string, mode: 'write' | 'read', options: { fresh?: boolean } = {}): Promise<CodeStore> {
  const target = parseStoreTarget(spec);
  if (target.dialect === 'sqlite') return (await import('./code-sqlite.js')).openSqliteStore(target.path, mode, options);
  return (await import('./code-pg.js')).openPgStore(target.url, mode);
}
