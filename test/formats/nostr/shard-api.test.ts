/**
 * nostr convert on the runner (src/cli/runner.ts): shard and merge from the library API without the
 * CLI give what one convert writes; on the command line a shard's --json summary, merge's missing
 * -o, --rejects with --shard and the echo limit behave as for every other format (issue 16).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandOf, convertNostr, mergeParts, nostrFormat, runShard } from '../../../src/index.js';
import { runCli } from '../../helpers/faults.js';
import { nostrContents } from '../../scale-out/helpers.js';
import { makeEvents, toJsonl } from './fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'tm-nostr-api-'));
process.env.SOURCE_DATE_EPOCH = '1700000000';
const lines = toJsonl(makeEvents(120, 5)).split('\n').filter(Boolean);
// Copies far apart, so in other shards: the merge drops them in input order.
const input = join(root, 'events.jsonl');
writeFileSync(input, `${[...lines, ...lines.slice(0, 30)].join('\n')}\n`);
const flags = { threads: 1, chunkSize: 4096, validateSignatures: false };

test('library: runShard × 3 and mergeParts (at once, and a partial merge first) write the day files and index of one convert', async () => {
  const whole = join(root, 'whole');
  const ref = await convertNostr({ inputs: [input], outDir: whole, threads: 1, chunkSize: 4096, validateSignatures: false });
  const convert = commandOf(nostrFormat, 'convert');
  const parts: string[] = [];
  for (const s of ['0/3', '1/3', '2/3']) parts.push((await runShard('nostr', convert, [input], { ...flags, outputDir: join(root, 'parts', '{I}') }, s)).part);
  assert.deepEqual(parts, ['0', '1', '2'].map((i) => join(root, 'parts', i)));
  const merged = join(root, 'merged');
  const m = await mergeParts(nostrFormat, parts, { output: merged });
  assert.deepEqual(nostrContents(merged), nostrContents(whole));
  const summary = m.report!.summary as { written: number; duplicates: number; parts: number };
  assert.deepEqual([summary.parts, summary.written, summary.duplicates], [3, ref.written, ref.duplicates]);
  const mid = join(root, 'mid');
  await mergeParts(nostrFormat, parts.slice(0, 2), { output: mid, partial: true });
  const twoLevel = join(root, 'two-level');
  const m2 = await mergeParts(nostrFormat, [mid, parts[2]!], { output: twoLevel });
  assert.deepEqual(nostrContents(twoLevel), nostrContents(whole));
  assert.equal((m2.report!.summary as { duplicates: number }).duplicates, ref.duplicates);
});

test('CLI: a shard\'s --json is its summary with the part; merge without -o, and --rejects without {I}, are usage errors', () => {
  const part = join(root, 'cli-parts', '{I}');
  const r = runCli(['nostr', 'convert', input, '-j', '1', '--no-validate-signatures', '--shard', '0/1', '-o', part, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { part: string; written: number; share: unknown[] };
  assert.equal(s.part, join(root, 'cli-parts', '0'));
  assert.ok(s.written > 0 && Array.isArray(s.share), r.stdout);
  assert.doesNotMatch(r.stderr, /shard 0\/1 →/, 'with --json the summary replaces the line on stderr');
  const noOut = runCli(['nostr', 'merge', join(root, 'cli-parts', '0')]);
  assert.equal(noOut.status, 2, noOut.stderr);
  assert.match(noOut.stderr, /\[USAGE\].*-o DIR/);
  const rejects = runCli(['nostr', 'convert', input, '--shard', '1/2', '-o', part, '--rejects', join(root, 'r.jsonl')]);
  assert.equal(rejects.status, 2, rejects.stderr);
  assert.match(rejects.stderr, /\[USAGE\].*\{I\}/);
});

test('CLI: the first 20 rejections are echoed, like every format\'s (nostr echoed 5)', () => {
  const bad = join(root, 'bad.jsonl');
  writeFileSync(bad, `${lines.slice(0, 5).join('\n')}\n${'{"broken"\n'.repeat(25)}`);
  const r = runCli(['nostr', 'convert', bad, '-j', '1', '--no-validate-signatures', '-o', join(root, 'bad')]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('threadmill: rejected ')).length, 20);
  assert.match(r.stderr, /further rejections are counted/);
});
