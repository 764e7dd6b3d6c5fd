import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChunk } from '../../../src/formats/fastq/parse.js';
import { recordsOf } from '../../../src/formats/fastq/record.js';

const recs = (text: string, phred: 33 | 64 = 33) => {
  const p = parseChunk(Buffer.from(text, 'latin1'), { phred });
  return { p, r: recordsOf({ buf: p.buf, index: p.index, count: p.count, wrapped: p.wrapped }).map((x) => x.toJSON()) };
};

test('id, description, CRLF, zero-length records, blank lines, no final newline', () => {
  const { p, r } = recs('@a desc here\r\nACGT\r\n+\r\nIIII\r\n\n@b\tx\n\n+b\tx\n\n@c\nA\n+\n@');
  assert.equal(p.errors.length, 0);
  assert.deepEqual(r, [
    { id: 'a', description: 'desc here', sequence: 'ACGT', quality: 'IIII' },
    { id: 'b', description: 'x', sequence: '', quality: '' },
    { id: 'c', description: '', sequence: 'A', quality: '@' },
  ]);
});

test('wrapped records are joined, and a quality line may start with @ or +', () => {
  const { p, r } = recs('@w\nACG\nTA\n+w\n@+\n+@I\n@n\nA\n+\nI\n');
  assert.equal(p.errors.length, 0);
  assert.ok(p.wrapped);
  assert.deepEqual(r.map((x) => [x.sequence, x.quality]), [['ACGTA', '@++@I'], ['A', 'I']]);
});

test('bad records are reported with record, line and offset, and parsing resumes', () => {
  const good = (id: string) => `@${id}\nAC\n+\nII\n`;
  const text = good('a') + '@b\nAC\n+\nI\n' + good('c') + '@d\nAC\n+x\nII\n' + good('e') + '@f\nA C\n+\nIII\n' + good('g') + '@h\nAC\n+\nI\x01\n' + good('i') + 'junk\n' + good('j');
  const { p, r } = recs(text);
  assert.deepEqual(r.map((x) => x.id), ['a', 'c', 'e', 'g', 'i', 'j']);
  assert.deepEqual(p.errors.map((e) => [e.record, e.line, e.offset, e.category]), [
    [2, 5, text.indexOf('@b'), 'length_mismatch'],
    [4, 13, text.indexOf('@d'), 'plus_mismatch'],
    [6, 21, text.indexOf('@f'), 'invalid_sequence'],
    [8, 29, text.indexOf('@h'), 'invalid_quality'],
    [10, 37, text.indexOf('junk'), 'missing_at'],
  ]);
  assert.equal(p.records, 11);
  assert.equal(p.lines, 41);
});

test('phred 64 rejects qualities below ;', () => {
  assert.equal(recs('@a\nA\n+\n5\n', 64).p.errors[0]?.category, 'invalid_quality');
  assert.equal(recs('@a\nA\n+\n;\n', 64).p.errors.length, 0);
});
