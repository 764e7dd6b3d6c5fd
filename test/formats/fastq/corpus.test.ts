/** The shared FASTQ conformance files (Biopython, htslib, needletail), read through the engine. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ParallelParser } from '../../../src/formats/fastq/index.js';
import { corpusDir, corpusSkip } from './helpers.js';

/** Record counts from ../shared/corpora/fastq/SOURCES.md. */
const VALID: Record<string, number> = {
  'example.fastq': 3, 'example_dos.fastq': 3, 'illumina_faked.fastq': 1, 'illumina_full_range_as_illumina.fastq': 2,
  'illumina_full_range_as_sanger.fastq': 2, 'illumina_full_range_as_solexa.fastq': 2, 'illumina_full_range_original_illumina.fastq': 2,
  'longreads_as_illumina.fastq': 10, 'longreads_as_sanger.fastq': 10, 'longreads_as_solexa.fastq': 10, 'longreads_original_sanger.fastq': 10,
  'misc_dna_as_illumina.fastq': 4, 'misc_dna_as_sanger.fastq': 4, 'misc_dna_as_solexa.fastq': 4, 'misc_dna_original_sanger.fastq': 4,
  'misc_rna_as_illumina.fastq': 4, 'misc_rna_as_sanger.fastq': 4, 'misc_rna_as_solexa.fastq': 4, 'misc_rna_original_sanger.fastq': 4,
  'sanger_93.fastq': 1, 'sanger_faked.fastq': 1, 'sanger_full_range_as_illumina.fastq': 2, 'sanger_full_range_as_sanger.fastq': 2,
  'sanger_full_range_as_solexa.fastq': 2, 'sanger_full_range_original_sanger.fastq': 2, 'solexa_example.fastq': 5, 'solexa_faked.fastq': 1,
  'solexa_full_range_as_illumina.fastq': 2, 'solexa_full_range_as_sanger.fastq': 2, 'solexa_full_range_as_solexa.fastq': 2,
  'solexa_full_range_original_solexa.fastq': 2, 'tricky.fastq': 4, 'wrapping_as_illumina.fastq': 3, 'wrapping_as_sanger.fastq': 3,
  'wrapping_as_solexa.fastq': 3, 'wrapping_original_sanger.fastq': 3, 'zero_length.fastq': 5, 'example.fastq.gz': 3, 'example.fastq.bgz': 3,
  'example_dos.fastq.bgz': 3, 'htslib/UMI.fq': 7, 'htslib/fastqs.fq': 105, 'htslib/filter_casava.fq': 4, 'htslib/interleaved.fq': 10,
  'htslib/interleaved_casava.fq': 10, 'htslib/longline.fq': 1, 'htslib/minimal.fq': 1, 'htslib/multiline.fq': 2, 'htslib/name2.fq': 4,
  'htslib/r1.fq': 5, 'htslib/r2.fq': 5, 'htslib/single.fq': 5, 'needletail/PRJNA271013_head.fq': 2000,
};

/**
 * [good records before the first error, its category]. Same counts as Biopython's TestFastqErrors
 * except error_double_qual (3, not 2: record 3 is complete, the repeated `+`/quality pair is
 * reported as the next record, as htslib and needletail do; docs/decisions/0005-fastq-framing.md).
 */
const BAD: Record<string, [number, string]> = {
  'error_diff_ids.fastq': [2, 'plus_mismatch'], 'error_double_qual.fastq': [3, 'missing_at'], 'error_double_seq.fastq': [3, 'missing_plus'],
  'error_long_qual.fastq': [3, 'length_mismatch'], 'error_no_qual.fastq': [0, 'length_mismatch'], 'error_qual_del.fastq': [3, 'invalid_quality'],
  'error_qual_escape.fastq': [4, 'invalid_quality'], 'error_qual_null.fastq': [0, 'invalid_quality'], 'error_qual_space.fastq': [3, 'invalid_quality'],
  'error_qual_tab.fastq': [4, 'invalid_quality'], 'error_qual_unit_sep.fastq': [2, 'invalid_quality'], 'error_qual_vtab.fastq': [0, 'invalid_quality'],
  'error_short_qual.fastq': [2, 'length_mismatch'], 'error_spaces.fastq': [0, 'invalid_sequence'], 'error_tabs.fastq': [0, 'invalid_sequence'],
  'error_trunc_at_plus.fastq': [4, 'truncated'], 'error_trunc_at_qual.fastq': [4, 'truncated'], 'error_trunc_at_seq.fastq': [4, 'truncated'],
  'error_trunc_in_plus.fastq': [4, 'truncated'], 'error_trunc_in_qual.fastq': [4, 'truncated'], 'error_trunc_in_seq.fastq': [4, 'truncated'],
  'error_trunc_in_title.fastq': [4, 'truncated'], 'needletail/bad_header.fastq': [1, 'missing_at'], 'needletail/random_tsv.fq': [1, 'missing_plus'],
};

test('every valid corpus file parses with the expected record count', { skip: corpusSkip }, async () => {
  for (const [name, n] of Object.entries(VALID)) {
    const recs = await ParallelParser.fromFile(join(corpusDir, name)).withThreads(2).parseParallel();
    assert.equal(recs.length, n, name);
    for (const r of recs) assert.equal(r.sequence.length, r.quality.length, name);
  }
});

test('every error file is rejected with file, record, line, offset and the right reason', { skip: corpusSkip }, async () => {
  for (const [name, [good, category]] of Object.entries(BAD)) {
    const path = join(corpusDir, name);
    await assert.rejects(ParallelParser.fromFile(path).parseParallel(), (e: Error & { errors: { category: string }[] }) => e.name === 'FastqParseErrors' && e.errors.length > 0, name);
    const p = ParallelParser.fromFile(path).withConfig({ skipInvalid: true });
    await p.parseParallel();
    const first = p.errors[0]!;
    assert.equal(first.category, category, name);
    assert.equal(first.record, good + 1, `${name}: record number`);
    assert.equal(first.input, path);
    assert.ok(first.line >= 1 && first.offset >= 0 && first.message.includes(`line ${first.line}`), name);
  }
});

test('Phred+64: Sanger full range is rejected, Solexa and Illumina full ranges are accepted', { skip: corpusSkip }, async () => {
  const as64 = (name: string) => ParallelParser.fromFile(join(corpusDir, name)).withConfig({ phred: 64 }).parseParallel();
  await assert.rejects(as64('sanger_full_range_original_sanger.fastq'));
  assert.equal((await as64('solexa_full_range_original_solexa.fastq')).length, 2);
  assert.equal((await as64('illumina_full_range_original_illumina.fastq')).length, 2);
});

test('wrapped files give the same records as their unwrapped conversions', { skip: corpusSkip }, async () => {
  for (const name of ['wrapping', 'longreads']) {
    const a = await ParallelParser.fromFile(join(corpusDir, `${name}_original_sanger.fastq`)).parseParallel();
    const b = await ParallelParser.fromFile(join(corpusDir, `${name}_as_sanger.fastq`)).parseParallel();
    assert.deepEqual(a.map((r) => [r.id, r.sequence, r.quality]), b.map((r) => [r.id, r.sequence, r.quality]));
  }
});
