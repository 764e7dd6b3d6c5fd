/**
 * The questions `code query` and `code serve` answer, written once against the store interface
 * (so SQLite and PostgreSQL give the same answers). Orders are total (by key) so answers are
 * stable. A name that matches several entities is answered with the list, never a guess.
 */
import { ThreadmillError } from '../../engine/errors.js';
import type { CodeStore } from '../../sinks/code-store.js';

export interface EntityRef { key: string; name: string; qualified_name: string; kind: string; language: string; file: string; start_line: number; end_line: number }

const ENTITY_FIELDS = 'key, name, qualified_name, kind, language, file, start_line, end_line';

/** Several entities match a name: the caller must choose (answered as a list, exit 1, HTTP 409). */
export class AmbiguousName extends ThreadmillError {
  constructor(readonly query: string, readonly matches: EntityRef[]) {
    super('AMBIGUOUS_NAME', `${JSON.stringify(query)} matches ${matches.length} entities; ask again with one of their keys:\n${matches.map((m) => `  ${m.key}`).join('\n')}`);
  }
}

function clean(r: EntityRef): EntityRef {
  return { key: r.key, name: r.name, qualified_name: r.qualified_name, kind: r.kind, language: r.language, file: r.file, start_line: Number(r.start_line), end_line: Number(r.end_line) };
}

/**
 * A key, else every entity whose qualified name or name is `nameOrKey`: exactly one, or one
 * overload group (Java/C++ methods of one class sharing a name: answered as the first, with the
 * others' keys in `overloads`), or an error. A function and a method of the same name are both
 * listed (`url_for` is flask's function and `Flask.url_for`): neither hides the other.
 */
export async function findOne(store: CodeStore, nameOrKey: string): Promise<EntityRef & { overloads?: string[] }> {
  const byKey = await store.query<EntityRef>(`SELECT ${ENTITY_FIELDS} FROM entities WHERE key = ?`, [nameOrKey]);
  if (byKey.length === 1) return clean(byKey[0]!);
  const rows = (await store.query<EntityRef & { parent_key: string | null }>(
    `SELECT ${ENTITY_FIELDS}, parent_key FROM entities WHERE (qualified_name = ? OR name = ?) AND kind <> 'module' ORDER BY key`, [nameOrKey, nameOrKey]));
  if (rows.length === 0) throw new ThreadmillError('NOT_FOUND', `no entity named ${JSON.stringify(nameOrKey)} (try: threadmill code query search ${JSON.stringify(nameOrKey)})`);
  if (rows.length === 1) return clean(rows[0]!);
  const first = rows[0]!;
  const group = (first.language === 'java' || first.language === 'cpp') && first.parent_key !== null
    && rows.every((r) => r.parent_key === first.parent_key && r.qualified_name === first.qualified_name && r.kind === first.kind);
  if (!group) throw new AmbiguousName(nameOrKey, rows.map(clean));
  const sorted = rows.map(clean).sort((a, b) => a.start_line - b.start_line || (a.key < b.key ? -1 : 1));
  return { ...sorted[0]!, overloads: sorted.slice(1).map((r) => r.key) };
}

export interface Hop { depth: number; entity: EntityRef; via: { file: string; line: number } }
export interface WalkAnswer { target: EntityRef; hops: Hop[]; unresolved?: { name: string; receiver: string; file: string; line: number }[] }

/**
 * Breadth-first over resolved edges of `kinds`, `reverse` for callers. Each entity is listed once,
 * at its smallest depth, with the first edge (by file, line) that reached it.
 */
async function walk(store: CodeStore, start: EntityRef & { overloads?: string[] }, depth: number, reverse: boolean, kinds: string[]): Promise<Hop[]> {
  const seen = new Set<string>([start.key, ...(start.overloads ?? [])]);
  const hops: Hop[] = [];
  let frontier = [...seen];
  const from = reverse ? 'dst' : 'src';
  const to = reverse ? 'src' : 'dst';
  const kindList = kinds.map(() => '?').join(', ');
  for (let d = 1; d <= depth && frontier.length > 0; d++) {
    const next: string[] = [];
    for (let i = 0; i < frontier.length; i += 500) {
      const part = frontier.slice(i, i + 500);
      const rows = await store.query<EntityRef & { via_file: string; via_line: number }>(
        `SELECT ${ENTITY_FIELDS.split(', ').map((c) => `e.${c}`).join(', ')}, g.file AS via_file, g.line AS via_line
         FROM edges g JOIN entities e ON e.key = g.${to}
         WHERE g.resolved = 1 AND g.kind IN (${kindList}) AND g.${from} IN (${part.map(() => '?').join(', ')})
         ORDER BY e.key, g.file, g.line`, [...kinds, ...part]);
      for (const r of rows) {
        if (seen.has(r.key)) continue;
        seen.add(r.key);
        next.push(r.key);
        hops.push({ depth: d, entity: clean(r), via: { file: r.via_file, line: Number(r.via_line) } });
      }
    }
    frontier = next;
  }
  return hops.sort((a, b) => a.depth - b.depth || (a.entity.key < b.entity.key ? -1 : 1));
}

export async function callers(store: CodeStore, nameOrKey: string, depth = 1): Promise<WalkAnswer> {
  const target = await findOne(store, nameOrKey);
  return { target, hops: await walk(store, target, depth, true, ['calls']) };
}

export async function callees(store: CodeStore, nameOrKey: string, depth = 1): Promise<WalkAnswer> {
  const target = await findOne(store, nameOrKey);
  const hops = await walk(store, target, depth, false, ['calls']);
  const unresolved = (await store.query<{ name: string; receiver: string; file: string; line: number }>(
    `SELECT dst_name AS name, receiver, file, line FROM edges WHERE src IN (${[target.key, ...(target.overloads ?? [])].map(() => '?').join(', ')}) AND kind = 'calls' AND resolved = 0 ORDER BY line, dst_name, receiver`, [target.key, ...(target.overloads ?? [])]))
    .map((r) => ({ name: r.name, receiver: r.receiver, file: r.file, line: Number(r.line) }));
  return { target, hops, unresolved };
}

/** What may break if `key` changes: everything that reaches it through calls or inheritance, by hop. */
export async function blastRadius(store: CodeStore, nameOrKey: string, depth = 3): Promise<WalkAnswer & { by_depth: Record<number, number> }> {
  const target = await findOne(store, nameOrKey);
  const hops = await walk(store, target, depth, true, ['calls', 'extends', 'implements']);
  const byDepth: Record<number, number> = {};
  for (const h of hops) byDepth[h.depth] = (byDepth[h.depth] ?? 0) + 1;
  return { target, hops, by_depth: byDepth };
}

/** Entities whose name or qualified name contains `pattern` (`*` and `?` are wildcards), case-insensitively. */
export async function search(store: CodeStore, pattern: string, limit = 100): Promise<EntityRef[]> {
  const escaped = pattern.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%').replace(/\?/g, '_');
  const like = /[*?]/.test(pattern) ? escaped : `%${escaped}%`;
  const rows = await store.query<EntityRef>(
    `SELECT ${ENTITY_FIELDS} FROM entities WHERE kind <> 'module' AND (LOWER(name) LIKE ? ESCAPE '\\' OR LOWER(qualified_name) LIKE ? ESCAPE '\\')
     ORDER BY qualified_name, key LIMIT ${Math.max(1, Math.floor(limit))}`, [like, like]);
  return rows.map(clean);
}

export interface ShowAnswer extends EntityRef { signature: string | null; parent_key: string | null; code: string | null; callers: number; callees: number; unresolved_calls: number }

export async function show(store: CodeStore, nameOrKey: string): Promise<ShowAnswer> {
  const e = await findOne(store, nameOrKey);
  const [row] = await store.query<{ signature: string | null; parent_key: string | null; code: string | null }>('SELECT signature, parent_key, code FROM entities WHERE key = ?', [e.key]);
  const count = async (sql: string): Promise<number> => Number((await store.query<{ n: number }>(sql, [e.key]))[0]?.n ?? 0);
  return {
    ...e, signature: row?.signature ?? null, parent_key: row?.parent_key ?? null, code: row?.code ?? null,
    callers: await count("SELECT CAST(COUNT(DISTINCT src) AS INTEGER) AS n FROM edges WHERE dst = ? AND kind = 'calls'"),
    callees: await count("SELECT CAST(COUNT(DISTINCT dst) AS INTEGER) AS n FROM edges WHERE src = ? AND kind = 'calls' AND resolved = 1"),
    unresolved_calls: await count("SELECT CAST(COUNT(*) AS INTEGER) AS n FROM edges WHERE src = ? AND kind = 'calls' AND resolved = 0"),
  };
}

/** Strongly connected components (Tarjan, iterative) with more than one member or a self-loop. */
export function stronglyConnected(edges: [string, string][]): string[][] {
  const adj = new Map<string, string[]>();
  for (const [a, b] of edges) {
    if (!adj.has(a)) adj.set(a, []);
    if (!adj.has(b)) adj.set(b, []);
    adj.get(a)!.push(b);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let counter = 0;
  const nodes = [...adj.keys()].sort();
  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: [string, number][] = [[root, 0]];
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const [v, i] = frame;
      if (i === 0) { index.set(v, counter); low.set(v, counter); counter++; stack.push(v); onStack.add(v); }
      const next = adj.get(v)!;
      if (i < next.length) {
        frame[1] = i + 1;
        const w = next[i]!;
        if (!index.has(w)) work.push([w, 0]);
        else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent[0], Math.min(low.get(parent[0])!, low.get(v)!));
      if (low.get(v) === index.get(v)) {
        const comp: string[] = [];
        let w: string;
        do { w = stack.pop()!; onStack.delete(w); comp.push(w); } while (w !== v);
        if (comp.length > 1 || adj.get(v)!.includes(v)) out.push(comp.sort());
      }
    }
  }
  return out.sort((a, b) => b.length - a.length || (a[0]! < b[0]! ? -1 : 1));
}

export async function cycles(store: CodeStore): Promise<{ calls: string[][]; imports: string[][] }> {
  const load = async (kind: string): Promise<[string, string][]> =>
    (await store.query<{ src: string; dst: string }>('SELECT src, dst FROM edges WHERE kind = ? AND resolved = 1 ORDER BY src, dst', [kind])).map((r) => [r.src, r.dst]);
  const imports = stronglyConnected(await load('imports')).map((c) => c.map((k) => k.split(':')[2] ?? k));
  return { calls: stronglyConnected(await load('calls')), imports };
}

export async function stats(store: CodeStore): Promise<Record<string, unknown>> {
  const q = async (sql: string): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    for (const r of await store.query<{ k: string | null; n: number }>(sql)) out[r.k ?? 'none'] = Number(r.n);
    return out;
  };
  const calls = await store.query<{ k: string; n: number; r: number }>(
    "SELECT f.language AS k, CAST(COUNT(*) AS INTEGER) AS n, CAST(SUM(g.resolved) AS INTEGER) AS r FROM edges g JOIN files f ON f.path = g.file WHERE g.kind = 'calls' GROUP BY f.language ORDER BY f.language");
  const resolution: Record<string, { calls: number; resolved: number; rate: number }> = {};
  for (const c of calls) resolution[c.k] = { calls: Number(c.n), resolved: Number(c.r), rate: Math.round((Number(c.r) / Math.max(1, Number(c.n))) * 1000) / 1000 };
  const meta: Record<string, string> = {};
  for (const r of await store.query<{ key: string; value: string }>('SELECT key, value FROM meta ORDER BY key')) meta[r.key] = r.value;
  return {
    root: meta.root ?? null,
    files: await q("SELECT language AS k, CAST(COUNT(*) AS INTEGER) AS n FROM files WHERE status = 'indexed' GROUP BY language ORDER BY language"),
    skipped: await q("SELECT skip_reason AS k, CAST(COUNT(*) AS INTEGER) AS n FROM files WHERE status = 'skipped' GROUP BY skip_reason ORDER BY skip_reason"),
    entities: await q('SELECT kind AS k, CAST(COUNT(*) AS INTEGER) AS n FROM entities GROUP BY kind ORDER BY kind'),
    edges: await q('SELECT kind AS k, CAST(COUNT(*) AS INTEGER) AS n FROM edges GROUP BY kind ORDER BY kind'),
    call_resolution: resolution,
  };
}
