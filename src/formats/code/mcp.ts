/**
 * `threadmill code mcp`: the code graph as Model Context Protocol tools over stdio, with the
 * official SDK (@modelcontextprotocol/sdk). Every tool answers the JSON the CLI prints with
 * `--json`; a failure (unknown name, ambiguous name with its matches, bad argument) is a tool
 * result with isError, so the agent can read it and ask again. stdout carries only the protocol.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { z } from 'zod';
import { ThreadmillError } from '../../engine/errors.js';
import type { CodeStore } from '../../sinks/code-store.js';
import { AmbiguousName, blastRadius, callees, callers, show } from './graph-queries.js';
import { context, fileOutline, fuzzySearch } from './agent-queries.js';
import { threadmillVersion } from '../../engine/version.js';

type Answer = { content: { type: 'text'; text: string }[]; isError?: boolean };

async function answer(run: () => Promise<unknown>): Promise<Answer> {
  try {
    return { content: [{ type: 'text', text: JSON.stringify(await run()) }] };
  } catch (err) {
    const code = err instanceof ThreadmillError ? err.code : 'INTERNAL';
    const body: Record<string, unknown> = { error: { code, message: (err as Error).message } };
    if (err instanceof AmbiguousName) body.matches = err.matches;
    return { content: [{ type: 'text', text: JSON.stringify(body) }], isError: true };
  }
}

const nameOrKey = z.string().min(1).max(4096).describe('an entity key (from search), a qualified name (Circle.area) or a name');
const depth = (d: number) => z.number().int().min(1).max(50).default(d).describe('hops to follow');

/** The server with its tools, not yet connected (tests connect it to an in-memory transport too). */
export function codeMcpServer(store: CodeStore): McpServer {
  const server = new McpServer({ name: 'threadmill-code', version: threadmillVersion() });
  const ro = { readOnlyHint: true, openWorldHint: false };
  server.registerTool('search', {
    description: 'Find entities (functions, methods, classes, constants…) by name: exact, prefix, substring, then fuzzy subsequence matches, best first. Use the key of a result with the other tools.',
    inputSchema: { query: z.string().min(1).max(4096), limit: z.number().int().min(1).max(1000).default(20) }, annotations: ro,
  }, ({ query, limit }) => answer(() => fuzzySearch(store, query, limit)));
  server.registerTool('show', {
    description: 'One entity: kind, file and lines, signature, parent, counts of callers/callees/unresolved calls, and its code when indexed with --include-code.',
    inputSchema: { name: nameOrKey }, annotations: ro,
  }, ({ name }) => answer(() => show(store, name)));
  server.registerTool('callers', {
    description: 'Who calls this entity (resolved calls only), hop by hop up to depth.',
    inputSchema: { name: nameOrKey, depth: depth(1) }, annotations: ro,
  }, ({ name, depth: d }) => answer(() => callers(store, name, d)));
  server.registerTool('callees', {
    description: 'What this entity calls: resolved callees hop by hop, then its unresolved calls as written.',
    inputSchema: { name: nameOrKey, depth: depth(1) }, annotations: ro,
  }, ({ name, depth: d }) => answer(() => callees(store, name, d)));
  server.registerTool('blast_radius', {
    description: 'What may break if this entity changes: everything reaching it through calls and inheritance, by hop.',
    inputSchema: { name: nameOrKey, depth: depth(3) }, annotations: ro,
  }, ({ name, depth: d }) => answer(() => blastRadius(store, name, d)));
  server.registerTool('file_outline', {
    description: 'The entities defined in one file (path relative to the indexed folder), in source order, with signatures.',
    inputSchema: { path: z.string().min(1).max(4096) }, annotations: ro,
  }, ({ path }) => answer(() => fileOutline(store, path)));
  server.registerTool('context', {
    description: 'An entity with its source, then its parent, callees, callers, bases and subtypes (signatures first, then source) packed into a token budget.',
    inputSchema: { name: nameOrKey, budget: z.number().int().min(1).max(1_000_000).default(2000).describe('tokens (~4 characters each)') }, annotations: ro,
  }, ({ name, budget }) => answer(() => context(store, name, budget)));
  return server;
}

/** Serves until the client closes stdin. */
export async function serveMcp(store: CodeStore, transport: Transport = new StdioServerTransport()): Promise<void> {
  const server = codeMcpServer(store);
  const closed = new Promise<void>((resolve) => { server.server.onclose = () => resolve(); });
  await server.connect(transport);
  await closed;
}
