/** Parallel = sequential: chunk boundaries on every line of a record, every input kind. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ParallelParser, type FastqRecord } from '../../../src/formats/fastq/index.js';
import { parseChunk } from '../../../src/formats/fastq/parse.js';
import { recordsOf } from '../../../src/formats/fastq/record.js';
import { syntheticFastq } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tm-fastq-'));
/** ~1.3 MB: 20 chunks of 64 KiB, so boundaries land on every kind of line many times. */
const text = syntheticFastq(20_000, 42);
const plain = join(dir, 'reads.fq');
writeFileSync(plain, text);

function digest(recs: FastqRecord[]): string {
  const h = createHash('sha256');
  for (const r of recs) h.update(`${r.title}\n${r.sequence}\n${r.quality}\n`);
  return `${recs.length}:${h.digest('hex')}`;
}

const whole = parseChunk(Buffer.from(text, 'latin1'));
const expected = digest(recordsOf({ buf: whole.buf, index: whole.index, count: whole.count, wrapped: false }));

test('-j 1 and -j 4 give the records of a whole-file parse, for several chunk sizes', async () => {
  assert.equal(whole.errors.length, 0);
  for (const chunkSize of [65_536, 65_536 + 7, 100_003]) {
    for (const threads of [1, 4]) {
      const p = ParallelParser.fromFile(plain).withConfig({ threads, chunkSize });
      const chunks = await p.parseIntoChunks();
      assert.ok(chunks.length > 10);
      assert.equal(digest(chunks.flat()), expected, `chunk ${chunkSize} -j ${threads}`);
    }
  }
});

test('those chunk boundaries fall on every line of a record and on quality lines starting with @', () => {
  const b = Buffer.from(text, 'latin1');
  const starts = Array.from({ length: whole.count }, (_, r) => whole.index[r * 7]!);
  const kinds = new Set<string>();
  for (const size of [65_536, 65_536 + 7, 100_003]) {
    for (let cut = size; cut < b.length; cut += size) {
      let lo = 0;
      while (lo + 1 < starts.length && starts[lo + 1]! <= cut) lo++;
      const lineStart = b.lastIndexOf(0x0a, cut - 1) + 1;
      const line = b.subarray(starts[lo]!, lineStart).toString('latin1').split('\n').length - 1;
      kinds.add(line === 3 && b[lineStart] === 0x40 ? '3@' : String(line));
    }
  }
  assert.deepEqual([...kinds].sort(), ['0', '1', '2', '3', '3@']);
});

test('gzip, BGZF, stdin and plain give identical records', async () => {
  const gz = join(dir, 'reads.fq.gz');
  writeFileSync(gz, gzipSync(text));
  assert.equal(digest(await ParallelParser.fromFile(gz).withConfig({ threads: 3, chunkSize: 65_536 }).parseParallel()), expected);
  assert.equal(digest(await new ParallelParser(readFileSync(gz)).withThreads(2).parseParallel()), expected);
  if (spawnSync('bgzip', ['--version']).status === 0) {
    spawnSync('bgzip', ['-k', '-f', '-@', '1', plain]);
    const bgz = `${plain}.gz`;
    assert.equal(digest(await ParallelParser.fromFile(bgz).withConfig({ threads: 4, chunkSize: 65_536 }).parseParallel()), expected);
  } else console.log('# bgzip is not installed: the BGZF comparison is skipped (the corpus .bgz files are still read)');
  const index = fileURLToPath(new URL('../../../src/formats/fastq/index.js', import.meta.url));
  const script = `import { ParallelParser } from ${JSON.stringify(index)}; import { createHash } from 'node:crypto';
    const recs = await ParallelParser.fromFile('-').withConfig({ threads: 2, chunkSize: 65536 }).parseParallel();
    const h = createHash('sha256'); for (const r of recs) h.update(r.title + '\\n' + r.sequence + '\\n' + r.quality + '\\n');
    process.stdout.write(recs.length + ':' + h.digest('hex'));`;
  for (const input of [text, gzipSync(text)]) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { input, encoding: 'utf8' });
    assert.equal(r.stdout, expected, r.stderr);
  }
});

test('records() streams every record in order', async () => {
  const seen: FastqRecord[] = [];
  for await (const r of ParallelParser.fromFile(plain).withConfig({ threads: 3, chunkSize: 65_536 }).records()) seen.push(r);
  assert.equal(digest(seen), expected);
  let n = 0;
  for await (const _ of ParallelParser.fromFile(plain).withConfig({ threads: 2, chunkSize: 65_536 }).records()) if (++n === 100) break;
  assert.equal(n, 100);
});

test('parseWithCallback, parseWithProgress and parseInWorkers see every record', async () => {
  let n = 0;
  const p = ParallelParser.fromFile(plain).withConfig({ threads: 2, chunkSize: 65_536 });
  assert.equal(await p.parseWithCallback(() => void n++), whole.count);
  assert.equal(n, whole.count);
  const fractions: number[] = [];
  assert.equal((await p.parseWithProgress((s) => fractions.push(s.fraction ?? -1))).length, whole.count);
  assert.equal(fractions.at(-1), 1);
  const mod = new URL('./fixtures/count-bases.js', import.meta.url);
  const bases = await p.parseInWorkers<number, number>({ module: mod, export: 'bases' }, (a, v) => a + v, 0);
  const perRecord = await p.parseInWorkers<number, number>({ module: mod, export: 'length' }, (a, v) => a + v, 0);
  const sum = Array.from({ length: whole.count }, (_, r) => whole.index[r * 7 + 6]!).reduce((a, b) => a + b, 0);
  assert.equal(bases, sum);
  assert.equal(perRecord, sum);
});

test('wrapped input: detected from its head and read as one chunk, identical records', async () => {
  const wrappedText = text.replace(/\n([ACGTN]{31,})\n\+/g, (_, s: string) => `\n${s.slice(0, 30)}\n${s.slice(30)}\n+`);
  const path = join(dir, 'wrapped.fq');
  writeFileSync(path, wrappedText);
  const recs = await ParallelParser.fromFile(path).withConfig({ threads: 4, chunkSize: 65_536 }).parseIntoChunks();
  assert.equal(recs.length, 1);
  assert.equal(digest(recs.flat()), expected);
});

test('wrapped records past the sniffed head stop the run with FASTQ_WRAPPED', async () => {
  const head = syntheticFastq(30_000, 5);
  const path = join(dir, 'late.fq');
  writeFileSync(path, `${head}@w\nACGT\nACGT\n+\nIIII\nIIII\n${head}`);
  await assert.rejects(ParallelParser.fromFile(path).withConfig({ threads: 2, chunkSize: 65_536 }).parseParallel(), (e: Error & { code?: string }) => e.code === 'FASTQ_WRAPPED');
  assert.equal((await ParallelParser.fromFile(path).withConfig({ wrapped: true }).parseParallel()).length, 60_001);
});
