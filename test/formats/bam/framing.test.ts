/**
 * The BAM framing finds exactly the true record starts, from any offset (inside the header,
 * inside names, sequences, qualities, tags), and never guesses when bytes are missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { bamFraming } from '../../../src/formats/bam/framing.js';
import { headerLength } from '../../../src/formats/bam/header.js';
import { generateSam, samToBam, skipNoSamtools, tempDir } from './helpers.js';

function recordStarts(raw: Buffer): number[] {
  const out: number[] = [];
  for (let p = headerLength(raw); p < raw.length; p += 4 + raw.readUInt32LE(p)) out.push(p);
  return out;
}

test('recordStart from every offset is the next true record start', { skip: skipNoSamtools }, () => {
  const dir = tempDir();
  const raw = gunzipSync(readFileSync(samToBam(generateSam({ records: 600, seed: 13, longEvery: 97, longReadLength: 3_000 }), join(dir, 'f.bam'))));
  const starts = recordStarts(raw);
  const next = (from: number): number => starts.find((s) => s >= from) ?? raw.length;
  assert.equal(bamFraming.recordStart(raw, 0, true), 0, 'from 0: chunk 0 keeps the header');
  for (let from = 1; from < raw.length; from += 7) {
    assert.equal(bamFraming.recordStart(raw, from, true), next(from), `from ${from}`);
  }
  // Cut buffers without eof: the true answer or "need more", never a wrong offset.
  for (let cut = 5_000; cut < raw.length; cut += 9_973) {
    const part = raw.subarray(0, cut);
    for (let from = 1; from < cut; from += 131) {
      const got = bamFraming.recordStart(part, from, false);
      if (got !== -1) assert.equal(got, next(from), `cut ${cut} from ${from}`);
    }
  }
});

test('recordStart at 0 waits for the whole header and rejects a wrong magic', () => {
  const header = Buffer.concat([Buffer.from('BAM\x01'), Buffer.from([5, 0, 0, 0]), Buffer.from('@CO\tx'), Buffer.from([0, 0, 0, 0])]);
  assert.equal(bamFraming.recordStart(header.subarray(0, 10), 0, false), -1);
  assert.equal(bamFraming.recordStart(header, 0, false), 0);
  assert.throws(() => bamFraming.recordStart(header.subarray(0, 10), 0, true), /cut short/);
  assert.throws(() => bamFraming.recordStart(Buffer.from('BAN\x01xxxxxxxx'), 0, false), (e: Error & { code?: string }) => e.code === 'BAM_BAD_MAGIC');
});
