/** The `threadmill bam` commands end to end: stdin, header, stats vs samtools, exit codes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, openSync, readFileSync, writeFileSync, closeSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusDir, generateSam, samToBam, samtools, skipNoCorpus, skipNoSamtools, tempDir } from './helpers.js';

const entry = fileURLToPath(new URL('./cli-entry.js', import.meta.url));

function cli(args: string[], stdinPath?: string, env?: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const fd = stdinPath ? openSync(stdinPath, 'r') : 'ignore';
  try {
    const r = spawnSync(process.execPath, [entry, ...args], { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, ...env } });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    if (typeof fd === 'number') closeSync(fd);
  }
}

let fixture: { dir: string; bam: string } | null = null;
function paired(): { dir: string; bam: string } {
  if (!fixture) {
    const dir = tempDir();
    fixture = { dir, bam: samToBam(generateSam({ records: 4_000, seed: 21 }), join(dir, 'pairs.bam')) };
  }
  return fixture;
}

test('convert from stdin writes the same bytes as from the file', { skip: skipNoSamtools }, () => {
  const { dir, bam } = paired();
  const a = cli(['bam', 'convert', bam, '-o', join(dir, 'file.arrow'), '-j', '2', '--quiet']);
  assert.equal(a.status, 0, a.stderr);
  const b = cli(['bam', 'convert', '-', '-o', join(dir, 'stdin.arrow'), '-j', '2', '--quiet'], bam);
  assert.equal(b.status, 0, b.stderr);
  assert.ok(readFileSync(join(dir, 'file.arrow')).equals(readFileSync(join(dir, 'stdin.arrow'))));
  const c = cli(['bam', 'convert', bam, '-o', join(dir, 'j.parquet'), '-j', '2', '--json', '--limit', '100']);
  assert.equal(c.status, 0, c.stderr);
  assert.equal(JSON.parse(c.stdout).records, 100);
});

test('header prints what samtools view -H prints, @SQ rebuilt when the text has none', { skip: skipNoCorpus }, () => {
  for (const bam of [paired().bam, join(corpusDir, 'htslib/no_hdr_sq_1.bam')]) {
    const r = cli(['bam', 'header', bam]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, samtools(['view', '-H', '--no-PG', bam]), bam);
  }
});

test('stats agree with samtools flagstat and idxstats', { skip: skipNoSamtools }, () => {
  const { dir } = paired();
  // idxstats needs an index, and so a coordinate-sorted file.
  const bam = join(dir, 'sorted.bam');
  samtools(['sort', '-o', bam, paired().bam]);
  const r = cli(['bam', 'stats', bam, '-j', '2', '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  const [flagPart, refPart] = r.stdout.split('\n\n') as [string, string];
  const flagstat = samtools(['flagstat', bam]).trimEnd().split('\n');
  const ours = flagPart.split('\n');
  for (const line of flagstat) {
    // Our lines carry the same counts and labels; samtools adds "N/A" forms for zero totals we match too.
    assert.ok(ours.includes(line), `missing flagstat line: ${line}\nours:\n${flagPart}`);
  }
  samtools(['index', bam]);
  const idx = samtools(['idxstats', bam]).trimEnd().split('\n');
  assert.deepEqual(refPart.trimEnd().split('\n').slice(1), idx);
});

test('bad input exits 1 with a one-line coded error and no output', { skip: skipNoSamtools }, () => {
  const { dir, bam } = paired();
  const bytes = readFileSync(bam);
  const broken = join(dir, 'broken.bam');
  writeFileSync(broken, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  const out = join(dir, 'broken.arrow');
  const r = cli(['bam', 'convert', broken, '-o', out, '--quiet']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^threadmill: error \[BGZF_TRUNCATED\]: .*compressed offset \d+/m);
  assert.ok(!existsSync(out));
  const u = cli(['bam', 'convert', bam, '-o', join(dir, 'x.csv')]);
  assert.equal(u.status, 2, u.stderr);
});

test('node:zlib (THREADMILL_NATIVE=0) and the native inflate write the same bytes and stats', { skip: skipNoSamtools }, () => {
  const { dir, bam } = paired();
  const outputs = ['1', '0'].map((native) => {
    const out = join(dir, `native-${native}.arrow`);
    const r = cli(['bam', 'convert', bam, '-o', out, '-j', '2', '--quiet'], undefined, { THREADMILL_NATIVE: native });
    assert.equal(r.status, 0, r.stderr);
    const s = cli(['bam', 'stats', bam, '--json'], undefined, { THREADMILL_NATIVE: native });
    assert.equal(s.status, 0, s.stderr);
    return { bytes: readFileSync(out), stats: JSON.parse(s.stdout) as unknown };
  });
  assert.ok(outputs[0]!.bytes.equals(outputs[1]!.bytes));
  assert.deepEqual(outputs[0]!.stats, outputs[1]!.stats);
});
