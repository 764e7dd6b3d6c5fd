import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { schnorr } from '@noble/curves/secp256k1.js';
import { computeEventId, serializeForId } from '../../../src/formats/nostr/serialize.js';
import { checkLine, type NostrEvent } from '../../../src/formats/nostr/event.js';
import { createVerifier } from '../../../src/formats/nostr/verify.js';

const corpora = fileURLToPath(new URL('../../../../../shared/corpora/nostr/', import.meta.url));
const skip = existsSync(corpora) ? false : `corpora absent: ${corpora} not found`;
const all = { validateIds: true, validateSignatures: true, filterKinds: true };

/**
 * An independent NIP-01 serializer written from the rule, not from JSON.stringify: `"` `\` and
 * \b \f \n \r \t by name, other code points below 0x20 as lowercase \u00XX, everything else raw.
 */
function nip01String(s: string): string {
  const named: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0) as number;
    if (named[ch] !== undefined) out += named[ch];
    else if (code < 0x20) out += `\\u00${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function nip01Serialize(ev: Pick<NostrEvent, 'pubkey' | 'created_at' | 'kind' | 'tags' | 'content'>): string {
  const tags = `[${ev.tags.map((t) => `[${t.map(nip01String).join(',')}]`).join(',')}]`;
  return `[0,${nip01String(ev.pubkey)},${ev.created_at},${ev.kind},${tags},${nip01String(ev.content)}]`;
}

const secretKey = Uint8Array.from(Buffer.from('7f'.repeat(32), 'hex'));
const pubkey = Buffer.from(schnorr.getPublicKey(secretKey)).toString('hex');

/** A correctly signed event, computed with noble and the independent serializer. */
function signed(content: string, tags: string[][] = [], kind = 1, created_at = 1700000000): NostrEvent {
  const base = { pubkey, created_at, kind, tags, content };
  const idBytes = createHash('sha256').update(nip01Serialize(base), 'utf8').digest();
  const sig = schnorr.sign(idBytes, secretKey, new Uint8Array(32));
  return { id: idBytes.toString('hex'), ...base, sig: Buffer.from(sig).toString('hex') };
}

const controlCases: Record<string, string> = {
  tab: 'a\tb',
  cr: 'line\r\nnext',
  backspace: 'x\by',
  formfeed: 'x\fy',
  u0001: 'x\u0001y',
  u001f: '\u001f',
  nul: 'a\u0000b',
  del: 'x\u007fy',
  u2028: 'x\u2028y\u2029z',
  quoteBackslash: 'say "hi" \\o/',
  astral: 'zap ⚡ 🫂 𝄞',
};

test('serialization equals the independent NIP-01 serializer for every code point below 0x80 and U+2028/9', () => {
  let s = '';
  for (let c = 0; c < 0x80; c++) s += String.fromCharCode(c);
  s += '\u2028\u2029\u00e9\u4e2d😀';
  const ev = { pubkey, created_at: 1, kind: 1, tags: [[s, ''], []], content: s };
  assert.equal(serializeForId(ev), nip01Serialize(ev));
  assert.ok(serializeForId(ev).includes('\\u0001\\u0002'), 'controls escaped as lowercase \\u00XX');
  assert.ok(serializeForId(ev).includes('\\u001f'), 'hex digits are lowercase');
  assert.ok(serializeForId(ev).includes('\u007f'), 'DEL raw');
  assert.ok(serializeForId(ev).includes('\u2028'), 'U+2028 raw');
});

for (const [name, content] of Object.entries(controlCases)) {
  test(`a signed event with ${name} in content and tags is accepted, id over the \\u00XX form`, async () => {
    const ev = signed(content, [['t', content], ['e', pubkey, '', content]]);
    assert.equal(serializeForId(ev), nip01Serialize(ev));
    assert.equal(serializeForId(ev), JSON.stringify([0, ev.pubkey, ev.created_at, ev.kind, ev.tags, ev.content]));
    const r = checkLine(JSON.stringify(ev), all, await createVerifier());
    assert.ok(r.ok, r.ok ? '' : r.reason);
    assert.equal(Buffer.from(r.id).toString('hex'), ev.id);
    assert.deepEqual(r.event, ev);
  });
}

test('an id computed over an unescaped control character (NIP-01 prose misread) is invalid_id', async () => {
  const ev = signed('a\u0001b');
  const wrongSerialization = serializeForId(ev).replace('\\u0001', '\u0001');
  const wrongId = createHash('sha256').update(wrongSerialization, 'utf8').digest();
  const sig = Buffer.from(schnorr.sign(wrongId, secretKey, new Uint8Array(32))).toString('hex');
  const r = checkLine(JSON.stringify({ ...ev, id: wrongId.toString('hex'), sig }), all, await createVerifier());
  assert.equal(r.ok ? 'ok' : r.category, 'invalid_id');
});

test('computeEventId is the sha256 of the serialization as UTF-8', () => {
  const ev = { pubkey, created_at: 1, kind: 7, tags: [['p', 'é']], content: '🫂' };
  const expected = createHash('sha256').update(Buffer.from(nip01Serialize(ev), 'utf8')).digest();
  assert.deepEqual(computeEventId(ev), expected);
});

test('the 37 NIP-01 id vectors: serialization and id match byte for byte, and the signature verifies', { skip }, async () => {
  const verifier = await createVerifier();
  const vectors = readFileSync(`${corpora}vectors/nip01-id-vectors.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { serialized: string; id: string; pubkey: string; sig: string });
  assert.equal(vectors.length, 37);
  for (const v of vectors) {
    const [, pk, created_at, kind, tags, content] = JSON.parse(v.serialized) as [0, string, number, number, string[][], string];
    const ev = { id: v.id, pubkey: pk, created_at, kind, tags, content, sig: v.sig };
    assert.equal(serializeForId(ev), v.serialized);
    assert.equal(nip01Serialize(ev), v.serialized);
    assert.equal(computeEventId(ev).toString('hex'), v.id);
    const r = checkLine(JSON.stringify(ev), all, verifier);
    assert.ok(r.ok, `${v.id}: ${r.ok ? '' : r.reason}`);
  }
});
