/**
 * RowBatcher: batches of exactly N rows or cut by the byte cap, every row exactly once and in
 * order, whatever the chunk sizes; spanBytes adds up row by row (tag values are indexed by
 * entry, not by row: mixing the two once made the cap drop rows).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseHeader } from '../../../src/formats/bam/header.js';
import { decodeRecords, type BamColumns } from '../../../src/formats/bam/decode.js';
import { RowBatcher, spanBytes, type RowRange } from '../../../src/formats/bam/batch.js';
import { generateSam, samToBam, skipNoSamtools, tempDir } from './helpers.js';

function columns(): BamColumns {
  const bam = samToBam(generateSam({ records: 600, seed: 9, longEvery: 50, longReadLength: 20_000 }), join(tempDir(), 'b.bam'));
  const raw = gunzipSync(readFileSync(bam));
  const header = parseHeader(raw);
  const r = decodeRecords(raw, header.length, { sequence: true, quality: true, tags: true, nRef: header.references.length });
  assert.equal(r.errors.length, 0);
  return r.columns;
}

test('spanBytes is additive and RowBatcher hands out every row once, in order, within its limits', { skip: skipNoSamtools }, () => {
  const c = columns();
  // Row by row from the data itself: text lengths, and each tag entry's key (2) and value.
  const len = (t: { offsets: Int32Array } | null, i: number): number => (t ? t.offsets[i + 1]! - t.offsets[i]! : 0);
  let sum = 0;
  for (let i = 0; i < c.rows; i++) {
    let row = 25 + len(c.qname, i) + len(c.cigar, i) + len(c.seq, i) + len(c.qual, i);
    for (let e = c.tags!.entries[i]!; e < c.tags!.entries[i + 1]!; e++) row += 2 + len(c.tags!.values, e);
    assert.equal(spanBytes(c, i, i + 1), row, `row ${i}`);
    sum += row;
  }
  assert.equal(spanBytes(c, 0, c.rows), sum);

  for (const [size, maxBytes, cut] of [[100, 1 << 30, 37], [1000, 200_000, 53], [7, 50_000, 600], [1000, 1, 101]] as const) {
    const b = new RowBatcher(size, maxBytes);
    const batches: RowRange[][] = [];
    for (let from = 0; from < c.rows; from += cut) {
      b.push(c, from, Math.min(c.rows, from + cut));
      batches.push(...b.full());
    }
    for (let rest = b.rest(); rest; rest = b.rest()) batches.push(rest);
    let next = 0;
    for (const batch of batches) {
      const rows = batch.reduce((n, r) => n + r.to - r.from, 0);
      const bytes = batch.reduce((n, r) => n + spanBytes(r.cols, r.from, r.to), 0);
      assert.ok(rows >= 1 && rows <= size, `batch of ${rows} rows with size ${size}`);
      assert.ok(rows === 1 || bytes <= maxBytes, `batch of ${rows} rows holds ${bytes} bytes, cap ${maxBytes}`);
      for (const r of batch) {
        assert.equal(r.from, next, 'rows in order, none skipped or repeated');
        next = r.to;
      }
    }
    assert.equal(next, c.rows, `size ${size}, cap ${maxBytes}: every row written`);
    if (maxBytes >= 1 << 30) assert.ok(batches.slice(0, -1).every((x) => x.reduce((n, r) => n + r.to - r.from, 0) === size), 'exact row count when the cap is not reached');
  }
});
