/**
 * Questions agents ask (MCP tools, and the same answers on the CLI and HTTP): a ranked fuzzy
 * search, a file's outline, and `context` — an entity with its source and its neighbours'
 * signatures (then source) packed into a token budget the caller gives.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ThreadmillError } from '../../engine/errors.js';
import type { CodeStore } from '../../sinks/code-store.js';
import { findOne, type EntityRef } from './graph-queries.js';

const FIELDS = 'key, name, qualified_name, kind, language, file, start_line, end_line, signature';

export interface OutlineEntry extends EntityRef { signature: string | null; parent_key: string | null }

function clean<T extends EntityRef>(r: T): T {
  return { ...r, start_line: Number(r.start_line), end_line: Number(r.end_line) };
}

/** Most candidates a fuzzy search ranks; a pattern that matches more is answered from the first ones by key. */
const FUZZY_CANDIDATES = 5000;

/**
 * Entities whose name matches `query` as a substring or, failing that, as a subsequence (`crvn`
 * finds createVNode), ranked: exact name, exact qualified name, name prefix, name substring,
 * qualified-name substring, subsequence; then shorter names, then key.
 */
export async function fuzzySearch(store: CodeStore, query: string, limit = 20): Promise<(EntityRef & { signature: string | null; rank: number })[]> {
  const q = query.trim().toLowerCase();
  if (!q) throw new ThreadmillError('BAD_REQUEST', 'an empty search query', { exitCode: 2 });
  const esc = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);
  const subsequence = `%${[...q].map(esc).join('%')}%`;
  const rows = await store.query<EntityRef & { signature: string | null }>(
    `SELECT ${FIELDS} FROM entities WHERE kind <> 'module' AND (LOWER(name) LIKE ? ESCAPE '\\' OR LOWER(qualified_name) LIKE ? ESCAPE '\\') ORDER BY key LIMIT ${FUZZY_CANDIDATES}`,
    [subsequence, `%${esc(q)}%`]);
  const rank = (r: EntityRef): number => {
    const n = r.name.toLowerCase();
    const qn = r.qualified_name.toLowerCase();
    if (n === q) return 0;
    if (qn === q) return 1;
    if (n.startsWith(q)) return 2;
    if (n.includes(q)) return 3;
    if (qn.includes(q)) return 4;
    return 5;
  };
  return rows.map((r) => ({ ...clean(r), rank: rank(r) }))
    .sort((a, b) => a.rank - b.rank || a.name.length - b.name.length || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .slice(0, Math.max(1, Math.floor(limit)));
}

/** The entities of one file in source order, nested by parent_key. */
export async function fileOutline(store: CodeStore, path: string): Promise<{ file: string; language: string; lines: number; entities: OutlineEntry[] }> {
  const [f] = await store.query<{ language: string; lines: number }>("SELECT language, lines FROM files WHERE path = ? AND status = 'indexed'", [path]);
  if (!f) throw new ThreadmillError('NOT_FOUND', `no indexed file ${JSON.stringify(path)} (paths are relative to the indexed folder, with /)`);
  const rows = await store.query<OutlineEntry>(`SELECT ${FIELDS}, parent_key FROM entities WHERE file = ? AND kind <> 'module' ORDER BY start_line, end_line DESC, key`, [path]);
  return { file: path, language: f.language, lines: Number(f.lines), entities: rows.map(clean) };
}

/** Tokens of a text for budgeting: ~4 characters a token, the usual estimate for code and English. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export interface ContextPiece extends EntityRef { relation: 'target' | 'caller' | 'callee' | 'parent' | 'base' | 'subtype'; signature: string | null; source?: string }
export interface ContextAnswer { target: EntityRef; budget: number; tokens: number; source_available: boolean; truncated: boolean; pieces: ContextPiece[]; omitted: number }

/**
 * An entity's source (stored with --include-code, else read from the indexed folder when the file
 * still has the indexed hash), then its neighbours — parent, callees, callers, bases, subtypes —
 * first as signatures, then, while budget remains, as source. What does not fit is counted in
 * `omitted`; the target's own source is cut at the budget (`truncated`).
 */
export async function context(store: CodeStore, nameOrKey: string, budget = 2000): Promise<ContextAnswer> {
  if (!Number.isSafeInteger(budget) || budget < 1) throw new ThreadmillError('BAD_REQUEST', `budget must be a positive integer of tokens, got ${budget}`, { exitCode: 2 });
  const target = await findOne(store, nameOrKey);
  const sources = new SourceReader(store);
  const neighbours = await neighboursOf(store, target.key);
  const head = await store.query<ContextPiece>(`SELECT ${FIELDS} FROM entities WHERE key = ?`, [target.key]);
  const pieces: ContextPiece[] = [];
  let used = 0;
  let truncated = false;
  const self: ContextPiece = { ...clean(head[0]!), relation: 'target' };
  const text = await sources.of(self);
  const fixed = estimateTokens(JSON.stringify({ ...self, source: '' }));
  if (text !== null) {
    const room = Math.max(0, (budget - fixed) * 4);
    truncated = text.length > room;
    self.source = truncated ? text.slice(0, room) : text;
  }
  pieces.push(self);
  used += estimateTokens(JSON.stringify(self));
  let omitted = 0;
  const withSignature: ContextPiece[] = [];
  for (const n of neighbours) {
    const cost = estimateTokens(JSON.stringify(n));
    if (used + cost > budget) { omitted++; continue; }
    used += cost;
    withSignature.push(n);
  }
  // Second pass: the neighbours' source, nearest first, while it fits whole.
  for (const n of withSignature) {
    const src = await sources.of(n);
    if (src === null) continue;
    const cost = estimateTokens(JSON.stringify(src));
    if (used + cost > budget) continue;
    used += cost;
    n.source = src;
  }
  pieces.push(...withSignature);
  return { target, budget, tokens: used, source_available: text !== null, truncated, pieces, omitted };
}

async function neighboursOf(store: CodeStore, key: string): Promise<ContextPiece[]> {
  const sel = FIELDS.split(', ').map((c) => `e.${c}`).join(', ');
  const q = (relation: ContextPiece['relation'], sql: string): Promise<ContextPiece[]> =>
    store.query<ContextPiece>(sql, [key]).then((rows) => rows.map((r) => ({ ...clean(r), relation })));
  const seen = new Set<string>([key]);
  const out: ContextPiece[] = [];
  for (const list of [
    await q('parent', `SELECT ${sel} FROM entities t JOIN entities e ON e.key = t.parent_key WHERE t.key = ? AND e.kind <> 'module'`),
    await q('callee', `SELECT DISTINCT ${sel} FROM edges g JOIN entities e ON e.key = g.dst WHERE g.src = ? AND g.kind = 'calls' AND g.resolved = 1 ORDER BY e.key`),
    await q('caller', `SELECT DISTINCT ${sel} FROM edges g JOIN entities e ON e.key = g.src WHERE g.dst = ? AND g.kind = 'calls' AND g.resolved = 1 ORDER BY e.key`),
    await q('base', `SELECT DISTINCT ${sel} FROM edges g JOIN entities e ON e.key = g.dst WHERE g.src = ? AND g.kind IN ('extends', 'implements') AND g.resolved = 1 ORDER BY e.key`),
    await q('subtype', `SELECT DISTINCT ${sel} FROM edges g JOIN entities e ON e.key = g.src WHERE g.dst = ? AND g.kind IN ('extends', 'implements') AND g.resolved = 1 ORDER BY e.key`),
  ]) {
    for (const p of list) if (!seen.has(p.key)) { seen.add(p.key); out.push(p); }
  }
  return out;
}

/** An entity's text: the stored code, else its lines of the indexed file when the file is unchanged since. */
class SourceReader {
  private root: string | null | undefined;
  private readonly files = new Map<string, string[] | null>();

  constructor(private readonly store: CodeStore) {}

  async of(e: ContextPiece): Promise<string | null> {
    const [row] = await this.store.query<{ code: string | null }>('SELECT code FROM entities WHERE key = ?', [e.key]);
    if (row?.code) return row.code;
    const lines = await this.lines(e.file);
    return lines ? lines.slice(e.start_line - 1, e.end_line).join('\n') : null;
  }

  private async lines(file: string): Promise<string[] | null> {
    if (this.files.has(file)) return this.files.get(file)!;
    if (this.root === undefined) this.root = (await this.store.query<{ value: string }>("SELECT value FROM meta WHERE key = 'root'"))[0]?.value ?? null;
    const [f] = await this.store.query<{ sha256: string }>('SELECT sha256 FROM files WHERE path = ?', [file]);
    let out: string[] | null = null;
    try {
      const bytes = readFileSync(join(this.root ?? '', file));
      // A file edited since the index would give the wrong lines: then no source.
      if (this.root && f && createHash('sha256').update(bytes).digest('hex') === f.sha256) out = bytes.toString('utf8').split('\n');
    } catch {
      out = null;
    }
    this.files.set(file, out);
    return out;
  }
}
