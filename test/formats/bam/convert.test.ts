/**
 * `bam convert` against samtools: every corpus file, generated files split into many chunks,
 * records spanning BGZF blocks and chunk boundaries, -j 1 vs -j 4 bytes, Parquet, options.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import * as pw from 'parquet-wasm';
import { convertBam } from '../../../src/formats/bam/convert.js';
import { assertSameLines, corpusDir, generateSam, readArrow, samToBam, samtools, samtoolsLines, skipNoCorpus, skipNoSamtools, tableToSam, tempDir } from './helpers.js';

/** Corpus files that are broken on purpose (covered by the bad-input tests). */
const BROKEN = new Set(['2.quickcheck.badheader.bam']);

function corpusFiles(dir: string, ext: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...corpusFiles(p, ext));
    else if (e.name.endsWith(ext) && !BROKEN.has(e.name)) out.push(p);
  }
  return out.sort();
}

async function convertAndCompare(bam: string, out: string, extra: Partial<Parameters<typeof convertBam>[0]> = {}): Promise<void> {
  await convertBam({ input: bam, output: out, threads: 1, ...extra });
  assertSameLines(tableToSam(readArrow(out)), samtoolsLines(bam), bam);
}

test('every corpus SAM (via samtools view -b) and BAM decodes to what samtools view prints', { skip: skipNoCorpus }, async () => {
  const dir = tempDir();
  const sams = corpusFiles(corpusDir, '.sam');
  const bams = corpusFiles(corpusDir, '.bam');
  assert.ok(sams.length > 40 && bams.length > 15, 'corpus looks incomplete');
  for (const [i, sam] of sams.entries()) {
    const bam = join(dir, `${i}.bam`);
    samtools(['view', '--no-PG', '-b', '-o', bam, sam]);
    await convertAndCompare(bam, join(dir, `${i}.arrow`));
  }
  for (const [i, bam] of bams.entries()) await convertAndCompare(bam, join(dir, `b${i}.arrow`));
});

test('many chunks: -j 1 and -j 4 write identical bytes equal to samtools view', { skip: skipNoSamtools }, async () => {
  const dir = tempDir();
  const bam = samToBam(generateSam({ records: 12_000, seed: 7 }), join(dir, 'gen.bam'));
  // 64 KiB compressed chunks: dozens of chunks, boundaries at arbitrary records.
  const opts = { input: bam, chunkSize: 1 << 16, batchSize: 5_000 };
  const r1 = await convertBam({ ...opts, output: join(dir, 'j1.arrow'), threads: 1 });
  const r4 = await convertBam({ ...opts, output: join(dir, 'j4.arrow'), threads: 4 });
  assert.ok(r4.stats.chunks > 10, `expected many chunks, got ${r4.stats.chunks}`);
  assert.equal(r1.written, 12_000);
  assert.equal(r4.batches, 3);
  assert.ok(readFileSync(join(dir, 'j1.arrow')).equals(readFileSync(join(dir, 'j4.arrow'))), '-j 1 and -j 4 differ');
  // Batches joined by the workers (the default from 5 threads) give the same bytes.
  await convertBam({ ...opts, output: join(dir, 'w3.arrow'), threads: 3, assembleIn: 'workers' });
  assert.ok(readFileSync(join(dir, 'j1.arrow')).equals(readFileSync(join(dir, 'w3.arrow'))), 'joined in workers differs');
  assertSameLines(tableToSam(readArrow(join(dir, 'j4.arrow'))), samtoolsLines(bam), 'j4');
  // A second, stricter reader (arrow-rs in parquet-wasm): the file after its 8-byte magic is an
  // IPC stream (schema, dictionaries, batches, end marker), as the file format requires.
  const rs = pw.Table.fromIPCStream(readFileSync(join(dir, 'j4.arrow')).subarray(8));
  assert.equal(rs.numBatches, 3);
  assertSameLines(tableToSam(tableFromIPC(rs.intoIPCStream())), samtoolsLines(bam), 'arrow-rs');
  await convertBam({ ...opts, output: join(dir, 'j1.parquet'), threads: 1 });
  await convertBam({ ...opts, output: join(dir, 'j4.parquet'), threads: 4 });
  assert.ok(readFileSync(join(dir, 'j1.parquet')).equals(readFileSync(join(dir, 'j4.parquet'))), 'parquet -j 1 and -j 4 differ');
});

test('records spanning many BGZF blocks and chunk boundaries', { skip: skipNoSamtools }, async () => {
  const dir = tempDir();
  // Every 7th read is 70 kb: its record (~105 kB) spans several 64 KiB blocks and most chunks.
  const bam = samToBam(generateSam({ records: 120, seed: 3, longEvery: 7, longReadLength: 70_000 }), join(dir, 'long.bam'));
  await convertAndCompare(bam, join(dir, 'long1.arrow'), { chunkSize: 1 << 16, threads: 1 });
  await convertAndCompare(bam, join(dir, 'long3.arrow'), { chunkSize: 1 << 16, threads: 3 });
  assert.ok(readFileSync(join(dir, 'long1.arrow')).equals(readFileSync(join(dir, 'long3.arrow'))));
  // A byte cap cuts batches before the row count does, at the same rows whatever -j is.
  const cap = { chunkSize: 1 << 16, maxBatchBytes: 400_000, batchSize: 50 };
  await convertAndCompare(bam, join(dir, 'cap1.arrow'), { ...cap, threads: 1 });
  await convertAndCompare(bam, join(dir, 'cap3.arrow'), { ...cap, threads: 3 });
  assert.ok(readFileSync(join(dir, 'cap1.arrow')).equals(readFileSync(join(dir, 'cap3.arrow'))));
  const t = readArrow(join(dir, 'cap3.arrow'));
  assert.ok(t.batches.length > 120 / 50 + 1, `expected the byte cap to add batches, got ${t.batches.length}`);
  for (const b of t.batches) {
    const text = (name: string): number => {
      const d = b.getChild(name)!.data[0]!;
      return d.valueOffsets[b.numRows]! - d.valueOffsets[0]!;
    };
    const bytes = text('seq') + text('qual');
    assert.ok(b.numRows === 1 || bytes <= cap.maxBatchBytes, `batch of ${b.numRows} rows holds ${bytes} bytes of seq and qual`);
    assert.ok(b.numRows <= cap.batchSize);
  }
});

test('Parquet output holds the same rows, schema metadata and row groups', { skip: skipNoSamtools }, async () => {
  const dir = tempDir();
  const bam = samToBam(generateSam({ records: 2_500, seed: 11 }), join(dir, 'p.bam'));
  const r = await convertBam({ input: bam, output: join(dir, 'p.parquet'), threads: 2, batchSize: 1_000 });
  assert.equal(r.batches, 3);
  const bytes = readFileSync(join(dir, 'p.parquet'));
  const t = tableFromIPC(pw.readParquet(bytes).intoIPCStream());
  assertSameLines(tableToSam(t), samtoolsLines(bam), 'parquet');
  assert.match(t.schema.metadata.get('sam_header') ?? '', /^@HD\tVN:1\.6/);
});

test('options: --no-sequence --no-quality --no-tags, --limit, --batch-size, schema metadata', { skip: skipNoSamtools }, async () => {
  const dir = tempDir();
  const sam = generateSam({ records: 3_000, seed: 5 });
  const bam = samToBam(sam, join(dir, 'o.bam'));
  const r = await convertBam({ input: bam, output: join(dir, 'o.arrow'), threads: 2, sequence: false, quality: false, tags: false, limit: 1_234, batchSize: 500, chunkSize: 1 << 16 });
  assert.equal(r.written, 1_234);
  assert.equal(r.batches, 3);
  const t = readArrow(join(dir, 'o.arrow'));
  assert.deepEqual(t.schema.fields.map((f) => f.name), ['qname', 'flag', 'rname', 'pos', 'mapq', 'cigar', 'rnext', 'pnext', 'tlen']);
  assert.equal(t.batches.length, 3);
  const expected = samtoolsLines(bam).slice(0, 1_234).map((l) => [...l.split('\t').slice(0, 9), '*', '*'].join('\t'));
  assertSameLines(tableToSam(t), expected, 'options');
  assert.equal(t.schema.metadata.get('sam_header'), samtools(['view', '-H', '--no-PG', bam]));
  assert.deepEqual(JSON.parse(t.schema.metadata.get('sam_references') ?? ''), [1, 2, 3].map((i) => ({ name: `chr${i}`, length: 10_000_000 })));
});
