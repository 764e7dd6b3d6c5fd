/**
 * `threadmill nostr query DIR`: events selected by NIP-01 filters (ids, authors, kinds, since,
 * until, `#x` tags, limit), answered from index.db and the day files. index.db (Proton Beam's
 * schema: id, kind, pubkey, created_at, file_path) names the day files that can hold a match, and
 * for each its newest created_at; only those files are read, and every event read is checked
 * against the whole filter, so tags (not in the index) are exact too. Several filters are ORed, as
 * in a relay's REQ. Without a limit the answer comes in `nostr cat DIR` order (day files by name,
 * events in file order) and in bounded memory; with one, newest first (created_at descending, then
 * id), as relays answer, holding at most `limit` events per filter.
 */
import type Database from 'better-sqlite3';
import { join } from 'node:path';
import { ThreadmillError } from '../../engine/errors.js';
import type { NostrEvent } from './event.js';
import { openIndexReadOnly } from './index-db.js';
import { readPbGz } from './pb-reader.js';

export interface NostrFilter {
  ids?: string[];
  authors?: string[];
  kinds?: number[];
  since?: number;
  until?: number;
  limit?: number;
  /** `#e`, `#p`, … : tag name (one letter) → values, any of which matches the tag's first value. */
  tags?: Record<string, string[]>;
}

const HEX64 = /^[0-9a-f]{64}$/;

function invalid(message: string): never {
  throw new ThreadmillError('FILTER_INVALID', message, { exitCode: 2 });
}

function hexList(key: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !HEX64.test(x.toLowerCase()))) invalid(`"${key}" must be a list of 64-hex-character strings`);
  return (v as string[]).map((x) => x.toLowerCase());
}

function integer(key: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) invalid(`"${key}" must be a non-negative integer, got ${JSON.stringify(v)}`);
  return v;
}

/** A NIP-01 filter object (as in `["REQ", sub, {…}]`), checked; FILTER_INVALID (exit 2) names what is wrong. */
export function parseFilter(value: unknown): NostrFilter {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid('a filter is a JSON object, e.g. {"kinds":[1],"limit":10}');
  const f: NostrFilter = {};
  for (const [key, v] of Object.entries(value)) {
    if (key === 'ids' || key === 'authors') f[key] = hexList(key, v);
    else if (key === 'kinds') {
      if (!Array.isArray(v)) invalid('"kinds" must be a list of integers');
      f.kinds = v.map((k) => integer('kinds', k));
    } else if (key === 'since' || key === 'until' || key === 'limit') f[key] = integer(key, v);
    else if (/^#[A-Za-z]$/.test(key)) {
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) invalid(`"${key}" must be a list of strings`);
      (f.tags ??= {})[key.slice(1)] = v as string[];
    } else invalid(`unknown filter key ${JSON.stringify(key)} (NIP-01: ids, authors, kinds, since, until, limit, #<letter>)`);
  }
  return f;
}

/** NIP-01 matching: every given condition holds; within a list, any value. */
export function matchFilter(ev: NostrEvent, f: NostrFilter): boolean {
  if (f.ids && !f.ids.includes(ev.id)) return false;
  if (f.authors && !f.authors.includes(ev.pubkey)) return false;
  if (f.kinds && !f.kinds.includes(ev.kind)) return false;
  if (f.since !== undefined && ev.created_at < f.since) return false;
  if (f.until !== undefined && ev.created_at > f.until) return false;
  for (const [name, values] of Object.entries(f.tags ?? {})) {
    if (!ev.tags.some((t) => t[0] === name && t[1] !== undefined && values.includes(t[1]))) return false;
  }
  return true;
}

/** Newest first, then by id: the order relays answer a limited filter in. */
export function newestFirst(a: NostrEvent, b: NostrEvent): number {
  return b.created_at - a.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

interface CandidateFile { file_path: string; newest: number }

/** The day files that hold an event matching the filter's indexed fields, with the newest such created_at. */
function candidateFiles(db: Database.Database, f: NostrFilter): CandidateFile[] {
  const where: string[] = [];
  const params: (string | number)[] = [];
  const list = (column: string, values: readonly (string | number)[]): void => {
    where.push(`${column} IN (SELECT value FROM json_each(?))`);
    params.push(JSON.stringify(values));
  };
  if (f.ids) list('id', f.ids);
  if (f.authors) list('pubkey', f.authors);
  if (f.kinds) list('kind', f.kinds);
  if (f.since !== undefined) {
    where.push('created_at >= ?');
    params.push(f.since);
  }
  if (f.until !== undefined) {
    where.push('created_at <= ?');
    params.push(f.until);
  }
  const sql = `SELECT file_path, MAX(created_at) AS newest FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} GROUP BY file_path`;
  return db.prepare(sql).all(...params) as CandidateFile[];
}

/**
 * Calls `emit` for every event of DIR matching any of `filters`; returns how many. Reads the index
 * once, then only the day files that can hold a match.
 */
export async function queryNostr(dir: string, filters: readonly NostrFilter[], emit: (ev: NostrEvent) => void | Promise<void>): Promise<number> {
  const db = openIndexReadOnly(dir);
  let perFilter: CandidateFile[][];
  try {
    perFilter = filters.map((f) => (f.limit === 0 ? [] : candidateFiles(db, f)));
  } finally {
    db.close();
  }
  if (filters.some((f) => f.limit !== undefined)) return emitLimited(dir, filters, perFilter, emit);
  const files = [...new Set(perFilter.flat().map((c) => c.file_path))].sort();
  let n = 0;
  for (const file of files) {
    for await (const ev of readPbGz(join(dir, file))) {
      if (filters.some((f) => matchFilter(ev, f))) {
        n++;
        await emit(ev);
      }
    }
  }
  return n;
}

/** With limits: each filter's newest `limit` matches (files read newest first, stopping when no older file can do better), united by id, newest first. */
async function emitLimited(dir: string, filters: readonly NostrFilter[], perFilter: CandidateFile[][], emit: (ev: NostrEvent) => void | Promise<void>): Promise<number> {
  const union = new Map<string, NostrEvent>();
  for (const [i, f] of filters.entries()) {
    const limit = f.limit ?? Infinity;
    let kept: NostrEvent[] = [];
    for (const c of [...perFilter[i]!].sort((a, b) => b.newest - a.newest)) {
      if (kept.length >= limit && c.newest < kept[kept.length - 1]!.created_at) break;
      for await (const ev of readPbGz(join(dir, c.file_path))) if (matchFilter(ev, f)) kept.push(ev);
      kept.sort(newestFirst);
      if (kept.length > limit) kept = kept.slice(0, limit);
    }
    for (const ev of kept) union.set(ev.id, ev);
  }
  const answer = [...union.values()].sort(newestFirst);
  for (const ev of answer) await emit(ev);
  return answer.length;
}
