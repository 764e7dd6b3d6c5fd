/** Shared by the code tests: a fixture tree in a fresh temp folder, and database dumps to compare. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { writeFixtureTree } from './fixtures.js';
import { indexCode } from '../../../src/formats/code/index-run.js';
import { serveGraph } from '../../../src/formats/code/serve.js';
import type { CodeStore } from '../../../src/sinks/code-store.js';

export function fixtureTree(): { root: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tm-code-'));
  const root = join(dir, 'src');
  writeFixtureTree(root);
  writeFileSync(join(root, 'go/go.mod'), 'module example.com/app\n\ngo 1.22\n');
  return { root, dir };
}

/** Every table's rows in a stable order (edge ids and the root path left out). */
export function dumpDb(path: string): Record<string, unknown[]> {
  const db = new Database(path, { readonly: true });
  try {
    return {
      files: db.prepare('SELECT * FROM files ORDER BY path').all(),
      entities: db.prepare('SELECT * FROM entities ORDER BY key').all(),
      edges: db.prepare('SELECT src, dst, kind, file, line, dst_name, receiver, resolved FROM edges ORDER BY file, line, kind, dst_name, receiver, src').all(),
      imports: db.prepare('SELECT * FROM imports ORDER BY file, line, module, name, alias').all(),
      meta: db.prepare("SELECT * FROM meta WHERE key <> 'root' ORDER BY key").all(),
    };
  } finally {
    db.close();
  }
}

export interface EdgeView { kind: string; from: string; to: string | null; name: string; receiver: string; file: string; line: number }

/** Edges as qualified names (`Circle.describe` → `helper`), for assertions a person can read. */
export function edgesOf(path: string): EdgeView[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(`SELECT g.kind, s.qualified_name AS "from", d.qualified_name AS "to", g.dst_name AS name, g.receiver, g.file, g.line
      FROM edges g JOIN entities s ON s.key = g.src LEFT JOIN entities d ON d.key = g.dst ORDER BY g.file, g.line, g.dst_name`).all() as EdgeView[];
  } finally {
    db.close();
  }
}

export function entitiesOf(path: string, file: string): [string, string][] {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare("SELECT kind, qualified_name FROM entities WHERE file = ? ORDER BY kind <> 'module', start_line, key").all(file) as { kind: string; qualified_name: string }[]).map((r) => [r.kind, r.qualified_name]);
  } finally {
    db.close();
  }
}

/** `code serve` on a free port of 127.0.0.1, and a GET that returns the status and JSON body. */
export async function servedGraph(store: CodeStore): Promise<{ port: number; get(path: string): Promise<{ status: number; body: Record<string, unknown> }>; close(): void }> {
  const server = await serveGraph(store, 0);
  const port = (server.address() as { port: number }).port;
  return {
    port,
    async get(path) {
      const r = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: r.status, body: await r.json() as Record<string, unknown> };
    },
    close: () => server.close(),
  };
}

/** Writes `files` (path → text) under a fresh folder and indexes it (-j 1); the graph's path and edges. */
export async function indexedTree(label: string, files: Record<string, string>): Promise<{ db: string; edges: EdgeView[] }> {
  const dir = mkdtempSync(join(tmpdir(), `tm-code-${label}-`));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, 'tree', rel)), { recursive: true });
    writeFileSync(join(dir, 'tree', rel), text);
  }
  const db = join(dir, 'g.db');
  await indexCode({ root: join(dir, 'tree'), db, threads: 1 });
  return { db, edges: edgesOf(db) };
}
