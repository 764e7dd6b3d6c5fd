import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { ByteSink, ProtoDecodeError, readDelimitedEvents, writeDelimitedEvent } from '../../../src/formats/nostr/proto.js';
import type { NostrEvent } from '../../../src/formats/nostr/event.js';

const corpora = fileURLToPath(new URL('../../../../../shared/corpora/nostr/', import.meta.url));
const skip = existsSync(corpora) ? false : `corpora absent: ${corpora} not found`;
const protoFile = fileURLToPath(new URL('../../../../proto/nostr.proto', import.meta.url));
const ProtoEvent = protobuf.loadSync(protoFile).lookupType('nostr.ProtoEvent');

const pick = (e: NostrEvent): NostrEvent => ({ id: e.id, pubkey: e.pubkey, created_at: e.created_at, kind: e.kind, tags: e.tags, content: e.content, sig: e.sig });
const corpusEvents = (): NostrEvent[] =>
  readFileSync(`${corpora}events.jsonl`, 'utf8').split('\n').filter((l) => l !== '').map((l) => pick(JSON.parse(l) as NostrEvent));

const synthetic: NostrEvent[] = [
  { id: 'a'.repeat(64), pubkey: 'b'.repeat(64), created_at: 0, kind: 0, tags: [], content: '', sig: 'c'.repeat(128) },
  { id: 'a'.repeat(64), pubkey: 'b'.repeat(64), created_at: Number.MAX_SAFE_INTEGER, kind: -1, tags: [[], [''], ['', 'x', '']], content: 'é中😀\u0000\u2028', sig: 'c'.repeat(128) },
  { id: 'a'.repeat(64), pubkey: 'b'.repeat(64), created_at: 1694192155914, kind: -2147483648, tags: [['t', 'é'.repeat(100)]], content: 'x'.repeat(70000), sig: 'c'.repeat(128) },
  { id: 'a'.repeat(64), pubkey: 'b'.repeat(64), created_at: 127, kind: 2147483647, tags: [['😀'.repeat(40)]], content: 'y', sig: 'c'.repeat(128) },
];

function encodeAll(events: NostrEvent[], initialCapacity?: number): Uint8Array {
  const sink = new ByteSink(initialCapacity);
  for (const ev of events) writeDelimitedEvent(sink, ev);
  return sink.take();
}

/** Decodes with protobufjs (an independent implementation) into our event shape. */
function decodeIndependently(bytes: Uint8Array): NostrEvent[] {
  const reader = protobuf.Reader.create(bytes);
  const out: NostrEvent[] = [];
  while (reader.pos < reader.len) {
    const o = ProtoEvent.toObject(ProtoEvent.decodeDelimited(reader), { longs: Number, defaults: true, arrays: true }) as {
      id: string; pubkey: string; createdAt: number; kind: number; tags: { values?: string[] }[]; content: string; sig: string;
    };
    out.push({ id: o.id, pubkey: o.pubkey, created_at: o.createdAt, kind: o.kind, tags: o.tags.map((t) => t.values ?? []), content: o.content, sig: o.sig });
  }
  return out;
}

/** protobufjs's own encoding; it also omits proto3 defaults, so canonical writers agree byte for byte. */
function encodeIndependently(events: NostrEvent[]): Uint8Array {
  const w = protobuf.Writer.create();
  for (const e of events) {
    ProtoEvent.encodeDelimited(ProtoEvent.fromObject({ ...e, createdAt: e.created_at, tags: e.tags.map((values) => ({ values })) }), w);
  }
  return w.finish();
}

test('synthetic edge values round trip and match protobufjs both ways', () => {
  const bytes = encodeAll(synthetic, 16);
  assert.deepEqual([...readDelimitedEvents(bytes)], synthetic);
  assert.deepEqual(decodeIndependently(bytes), synthetic);
  assert.deepEqual(Buffer.from(bytes), Buffer.from(encodeIndependently(synthetic)));
});

test('proto3 defaults are omitted: a zero kind and created_at and empty content take no bytes', () => {
  const bytes = encodeAll([synthetic[0] as NostrEvent]);
  // 263-byte message: id and pubkey (tag, length, 64), sig (tag, 2-byte length, 128); 2-byte prefix.
  assert.equal(bytes.length, 2 + (2 + 64) * 2 + (3 + 128));
});

test('every corpus event round trips, decodes with protobufjs, and encodes to the same bytes', { skip }, () => {
  const events = corpusEvents();
  const bytes = encodeAll(events, 1024);
  assert.deepEqual([...readDelimitedEvents(bytes)], events);
  assert.deepEqual(decodeIndependently(bytes), events);
  assert.ok(Buffer.from(bytes).equals(Buffer.from(encodeIndependently(events))));
});

test('ByteSink: grows, reset, bytes() view and take() copy', () => {
  const sink = new ByteSink(16);
  writeDelimitedEvent(sink, synthetic[1] as NostrEvent);
  const first = sink.length;
  writeDelimitedEvent(sink, synthetic[2] as NostrEvent);
  assert.ok(sink.length > 70000 + first);
  assert.equal(sink.bytes().length, sink.length);
  const taken = sink.take();
  assert.equal(sink.length, 0);
  assert.equal(taken.byteOffset, 0);
  assert.equal(taken.buffer.byteLength, taken.length, 'exactly sized, so it can be transferred alone');
  writeDelimitedEvent(sink, synthetic[1] as NostrEvent);
  assert.deepEqual(Buffer.from(sink.bytes()), Buffer.from(taken.subarray(0, first)));
  sink.reset();
  assert.equal(sink.bytes().length, 0);
});

test('truncated data throws ProtoDecodeError naming the byte offset, at every cut point', () => {
  const bytes = encodeAll(synthetic.slice(0, 2));
  const firstLen = encodeAll(synthetic.slice(0, 1)).length;
  for (let cut = 1; cut < bytes.length; cut++) {
    if (cut === firstLen) continue; // a clean record boundary
    assert.throws(() => [...readDelimitedEvents(bytes.subarray(0, cut))], (err: unknown) => {
      assert.ok(err instanceof ProtoDecodeError, String(err));
      assert.match(err.message, /at byte offset \d+$/);
      return true;
    }, `cut at ${cut}`);
  }
  const second = readDelimitedEvents(bytes.subarray(0, bytes.length - 1));
  assert.deepEqual(second.next().value, synthetic[0], 'complete records before the damage are still yielded');
  assert.throws(() => second.next(), new RegExp(`truncated record: length \\d+ but only \\d+ bytes left at byte offset ${firstLen}$`));
});

test('corrupt data: a field length past its message, bad UTF-8, a reserved wire type', () => {
  // Record of 4 bytes: field 1, length 9 (runs past the message end).
  assert.throws(() => [...readDelimitedEvents(Uint8Array.from([4, 0x0a, 9, 0x61, 0x62]))], /runs past the end of its message at byte offset 2/);
  assert.throws(() => [...readDelimitedEvents(Uint8Array.from([3, 0x32, 1, 0xff]))], /not valid UTF-8 at byte offset 3/);
  assert.throws(() => [...readDelimitedEvents(Uint8Array.from([1, 0x0b]))], /unsupported wire type 3 at byte offset 1/);
  assert.throws(() => [...readDelimitedEvents(Uint8Array.from([0x80, 0x80]))], /truncated varint \(record length\) at byte offset 0/);
});

test('unknown fields are skipped (forward compatible), known ones still read', () => {
  // field 9 varint 150, field 10 fixed64, field 11 bytes "zz", then content "ok".
  const msg = [0x48, 0x96, 0x01, 0x51, 1, 2, 3, 4, 5, 6, 7, 8, 0x5a, 2, 0x7a, 0x7a, 0x32, 2, 0x6f, 0x6b];
  const [ev] = [...readDelimitedEvents(Uint8Array.from([msg.length, ...msg]))];
  assert.equal(ev?.content, 'ok');
  assert.equal(ev?.kind, 0);
});

test('an empty buffer holds no events', () => {
  assert.deepEqual([...readDelimitedEvents(new Uint8Array(0))], []);
});
