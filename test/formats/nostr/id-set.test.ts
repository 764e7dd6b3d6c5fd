import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { IdSet } from '../../../src/formats/nostr/id-set.js';

const id = (i: number): Buffer => createHash('sha256').update(String(i)).digest();

test('IdSet is exact through many growths', () => {
  const set = new IdSet(16);
  for (let i = 0; i < 50_000; i++) assert.equal(set.add(id(i)), true);
  assert.equal(set.size, 50_000);
  for (let i = 0; i < 50_000; i += 7) assert.equal(set.add(id(i)), false);
  for (let i = 50_000; i < 50_100; i++) assert.equal(set.has(id(i)), false);
  assert.equal(set.size, 50_000);
});

test('IdSet compares whole ids: ids sharing 31 bytes, or all words but one, stay distinct', () => {
  const set = new IdSet(4);
  const base = Buffer.alloc(32, 0xab);
  for (let b = 0; b < 256; b++) {
    const x = Buffer.from(base);
    x[31] = b;
    assert.equal(set.add(x), true);
  }
  const inLarger = Buffer.alloc(64, 0xab);
  assert.equal(set.add(inLarger, 8), false, 'the id at offset 8 (all 0xab) was stored above');
  inLarger[8] = 0x01;
  assert.equal(set.add(inLarger, 8), true, 'differs from every stored id in its first byte only');
  assert.equal(set.has(base.map((v, i) => (i === 31 ? 3 : v)) as Buffer), true);
  assert.equal(set.size, 257);
  assert.equal(set.has(inLarger, 8), true);
});
