/**
 * The PostgreSQL code graph store (`pg`), for a team sharing one graph on a server. A writing
 * run is one transaction holding an advisory lock, so two indexers never interleave and an
 * interrupted run leaves the previous graph. Rows go in as multi-row INSERTs of up to 1,000 rows
 * (well under PostgreSQL's 65,535 parameters per statement).
 */
import pg from 'pg';
import { ThreadmillError } from '../engine/errors.js';
import { schemaStatements, type CodeStore, type Row } from './code-store.js';

const ROWS_PER_INSERT = 1000;
/** An arbitrary constant naming "the threadmill code graph" among advisory locks. */
const ADVISORY_LOCK_ID = 7_310_042;

/** `?` → `$1, $2, …` (our SQL has no `?` inside string literals). */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function redact(url: string): string {
  return url.replace(/:[^:@/]*@/, ':***@');
}

class PgStore implements CodeStore {
  readonly dialect = 'postgres' as const;
  constructor(private readonly client: pg.Client, readonly location: string, private readonly writing: boolean) {}

  async query<T = Row>(sql: string, params: unknown[] = []): Promise<T[]> {
    const r = await this.client.query(numberPlaceholders(sql), params);
    return r.rows as T[];
  }

  async execute(sql: string, params: unknown[] = []): Promise<void> {
    await this.client.query(numberPlaceholders(sql), params);
  }

  async insertMany(table: string, columns: readonly string[], rows: unknown[][]): Promise<void> {
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      const part = rows.slice(i, i + ROWS_PER_INSERT);
      const values: unknown[] = [];
      const tuples = part.map((r) => `(${r.map((v) => { values.push(v); return `$${values.length}`; }).join(', ')})`);
      await this.client.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}`, values);
    }
  }

  /** One statement per 1,000 rows, joining a VALUES list, instead of a round trip per edge. */
  async updateEdges(rows: [number, string | null, number][]): Promise<void> {
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      const part = rows.slice(i, i + ROWS_PER_INSERT);
      const values: unknown[] = [];
      const tuples = part.map(([id, dst, resolved]) => {
        values.push(id, dst, resolved);
        const n = values.length;
        return `($${n - 2}::bigint, $${n - 1}::text, $${n}::integer)`;
      });
      await this.client.query(`UPDATE edges SET dst = v.dst, resolved = v.resolved FROM (VALUES ${tuples.join(', ')}) AS v(id, dst, resolved) WHERE edges.id = v.id`, values);
    }
  }

  async begin(): Promise<void> {
    await this.client.query('BEGIN');
    if (!this.writing) return;
    const got = await this.client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [ADVISORY_LOCK_ID]);
    if (!got.rows[0]?.ok) throw new ThreadmillError('OUTPUT_LOCKED', `another threadmill run is writing the code graph at ${this.location}`);
    for (const s of schemaStatements('postgres')) await this.client.query(s);
  }

  async commit(): Promise<void> {
    await this.client.query('COMMIT');
    await this.client.end();
  }

  async rollback(): Promise<void> {
    try {
      await this.client.query('ROLLBACK');
    } finally {
      await this.client.end();
    }
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}

export async function openPgStore(url: string, mode: 'write' | 'read'): Promise<CodeStore> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (err) {
    throw new ThreadmillError('DB_UNREACHABLE', `cannot connect to ${redact(url)}: ${(err as Error).message}`);
  }
  // Quiet NOTICEs ("relation already exists, skipping") that would otherwise reach stderr.
  await client.query('SET client_min_messages = warning');
  if (mode === 'read') {
    const t = await client.query("SELECT to_regclass('public.meta') AS t");
    if (!(t.rows[0] as { t: unknown }).t) {
      await client.end();
      throw new ThreadmillError('DB_NOT_FOUND', `no threadmill code graph in ${redact(url)} (create it with threadmill code index DIR --db URL)`);
    }
  }
  return new PgStore(client, redact(url), mode === 'write');
}
