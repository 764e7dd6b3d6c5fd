/**
 * Bad input: truncated file, corrupt block (CRC, deflate data), wrong magic, a record whose
 * length runs past the data, a reference id out of range. Each fails with a stable code, names
 * the compressed offset (and record), and leaves no output file or temporary behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { convertBam } from '../../../src/formats/bam/convert.js';
import { blockOffsets, blockSizeAt } from '../../../src/engine/bgzf.js';
import { headerLength } from '../../../src/formats/bam/header.js';
import { assertSameLines, generateSam, readArrow, samToBam, samtoolsLines, skipNoSamtools, tableToSam, tempDir } from './helpers.js';

interface Failure { code: string; message: string; compressedOffset?: number }

async function expectFailure(input: string, dir: string, extra: Partial<Parameters<typeof convertBam>[0]> = {}): Promise<Failure> {
  const output = join(dir, 'out.arrow');
  let failure: Failure | null = null;
  try {
    await convertBam({ input, output, threads: 2, chunkSize: 1 << 16, ...extra });
  } catch (err) {
    failure = err as Failure;
  }
  assert.ok(failure, `${input}: expected a failure`);
  assert.ok(!existsSync(output), 'an output file was left behind');
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('threadmill-tmp')), [], 'temporaries left behind');
  return failure;
}

function bgzip(data: Buffer, out: string): string {
  const r = spawnSync('bgzip', ['-c'], { input: data, maxBuffer: 1 << 28 });
  assert.equal(r.status, 0);
  writeFileSync(out, r.stdout);
  return out;
}

/** Offsets of the records after the header in decompressed BAM bytes. */
function recordOffsets(raw: Buffer): number[] {
  const out: number[] = [];
  for (let p = headerLength(raw); p < raw.length; p += 4 + raw.readUInt32LE(p)) out.push(p);
  return out;
}

let fixture: { dir: string; bam: string; raw: Buffer; blocks: number[] } | null = null;
function good(): { dir: string; bam: string; raw: Buffer; blocks: number[] } {
  if (!fixture) {
    const dir = tempDir();
    const bam = samToBam(generateSam({ records: 3_000, seed: 9 }), join(dir, 'good.bam'));
    const bytes = readFileSync(bam);
    fixture = { dir, bam, raw: gunzipSync(bytes), blocks: blockOffsets(bytes, 0, bytes.length, 0) };
  }
  return fixture;
}

test('truncated file: BGZF_TRUNCATED naming the block; --allow-truncated keeps the records before', { skip: skipNoSamtools }, async () => {
  const { bam, blocks } = good();
  const dir = tempDir();
  const bytes = readFileSync(bam);
  const cutBlock = blocks[Math.floor(blocks.length / 2)]!;
  const cut = join(dir, 'cut.bam');
  writeFileSync(cut, bytes.subarray(0, cutBlock + 100));
  const f = await expectFailure(cut, dir);
  assert.equal(f.code, 'BGZF_TRUNCATED');
  assert.match(f.message, new RegExp(`compressed offset ${cutBlock}\\b`));

  const warnings: string[] = [];
  const out = join(dir, 'kept.arrow');
  const r = await convertBam({ input: cut, output: out, threads: 2, chunkSize: 1 << 16, allowTruncated: true, warn: (m) => warnings.push(m) });
  assert.ok(r.written > 0 && r.written < 3_000, `kept ${r.written}`);
  assert.ok(warnings.some((w) => /end-of-file block/.test(w)), warnings.join('\n'));
  assert.ok(warnings.some((w) => new RegExp(`ends inside the BGZF block at compressed offset ${cutBlock}\\b`).test(w)), warnings.join('\n'));
  assert.equal(r.truncated, true);
  assertSameLines(tableToSam(readArrow(out)), samtoolsLines(bam).slice(0, r.written), 'kept prefix');
});

test('file cut at a block boundary inside a record: BAM_TRUNCATED with the record number', { skip: skipNoSamtools }, async () => {
  const { raw } = good();
  const dir = tempDir();
  // samtools starts a new block before a record that would not fit; bgzip cuts every 64 KiB,
  // so its block boundaries fall inside records.
  const rebuilt = readFileSync(bgzip(raw, join(dir, 'bgzip.bam')));
  const blocks = blockOffsets(rebuilt, 0, rebuilt.length, 0);
  const cut = join(dir, 'cut.bam');
  writeFileSync(cut, rebuilt.subarray(0, blocks[3]!));
  const f = await expectFailure(cut, dir);
  assert.equal(f.code, 'BAM_TRUNCATED');
  assert.match(f.message, /record \d+ .*runs past the end/);
});

test('corrupt block: bad CRC and bad deflate data name the compressed offset', { skip: skipNoSamtools }, async () => {
  const { bam, blocks } = good();
  const dir = tempDir();
  const bytes = readFileSync(bam);
  const victim = blocks[4]!;
  const size = blockSizeAt(bytes, victim);
  const badCrc = Buffer.from(bytes);
  badCrc[victim + size - 8]! ^= 0x5a;
  const f1 = await expectFailure(bgzfFile(dir, 'crc.bam', badCrc), dir);
  assert.equal(f1.code, 'BGZF_CORRUPT');
  assert.match(f1.message, new RegExp(`compressed offset ${victim}\\b`));
  const badData = Buffer.from(bytes);
  badData.fill(0xff, victim + 30, victim + 60);
  const f2 = await expectFailure(bgzfFile(dir, 'deflate.bam', badData), dir);
  assert.equal(f2.code, 'BGZF_CORRUPT');
  assert.match(f2.message, new RegExp(`compressed offset ${victim}\\b`));
});

function bgzfFile(dir: string, name: string, data: Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, data);
  return p;
}

test('wrong magic: BAM_BAD_MAGIC', { skip: skipNoSamtools }, async () => {
  const dir = tempDir();
  // (SAM text is read as SAM now: sam-input.test.ts.)
  const notBam = bgzip(Buffer.from('this is plain text, not BAM\n'), join(dir, 'text.gz'));
  const f = await expectFailure(notBam, dir);
  assert.equal(f.code, 'BAM_BAD_MAGIC');
});

test('a record whose length runs past the data: BAM_TRUNCATED with record number and block', { skip: skipNoSamtools }, async () => {
  const { raw } = good();
  const dir = tempDir();
  const recs = recordOffsets(raw);
  const last = recs[recs.length - 1]!;
  const bad = Buffer.from(raw);
  bad.writeUInt32LE(bad.readUInt32LE(last) + 5_000, last);
  const f = await expectFailure(bgzip(bad, join(dir, 'long.bam')), dir);
  assert.equal(f.code, 'BAM_TRUNCATED');
  assert.match(f.message, new RegExp(`record ${recs.length} in the BGZF block at compressed offset \\d+`));
});

test('a reference id out of range: BAM_BAD_RECORD with record number and block', { skip: skipNoSamtools }, async () => {
  const { raw } = good();
  const dir = tempDir();
  const recs = recordOffsets(raw);
  const bad = Buffer.from(raw);
  bad.writeInt32LE(77, recs[2_500]! + 4);
  const f = await expectFailure(bgzip(bad, join(dir, 'ref.bam')), dir);
  assert.equal(f.code, 'BAM_BAD_RECORD');
  assert.match(f.message, /record 2501 in the BGZF block at compressed offset \d+ .*reference id 77 out of range \[-1, 3\)/);
});

test('a reference id out of range read from stdin: exit 1, BAM_BAD_RECORD with the record number', { skip: skipNoSamtools }, () => {
  const { raw } = good();
  const dir = tempDir();
  const recs = recordOffsets(raw);
  const bad = Buffer.from(raw);
  bad.writeInt32LE(5, recs[1_200]! + 24); // next refID
  const input = bgzip(bad, join(dir, 'mate.bam'));
  const out = join(dir, 'out.arrow');
  const fd = openSync(input, 'r');
  const entry = fileURLToPath(new URL('./cli-entry.js', import.meta.url));
  const r = spawnSync(process.execPath, [entry, 'bam', 'convert', '-', '-o', out, '-j', '2', '--quiet'], { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8' });
  closeSync(fd);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /error \[BAM_BAD_RECORD\]: -: record 1201 .*reference id 5 out of range \[-1, 3\)/);
  assert.ok(!existsSync(out));
});

test('random byte damage in records: correct output or a coded error, never a crash', { skip: skipNoSamtools }, async () => {
  const dir = tempDir();
  const raw = gunzipSync(readFileSync(samToBam(generateSam({ records: 300, seed: 17 }), join(dir, 'small.bam'))));
  const first = headerLength(raw);
  let x = 99;
  const rnd = (n: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  const codes = new Set<string>();
  for (let round = 0; round < 12; round++) {
    const bad = Buffer.from(raw);
    for (let k = 0; k < 10 + rnd(30); k++) bad[first + rnd(raw.length - first)] = rnd(256);
    const input = bgzip(bad, join(dir, `m${round}.bam`));
    try {
      await convertBam({ input, output: join(dir, `m${round}.arrow`), threads: 2, chunkSize: 1 << 16 });
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      assert.ok(typeof code === 'string' && /^(BAM|BGZF)_/.test(code), `round ${round}: ${String(code)} ${(err as Error).message}`);
      codes.add(code);
    }
  }
  assert.ok(codes.size > 0, 'no damage was detected at all');
});
