/**
 * The test-only `lines` format gets convert, stats, --shard, merge, --rejects, --max-errors,
 * progress and --json from its spec alone (issue 16): these tests pass as a real format's do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tableFromIPC } from 'apache-arrow';

const entry = fileURLToPath(new URL('./cli-entry.js', import.meta.url));

function lines(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [entry, 'lines', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** 3,000 records, every 400th one bad (no value); returns the file and the valid records. */
function input(dir: string): { path: string; good: [string, number][]; bad: number[] } {
  const good: [string, number][] = [];
  const bad: number[] = [];
  const text: string[] = [];
  for (let i = 0; i < 3000; i++) {
    if (i % 400 === 399) {
      bad.push(i + 1);
      text.push(`bad${i}`);
    } else {
      good.push([`n${i}`, i * 7 - 1000]);
      text.push(`n${i},${i * 7 - 1000}`);
    }
  }
  const path = join(dir, 'in.txt');
  writeFileSync(path, `${text.join('\n')}\n`);
  return { path, good, bad };
}

const sumOf = (good: [string, number][]): number => good.reduce((n, [, v]) => n + v, 0);

test('lines convert: -j 1 and -j 2 write the same bytes; apache-arrow reads every valid record; --rejects holds the bad ones', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-lines-'));
  const { path, good, bad } = input(dir);
  const outs = [1, 2].map((j) => {
    const out = join(dir, `j${j}.arrow`);
    const r = lines(['convert', path, '-o', out, '-j', String(j), '--chunk-size', '4096', '--rejects', join(dir, `r${j}.jsonl`), '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { records: good.length, sum: sumOf(good), rejected: bad.length, output: out });
    return readFileSync(out);
  });
  assert.ok(outs[0]!.equals(outs[1]!), '-j 1 and -j 2 differ');
  const table = tableFromIPC(outs[0]!);
  assert.deepEqual(table.toArray().map((r) => [r.name, r.value]), good);
  const rejects = readFileSync(join(dir, 'r2.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: number; offset: number; text: string });
  assert.deepEqual(rejects.map((r) => r.line), bad);
  const text = readFileSync(path, 'utf8');
  for (const r of rejects) assert.equal(text.slice(r.offset, r.offset + r.text.length), r.text);
});

test('lines stats: the table on stdout, the echo of rejections on stderr, --max-errors fails with no output left', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-lines-'));
  const { path, good, bad } = input(dir);
  const r = lines(['stats', path, '--chunk-size', '4096']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `records\t${good.length}\nsum\t${sumOf(good)}\n`);
  assert.match(r.stderr, new RegExp(`rejected ${path.replace(/[.]/g, '\\.')}:${bad[0]} \\(byte \\d+\\): invalid_field`));
  assert.match(r.stderr, new RegExp(`${bad.length} bad record\\(s\\) left out`));
  const failed = lines(['convert', path, '-o', join(dir, 'x.arrow'), '--max-errors', '2', '--rejects', join(dir, 'x.jsonl')]);
  assert.equal(failed.status, 1);
  assert.match(failed.stderr, /error \[TOO_MANY_ERRORS\]: more than 2 rejected records/);
  assert.equal(existsSync(join(dir, 'x.arrow')), false);
  assert.equal(existsSync(join(dir, 'x.jsonl')), false);
});

test('lines --shard I/N and merge give what one run gives (stats equal, convert the same bytes); each shard keeps its rejects', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-lines-'));
  const { path, good, bad } = input(dir);
  const whole = lines(['convert', path, '-o', join(dir, 'whole.arrow'), '--chunk-size', '4096', '-q']);
  assert.equal(whole.status, 0, whole.stderr);
  for (const i of [0, 1, 2]) {
    for (const cmd of ['stats', 'convert']) {
      const r = lines([cmd, path, '--shard', `${i}/3`, '-o', join(dir, `${cmd}-{I}.arrow`), '--chunk-size', '4096', '--rejects', join(dir, `${cmd}-rej-{I}.jsonl`)]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`threadmill lines ${cmd}: shard ${i}/3 → `));
    }
  }
  const merged = lines(['merge', ...[2, 0, 1].map((i) => join(dir, `stats-${i}.arrow`)), '--json']);
  assert.equal(merged.status, 0, merged.stderr);
  assert.deepEqual(JSON.parse(merged.stdout), { records: good.length, sum: sumOf(good), rejected: bad.length });
  const out = join(dir, 'merged.arrow');
  const m2 = lines(['merge', ...[0, 1, 2].map((i) => join(dir, `convert-${i}.arrow`)), '-o', out]);
  assert.equal(m2.status, 0, m2.stderr);
  assert.ok(readFileSync(out).equals(readFileSync(join(dir, 'whole.arrow'))), 'merged file differs from the unsharded one');
  const rejected = [0, 1, 2].flatMap((i) => readFileSync(join(dir, `convert-rej-${i}.jsonl`), 'utf8').trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { line: number }).line));
  assert.deepEqual(rejected, bad);
  const missing = lines(['merge', join(dir, 'stats-0.arrow'), join(dir, 'stats-1.arrow')]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /error \[PART_MISSING\]: shard\(s\) 2 of 3 missing/);
  const clobber = lines(['stats', path, '--shard', '0/3', '-o', join(dir, 'p{I}'), '--rejects', join(dir, 'same.jsonl')]);
  assert.equal(clobber.status, 2);
  assert.match(clobber.stderr, /--rejects needs \{I\}/);
});

test('lines --progress json: stderr holds JSON lines only, the summary last; --quiet holds nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-lines-'));
  const { path, good } = input(dir);
  const r = lines(['convert', path, '-o', join(dir, 'p.arrow'), '--progress', 'json', '--chunk-size', '4096']);
  assert.equal(r.status, 0, r.stderr);
  const events = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { type: string; records?: number });
  assert.equal(events.at(-1)!.type, 'summary');
  assert.equal(events.at(-1)!.records, good.length);
  const quiet = lines(['stats', path, '-q']);
  assert.equal(quiet.status, 0);
  assert.equal(quiet.stderr, '');
});
