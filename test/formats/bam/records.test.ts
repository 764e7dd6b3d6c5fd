/**
 * Odd records (issue 8): bytes inside one long record that look like a chain of records, one
 * record larger than a chunk, text that is not UTF-8, qualities above 93, an invalid CIGAR op,
 * and --rejects / --max-errors. Files are built byte by byte (raw.ts), so no samtools is needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { convertBam } from '../../../src/formats/bam/convert.js';
import { statsBam } from '../../../src/formats/bam/pipeline.js';
import { readArrow, tempDir } from './helpers.js';
import { bamHeader, bamRecord, byteArrayTag, lcg, stringTag, writeBam, type RawRecord } from './raw.js';

function randomRead(rnd: (n: number) => number, name: string, length: number, extra: Partial<RawRecord> = {}): Buffer {
  const seq = new Uint8Array(length);
  const qual = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    seq[i] = [1, 2, 4, 8][rnd(4)]!;
    qual[i] = rnd(94);
  }
  return bamRecord({ name, refId: 0, pos: rnd(1000), flag: 0, cigar: [[length, 0]], seq, qual, ...extra });
}

/**
 * 50 reads, one read whose `XB:B:C` tag holds ~1.5 MB of well-formed records (every offset of
 * them starts a long valid-looking chain that ends exactly where the next true record starts),
 * then 50 reads; BGZF blocks of 4 KiB so chunk boundaries fall all over the long record.
 */
function fakeChainBam(dir: string): { path: string; names: string[] } {
  const rnd = lcg(7);
  const names: string[] = [];
  const records: Buffer[] = [];
  for (let i = 0; i < 50; i++) records.push(randomRead(rnd, `r${i}`, 100 + rnd(100)));
  const fakes: Buffer[] = [];
  for (let size = 0, i = 0; size < 1_500_000; i++) {
    const f = randomRead(rnd, `fake${i}`, 50 + rnd(400));
    fakes.push(f);
    size += f.length;
  }
  records.push(randomRead(rnd, 'huge', 300, { aux: byteArrayTag('XB', Buffer.concat(fakes)) }));
  for (let i = 50; i < 100; i++) records.push(randomRead(rnd, `r${i}`, 100 + rnd(100)));
  for (let i = 0; i < 50; i++) names.push(`r${i}`);
  names.push('huge');
  for (let i = 50; i < 100; i++) names.push(`r${i}`);
  return { path: writeBam(join(dir, 'fake-chain.bam'), bamHeader([['chr1', 100_000]]), records, 4096), names };
}

test('records inside one long record never start a chunk: every chunk size reads exactly the true records', async () => {
  const dir = tempDir();
  const { path, names } = fakeChainBam(dir);
  // Chunk ranges from 64 KiB (the smallest) up, in steps that put the cuts at other blocks.
  for (const chunkSize of [65536, 65536 + 1000, 65536 + 5003, 65536 + 20011, 3 * 65536 + 777, 1 << 20]) {
    const s = await statsBam({ input: path, threads: 2, chunkSize });
    assert.equal(s.run.records, names.length, `chunk size ${chunkSize}: records`);
    assert.equal(s.stats.flags.reduce((a, b) => a + b, 0) > 0, true);
  }
  const outs: Buffer[] = [];
  for (const [threads, chunkSize] of [[1, 65536], [2, 65536 + 5003], [2, 1 << 22]] as const) {
    const out = join(dir, `t${threads}-${chunkSize}.arrow`);
    const r = await convertBam({ input: path, output: out, threads, chunkSize });
    assert.equal(r.written, names.length);
    const t = readArrow(out);
    assert.deepEqual(Array.from(t.getChild('qname')!, String), names, `chunk size ${chunkSize}`);
    outs.push(readFileSync(out));
  }
  assert.ok(outs[0]!.equals(outs[1]!) && outs[0]!.equals(outs[2]!), 'same bytes for every -j and chunk size');
});

test('on stdin too, a stream is cut only where a sequential reader arrives: the fake chain never starts a block', async () => {
  const dir = tempDir();
  const { path, names } = fakeChainBam(dir);
  const fromFile = join(dir, 'file.arrow');
  await convertBam({ input: path, output: fromFile, threads: 2, chunkSize: 65536 });
  const entry = fileURLToPath(new URL('./cli-entry.js', import.meta.url));
  for (const chunkSize of ['65536', String(65536 + 5003)]) {
    const out = join(dir, `stdin-${chunkSize}.arrow`);
    const fd = openSync(path, 'r');
    try {
      const r = spawnSync(process.execPath, [entry, 'bam', 'convert', '-', '-o', out, '-j', '2', '-q', '--chunk-size', chunkSize], { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    } finally {
      closeSync(fd);
    }
    assert.deepEqual(Array.from(readArrow(out).getChild('qname')!, String), names, `stdin, chunk size ${chunkSize}`);
    assert.ok(readFileSync(out).equals(readFileSync(fromFile)), `stdin, chunk size ${chunkSize}: bytes differ from the file's`);
  }
});

test('one record far larger than a chunk converts in linear time', async () => {
  const dir = tempDir();
  const rnd = lcg(3);
  // 12 MB of varied bytes in one record (4 Mbases: 2 MB of bases, 4 MB of qualities, a 6 MB tag).
  const tag = new Uint8Array(6_000_000);
  for (let i = 0; i < tag.length; i++) tag[i] = rnd(256);
  const records = [randomRead(rnd, 'a', 150), randomRead(rnd, 'long', 4_000_000, { aux: byteArrayTag('XB', tag) }), randomRead(rnd, 'b', 150)];
  const path = writeBam(join(dir, 'long.bam'), bamHeader([['chr1', 100_000]]), records);
  const started = performance.now();
  // 64 KiB ranges: ~180 of them inside the record. Before, each read to the record's end with a
  // rescan per block (cubic: hours); now the first one does, the others prove they are empty.
  const r = await convertBam({ input: path, output: join(dir, 'long.arrow'), threads: 2, tags: false, chunkSize: 1 << 16 });
  const seconds = (performance.now() - started) / 1000;
  assert.equal(r.written, 3);
  assert.ok(seconds < 15, `took ${seconds.toFixed(1)} s`);
  const t = readArrow(join(dir, 'long.arrow'));
  assert.equal(String(t.getChild('seq')!.get(1)).length, 4_000_000);
});

/** One good read, then each bad case, then another good read. */
function badValuesBam(dir: string): string {
  const rnd = lcg(11);
  const q94 = new Uint8Array(20).fill(30);
  q94[7] = 94;
  const records = [
    randomRead(rnd, 'good1', 20),
    randomRead(rnd, 'badname', 20, { name: Uint8Array.from([0x72, 0xff, 0x31]) }),
    randomRead(rnd, 'badZ', 20, { aux: stringTag('XZ', Uint8Array.from([0x61, 0xc3, 0x28])) }),
    randomRead(rnd, 'badQ', 20, { qual: q94 }),
    randomRead(rnd, 'badCigar', 20, { cigar: [[10, 0], [10, 15]] }),
    randomRead(rnd, 'goodUtf8', 20, { aux: stringTag('XZ', 'café') }),
  ];
  return writeBam(join(dir, 'bad-values.bam'), bamHeader([['chr1', 100_000]]), records);
}

test('non-UTF-8 text, qualities above 93 and CIGAR op 15 are record errors with record number and offset', async () => {
  const dir = tempDir();
  const path = badValuesBam(dir);
  await assert.rejects(convertBam({ input: path, output: join(dir, 'x.arrow'), threads: 1 }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'BAM_BAD_RECORD');
    assert.match(e.message, /record 2 in the BGZF block at compressed offset \d+ \(decompressed offset \d+\): read name byte 2 is 0xff/);
    return true;
  });
  assert.ok(!existsSync(join(dir, 'x.arrow')));
  for (const format of ['ipc', 'parquet'] as const) {
    const out = join(dir, `kept.${format === 'ipc' ? 'arrow' : 'parquet'}`);
    const rejects = join(dir, `rejects-${format}.jsonl`);
    const r = await convertBam({ input: path, output: out, threads: 2, rejectsPath: rejects });
    assert.equal(r.written, 2);
    assert.deepEqual(r.rejected, { invalid_text: 2, invalid_quality: 1, invalid_cigar: 1 });
    const lines = readFileSync(rejects, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { record: number; category: string; reason: string; offset: number });
    assert.deepEqual(lines.map((l) => [l.record, l.category]), [[2, 'invalid_text'], [3, 'invalid_text'], [4, 'invalid_quality'], [5, 'invalid_cigar']]);
    assert.match(lines[1]!.reason, /tag XZ:Z value is not valid UTF-8/);
    assert.match(lines[2]!.reason, /quality 94 is above 93/);
    assert.match(lines[3]!.reason, /CIGAR operation code 15/);
    assert.ok(lines.every((l, i) => i === 0 || l.offset > lines[i - 1]!.offset));
    if (format === 'ipc') {
      const t = readArrow(out);
      assert.deepEqual(Array.from(t.getChild('qname')!, String), ['good1', 'goodUtf8']);
      assert.equal([...(t.getChild('tags')!.get(1) as unknown as Iterable<[string, string]>)][0]![1], 'Z:café');
    }
  }
});

test('--max-errors: past N rejected records the run fails with TOO_MANY_ERRORS and leaves no output', async () => {
  const dir = tempDir();
  const path = badValuesBam(dir);
  const ok = await convertBam({ input: path, output: join(dir, 'four.arrow'), threads: 1, maxErrors: 4 });
  assert.equal(ok.written, 2);
  await assert.rejects(convertBam({ input: path, output: join(dir, 'three.arrow'), threads: 1, maxErrors: 3, rejectsPath: join(dir, 'r.jsonl') }), (e: Error & { code?: string }) => e.code === 'TOO_MANY_ERRORS');
  assert.ok(!existsSync(join(dir, 'three.arrow')) && !existsSync(join(dir, 'r.jsonl')));
});
