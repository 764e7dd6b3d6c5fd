/**
 * `code serve`'s one HTML page (issue 19): GET /neighbourhood?name=X (or key=K) [&depth=N] draws an
 * entity with its callers to the left and its callees to the right, up to N calls away (default 1,
 * at most 3), every resolved call between them an arrow; a click on a box opens that entity's
 * neighbourhood. The page is self-contained (src/sinks/html-report.ts): no script or style is fetched.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ThreadmillError } from '../../engine/errors.js';
import type { CodeStore } from '../../sinks/code-store.js';
import { renderReport, type GraphNode } from '../../sinks/html-report.js';
import { AmbiguousName, callees, callers, type EntityRef } from './graph-queries.js';

export const NEIGHBOURHOOD_PATH = '/neighbourhood';

function page(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
  res.end(html);
}

function nodeOf(e: EntityRef, side: GraphNode['side'], depth: number): GraphNode {
  return { id: e.key, label: e.name, title: `${e.kind} ${e.qualified_name}\n${e.file}:${e.start_line}-${e.end_line}`, side, depth, href: `${NEIGHBOURHOOD_PATH}?key=${encodeURIComponent(e.key)}` };
}

/** The nodes (each entity once: the centre, else its first side) and the resolved calls among them. */
async function neighbourhood(store: CodeStore, nameOrKey: string, depth: number): Promise<{ target: EntityRef; nodes: GraphNode[]; edges: [string, string][] }> {
  const [up, down] = [await callers(store, nameOrKey, depth), await callees(store, nameOrKey, depth)];
  const nodes = new Map<string, GraphNode>([[up.target.key, nodeOf(up.target, 'center', 0)]]);
  for (const h of up.hops) if (!nodes.has(h.entity.key)) nodes.set(h.entity.key, nodeOf(h.entity, 'caller', h.depth));
  for (const h of down.hops) if (!nodes.has(h.entity.key)) nodes.set(h.entity.key, nodeOf(h.entity, 'callee', h.depth));
  const keys = [...nodes.keys()];
  const marks = keys.map(() => '?').join(', ');
  const rows = await store.query<{ src: string; dst: string }>(`SELECT DISTINCT src, dst FROM edges WHERE resolved = 1 AND kind = 'calls' AND src IN (${marks}) AND dst IN (${marks}) ORDER BY src, dst`, [...keys, ...keys]);
  return { target: up.target, nodes: [...nodes.values()], edges: rows.filter((r) => r.src !== r.dst).map((r) => [r.src, r.dst]) };
}

/** Answers GET /neighbourhood with a page; an unknown name is a 404 page, an ambiguous one a 409 page listing the choices. */
export async function serveNeighbourhood(store: CodeStore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const p = new URL(req.url ?? '/', 'http://localhost').searchParams;
  const nameOrKey = p.get('key') ?? p.get('name');
  const depth = Number(p.get('depth') ?? 1);
  try {
    if (!nameOrKey) throw new ThreadmillError('BAD_REQUEST', 'give ?name=NAME or ?key=KEY', { exitCode: 2 });
    if (!Number.isSafeInteger(depth) || depth < 1 || depth > 3) throw new ThreadmillError('BAD_REQUEST', 'depth must be 1, 2 or 3', { exitCode: 2 });
    const n = await neighbourhood(store, nameOrKey, depth);
    const t = n.target;
    page(res, 200, renderReport({
      title: `${t.name}: callers and callees`,
      subtitle: `${t.kind} ${t.qualified_name} — ${t.file}:${t.start_line}`,
      facts: [['callers', String(n.nodes.filter((x) => x.side === 'caller').length)], ['callees', String(n.nodes.filter((x) => x.side === 'callee').length)], ['depth', String(depth)]],
      charts: [{ kind: 'graph', id: 'neighbourhood', title: `Calls into ${t.name} (left) and out of it (right)`, nodes: n.nodes, edges: n.edges, note: 'Resolved calls only; click a box to centre on it.' }],
    }));
  } catch (err) {
    const status = err instanceof AmbiguousName ? 409 : err instanceof ThreadmillError && err.code === 'NOT_FOUND' ? 404 : err instanceof ThreadmillError && err.code === 'BAD_REQUEST' ? 400 : 500;
    const choices: GraphNode[] = err instanceof AmbiguousName ? err.matches.map((m) => ({ ...nodeOf(m, 'callee', 1), label: `${m.name} (${m.file.split('/').pop()})` })) : [];
    page(res, status, renderReport({
      title: status === 409 ? `${nameOrKey ?? ''}: which one?` : 'No neighbourhood',
      subtitle: (err as Error).message.split('\n')[0]!,
      facts: [],
      charts: choices.length ? [{ kind: 'graph', id: 'choices', title: 'Entities of that name (click one)', nodes: choices, edges: [] }] : [],
    }));
  }
}
