/** `nostr cat` and `nostr query`: events back as JSON lines (issue 19). */
import { InvalidArgumentError, type Command } from 'commander';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { dirname } from 'node:path';
import { action } from '../../cli/common.js';
import { recoverDirectory } from '../../engine/atomic.js';
import { ThreadmillError } from '../../engine/errors.js';
import type { NostrEvent } from './event.js';
import { dayFilesIn } from './index-rebuild.js';
import { eventToJson, readPbGz, readPbStream } from './pb-reader.js';
import { parseFilter, queryNostr, type NostrFilter } from './query.js';

export async function printEvent(ev: NostrEvent): Promise<void> {
  if (!process.stdout.write(`${eventToJson(ev)}\n`)) await new Promise((r) => process.stdout.once('drain', r));
}

/** What `cat` reads for one argument: stdin (`-`), a directory's day files in name order, or a file. */
function eventsOf(arg: string): AsyncGenerator<NostrEvent>[] {
  if (arg === '-') return [readPbStream(process.stdin, 'stdin')];
  let isDir = false;
  try {
    isDir = statSync(arg).isDirectory();
  } catch {
    // a missing file: readPbGz says INPUT_NOT_FOUND
  }
  // A commit cut short (kill -9) is finished first, so cat never prints a mix of two runs.
  recoverDirectory(isDir ? arg : dirname(arg));
  return isDir ? dayFilesIn(arg).map((f) => readPbGz(join(arg, f))) : [readPbGz(arg)];
}

function registerCat(nostr: Command): void {
  nostr.command('cat')
    .description('print events as JSON lines: .pb.gz files, a directory of them (its day files in order), or - (stdin)')
    .argument('<inputs...>', '.pb.gz files, directories written by convert, or - for stdin')
    .action(action(async (inputs: string[]) => {
      if (inputs.filter((i) => i === '-').length > 1) throw new ThreadmillError('USAGE', 'stdin (-) can be given only once', { exitCode: 2 });
      for (const input of inputs) for (const events of eventsOf(input)) for await (const ev of events) await printEvent(ev);
    }));
}

/** `--since`/`--until`: Unix seconds, or an ISO date/time (UTC unless it says otherwise). */
function timeArg(v: string): number {
  if (/^\d+$/.test(v)) return Number(v);
  const ms = Date.parse(/^\d{4}-\d\d-\d\d$/.test(v) ? `${v}T00:00:00Z` : v);
  if (Number.isNaN(ms)) throw new InvalidArgumentError(`expected Unix seconds or an ISO date such as 2024-01-31, got ${JSON.stringify(v)}`);
  return Math.floor(ms / 1000);
}

const collect = (v: string, all: string[] = []): string[] => [...all, v];

interface QueryFlags { id?: string[]; author?: string[]; kind?: string[]; since?: number; until?: number; limit?: string; tag?: string[]; filter?: string[] }

/** The filter the flags spell (undefined when none is given), checked like a --filter one. */
function flagFilter(flags: QueryFlags): NostrFilter | undefined {
  const raw: Record<string, unknown> = {};
  if (flags.id) raw.ids = flags.id;
  if (flags.author) raw.authors = flags.author;
  if (flags.kind) raw.kinds = flags.kind.map(Number);
  if (flags.since !== undefined) raw.since = flags.since;
  if (flags.until !== undefined) raw.until = flags.until;
  if (flags.limit !== undefined) raw.limit = Number(flags.limit);
  for (const t of flags.tag ?? []) {
    const m = /^#?([A-Za-z])=(.*)$/.exec(t);
    if (!m) throw new ThreadmillError('FILTER_INVALID', `--tag wants LETTER=VALUE (e.g. e=<event id>, p=<pubkey>), got ${JSON.stringify(t)}`, { exitCode: 2 });
    ((raw[`#${m[1]}`] ??= []) as string[]).push(m[2]!);
  }
  return Object.keys(raw).length ? parseFilter(raw) : undefined;
}

function jsonFilters(texts: readonly string[]): NostrFilter[] {
  return texts.flatMap((text) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new ThreadmillError('FILTER_INVALID', `--filter is not JSON: ${(err as Error).message}`, { exitCode: 2 });
    }
    return (Array.isArray(value) ? value : [value]).map(parseFilter);
  });
}

function registerQuery(nostr: Command): void {
  nostr.command('query')
    .description('print the events of DIR that match NIP-01 filters, as JSON lines (several filters: any matches)')
    .argument('<dir>', 'output directory of convert')
    .option('--id <hex>', 'event id (repeat for several)', collect)
    .option('--author <hex>', 'author pubkey (repeat for several)', collect)
    .option('--kind <n>', 'kind (repeat for several)', collect)
    .option('--since <time>', 'created_at at or after: Unix seconds or an ISO date', timeArg)
    .option('--until <time>', 'created_at at or before: Unix seconds or an ISO date', timeArg)
    .option('--tag <letter=value>', 'a tag, e.g. e=<event id> or p=<pubkey> (repeat: same letter any, different letters all)', collect)
    .option('--limit <n>', 'the newest N events (then printed newest first)')
    .option('--filter <json>', 'a NIP-01 filter object, e.g. \'{"kinds":[1],"#p":["…"]}\' (or a list of them; repeatable)', collect)
    .action(action(async (dir: string, flags: QueryFlags) => {
      const filters = [flagFilter(flags), ...jsonFilters(flags.filter ?? [])].filter((f): f is NostrFilter => f !== undefined);
      recoverDirectory(dir);
      await queryNostr(dir, filters.length ? filters : [{}], printEvent);
    }));
}

export function registerNostrReaders(nostr: Command): void {
  registerCat(nostr);
  registerQuery(nostr);
}
