import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createBcryptoNativeVerifier, createNobleVerifier, createTinySecp256k1Verifier, createVerifier, withVerdictCache, type Verifier } from '../../../src/formats/nostr/verify.js';
import { checkLine, type ValidationOptions } from '../../../src/formats/nostr/event.js';

// dist/test/formats/nostr/ → repo root → ../shared/corpora (absent in a user's fresh clone).
const corpora = fileURLToPath(new URL('../../../../../shared/corpora/nostr/', import.meta.url));
const skip = existsSync(corpora) ? false : `corpora absent: ${corpora} not found`;
const all: ValidationOptions = { validateIds: true, validateSignatures: true, filterKinds: true };

interface Vector { index: number; pub: Uint8Array; msg: Uint8Array; sig: Uint8Array; expected: boolean; comment: string }

function bip340Vectors(): Vector[] {
  const rows = readFileSync(`${corpora}vectors/bip340-test-vectors.csv`, 'utf8').trim().split('\n').slice(1);
  return rows.map((row) => {
    const [index, , pub, , msg, sig, result, comment] = row.split(',');
    const bytes = (hex = '') => Uint8Array.from(Buffer.from(hex, 'hex'));
    return { index: Number(index), pub: bytes(pub), msg: bytes(msg), sig: bytes(sig), expected: result === 'TRUE', comment: comment ?? '' };
  });
}

/** Every verifier this machine has: the WASM and JS ones always, bcrypto's native one when installed. */
async function verifiers(): Promise<Verifier[]> {
  const native = await createBcryptoNativeVerifier();
  return [await createTinySecp256k1Verifier(), await createNobleVerifier(), ...(native ? [native] : [])];
}

test('createVerifier picks bcrypto-native when its build is present, else tiny-secp256k1; both verify', { skip }, async () => {
  const native = await createBcryptoNativeVerifier();
  const v = await createVerifier();
  assert.equal(v.name, native ? 'bcrypto-native' : 'tiny-secp256k1');
  assert.equal((await createVerifier('tiny-secp256k1')).name, 'tiny-secp256k1');
  assert.equal((await createVerifier('noble')).name, 'noble');
  const vec = bip340Vectors().find((x) => x.index === 1);
  assert.ok(vec);
  assert.equal(v.verify(vec.sig, vec.msg, vec.pub), true);
});

test('BIP-340 vectors with 32-byte messages: every available verifier gives the expected result', { skip }, async () => {
  const vectors = bip340Vectors().filter((v) => v.msg.length === 32);
  assert.equal(vectors.length, 15);
  assert.ok(vectors.some((v) => !v.expected), 'the invalid vectors are included');
  for (const verifier of await verifiers()) {
    for (const v of vectors) {
      assert.equal(verifier.verify(v.sig, v.msg, v.pub), v.expected, `${verifier.name} vector ${v.index} ${v.comment}`);
    }
  }
});

test('BIP-340 vectors 15-18 (messages of 0, 1, 17, 100 bytes) verify with noble', { skip }, async () => {
  const noble = await createNobleVerifier();
  const vectors = bip340Vectors().filter((v) => v.msg.length !== 32);
  assert.deepEqual(vectors.map((v) => v.msg.length), [0, 1, 17, 100]);
  for (const v of vectors) assert.equal(noble.verify(v.sig, v.msg, v.pub), v.expected, `vector ${v.index}`);
});

test('verifiers answer false (never throw) for malformed lengths and all-zero inputs', async () => {
  for (const v of await verifiers()) {
    assert.equal(v.verify(new Uint8Array(63), new Uint8Array(32), new Uint8Array(32)), false, v.name);
    assert.equal(v.verify(new Uint8Array(64), new Uint8Array(32), new Uint8Array(31)), false, v.name);
    assert.equal(v.verify(new Uint8Array(64), new Uint8Array(32), new Uint8Array(32)), false, v.name);
  }
});

test('a flipped bit in signature, message or key fails verification', { skip }, async () => {
  for (const v of await verifiers()) flippedBits(v);
});

function flippedBits(v: Verifier): void {
  const vec = bip340Vectors().find((x) => x.index === 2);
  assert.ok(vec);
  for (const field of ['sig', 'msg', 'pub'] as const) {
    const copy: Record<'sig' | 'msg' | 'pub', Uint8Array> = { sig: vec.sig.slice(), msg: vec.msg.slice(), pub: vec.pub.slice() };
    const bytes = copy[field];
    bytes[5] = (bytes[5] as number) ^ 1;
    assert.equal(v.verify(copy.sig, copy.msg, copy.pub), false, `${v.name} ${field}`);
  }
}

test('every event in events.jsonl has a valid id and signature', { skip }, async () => {
  const v = await createVerifier();
  const lines = readFileSync(`${corpora}events.jsonl`, 'utf8').split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 2616);
  const failures = lines.map((l, i) => [i + 1, checkLine(l, all, v)] as const).filter(([, r]) => !r.ok);
  assert.deepEqual(failures, []);
});

test('noble agrees on a sample of real events (independent implementation)', { skip }, async () => {
  const noble = await createNobleVerifier();
  const lines = readFileSync(`${corpora}events.jsonl`, 'utf8').split('\n').filter((l) => l !== '');
  for (let i = 0; i < lines.length; i += 131) {
    const r = checkLine(lines[i] as string, all, noble);
    assert.ok(r.ok, `line ${i + 1}`);
  }
});

test('invalid/bad-id.jsonl is rejected as invalid_id, bad-sig.jsonl as invalid_signature', { skip }, async () => {
  const v = await createVerifier();
  const read = (name: string) => readFileSync(`${corpora}invalid/${name}`, 'utf8').split('\n').filter((l) => l !== '');
  const badId = read('bad-id.jsonl').map((l) => checkLine(l, all, v));
  assert.equal(badId.length, 61);
  // One of them (Proton Beam's own test event) also has kind -1: the cheaper kind check reports it first.
  const categories = badId.map((r) => (r.ok ? 'ok' : r.category));
  assert.equal(categories.filter((c) => c === 'invalid_id').length, 60);
  assert.equal(categories.filter((c) => c === 'invalid_kind').length, 1);
  for (const l of read('bad-id.jsonl')) {
    const r = checkLine(l, { ...all, filterKinds: false }, v);
    assert.equal(r.ok ? 'ok' : r.category, 'invalid_id');
  }
  const badSig = read('bad-sig.jsonl').map((l) => checkLine(l, all, v));
  assert.equal(badSig.length, 2);
  for (const r of badSig) assert.equal(r.ok ? 'ok' : r.category, 'invalid_signature');
  // With signature checks off, the bad-sig events are accepted: their ids are right.
  for (const l of read('bad-sig.jsonl')) assert.equal(checkLine(l, { ...all, validateSignatures: false }, v).ok, true);
});

test('withVerdictCache answers repeats from memory, keyed by all three inputs, within its bound', { skip }, async () => {
  let calls = 0;
  const inner = await createTinySecp256k1Verifier();
  const counting: Verifier = { name: 'counting', verify: (s, m, p) => (calls++, inner.verify(s, m, p)) };
  const cached = withVerdictCache(counting, 2);
  const good = bip340Vectors().find((v) => v.index === 1);
  const bad = bip340Vectors().find((v) => v.index === 6); // has_even_y(R) false: well-formed, invalid
  assert.ok(good && bad && good.expected && !bad.expected);
  assert.equal(cached.verify(good.sig, good.msg, good.pub), true);
  assert.equal(cached.verify(good.sig.slice(), good.msg.slice(), good.pub.slice()), true);
  assert.equal(calls, 1, 'second call answered from the cache');
  const otherSig = good.sig.slice();
  otherSig[63] = (otherSig[63] as number) ^ 1;
  assert.equal(cached.verify(otherSig, good.msg, good.pub), false, 'same id, different sig is verified afresh');
  assert.equal(calls, 2);
  assert.equal(cached.verify(bad.sig, bad.msg, bad.pub), false);
  assert.equal(cached.verify(bad.sig, bad.msg, bad.pub), false);
  assert.equal(calls, 3, 'negative verdicts are remembered too');
  for (let i = 0; i < 6; i++) {
    const s = good.sig.slice();
    s[0] = i;
    cached.verify(s, good.msg, good.pub);
  }
  const before = calls;
  cached.verify(good.sig, good.msg, good.pub);
  assert.equal(calls, before + 1, 'old entries are evicted once 2 × capacity newer ones arrived');
});
