import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counts, countQual, countSeq } from '../../../src/formats/fastq/swar.js';
import { rng } from './helpers.js';

function naive(seq: Uint8Array, qual: Uint8Array, lo: number, phred: number): Counts {
  const k = new Counts();
  for (const c of seq) {
    if (c < 33 || c > 126) k.bad = true;
    if ('GCgc'.includes(String.fromCharCode(c))) k.gc++;
    if (c === 0x2d || c === 0x2e) k.gaps++;
  }
  for (const c of qual) {
    if (c < lo || c > 126) k.bad = true;
    if (c - phred >= 20) k.q20++;
    if (c - phred >= 30) k.q30++;
  }
  return k;
}

test('4-byte counters equal a byte-by-byte count at every alignment and length', () => {
  const r = rng(5);
  const alphabet = 'ACGTNacgtn-.*#';
  for (let trial = 0; trial < 3000; trial++) {
    const len = Math.floor(r() * (trial < 2000 ? 40 : 2000));
    const off = Math.floor(r() * 8);
    const phred = r() < 0.5 ? 33 : 64;
    const lo = phred === 64 ? 59 : 33;
    const buf = new Uint8Array(off + 2 * len + 8);
    for (let i = 0; i < len; i++) buf[off + i] = alphabet.charCodeAt(Math.floor(r() * alphabet.length));
    for (let i = 0; i < len; i++) buf[off + len + i] = lo + Math.floor(r() * (127 - lo));
    if (trial % 7 === 0 && len > 0) buf[off + len + Math.floor(r() * len)] = [0, 9, 32, 127, 200, lo - 1][trial % 6]!;
    if (trial % 11 === 0 && len > 0) buf[off + Math.floor(r() * len)] = [10, 32, 127][trial % 3]!;
    const words = new Int32Array(buf.buffer, 0, buf.buffer.byteLength >> 2);
    const seq = buf.subarray(off, off + len);
    const qual = buf.subarray(off + len, off + 2 * len);
    const want = naive(seq, qual, lo, phred);
    for (const w of [words, null]) {
      const k = new Counts();
      countSeq(buf, w, off, off + len, k);
      countQual(buf, w, off + len, off + 2 * len, lo, phred, k);
      if (want.bad) assert.ok(k.bad, `trial ${trial}`);
      else assert.deepEqual({ ...k }, { ...want }, `trial ${trial}`);
    }
  }
});
