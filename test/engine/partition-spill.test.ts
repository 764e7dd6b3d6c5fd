import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PartitionSpill, forEachSpilledRecord, type SpillPiece } from '../../src/engine/partition-spill.js';
import { rng } from '../helpers/random.js';

const root = mkdtempSync(join(tmpdir(), 'tm-spill-'));

/** Records: [length u8][that many bytes]; the payload names partition and sequence number. */
function record(key: number, seq: number, extra: number): Uint8Array {
  const body = new TextEncoder().encode(`${key}:${seq}:${'x'.repeat(extra)}`);
  return Uint8Array.of(body.length, ...body);
}
const recordEnd = (buf: Uint8Array, start: number, limit: number): number => (start + 1 + buf[start]! > limit ? -1 : start + 1 + buf[start]!);

function readAll(pieces: SpillPiece[], blockBytes?: number): string[] {
  const out: string[] = [];
  forEachSpilledRecord(pieces, recordEnd, (buf, s, e) => out.push(new TextDecoder().decode(buf.subarray(s + 1, e))), blockBytes);
  return out;
}

test('partitions read back in arrival order across spills and memory; buffers are freed once', async () => {
  let n = 0;
  const spill = new PartitionSpill(200, () => join(root, `spill-${n++}`));
  const random = rng(3);
  const expected = new Map<number, string[]>();
  const freed: number[] = [];
  let spills = 0;
  for (let chunk = 0; chunk < 40; chunk++) {
    // A chunk's records grouped by key, as a worker would.
    const groups = new Map<number, Uint8Array[]>();
    for (let r = 0; r < 6; r++) {
      const key = Math.floor(random() * 5) - 2;
      const seq = (expected.get(key)?.length ?? 0) + (groups.get(key)?.length ?? 0);
      const rec = record(key, seq, Math.floor(random() * 30));
      groups.set(key, [...(groups.get(key) ?? []), rec]);
    }
    const keys = [...groups.keys()].sort((a, b) => a - b);
    const bytes = new Uint8Array(keys.reduce((t, k) => t + groups.get(k)!.reduce((u, r) => u + r.length, 0), 0));
    const held = spill.hold(bytes, () => freed.push(chunk));
    let at = 0;
    for (const k of keys) {
      const start = at;
      for (const r of groups.get(k)!) {
        bytes.set(r, at);
        at += r.length;
        expected.set(k, [...(expected.get(k) ?? []), new TextDecoder().decode(r.subarray(1))]);
      }
      spill.add(k, held, start, at, groups.get(k)!.length);
    }
    spill.seal(held);
    if (spill.overBudget) {
      await spill.spill();
      spills++;
    }
  }
  assert.ok(spills >= 3, `spilled ${spills} times`);
  assert.deepEqual(spill.keys(), [...expected.keys()].sort((a, b) => a - b));
  for (const k of spill.keys()) {
    assert.equal(spill.count(k), expected.get(k)!.length);
    assert.deepEqual(readAll(spill.pieces(k)), expected.get(k), `key ${k}`);
    assert.deepEqual(readAll(spill.pieces(k), 7), expected.get(k), `key ${k}, records across 7-byte blocks`);
    spill.release(k);
  }
  assert.deepEqual([...freed].sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i), 'every chunk buffer freed exactly once');
  assert.equal(spill.memoryBytes, 0);
  await spill.removeFiles();
  assert.equal(existsSync(join(root, 'spill-0')), false);
});

test('a record longer than the read block is read whole; a cut extent is an error', async () => {
  const spill = new PartitionSpill(0, () => join(root, 'long'));
  const long = record(1, 0, 200);
  const held = spill.hold(long, () => {});
  spill.add(1, held, 0, long.length, 1);
  await spill.spill();
  assert.deepEqual(readAll(spill.pieces(1), 16), [new TextDecoder().decode(long.subarray(1))]);
  const [piece] = spill.pieces(1) as { path: string; offset: number; length: number }[];
  assert.throws(() => readAll([{ ...piece!, length: piece!.length - 1 }]), /runs past the end/);
});
