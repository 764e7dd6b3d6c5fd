/**
 * Deterministic signed Nostr events for pipeline tests (no corpus needed): fixed secret keys and
 * zero aux randomness, so every run of the tests signs the same bytes.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { createHash } from 'node:crypto';

export interface TestEvent { id: string; pubkey: string; created_at: number; kind: number; tags: string[][]; content: string; sig: string }

const keys = [1, 2, 3, 4].map((k) => {
  const sk = new Uint8Array(32);
  sk[31] = k;
  sk[0] = 7;
  return { sk, pk: Buffer.from(schnorr.getPublicKey(sk)).toString('hex') };
});
const aux = new Uint8Array(32);

export function signEvent(fields: Omit<TestEvent, 'id' | 'sig' | 'pubkey'>, keyIndex = 0): TestEvent {
  const key = keys[keyIndex % keys.length]!;
  const serialized = JSON.stringify([0, key.pk, fields.created_at, fields.kind, fields.tags, fields.content]);
  const id = createHash('sha256').update(serialized).digest();
  const sig = Buffer.from(schnorr.sign(id, key.sk, aux)).toString('hex');
  return { id: id.toString('hex'), pubkey: key.pk, created_at: fields.created_at, kind: fields.kind, tags: fields.tags, content: fields.content, sig };
}

/** `n` distinct events over ~12 UTC days, with varied tags and content (quotes, newlines, emoji, controls). */
export function makeEvents(n: number, seed = 1): TestEvent[] {
  const out: TestEvent[] = [];
  let x = seed;
  const next = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  const contents = ['gm', 'hello "world"\nline two', 'emoji 🦩 and ünïcode', 'tab\there\rcr\bbs\fff\u0001ctl\u007f', '', 'x'.repeat(500), 'path/with\\backslash <>&'];
  for (let i = 0; i < n; i++) {
    const tags = next() % 3 === 0 ? [] : [['p', (next() >>> 0).toString(16).padStart(8, '0').repeat(8)], ['t', `tag${i % 17}`], ['e']];
    out.push(signEvent({ created_at: 1_700_000_000 + (next() % (12 * 86400)), kind: [0, 1, 3, 7, 30023][next() % 5]!, tags, content: `${contents[next() % contents.length]} #${i}` }, i));
  }
  return out;
}

export function toJsonl(events: readonly object[], eol = '\n'): string {
  return events.map((e) => JSON.stringify(e)).join(eol) + eol;
}
