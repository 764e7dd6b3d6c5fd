/**
 * SAM text input (plain, gzip, BGZF; found from the bytes) through the BAM pipeline: the output
 * is byte for byte the output of the BAM samtools makes of the same text, for any -j; bad lines
 * are named by line; SAM on stdin and CRAM are refused with what to run instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { corpusDir, generateSam, samToBam, skipNoCorpus, skipNoSamtools, tempDir } from './helpers.js';
import { bgzf } from './raw.js';

const cli = fileURLToPath(new URL('../../../src/cli.js', import.meta.url));

function run(args: string[], input?: Buffer): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, input });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function convert(input: string, out: string, extra: string[] = []): Buffer {
  const r = run(['bam', 'convert', input, '-o', out, '--quiet', ...extra]);
  assert.equal(r.status, 0, `${input}: ${r.stderr}`);
  return readFileSync(out);
}

test('SAM text (plain, gzip, BGZF) converts to the same bytes as its BAM, for any -j; stats agree', { skip: skipNoSamtools }, () => {
  const dir = tempDir();
  const sam = generateSam({ records: 4000, seed: 5, readLength: 80 });
  const bam = samToBam(sam, join(dir, 'in.bam'));
  writeFileSync(join(dir, 'in.sam'), sam);
  writeFileSync(join(dir, 'in.sam.gz'), gzipSync(sam));
  writeFileSync(join(dir, 'in.sam.bgz'), bgzf(Buffer.from(sam)));
  writeFileSync(join(dir, 'crlf.sam'), sam.replace(/\n/g, '\r\n'));
  for (const format of ['arrow', 'parquet']) {
    const expected = convert(bam, join(dir, `bam.${format}`), ['-j', '2', '--batch-size', '1000']);
    const cases = format === 'arrow' ? ['in.sam', 'in.sam.gz', 'in.sam.bgz', 'crlf.sam'].flatMap((n) => [[n, '1'], [n, '3']]) : [['in.sam.bgz', '3']];
    for (const [name, j] of cases) {
      const got = convert(join(dir, name!), join(dir, `${name}-${j}.${format}`), ['-j', j!, '--chunk-size', '65536', '--batch-size', '1000']);
      assert.ok(got.equals(expected), `${name} -j ${j} ${format}: not the bytes of the BAM's output`);
    }
  }
  const a = run(['bam', 'stats', join(dir, 'in.sam.gz'), '--json', '-F', '0x4']);
  const b = run(['bam', 'stats', bam, '--json', '-F', '0x4']);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(a.stdout, b.stdout);
  const h = run(['bam', 'header', join(dir, 'in.sam')]);
  assert.equal(h.stdout, run(['bam', 'header', bam]).stdout);
});

test('htslib\'s SAM test files give the bytes of their BAM', { skip: skipNoCorpus }, () => {
  const dir = tempDir();
  // All 56 of them gave the same bytes when this was written; these have the odd cases (aux types, long reads, `*` names).
  const names = ['auxf#values.sam', 'ce#large_seq.sam', 'xx#large_aux.sam', 'base_mods/MM-chebi.sam', 'c1#unknown.sam', 'xx#triplet.sam'];
  for (const name of names) {
    const sam = join(corpusDir, 'htslib', name);
    if (!existsSync(sam)) continue;
    const bam = join(dir, `${name.replace('/', '_')}.bam`);
    spawnSync('samtools', ['view', '--no-PG', '-b', '-o', bam, sam]);
    const base = join(dir, name.replace('/', '_'));
    assert.ok(convert(sam, `${base}.sam.arrow`).equals(convert(bam, `${base}.bam.arrow`)), name);
  }
});

test('a bad SAM line is named by line number; --rejects skips it; stdin SAM and CRAM say what to run', { skip: skipNoSamtools }, () => {
  const dir = tempDir();
  const lines = generateSam({ records: 50, seed: 9 }).split('\n');
  const bad = lines.findIndex((l) => l.startsWith('r10:'));
  lines[bad] = lines[bad]!.replace(/\t(\d+)M\t/, '\t$1Q\t').replace(/\t5S(\d+)M\t/, '\t5S$1Q\t');
  const path = join(dir, 'bad.sam');
  writeFileSync(path, lines.join('\n'));
  const r = run(['bam', 'convert', path, '-o', join(dir, 'x.arrow')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`BAM_BAD_RECORD.*line ${bad + 1} .*CIGAR`));
  assert.ok(!existsSync(join(dir, 'x.arrow')));
  const skipped = run(['bam', 'convert', path, '-o', join(dir, 'y.arrow'), '--rejects', join(dir, 'rejects.jsonl'), '--json']);
  assert.equal(skipped.status, 0, skipped.stderr);
  assert.equal(JSON.parse(skipped.stdout).records, 49);
  assert.match(readFileSync(join(dir, 'rejects.jsonl'), 'utf8'), new RegExp(`"line":${bad + 1}`));
  const stdin = run(['bam', 'convert', '-', '-o', join(dir, 'z.arrow')], Buffer.from(lines.join('\n')));
  assert.equal(stdin.status, 1);
  assert.match(stdin.stderr, /BAM_BAD_MAGIC.*SAM text.*samtools view/);
});
