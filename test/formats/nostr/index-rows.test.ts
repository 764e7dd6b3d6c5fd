import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sortRows } from '../../../src/formats/nostr/index-rows.js';
import { ROW_BYTES } from '../../../src/formats/nostr/spill-records.js';
import { rng } from '../../helpers/random.js';

function row(id: Uint8Array, kind: number): Uint8Array {
  const r = new Uint8Array(ROW_BYTES);
  r.set(id, 0);
  new DataView(r.buffer).setInt32(64, kind, true);
  return r;
}
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('rows come back sorted by full id, one per id, the first copy kept; prefix ties are ordered by the rest', () => {
  const random = rng(9);
  const ids: Uint8Array[] = [];
  for (let i = 0; i < 3000; i++) {
    const id = Uint8Array.from({ length: 32 }, () => Math.floor(random() * 256));
    id[0] = 7;
    // Every third id shares its first six bytes with the previous one: ties on the 40-bit key.
    if (i % 3 === 2) id.set(ids[i - 1]!.subarray(0, 6), 0);
    ids.push(id);
  }
  const input: Uint8Array[] = [];
  ids.forEach((id, i) => input.push(row(id, i)));
  for (let i = 0; i < 500; i++) input.push(row(ids[Math.floor(random() * ids.length)]!, -1)); // later copies
  const bytes = new Uint8Array(input.length * ROW_BYTES);
  input.forEach((r, i) => bytes.set(r, i * ROW_BYTES));
  const { rows, count } = sortRows({ pieces: [bytes], lo: 0, hi: 65536 }, 10);
  const expected = [...new Set(ids.map(hex))].sort();
  assert.equal(count, expected.length);
  const got = Array.from({ length: count }, (_, i) => hex(rows.subarray(i * ROW_BYTES, i * ROW_BYTES + 32)));
  assert.deepEqual(got, expected);
  for (let i = 0; i < count; i++) assert.notEqual(new DataView(rows.buffer, rows.byteOffset).getInt32(i * ROW_BYTES + 64, true), -1, 'a later copy never replaces the first');
});

test('a sub-range takes only ids whose second and third bytes fall in it', () => {
  const mk = (b1: number, b2: number): Uint8Array => row(Uint8Array.from({ length: 32 }, (_, k) => (k === 1 ? b1 : k === 2 ? b2 : 3)), 0);
  const all = [mk(0, 0), mk(0x7f, 0xff), mk(0x80, 0), mk(0xff, 0xff)];
  const bytes = new Uint8Array(all.length * ROW_BYTES);
  all.forEach((r, i) => bytes.set(r, i * ROW_BYTES));
  assert.equal(sortRows({ pieces: [bytes], lo: 0, hi: 0x8000 }, 1).count, 2);
  assert.equal(sortRows({ pieces: [bytes], lo: 0x8000, hi: 0x10000 }, 1).count, 2);
});
