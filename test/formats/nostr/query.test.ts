/**
 * Reading an archive back (issue 19): `nostr query` with NIP-01 filters equals a brute-force filter
 * over `nostr cat DIR` (written here independently of query.ts), for random filters over random
 * events; flags and --filter agree; `cat -` and `cat DIR`; `lookup --print` and its paths.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { convertNostr } from '../../../src/formats/nostr/pipeline.js';
import { queryNostr, type NostrFilter } from '../../../src/formats/nostr/query.js';
import type { NostrEvent } from '../../../src/formats/nostr/event.js';
import { makeEvents, signEvent, toJsonl, type TestEvent } from './fixtures.js';
import { rng } from '../../helpers/random.js';

const root = mkdtempSync(join(tmpdir(), 'tm-nostr-query-'));
const cli = new URL('../../../src/cli.js', import.meta.url).pathname;
const base = makeEvents(160, 5);
// Replies and reactions that point at earlier events and authors, so #e/#p filters match several.
const replies = Array.from({ length: 60 }, (_, i) => signEvent({ created_at: base[i % 40]!.created_at + 60 * (i + 1), kind: i % 2 ? 7 : 1, tags: [['e', base[i % 7]!.id], ['p', base[i % 3]!.pubkey]], content: `re ${i}` }, i));
const events: TestEvent[] = [...base, ...replies];
const input = join(root, 'in.jsonl');
writeFileSync(input, toJsonl(events));
const dir = join(root, 'pb');
await convertNostr({ inputs: [input], outDir: dir, threads: 2, validateSignatures: false });

function cli_(args: string[], input?: Buffer): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', input });
}
const catAll = (): NostrEvent[] => cli_(['nostr', 'cat', dir]).stdout.trim().split('\n').map((l) => JSON.parse(l) as NostrEvent);

/** The reference: NIP-01 read literally, over every event `cat` prints. */
function bruteForce(all: NostrEvent[], filters: NostrFilter[]): NostrEvent[] {
  const matches = (e: NostrEvent, f: NostrFilter): boolean =>
    (f.ids === undefined || f.ids.includes(e.id)) && (f.authors === undefined || f.authors.includes(e.pubkey)) &&
    (f.kinds === undefined || f.kinds.includes(e.kind)) && (f.since === undefined || e.created_at >= f.since) &&
    (f.until === undefined || e.created_at <= f.until) &&
    Object.entries(f.tags ?? {}).every(([k, vs]) => e.tags.some((t) => t[0] === k && vs.includes(t[1]!)));
  if (filters.every((f) => f.limit === undefined)) return all.filter((e) => filters.some((f) => matches(e, f)));
  const order = (a: NostrEvent, b: NostrEvent): number => b.created_at - a.created_at || a.id.localeCompare(b.id);
  const union = new Map<string, NostrEvent>();
  for (const f of filters) for (const e of all.filter((x) => matches(x, f)).sort(order).slice(0, f.limit ?? Infinity)) union.set(e.id, e);
  return [...union.values()].sort(order);
}

function randomFilter(rand: () => number): NostrFilter {
  const pick = <T>(xs: readonly T[], n: number): T[] => Array.from({ length: n }, () => xs[Math.floor(rand() * xs.length)]!);
  const f: NostrFilter = {};
  const times = events.map((e) => e.created_at).sort((a, b) => a - b);
  if (rand() < 0.2) f.ids = [...new Set(pick(events, 1 + Math.floor(rand() * 5)).map((e) => e.id)), '0'.repeat(64)];
  if (rand() < 0.35) f.authors = [...new Set(pick(events, 1 + Math.floor(rand() * 2)).map((e) => e.pubkey))];
  if (rand() < 0.4) f.kinds = [...new Set(pick([0, 1, 3, 7, 30023, 9], 1 + Math.floor(rand() * 2)))];
  if (rand() < 0.4) f.since = pick(times, 1)[0]!;
  if (rand() < 0.4) f.until = pick(times, 1)[0]! + 86400 * 3;
  if (rand() < 0.25) f.tags = { e: pick(replies, 2).map((r) => r.tags[0]![1]!) };
  if (rand() < 0.2) f.tags = { ...f.tags, p: pick(replies, 1).map((r) => r.tags[1]![1]!) };
  if (rand() < 0.35) f.limit = Math.floor(rand() * 12);
  return f;
}

test('query equals a brute-force filter over cat DIR, for 80 random filter sets', async () => {
  const all = catAll();
  assert.equal(all.length, events.length);
  const rand = rng(19);
  let nonEmpty = 0;
  for (let i = 0; i < 80; i++) {
    const filters = Array.from({ length: 1 + Math.floor(rand() * 2.5) }, () => randomFilter(rand));
    const got: NostrEvent[] = [];
    await queryNostr(dir, filters, (e) => void got.push(e));
    const want = bruteForce(all, filters);
    assert.deepEqual(got.map((e) => e.id), want.map((e) => e.id), JSON.stringify(filters));
    if (want.length > 0) nonEmpty++;
  }
  assert.ok(nonEmpty > 40, `most filters match something (${nonEmpty})`);
});

test('the CLI: flags and --filter select the same events, as JSON lines equal to cat\'s', () => {
  const all = catAll();
  const target = replies[3]!;
  const viaFlags = cli_(['nostr', 'query', dir, '--kind', '1', '--kind', '7', '--tag', `e=${target.tags[0]![1]}`, '--since', String(target.created_at - 100000), '--limit', '4']);
  const viaJson = cli_(['nostr', 'query', dir, '--filter', JSON.stringify({ kinds: [1, 7], '#e': [target.tags[0]![1]], since: target.created_at - 100000, limit: 4 })]);
  assert.equal(viaFlags.status, 0, viaFlags.stderr);
  assert.equal(viaFlags.stdout, viaJson.stdout);
  const want = bruteForce(all, [{ kinds: [1, 7], tags: { e: [target.tags[0]![1]!] }, since: target.created_at - 100000, limit: 4 }]);
  assert.ok(want.length > 0);
  assert.equal(viaFlags.stdout, want.map((e) => `${JSON.stringify(e)}\n`).join(''));
  const date = cli_(['nostr', 'query', dir, '--until', '2023-11-16']);
  assert.equal(date.stdout.trim().split('\n').length, all.filter((e) => e.created_at <= Date.parse('2023-11-16T00:00:00Z') / 1000).length);
  for (const bad of [['--filter', '{"kinds":"1"}'], ['--filter', '{"ids":["abc"]}'], ['--filter', '{"x":1}'], ['--filter', 'nope'], ['--tag', 'e']]) {
    const r = cli_(['nostr', 'query', dir, ...bad]);
    assert.equal(r.status, 2, bad.join(' '));
    assert.match(r.stderr, /^threadmill: error \[FILTER_INVALID\]: /);
  }
});

test('cat reads stdin (-) and directories; lookup --print prints events, and its paths agree between text and --json', () => {
  const all = catAll();
  const day = cli_(['nostr', 'lookup', dir, all[0]!.id, '--json']);
  const path = (JSON.parse(day.stdout) as { file_path: string }).file_path;
  const text = cli_(['nostr', 'lookup', dir, all[0]!.id]).stdout.trim().split('\t');
  assert.equal(text[4], path);
  const fromStdin = cli_(['nostr', 'cat', '-'], readFileSync(path));
  assert.equal(fromStdin.status, 0, fromStdin.stderr);
  assert.equal(fromStdin.stdout, cli_(['nostr', 'cat', path]).stdout);
  assert.ok(fromStdin.stdout.startsWith(`${JSON.stringify(all[0])}\n`));
  const ids = [all[50]!.id, '0'.repeat(64), all[3]!.id];
  const printed = cli_(['nostr', 'lookup', dir, ...ids, '--print']);
  assert.equal(printed.status, 1);
  assert.equal(printed.stdout, `${JSON.stringify(all[50])}\n${JSON.stringify(all[3])}\n`);
  assert.match(printed.stderr, new RegExp(`not found: ${'0'.repeat(64)}`));
});
