/**
 * Issue 8, nostr records: a BOM, invalid UTF-8, a bad boolean option, created_at past 2^53, cat of
 * a missing file, lookup of a malformed id. One test per case.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { convertNostr } from '../../../src/formats/nostr/pipeline.js';
import { checkLine } from '../../../src/formats/nostr/event.js';
import { makeEvents, signEvent, toJsonl } from './fixtures.js';

process.env.SOURCE_DATE_EPOCH = '1700000000';
const root = mkdtempSync(join(tmpdir(), 'tm-nostr-records-'));
const cli = new URL('../../../src/cli.js', import.meta.url).pathname;
const events = makeEvents(40, 5);
let dirs = 0;
const freshDir = (): string => join(root, `out${++dirs}`);
const file = (name: string, bytes: string | Buffer): string => {
  const p = join(root, name);
  writeFileSync(p, bytes);
  return p;
};
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(dir).sort()) if (!n.startsWith('.')) out[n] = createHash('sha256').update(readFileSync(join(dir, n))).digest('hex');
  return out;
}

test('a UTF-8 BOM at the start of a file (and of a second file concatenated to it) does not lose the first event', async () => {
  const ref = freshDir();
  await convertNostr({ inputs: [file('plain.jsonl', toJsonl(events))], outDir: ref, threads: 2, chunkSize: 1 << 12 });
  const half = events.length / 2;
  const withBoms = file('bom.jsonl', Buffer.concat([BOM, Buffer.from(toJsonl(events.slice(0, half))), BOM, Buffer.from(toJsonl(events.slice(half)))]));
  for (const threads of [1, 2]) {
    const dir = freshDir();
    const s = await convertNostr({ inputs: [withBoms], outDir: dir, threads, chunkSize: 1 << 12 });
    assert.equal(s.rejected_total, 0);
    assert.equal(s.written, events.length);
    assert.deepEqual(snapshot(dir), snapshot(ref), `-j ${threads}`);
  }
});

test('invalid UTF-8 is its own reject category: an event signed over U+FFFD is not accepted with other bytes', async () => {
  const signedOverFffd = signEvent({ created_at: 1_700_000_000, kind: 1, tags: [], content: 'caf\uFFFD au lait' });
  const json = Buffer.from(JSON.stringify(signedOverFffd));
  const at = json.indexOf(Buffer.from('\uFFFD'));
  const badLine = Buffer.concat([json.subarray(0, at), Buffer.from([0xe9]), json.subarray(at + 3)]); // latin-1 "é"
  const first = Buffer.from(`${JSON.stringify(events[0])}\n`);
  const input = file('bad-utf8.jsonl', Buffer.concat([first, badLine, Buffer.from(`\n${JSON.stringify(events[1])}\n`)]));
  const rejects = join(root, 'bad-utf8.rejects.jsonl');
  const dirs2 = [freshDir(), freshDir()];
  const s = await convertNostr({ inputs: [input], outDir: dirs2[0]!, threads: 1, rejectsPath: rejects });
  assert.equal(s.written, 2);
  assert.equal(s.rejected.invalid_utf8, 1);
  assert.equal(s.rejected_total, 1);
  const [r] = readFileSync(rejects, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: number; offset: number; category: string; reason: string });
  assert.deepEqual([r!.line, r!.offset, r!.category], [2, first.length, 'invalid_utf8']);
  assert.match(r!.reason, new RegExp(`^byte 0xe9 at position ${at} of the line is not UTF-8`));
  await convertNostr({ inputs: [input], outDir: dirs2[1]!, threads: 2, chunkSize: 1 << 8 });
  assert.deepEqual(snapshot(dirs2[1]!), snapshot(dirs2[0]!));
});

test('a bad boolean option value is a usage error (exit 2, no stack trace)', () => {
  const input = file('one.jsonl', toJsonl(events.slice(0, 1)));
  const r = spawnSync(process.execPath, [cli, 'nostr', 'convert', input, '-o', freshDir(), '--validate-signatures', 'maybe'], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--validate-signatures.*"maybe"/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('created_at past 2^53 (or 1e400), and a kind past 2^64, are quoted as written, not as the rounded double', () => {
  const ev = { ...events[0]! };
  for (const literal of ['9007199254740993', '1e400', '-18014398509481985']) {
    const line = JSON.stringify(ev).replace(/"created_at":\d+/, `"created_at":${literal}`);
    const r = checkLine(line, { validateIds: true, validateSignatures: false, filterKinds: true }, null);
    assert.equal(r.ok ? 'ok' : r.category, 'invalid_field');
    assert.ok(!r.ok && r.reason.endsWith(`got ${literal}`), r.ok ? '' : r.reason);
  }
  const bigKind = checkLine(JSON.stringify(ev).replace(/"kind":\d+/, '"kind":18446744073709551617'), { validateIds: false, validateSignatures: false, filterKinds: true }, null);
  assert.ok(!bigKind.ok && bigKind.reason.startsWith('kind 18446744073709551617 is out of range'), bigKind.ok ? '' : bigKind.reason);
});

test('cat of a missing file is INPUT_NOT_FOUND', () => {
  const missing = join(root, 'no-such-day.pb.gz');
  const r = spawnSync(process.execPath, [cli, 'nostr', 'cat', missing], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /\[INPUT_NOT_FOUND\].*no-such-day\.pb\.gz/);
  assert.ok(!existsSync(missing));
});

test('lookup of a malformed id says "invalid id" (exit 2) instead of "not found"', async () => {
  const dir = freshDir();
  await convertNostr({ inputs: [file('few.jsonl', toJsonl(events.slice(0, 3)))], outDir: dir, threads: 1 });
  const r = spawnSync(process.execPath, [cli, 'nostr', 'lookup', dir, events[0]!.id, 'abc123'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /\[INVALID_ID\]: invalid id "abc123"/);
  assert.equal(r.stdout, '');
});
