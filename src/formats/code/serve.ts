/**
 * `code serve`: the queries as JSON over HTTP (node:http; one store connection, requests
 * answered one at a time by the store). For editors and LLM agents:
 *   GET /health                          {"ok": true, "entities": N, "files": N}
 *   GET /callers?name=X&depth=N          GET /callees?name=X&depth=N
 *   GET /blast-radius?key=K&depth=N      GET /search?q=PATTERN&limit=N
 *   GET /show?key=K                      GET /cycles          GET /stats
 *   GET /context?name=X&budget=TOKENS    GET /outline?path=FILE
 *   GET /neighbourhood?name=X&depth=N    an HTML page drawing callers and callees (neighbourhood-page.ts)
 * Errors are JSON {"error": {"code", "message"}}: 400 bad parameters, 404 unknown entity or
 * route, 409 an ambiguous name (with "matches"), 431 a request over Node's 16 KiB header limit.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ThreadmillError } from '../../engine/errors.js';
import type { CodeStore } from '../../sinks/code-store.js';
import { AmbiguousName, blastRadius, callees, callers, cycles, search, show, stats } from './graph-queries.js';
import { context, fileOutline } from './agent-queries.js';
import { NEIGHBOURHOOD_PATH, serveNeighbourhood } from './neighbourhood-page.js';

type Params = URLSearchParams;

function required(p: Params, ...names: string[]): string {
  for (const n of names) {
    const v = p.get(n);
    if (v) return v;
  }
  throw new ThreadmillError('BAD_REQUEST', `missing query parameter ${names.join(' or ')}`, { exitCode: 2 });
}

function depth(p: Params, fallback: number): number {
  const raw = p.get('depth');
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1 || n > 50) throw new ThreadmillError('BAD_REQUEST', `depth must be an integer from 1 to 50, got ${JSON.stringify(raw)}`, { exitCode: 2 });
  return n;
}

/** An optional positive integer parameter (limit, budget); anything else is a 400, never a silent default. */
function positive(p: Params, name: string, fallback: number, max: number): number {
  const raw = p.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isSafeInteger(n) || n < 1 || n > max) throw new ThreadmillError('BAD_REQUEST', `${name} must be an integer from 1 to ${max}, got ${JSON.stringify(raw)}`, { exitCode: 2 });
  return n;
}

const ROUTES: Record<string, (store: CodeStore, p: Params) => Promise<unknown>> = {
  '/health': async (store) => {
    const [e] = await store.query<{ n: number }>('SELECT CAST(COUNT(*) AS INTEGER) AS n FROM entities');
    const [f] = await store.query<{ n: number }>("SELECT CAST(COUNT(*) AS INTEGER) AS n FROM files WHERE status = 'indexed'");
    return { ok: true, entities: Number(e?.n ?? 0), files: Number(f?.n ?? 0) };
  },
  '/callers': (store, p) => callers(store, required(p, 'name', 'key'), depth(p, 1)),
  '/callees': (store, p) => callees(store, required(p, 'name', 'key'), depth(p, 1)),
  '/blast-radius': (store, p) => blastRadius(store, required(p, 'key', 'name'), depth(p, 3)),
  '/search': (store, p) => search(store, required(p, 'q', 'pattern'), positive(p, 'limit', 100, 100_000)),
  '/context': (store, p) => context(store, required(p, 'name', 'key'), positive(p, 'budget', 2000, 1_000_000)),
  '/outline': (store, p) => fileOutline(store, required(p, 'path', 'file')),
  '/show': (store, p) => show(store, required(p, 'key', 'name')),
  '/cycles': (store) => cycles(store),
  '/stats': (store) => stats(store),
};

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function statusOf(err: unknown): number {
  if (err instanceof AmbiguousName) return 409;
  if (err instanceof ThreadmillError) return err.code === 'NOT_FOUND' ? 404 : err.code === 'BAD_REQUEST' ? 400 : 500;
  return 500;
}

async function handle(store: CodeStore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const route = ROUTES[url.pathname];
  if (req.method !== 'GET') return send(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: 'only GET is served' } });
  // The one HTML page (#19): an entity's callers/callees drawn (neighbourhood-page.ts).
  if (url.pathname === NEIGHBOURHOOD_PATH) return serveNeighbourhood(store, req, res);
  if (!route) return send(res, 404, { error: { code: 'NO_ROUTE', message: `no route ${url.pathname}; routes: ${Object.keys(ROUTES).join(' ')}` } });
  try {
    send(res, 200, await route(store, url.searchParams));
  } catch (err) {
    const code = err instanceof ThreadmillError ? err.code : 'INTERNAL';
    const body: Record<string, unknown> = { error: { code, message: (err as Error).message } };
    if (err instanceof AmbiguousName) body.matches = err.matches;
    send(res, statusOf(err), body);
  }
}

/** Starts listening; resolves with the server once bound (port 0 picks a free port). */
export function serveGraph(store: CodeStore, port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createServer((req, res) => void handle(store, req, res));
  // Requests Node rejects before a handler sees them (headers or URL over its 16 KiB limit, bad
  // HTTP) get the same JSON error body as every other failure instead of a bare status line.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const body = JSON.stringify({ error: tooLarge
      ? { code: 'REQUEST_TOO_LARGE', message: 'request line and headers exceed 16 KiB; send a shorter query' }
      : { code: 'BAD_REQUEST', message: `malformed HTTP request (${err.code ?? err.message})` } });
    const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new ThreadmillError('SERVE_FAILED', `cannot listen on ${host}:${port}: ${err.code ?? err.message}`)));
    server.listen(port, host, () => resolve(server));
  });
}
