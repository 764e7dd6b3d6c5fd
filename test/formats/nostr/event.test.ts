import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkLine, type CheckResult, type NostrEvent, type ValidationOptions, type Verifier } from '../../../src/formats/nostr/event.js';
import { createVerifier } from '../../../src/formats/nostr/verify.js';
import { dayKey } from '../../../src/formats/nostr/day.js';

const corpora = fileURLToPath(new URL('../../../../../shared/corpora/nostr/', import.meta.url));
const skip = existsSync(corpora) ? false : `corpora absent: ${corpora} not found`;
const all: ValidationOptions = { validateIds: true, validateSignatures: true, filterKinds: true };
const shapeOnly: ValidationOptions = { validateIds: false, validateSignatures: false, filterKinds: true };

const lines = (path: string) => readFileSync(`${corpora}${path}`, 'utf8').split('\n').filter((l) => l !== '');
const category = (r: CheckResult) => (r.ok ? 'ok' : r.category);
const reason = (r: CheckResult) => (r.ok ? '' : r.reason);

/** Counts calls, so tests can assert that rejected events never reach signature work. */
function countingVerifier(inner: Verifier): Verifier & { calls: number } {
  const v = { name: 'counting', calls: 0, verify: (s: Uint8Array, m: Uint8Array, p: Uint8Array) => (v.calls++, inner.verify(s, m, p)) };
  return v;
}

const good: NostrEvent = {
  id: 'a'.repeat(64), pubkey: 'b'.repeat(64), created_at: 1700000000, kind: 1, tags: [['p', 'c'.repeat(64)]], content: 'hi', sig: 'd'.repeat(128),
};
const line = (patch: Record<string, unknown>, drop?: string) => {
  const o: Record<string, unknown> = { ...good, ...patch };
  if (drop) delete o[drop];
  return JSON.stringify(o);
};

test('the shape-valid template passes shape checks and yields the id bytes', () => {
  const r = checkLine(line({}), shapeOnly, null);
  assert.ok(r.ok);
  assert.deepEqual(r.event, good);
  assert.equal(Buffer.from(r.id).toString('hex'), good.id);
});

test('parse errors: bad JSON, empty line, non-objects, non-EVENT relay messages', () => {
  const cases: [string, RegExp][] = [
    ['{"id":', /invalid JSON/],
    ['', /empty line/],
    ['   ', /empty line/],
    ['42', /expected a JSON object.*number/],
    ['null', /expected a JSON object.*null/],
    ['"text"', /expected a JSON object.*string/],
    ['["EOSE","sub"]', /relay message "EOSE"/],
    ['["NOTICE","hello"]', /relay message "NOTICE"/],
    ['[]', /relay message undefined|relay message/],
    ['["EVENT","sub"]', /EVENT message must be/],
    ['["EVENT","sub",[1]]', /EVENT message must be/],
    ['["EVENT",1,{}]', /EVENT message must be/],
  ];
  for (const [input, re] of cases) {
    const r = checkLine(input, all, null);
    assert.equal(category(r), 'parse_error', input);
    assert.match(reason(r), re, input);
  }
});

test('relay messages ["EVENT", sub, ev] and ["EVENT", ev] carry the event', () => {
  for (const input of [`["EVENT","sub",${line({})}]`, `["EVENT",${line({})}]`, `[ "EVENT" , "x" , ${line({})} ]`]) {
    const r = checkLine(input, shapeOnly, null);
    assert.ok(r.ok, input);
    assert.deepEqual(r.event, good);
  }
});

test('invalid_field names the field and the problem', () => {
  const cases: [string, RegExp][] = [
    [line({}, 'id'), /missing field "id"/],
    [line({}, 'sig'), /missing field "sig"/],
    [line({ id: 'A'.repeat(64) }), /^id must be 64 lowercase hex characters, got "A" at position 0/],
    [line({ id: 'a'.repeat(63) }), /^id must be 64 lowercase hex.*63 characters/],
    [line({ id: 5 }), /^id must be a string, got a number/],
    [line({ pubkey: 'g'.repeat(64) }), /^pubkey must be 64 lowercase hex/],
    [line({ sig: 'd'.repeat(127) + 'D' }), /^sig must be 128 lowercase hex.*position 127/],
    [line({ created_at: -1 }), /^created_at must not be negative/],
    [line({ created_at: 1.5 }), /^created_at must be an integer/],
    [line({ created_at: 2 ** 53 }), /^created_at must be an integer below 2\^53/],
    [line({ created_at: '1700000000' }), /^created_at must be a number, got a string/],
    [line({ kind: 1.5 }), /^kind must be an integer/],
    [line({ kind: '1' }), /^kind must be a number/],
    [line({ tags: {} }), /^tags must be an array, got an object/],
    [line({ tags: [['p'], 'e'] }), /^tags\[1\] must be an array/],
    [line({ tags: [['p', null]] }), /^tags\[0\]\[1\] must be a string, got null/],
    [line({ content: 5 }), /^content must be a string/],
    [line({ content: null }), /^content must be a string, got null/],
  ];
  for (const [input, re] of cases) {
    const r = checkLine(input, all, null);
    assert.equal(category(r), 'invalid_field', input);
    assert.match(reason(r), re, input);
  }
});

test('lone surrogates (not encodable as UTF-8 or protobuf strings) are invalid_field', () => {
  const r1 = checkLine(line({}).replace('"hi"', '"\\ud83d"'), all, null);
  assert.equal(category(r1), 'invalid_field');
  assert.match(reason(r1), /content contains a lone UTF-16 surrogate/);
  const r2 = checkLine(line({ tags: [['t', 'x']] }).replace('"x"', '"\\udc00x"'), all, null);
  assert.match(reason(r2), /tags\[0\]\[1\] contains a lone/);
  // A well-formed pair written as escapes is fine.
  assert.ok(checkLine(line({}).replace('"hi"', '"\\ud83d\\ude00"'), shapeOnly, null).ok);
});

test('kind: out of 0-65535 is invalid_kind when filtering, else kept if it fits int32', () => {
  for (const kind of [65536, 70202, -1, 2 ** 40]) assert.equal(category(checkLine(line({ kind }), shapeOnly, null)), 'invalid_kind', String(kind));
  assert.ok(checkLine(line({ kind: 65535 }), shapeOnly, null).ok);
  assert.ok(checkLine(line({ kind: 0 }), shapeOnly, null).ok);
  const open = { ...shapeOnly, filterKinds: false };
  for (const kind of [65536, -1, 2147483647, -2147483648]) assert.ok(checkLine(line({ kind }), open, null).ok, String(kind));
  for (const kind of [2147483648, -2147483649]) {
    const r = checkLine(line({ kind }), open, null);
    assert.equal(category(r), 'invalid_field');
    assert.match(reason(r), /does not fit the protobuf int32/);
  }
});

test('extra keys are accepted and dropped; the event keeps exactly the seven fields', () => {
  const r = checkLine(JSON.stringify({ _id: 'x', relays: ['wss://a'], ok: false, category: 'x', ...good, seen: 3 }), shapeOnly, null);
  assert.ok(r.ok);
  assert.deepEqual(Object.keys(r.event), ['id', 'pubkey', 'created_at', 'kind', 'tags', 'content', 'sig']);
});

test('rejected events never reach the verifier (cheap checks first)', { skip }, async () => {
  const v = countingVerifier(await createVerifier());
  const badId = lines('invalid/bad-id.jsonl');
  for (const l of badId) assert.notEqual(category(checkLine(l, all, v)), 'ok');
  checkLine(line({ kind: 1.5 }), all, v);
  checkLine('{', all, v);
  assert.equal(v.calls, 0);
  checkLine(lines('events.jsonl')[0] as string, all, v);
  assert.equal(v.calls, 1);
});

test('with id checks off, the claimed id is returned and the signature is checked against it', { skip }, async () => {
  const v = await createVerifier();
  const noIds = { ...all, validateIds: false };
  const ev = JSON.parse(lines('events.jsonl')[0] as string) as NostrEvent;
  const r = checkLine(JSON.stringify(ev), noIds, v);
  assert.ok(r.ok);
  assert.equal(Buffer.from(r.id).toString('hex'), ev.id);
  const tampered = checkLine(JSON.stringify({ ...ev, content: `${ev.content}!` }), noIds, v);
  assert.equal(category(tampered), 'ok', 'content is not covered without the id check');
  const wrongId = checkLine(JSON.stringify({ ...ev, id: 'e'.repeat(64) }), noIds, v);
  assert.equal(category(wrongId), 'invalid_signature');
});

// ---- edge cases of corpora/nostr/edge (decisions in docs/decisions/0003-nostr-edge-cases.md)

test('edge: numbers inside tags are invalid_field (Proton Beam rejects; a protobuf Tag cannot keep them)', { skip }, async () => {
  const v = await createVerifier();
  const rs = lines('edge/valid-sig-nonstring-tag-items.jsonl').map((l) => checkLine(l, all, v));
  assert.equal(rs.length, 9);
  for (const r of rs) {
    assert.equal(category(r), 'invalid_field');
    assert.match(reason(r), /^tags\[\d+\]\[\d+\] must be a string, got a number/);
  }
});

test('edge: extra fields are accepted with valid id and signature, extras dropped', { skip }, async () => {
  const v = await createVerifier();
  const ls = lines('edge/valid-sig-extra-fields.jsonl');
  assert.equal(ls.length, 19);
  for (const l of ls) {
    const r = checkLine(l, all, v);
    assert.ok(r.ok, reason(r));
    assert.equal(Object.keys(r.event).length, 7);
    assert.equal(r.event.id, (JSON.parse(l) as NostrEvent).id);
  }
});

test('edge: kind 70202 is invalid_kind by default and accepted (id and sig verify) with filterKinds off', { skip }, async () => {
  const v = await createVerifier();
  const [l] = lines('edge/valid-sig-kind-over-65535.jsonl');
  assert.ok(l);
  const r = checkLine(l, all, v);
  assert.equal(category(r), 'invalid_kind');
  assert.match(reason(r), /kind 70202 is out of range \(0-65535\)/);
  const open = checkLine(l, { ...all, filterKinds: false }, v);
  assert.ok(open.ok);
  assert.equal(open.event.kind, 70202);
});

test('edge: created_at in milliseconds is accepted as-is (signed that way) and lands on its literal day', { skip }, async () => {
  const v = await createVerifier();
  const [l] = lines('edge/valid-sig-created-at-milliseconds.jsonl');
  assert.ok(l);
  const r = checkLine(l, all, v);
  assert.ok(r.ok, reason(r));
  assert.equal(r.event.created_at, 1694192155914);
  assert.equal(dayKey(r.event.created_at), '55656_10_23');
});

test('upstream dumps: nostrdb relay messages all valid; go-nostr has 532 events, an EOSE and broken lines', { skip }, async () => {
  const v = await createVerifier();
  const nostrdb = lines('upstream/nostrdb_testdata_profiles.json').map((l) => category(checkLine(l, all, v)));
  assert.equal(nostrdb.length, 501);
  assert.deepEqual([...new Set(nostrdb)], ['ok']);
  const go = lines('upstream/go-nostr_testdata_messages.jsonl').map((l) => checkLine(l, all, v));
  assert.equal(go.filter((r) => r.ok).length, 532);
  const errors = go.filter((r) => !r.ok);
  assert.ok(errors.every((r) => category(r) === 'parse_error'), 'only parse errors');
  assert.ok(errors.some((r) => /relay message "EOSE"/.test(reason(r))));
  assert.ok(errors.filter((r) => /invalid JSON/.test(reason(r))).length >= 2, 'the lines broken at 64 KiB');
  const pb = lines('upstream/proton-beam_sample_events.jsonl').map((l) => category(checkLine(l, all, v)));
  assert.equal(pb.filter((c) => c === 'ok').length, 141);
  assert.equal(pb.filter((c) => c === 'invalid_field').length, 9);
});

test('dayKey: UTC calendar days, leap years, and years beyond Date', () => {
  assert.equal(dayKey(0), '1970_01_01');
  assert.equal(dayKey(86399), '1970_01_01');
  assert.equal(dayKey(86400), '1970_01_02');
  assert.equal(dayKey(951782400), '2000_02_29');
  assert.equal(dayKey(4107542400), '2100_03_01');
  assert.equal(dayKey(1700000000), '2023_11_14');
  assert.equal(dayKey(253402300800), '10000_01_01');
  assert.equal(dayKey(Number.MAX_SAFE_INTEGER).length > 10, true);
  for (let t = 0; t < 4e9; t += 7777777) {
    const iso = new Date(t * 1000).toISOString().slice(0, 10).replaceAll('-', '_');
    assert.equal(dayKey(t), iso, String(t));
  }
});

test('checkLine never throws: 5,000 random byte-level mutations of real lines all get a result', { skip }, async () => {
  const v = await createVerifier();
  const source = lines('events.jsonl').slice(0, 50);
  const categories = new Set(['ok', 'parse_error', 'invalid_field', 'invalid_kind', 'invalid_id', 'invalid_signature']);
  let seed = 12345;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
  const alphabet = '{}[]",:0123456789abcdefABCDEF\\ne-. \u0000\u00e9😀';
  const seen = new Map<string, number>();
  for (let i = 0; i < 5000; i++) {
    const base = source[rand(source.length)] as string;
    const at = rand(base.length);
    const cut = rand(3);
    const insert = alphabet[rand(alphabet.length)] ?? '';
    const mutated = base.slice(0, at) + (cut === 0 ? '' : insert) + base.slice(at + (cut === 2 ? 0 : 1));
    const r = checkLine(mutated, { ...all, validateSignatures: i % 10 === 0 }, v);
    const c = category(r);
    assert.ok(categories.has(c), c);
    if (!r.ok) assert.ok(r.reason.length > 0 && r.reason.length < 400, r.reason);
    seen.set(c, (seen.get(c) ?? 0) + 1);
  }
  for (const c of ['parse_error', 'invalid_field', 'invalid_id']) assert.ok((seen.get(c) ?? 0) > 0, `mutations produced ${c}`);
});
