import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { crc32, gunzipSync, inflateRawSync } from 'node:zlib';
import { nativeDeflate } from '../../src/engine/native.js';
import {
  BGZF_EOF, BgzfError, blockOffsets, blockSizeAt, endsWithEof, findBlockStart, inflateBlock, inflateBlocks, isBgzfHeader,
} from '../../src/engine/bgzf.js';

const hasBgzip = spawnSync('bgzip', ['--version']).status === 0;
const skip = hasBgzip ? false : 'bgzip (tabix/htslib) not installed';
const skipNative = !hasBgzip ? skip : nativeDeflate ? false : 'native inflate not built (needs libdeflate-dev; npm run build:native), node:zlib is used';

/** Deterministic text with some entropy so blocks compress to varied sizes. */
function sample(bytes: number): Buffer {
  let x = 12345;
  const lines: string[] = [];
  let n = 0;
  while (n < bytes) {
    x = (x * 1103515245 + 12345) >>> 0;
    const line = `read${x.toString(16)}\t${'ACGT'[x & 3]!.repeat(1 + (x % 50))}\t${(x >>> 7).toString(36)}\n`;
    lines.push(line);
    n += line.length;
  }
  return Buffer.from(lines.join(''));
}

function bgzip(data: Buffer): Buffer {
  const r = spawnSync('bgzip', ['-c'], { input: data, maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, String(r.stderr));
  return r.stdout;
}

function trueStarts(file: Uint8Array): number[] {
  return blockOffsets(file, 0, file.length, 0);
}

test('headers, sizes and the EOF block', { skip }, () => {
  const raw = sample(300_000);
  const file = bgzip(raw);
  const starts = trueStarts(file);
  assert.ok(starts.length >= 5, `expected several blocks, got ${starts.length}`);
  assert.ok(endsWithEof(file));
  assert.deepEqual(file.subarray(file.length - 28), Buffer.from(BGZF_EOF));
  assert.equal(blockSizeAt(BGZF_EOF, 0), 28);
  assert.ok(isBgzfHeader(file, 0));
  assert.ok(!isBgzfHeader(file, 1));
  assert.equal(blockSizeAt(file, 1), -1);
  assert.equal(blockSizeAt(file.subarray(0, 10), 0), -1);
  assert.deepEqual(Buffer.from(inflateBlocks(file, 0, file.length, 0)), raw);
  const one = Buffer.concat(starts.map((p) => inflateBlock(file, p, 0)));
  assert.deepEqual(one, raw);
});

test('findBlockStart from every offset agrees with the true block starts', { skip }, () => {
  const file = bgzip(sample(400_000));
  const starts = trueStarts(file);
  const expectFrom = (from: number): number => starts.find((s) => s >= from) ?? file.length;
  for (let from = 0; from < file.length; from += 97) {
    assert.equal(findBlockStart(file, from, true), expectFrom(from), `from ${from}`);
  }
  // With a cut buffer and no eof: either the right answer or "need more", never a wrong one.
  for (let cut = 1000; cut < file.length; cut += 4099) {
    const part = file.subarray(0, cut);
    for (let from = 0; from < cut; from += 1013) {
      const got = findBlockStart(part, from, false);
      if (got !== -1) assert.equal(got, expectFrom(from), `cut ${cut} from ${from}`);
    }
  }
});

test('findBlockStart ignores gzip-looking bytes inside compressed data', () => {
  // A fake header whose size does not lead to another header is rejected.
  const fake = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(BGZF_EOF.subarray(0, 18)), Buffer.alloc(40, 7)]);
  assert.equal(findBlockStart(fake, 0, true), fake.length);
  const real = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(BGZF_EOF), Buffer.from(BGZF_EOF)]);
  assert.equal(findBlockStart(real, 0, true), 3);
  assert.equal(findBlockStart(real, 4, true), 31);
  assert.equal(findBlockStart(real.subarray(0, 20), 0, false), -1);
  assert.equal(findBlockStart(Buffer.alloc(100, 5), 0, false), -1);
  assert.equal(findBlockStart(Buffer.alloc(100, 5), 0, true), 100);
});

function expectBgzfError(fn: () => unknown, offset: number, code = 'BGZF_CORRUPT'): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BgzfError);
    assert.equal(e.code, code);
    assert.equal(e.compressedOffset, offset);
    assert.match(e.message, new RegExp(`offset ${offset}\\b`));
    return true;
  });
}

test('corrupt CRC, deflate data and truncation name the block', { skip }, () => {
  const file = bgzip(sample(300_000));
  const starts = trueStarts(file);
  const victim = starts[2]!;
  const size = blockSizeAt(file, victim);

  const badCrc = Buffer.from(file);
  badCrc[victim + size - 8]! ^= 0xff;
  expectBgzfError(() => inflateBlock(badCrc, victim, 1000), 1000 + victim);
  expectBgzfError(() => inflateBlocks(badCrc, 0, badCrc.length, 0), victim);

  const badDeflate = Buffer.from(file);
  for (let i = 0; i < 16; i++) badDeflate[victim + 18 + i] = 0xff;
  expectBgzfError(() => inflateBlocks(badDeflate, 0, badDeflate.length, 0), victim);

  const badIsize = Buffer.from(file);
  badIsize[victim + size - 4]! ^= 1;
  expectBgzfError(() => inflateBlock(badIsize, victim, 0), victim);

  const truncated = file.subarray(0, victim + 100);
  expectBgzfError(() => inflateBlock(truncated, victim, 0), victim, 'BGZF_TRUNCATED');
  expectBgzfError(() => inflateBlocks(truncated, 0, truncated.length, 0), victim, 'BGZF_TRUNCATED');
  // The framing still reports the cut block as a start so the inflater can name it.
  assert.equal(findBlockStart(truncated, victim - 5, true), victim);
  assert.ok(!endsWithEof(truncated));
});

test('inflateBlocks of a middle range equals the matching slice of the data', { skip }, () => {
  const raw = sample(500_000);
  const file = bgzip(raw);
  const starts = trueStarts(file);
  const a = starts[1]!;
  const b = starts[4]!;
  const before = gunzipSync(file.subarray(0, a)).length;
  const mid = inflateBlocks(file, a, b, 0);
  assert.deepEqual(Buffer.from(mid), raw.subarray(before, before + mid.length));
});

test('the native inflate (libdeflate) equals node:zlib on every block, and flags bad data and short output', { skip: skipNative }, () => {
  const n = nativeDeflate!;
  const file = bgzip(sample(400_000));
  for (const p of trueStarts(file)) {
    const size = blockSizeAt(file, p);
    const cdata = file.subarray(p + 18, p + size - 8);
    const expected = inflateRawSync(cdata);
    const dst = new Uint8Array(expected.length + 1);
    assert.equal(n.inflateRaw(cdata, dst), expected.length);
    assert.deepEqual(Buffer.from(dst.subarray(0, expected.length)), expected);
    assert.equal(n.crc32(dst.subarray(0, expected.length)), crc32(expected));
    if (expected.length > 0) assert.equal(n.inflateRaw(cdata, new Uint8Array(expected.length - 1)), -2);
  }
  const bad = new Uint8Array(64).fill(0xff);
  assert.equal(n.inflateRaw(bad, new Uint8Array(1 << 16)), -1);
  assert.throws(() => n.inflateRaw(bad as never, 'x' as never), TypeError);
});
