import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fastqFraming } from '../../../src/formats/fastq/framing.js';
import { F, REC, parseChunk } from '../../../src/formats/fastq/parse.js';
import { syntheticFastq } from './helpers.js';

function trueStarts(buf: Uint8Array): number[] {
  const p = parseChunk(buf);
  assert.equal(p.errors.length, 0);
  return Array.from({ length: p.count }, (_, r) => p.index[r * F + REC]!);
}

for (const crlf of [false, true]) {
  test(`recordStart finds the true record start from every byte offset${crlf ? ' (CRLF)' : ''}`, () => {
    const buf = Buffer.from(syntheticFastq(300, 7, { crlf }), 'latin1');
    const starts = trueStarts(buf);
    assert.ok(buf.toString('latin1').includes('\n@') && starts.length === 300);
    let k = 0;
    for (let from = 1; from <= buf.length; from++) {
      while (k < starts.length && starts[k]! < from) k++;
      const want: number = k < starts.length ? starts[k]! : buf.length;
      assert.equal(fastqFraming.recordStart(buf, from, true), want, `from ${from}`);
      // Same answer from a buffer that begins one byte before `from` (a worker's look-behind).
      const sub = buf.subarray(from - 1);
      assert.equal(fastqFraming.recordStart(sub, 1, true) + from - 1, want);
    }
  });
}

test('recordStart never guesses when bytes are missing: -1 or the true answer', () => {
  const buf = Buffer.from(syntheticFastq(60, 11), 'latin1');
  const starts = trueStarts(buf);
  for (let from = 1; from < buf.length; from += 3) {
    const want = starts.find((s) => s >= from) ?? buf.length;
    for (let end = from; end <= buf.length; end += 5) {
      const r = fastqFraming.recordStart(buf.subarray(0, end), from, false);
      assert.ok(r === -1 || r === want, `from ${from} end ${end}: ${r} vs ${want}`);
    }
  }
});

test('a quality line starting with @ is never taken for a record start', () => {
  const text = '@r1\nACGT\n+\n@III\n@r2\nAC\n+r2\n@@\n@r3\n\n+\n\n';
  const buf = Buffer.from(text);
  assert.equal(fastqFraming.recordStart(buf, 1, true), text.indexOf('@r2'));
  assert.equal(fastqFraming.recordStart(buf, text.indexOf('@@'), true), text.indexOf('@r3'));
});

test('cutting at every framed boundary gives the records of the whole parse', () => {
  const buf = Buffer.from(syntheticFastq(80, 3), 'latin1');
  const whole = parseChunk(buf);
  for (let cut = 1; cut < buf.length; cut++) {
    const b = fastqFraming.recordStart(buf, cut, true);
    const a = parseChunk(buf.subarray(0, b));
    const c = parseChunk(buf.subarray(b));
    assert.equal(a.count + c.count, whole.count);
    assert.equal(a.errors.length + c.errors.length, 0);
  }
});
