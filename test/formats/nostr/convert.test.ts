import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, gunzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import protobuf from 'protobufjs';
import { convertNostr, type ConvertOptions } from '../../../src/formats/nostr/pipeline.js';
import { readPbGz } from '../../../src/formats/nostr/pb-reader.js';
import { makeEvents, signEvent, toJsonl, type TestEvent } from './fixtures.js';

process.env.SOURCE_DATE_EPOCH = '1700000000';
const root = mkdtempSync(join(tmpdir(), 'tm-nostr-'));
const cli = new URL('../../../src/cli.js', import.meta.url).pathname;
const protoFile = new URL('../../../../proto/nostr.proto', import.meta.url).pathname;
let dirs = 0;
const freshDir = (): string => join(root, `out${++dirs}`);
const file = (name: string, text: string | Buffer): string => {
  const p = join(root, name);
  writeFileSync(p, text);
  return p;
};

/** name → sha256 of every visible file in DIR. */
function snapshot(dir: string, hidden = false): Record<string, string> {
  if (!existsSync(dir)) return {};
  const out: Record<string, string> = {};
  for (const n of readdirSync(dir).sort()) if (hidden || !n.startsWith('.')) out[n] = createHash('sha256').update(readFileSync(join(dir, n))).digest('hex');
  return out;
}

async function convert(inputs: string[], outDir: string, extra: Partial<ConvertOptions> = {}) {
  return convertNostr({ inputs, outDir, threads: 2, chunkSize: 1 << 16, ...extra });
}

/** Every event of DIR decoded with protobufjs (an independent decoder) from nostr.proto. */
async function decodeDir(dir: string): Promise<TestEvent[]> {
  const rootProto = await protobuf.load(protoFile);
  const ProtoEvent = rootProto.lookupType('nostr.ProtoEvent');
  const events: TestEvent[] = [];
  for (const n of readdirSync(dir).filter((f) => f.endsWith('.pb.gz')).sort()) {
    const reader = protobuf.Reader.create(gunzipSync(readFileSync(join(dir, n))));
    while (reader.pos < reader.len) {
      const m = ProtoEvent.toObject(ProtoEvent.decodeDelimited(reader), { longs: Number, defaults: true }) as { id: string; pubkey: string; createdAt: number; kind: number; tags: { values: string[] }[]; content: string; sig: string };
      events.push({ id: m.id, pubkey: m.pubkey, created_at: m.createdAt, kind: m.kind, tags: m.tags.map((t) => t.values ?? []), content: m.content, sig: m.sig });
      const day = new Date(m.createdAt * 1000).toISOString().slice(0, 10).replace(/-/g, '_');
      assert.equal(n, `${day}.pb.gz`, `event ${m.id} is in the file of its UTC day`);
    }
  }
  return events;
}

const byId = (a: TestEvent, b: TestEvent): number => a.id.localeCompare(b.id);
const events = makeEvents(600);
const plain = file('events.jsonl', toJsonl(events));

test('round trip: JSON → pb.gz → JSON gives the input events (independent protobuf decoder and cat)', async () => {
  const dir = freshDir();
  const s = await convert([plain], dir);
  assert.equal(s.written, 600);
  assert.equal(s.valid, 600);
  assert.equal(s.rejected_total, 0);
  assert.deepEqual((await decodeDir(dir)).sort(byId), [...events].sort(byId));
  const catted = execFileSync(process.execPath, [cli, 'nostr', 'cat', ...readdirSync(dir).filter((f) => f.endsWith('.pb.gz')).map((f) => join(dir, f))]).toString();
  assert.deepEqual(catted.trim().split('\n').map((l) => JSON.parse(l) as TestEvent).sort(byId), [...events].sort(byId));
  const rows = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.pb.gz'))) for await (const e of readPbGz(join(dir, f))) rows.push(e);
  assert.equal(rows.length, 600);
});

test('-j 1 and -j 4 give byte-identical output directories; events keep input order within a day', async () => {
  const a = freshDir();
  const b = freshDir();
  await convert([plain], a, { threads: 1 });
  await convert([plain], b, { threads: 4 });
  assert.deepEqual(snapshot(a), snapshot(b));
  assert.ok(Object.keys(snapshot(a)).includes('index.db'));
  const order = (await decodeDir(a)).map((e) => e.id);
  const expected = [...events].sort((x, y) => Math.floor(x.created_at / 86400) - Math.floor(y.created_at / 86400)).map((e) => e.id);
  assert.deepEqual(order, expected);
});

test('a tiny memory budget spills and deduplicates in several passes, with the bytes of the in-memory run', async () => {
  const ref = freshDir();
  const inMemory = await convert([plain], ref, { chunkSize: 1 << 16 });
  assert.equal(inMemory.spilled_bytes, 0);
  const spilled = freshDir();
  const s = await convert([plain], spilled, { chunkSize: 1 << 16, dataBudget: 4096 });
  assert.ok(s.spilled_bytes > 0, 'the tiny budget spilled');
  assert.equal(s.written, 600);
  assert.deepEqual(snapshot(spilled), snapshot(ref));
  assert.deepEqual((await decodeDir(spilled)).sort(byId), [...events].sort(byId));
});

test('stdin and .gz give the same bytes as the plain file', async () => {
  const ref = freshDir();
  await convert([plain], ref);
  const gz = freshDir();
  await convert([file('events.jsonl.gz', gzipSync(readFileSync(plain)))], gz);
  assert.deepEqual(snapshot(gz), snapshot(ref));
  const viaStdin = freshDir();
  execFileSync(process.execPath, [cli, 'nostr', 'convert', '-', '-o', viaStdin, '-q', '-j', '3'], { input: readFileSync(plain), env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' } });
  assert.deepEqual(snapshot(viaStdin), snapshot(ref));
});

test('duplicates inside a chunk, across chunks, across inputs and across runs are written once', async () => {
  const dir = freshDir();
  const first = events.slice(0, 300);
  const dupInChunk = [first[0]!, first[0]!, first[1]!];
  const input1 = file('dups1.jsonl', toJsonl([...dupInChunk, ...first, ...first.slice(0, 50)]));
  const input2 = file('dups2.jsonl', toJsonl([...first.slice(100, 200), ...events.slice(300, 400)]));
  const s1 = await convert([input1, input2], dir);
  assert.equal(s1.written, 400);
  assert.equal(s1.duplicates, 2 + 1 + 50 + 100); // first[0] twice and first[1] again, 50 re-reads, 100 across inputs
  const s2 = await convert([plain], dir);
  assert.equal(s2.written, 200);
  assert.equal(s2.duplicates, 400);
  assert.deepEqual((await decodeDir(dir)).sort(byId), [...events].sort(byId));
  const s3 = await convert([plain], dir);
  assert.equal(s3.written, 0);
  const out = execFileSync(process.execPath, [cli, 'nostr', 'stats', dir, '--json']).toString();
  assert.equal((JSON.parse(out) as { total_events: number }).total_events, 600);
});

test('every reject category carries its line and byte offset; the rejects file holds the lines', async () => {
  const good = events.slice(0, 3);
  const badId = { ...events[3]!, content: 'edited' };
  const badSig = { ...events[4]!, sig: events[5]!.sig };
  const bigKind = signEvent({ created_at: 1_700_000_000, kind: 70000, tags: [], content: 'k' });
  const lines = [
    JSON.stringify(good[0]), '{"id": broken', JSON.stringify({ ...good[1], pubkey: 'XYZ' }), JSON.stringify(bigKind),
    JSON.stringify(badId), JSON.stringify(badSig), '', JSON.stringify(good[2]), '["EOSE","sub"]',
  ];
  const input = file('rejects.jsonl', `${lines.join('\n')}\n`);
  const rejects = join(root, 'rejects.out.jsonl');
  const s = await convert([input], freshDir(), { rejectsPath: rejects });
  assert.deepEqual(s.rejected, { parse_error: 2, invalid_utf8: 0, invalid_field: 1, invalid_kind: 1, invalid_id: 1, invalid_signature: 1 });
  assert.equal(s.written, 2);
  assert.equal(s.lines_read, 9);
  const got = readFileSync(rejects, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line: number; offset: number; category: string; text: string; input: string });
  const offsetOf = (i: number): number => lines.slice(0, i).reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
  assert.deepEqual(got.map((r) => [r.line, r.offset, r.category]), [
    [2, offsetOf(1), 'parse_error'], [3, offsetOf(2), 'invalid_field'], [4, offsetOf(3), 'invalid_kind'],
    [5, offsetOf(4), 'invalid_id'], [6, offsetOf(5), 'invalid_signature'], [9, offsetOf(8), 'parse_error'],
  ]);
  assert.equal(got[2]!.text, lines[3]);
  assert.ok(got.every((r) => r.input === input));
  const noFilter = await convert([input], freshDir(), { filterKinds: false });
  assert.equal(noFilter.rejected.invalid_kind, 0);
  assert.equal(noFilter.written, 3);
  await assert.rejects(convert([input], freshDir(), { maxErrors: 3 }), { code: 'TOO_MANY_ERRORS' });
});

test('empty file, blank lines, CRLF, no trailing newline, a line larger than a chunk, tiny input', async () => {
  const empty = await convert([file('empty.jsonl', '')], freshDir(), { threads: 8 });
  assert.equal(empty.lines_read, 0);
  assert.equal(empty.written, 0);
  const few = events.slice(0, 5);
  const ref = freshDir();
  await convert([file('few.jsonl', toJsonl(few))], ref);
  const crlf = freshDir();
  await convert([file('crlf.jsonl', `\r\n\n${toJsonl(few, '\r\n')}\n  \n`)], crlf, { threads: 8 });
  assert.deepEqual(snapshot(crlf), snapshot(ref));
  const noNl = freshDir();
  await convert([file('nonl.jsonl', toJsonl(few).trimEnd())], noNl);
  assert.deepEqual(snapshot(noNl), snapshot(ref));
  const huge = signEvent({ created_at: 1_700_000_123, kind: 1, tags: [['t', 'big']], content: 'z'.repeat(300_000) });
  const withHuge = [...events.slice(0, 50), huge, ...events.slice(50, 100)];
  const a = freshDir();
  const b = freshDir();
  const s = await convert([file('huge.jsonl', toJsonl(withHuge))], a, { chunkSize: 1 << 16, threads: 3 });
  assert.equal(s.written, 101);
  await convert([file('huge.jsonl', toJsonl(withHuge))], b, { chunkSize: 1 << 20, threads: 1 });
  assert.deepEqual(snapshot(a), snapshot(b));
  assert.ok((await decodeDir(a)).some((e) => e.content.length === 300_000));
});

test('real events: the corpus verifies end to end, invalid ones are rejected by category', { skip: !existsSync(new URL('../../../../../shared/corpora/nostr', import.meta.url)) && 'corpus ../shared/corpora/nostr not present' }, async () => {
  const corpus = new URL('../../../../../shared/corpora/nostr/', import.meta.url).pathname;
  const s = await convert([join(corpus, 'events.jsonl')], freshDir());
  assert.equal(s.written, 2616);
  assert.equal(s.rejected_total, 0);
  const bad = await convert([join(corpus, 'invalid/bad-id.jsonl'), join(corpus, 'invalid/bad-sig.jsonl')], freshDir());
  assert.equal(bad.written, 0);
  assert.equal(bad.rejected.invalid_id, 60);
  assert.equal(bad.rejected.invalid_kind, 1); // kind is checked before the id
  assert.equal(bad.rejected.invalid_signature, 2);
  const go = await convert([join(corpus, 'upstream/go-nostr_testdata_messages.jsonl')], freshDir());
  assert.equal(go.written, 532);
  assert.equal(go.rejected.parse_error, 6);
});

test('a run that fails while segments are being compressed rejects promptly and leaves no temporaries', async () => {
  const dir = freshDir();
  const many = file('fail-late.jsonl', `${toJsonl(events)}${'not json\n'.repeat(5)}`);
  const started = Date.now();
  await assert.rejects(convert([many], dir, { maxErrors: 2, chunkSize: 1 << 16, dataBudget: 4096 }), { code: 'TOO_MANY_ERRORS' });
  assert.ok(Date.now() - started < 20_000);
  // No temporaries, and not even the directory: the failed run created it and leaves none behind.
  assert.equal(existsSync(dir), false);
});
