/**
 * FASTQ benchmark: generates deterministic data under bench/data/ (short reads of 100–150 bp and a
 * long-read file, a pair of R1/R2 files), then measures parse-only and stats throughput for -j
 * 1..cores, seqkit and seqtk side by side, plain vs gzip vs BGZF input, `fastq convert` to Parquet and
 * Arrow and `--paired` beside seqtk mergepe and seqkit pair, with CPU seconds and peak RSS; writes
 * its section of docs/benchmarks.md.
 *
 *   node dist/bench/fastq.js [--mb 1024]      (or FASTQ_BENCH_MB=256)
 */
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { prng, pythonReadersLine, timeCommand, writeSection, type Timed } from './report.js';
import { runFastq } from '../src/formats/fastq/pipeline.js';
import { parseChunk } from '../src/formats/fastq/parse.js';
import { readFileSync } from 'node:fs';

const dataDir = fileURLToPath(new URL('../../bench/data/', import.meta.url));
const self = fileURLToPath(import.meta.url);


/** Pools of bases and Illumina-like qualities (mostly high, '#' tails, some '@' = Q31 at line starts). */
function pools(r: () => number): { bases: Buffer; quals: Buffer } {
  const n = 1 << 22;
  const bases = Buffer.alloc(n);
  const quals = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    bases[i] = r() < 0.001 ? 78 : 'ACGT'.charCodeAt(Math.floor(r() * 4));
    const q = r() < 0.05 ? 2 : 20 + Math.floor(r() * 22);
    quals[i] = 33 + q;
  }
  return { bases, quals };
}

/** Writes `bytes` of FASTQ (or `records` reads, whichever comes first); read lengths from `len()`; `mate` puts Casava 1.8's `1:N:0:1` / `2:N:0:1` in the comment (ids equal, so seqkit pair pairs them). */
function generate(path: string, bytes: number, seed: number, len: (r: () => number) => number, pairs?: { records: number; mate: 1 | 2 }): void {
  const r = prng(seed);
  const { bases, quals } = pools(r);
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(16 << 20);
  let at = 0;
  let written = 0;
  for (let i = 0; written + at < bytes && i < (pairs?.records ?? Infinity); i++) {
    const n = len(r);
    const title = `@SIM.${i} ${pairs ? `${pairs.mate}:N:0:1 ` : ''}lane=1 tile=${i % 97}\n`;
    if (at + title.length + 2 * n + 8 > block.length) {
      writeSync(fd, block, 0, at);
      written += at;
      at = 0;
    }
    at += block.write(title, at, 'latin1');
    const off = Math.floor(r() * (bases.length - n));
    at += bases.copy(block, at, off, off + n);
    block[at++] = 10;
    block[at++] = 43;
    block[at++] = 10;
    at += quals.copy(block, at, off, off + n);
    block[at++] = 10;
  }
  writeSync(fd, block, 0, at);
  closeSync(fd);
}

interface Run { seconds: number; records: number; bytes: number }

/** Child-process entry: one measured run, printed as JSON (so timeCommand sees its peak RSS). */
async function child(mode: 'parse' | 'stats', input: string, threads: number): Promise<void> {
  const t0 = performance.now();
  let records = 0;
  const s = await runFastq(input, { mode: mode === 'parse' ? 'records' : 'stats', phred: 33 }, { threads }, (c) => {
    if (c.payload.kind === 'records') records += c.payload.count;
    if (c.payload.kind === 'stats') records += c.payload.partial.records;
  });
  process.stdout.write(JSON.stringify({ seconds: (performance.now() - t0) / 1000, records, bytes: s.bytes }));
}

function measure(mode: 'parse' | 'stats', input: string, threads: number): Timed & Run {
  const t = timeCommand(process.execPath, [self, '--child', mode, input, String(threads)]);
  if (t.status !== 0) throw new Error(`bench child failed: ${t.stderr}`);
  return { ...t, ...(JSON.parse(t.stdout) as Run) };
}

/** Single-thread parse of one 64 MiB buffer in this process: the per-core speed of the hot loop. */
function perCore(input: string): { gbps: number; readsPerSec: number } {
  const buf = readFileSync(input).subarray(0, 64 << 20);
  const end = buf.lastIndexOf(Buffer.from('\n@SIM.')) + 1;
  const chunk = buf.subarray(0, end);
  parseChunk(chunk);
  const t0 = performance.now();
  let n = 0;
  for (let i = 0; i < 3; i++) n = parseChunk(chunk).count;
  const s = (performance.now() - t0) / 1000 / 3;
  return { gbps: chunk.length / s / 1e9, readsPerSec: n / s };
}

const have = (cmd: string): boolean => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).error === undefined;
const gb = (bytes: number, s: number): string => (bytes / s / 1e9).toFixed(2);
const mreads = (n: number, s: number): string => (n / s / 1e6).toFixed(2);
const rss = (t: Timed): string => (t.peakRssMiB >= 0 ? t.peakRssMiB.toFixed(0) : 'n/a');
const cpu = (t: Timed): string => (t.cpuSeconds >= 0 ? t.cpuSeconds.toFixed(2) : 'n/a');
/** One table row: run, -j, wall seconds, CPU seconds, GB/s (of `bytes`, wall), M reads/s (when counted), peak RSS. */
const row = (label: string, j: number | string, t: Timed, bytes: number, records?: number): string =>
  `| ${label} | ${j} | ${t.seconds.toFixed(2)} | ${cpu(t)} | ${gb(bytes, t.seconds)} | ${records === undefined ? '–' : mreads(records, t.seconds)} | ${rss(t)} |`;

function threadCounts(): number[] {
  const cores = availableParallelism();
  const out = [1];
  for (let j = 2; j < cores; j *= 2) out.push(j);
  if (cores > 1) out.push(cores);
  return out;
}

function prepare(mb: number): { short: string; long: string; gz: string; bgz: string; r1: string; r2: string } {
  mkdirSync(dataDir, { recursive: true });
  const short = `${dataDir}fastq-short-${mb}MB.fq`;
  const long = `${dataDir}fastq-long-${Math.ceil(mb / 4)}MB.fq`;
  if (!existsSync(short)) generate(short, mb * 1e6, 7, (r) => 100 + Math.floor(r() * 51));
  if (!existsSync(long)) generate(long, (mb / 4) * 1e6, 11, (r) => 1000 + Math.floor(-Math.log(1 - r()) * 8000) % 40000);
  const gz = `${short}.gz`;
  const bgz = `${short}.bgz`;
  if (!existsSync(gz)) spawnSync('sh', ['-c', `gzip -1 -c '${short}' > '${gz}'`]);
  if (!existsSync(bgz) && have('bgzip')) spawnSync('sh', ['-c', `bgzip -@ ${availableParallelism()} -l 1 -c '${short}' > '${bgz}'`]);
  // A pair of mate files of mb/4 each: R1 100-150 bp, R2 150 bp, the same number of reads.
  const pairReads = Math.floor((mb / 4) * 1e6 / 340);
  const r1 = `${dataDir}fastq-R1-${pairReads}.fq`;
  const r2 = `${dataDir}fastq-R2-${pairReads}.fq`;
  if (!existsSync(r1)) generate(r1, Infinity, 21, (r) => 100 + Math.floor(r() * 51), { records: pairReads, mate: 1 });
  if (!existsSync(r2)) generate(r2, Infinity, 22, () => 150, { records: pairReads, mate: 2 });
  return { short, long, gz, bgz, r1, r2 };
}

function peers(input: string, threads: number[], rows: string[], bytes: number): void {
  if (have('seqkit')) {
    for (const j of threads) {
      const t = timeCommand('seqkit', ['stats', '-a', '-j', String(j), input]);
      rows.push(row('seqkit stats -a', j, t, bytes));
    }
  }
  if (have('seqtk') || spawnSync('seqtk', [], { stdio: 'ignore' }).error === undefined) {
    const t = timeCommand('seqtk', ['fqchk', input]);
    rows.push(row('seqtk fqchk (1 thread)', 1, t, bytes));
  }
}

const cliPath = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const outDir = (): string => mkdtempSync(join(tmpdir(), 'threadmill-bench-fq-'));

/** `fastq convert` (Parquet, Arrow) of the short-read file, and `--paired` beside seqtk mergepe and seqkit pair. */
function convertRows(files: ReturnType<typeof prepare>, top: number, bytes: number): string[] {
  const rows: string[] = [];
  const out = outDir();
  try {
    for (const ext of ['parquet', 'arrow']) {
      const t = timeCommand(process.execPath, [cliPath, 'fastq', 'convert', files.short, '-j', String(top), '-q', '--json', '-o', join(out, `short.${ext}`)]);
      if (t.status !== 0) throw new Error(`fastq convert failed: ${t.stderr}`);
      rows.push(row(`threadmill fastq convert → .${ext}`, top, t, bytes, (JSON.parse(t.stdout) as { written: number }).written));
    }
    const pairBytes = statSync(files.r1).size + statSync(files.r2).size;
    for (const ext of ['parquet', 'arrow']) {
      const t = timeCommand(process.execPath, [cliPath, 'fastq', 'convert', '--paired', files.r1, files.r2, '-j', String(top), '-q', '--json', '-o', join(out, `pairs.${ext}`)]);
      if (t.status !== 0) throw new Error(`fastq convert --paired failed: ${t.stderr}`);
      rows.push(row(`threadmill fastq convert --paired R1 R2 → .${ext}`, top, t, pairBytes, (JSON.parse(t.stdout) as { written: number }).written));
    }
    if (have('seqtk') || spawnSync('seqtk', [], { stdio: 'ignore' }).error === undefined) {
      const t = timeCommand('sh', ['-c', `seqtk mergepe '${files.r1}' '${files.r2}' > /dev/null`]);
      rows.push(row('seqtk mergepe R1 R2 > /dev/null (1 thread)', 1, t, pairBytes));
    }
    if (have('seqkit')) {
      const t = timeCommand('seqkit', ['pair', '-j', String(top), '-1', files.r1, '-2', files.r2, '-O', join(out, 'seqkit-pair')]);
      rows.push(row('seqkit pair (R1/R2 files out)', top, t, pairBytes));
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  return rows;
}

/**
 * Every output kind of `fastq convert` (Parquet zstd/snappy/none, Arrow file and stream, none/lz4/zstd;
 * quality as text and as scores; one input and --paired) opened by pyarrow (fully validated) and
 * polars from Python (bench/check-readers.py), where $PYTHON (default python3) has both.
 */
function pythonReaders(files: ReturnType<typeof prepare>): string {
  const out = outDir();
  try {
    // The pair's first 4,000 reads: every output spans several chunks.
    const [r1, r2] = [join(out, 'R1.fq'), join(out, 'R2.fq')];
    spawnSync('sh', ['-c', `head -n 16000 '${files.r1}' > '${r1}' && head -n 16000 '${files.r2}' > '${r2}'`]);
    const outputs: string[] = [];
    for (const scores of [[], ['--quality-scores']]) {
      for (const [inputs, tag] of [[[r1], 'one'], [['--paired', r1, r2], 'paired']] as const) {
        for (const [ext, codec] of [['parquet', 'zstd'], ['parquet', 'snappy'], ['parquet', 'none'], ['arrow', 'none'], ['arrow', 'lz4'], ['arrow', 'zstd'], ['arrows', 'none'], ['arrows', 'zstd']]) {
          const path = join(out, `${tag}${scores.length ? '-scores' : ''}-${codec}.${ext}`);
          const r = spawnSync(process.execPath, [cliPath, 'fastq', 'convert', ...inputs, ...scores, '--chunk-size', '65536', '--compression', codec!, '-q', '-o', path], { encoding: 'utf8' });
          if (r.status !== 0) throw new Error(`fastq convert for the readers check failed: ${r.stderr}`);
          outputs.push(path);
        }
      }
    }
    return `${pythonReadersLine('`fastq convert` outputs', outputs, out)} (Parquet zstd/snappy/none, Arrow file and stream, none/lz4/zstd; quality as text and scores; one input and --paired).`;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** The whole benchmark (for bench/all.ts): `mb` of short reads (default FASTQ_BENCH_MB or 1024). */
export async function runFastqBench(mb = Number(process.env.FASTQ_BENCH_MB ?? 1024)): Promise<void> {
  const files = prepare(mb);
  const bytes = statSync(files.short).size;
  const threads = threadCounts();
  const core = perCore(files.short);
  const md: string[] = [`## FASTQ (${(bytes / 1e9).toFixed(2)} GB of 100–150 bp reads; ${availableParallelism()} cores; Node ${process.version})`, ''];
  md.push(`Hot loop alone (one thread, 64 MiB in memory, \`parseChunk\`): **${core.gbps.toFixed(2)} GB/s**, ${(core.readsPerSec / 1e6).toFixed(2)} M reads/s.`, '');
  md.push('| run | -j | seconds | CPU s | GB/s | M reads/s | peak RSS MiB |', '|---|---|---|---|---|---|---|');
  const rows: string[] = [];
  for (const mode of ['parse', 'stats'] as const) {
    for (const j of threads) {
      const r = measure(mode, files.short, j);
      rows.push(row(`threadmill ${mode === 'parse' ? 'parse (records, no objects)' : 'fastq stats'}`, j, r, r.bytes, r.records));
    }
  }
  peers(files.short, threads, rows, bytes);
  const top = threads[threads.length - 1]!;
  for (const [label, path] of [['gzip', files.gz], ['BGZF', files.bgz]] as const) {
    if (!existsSync(path)) continue;
    const r = measure('stats', path, top);
    rows.push(row(`threadmill fastq stats, ${label} input`, top, r, r.bytes, r.records));
    if (have('seqkit')) {
      const t = timeCommand('seqkit', ['stats', '-a', '-j', String(top), path]);
      rows.push(row(`seqkit stats -a, ${label} input`, top, t, bytes));
    }
  }
  const longBytes = statSync(files.long).size;
  for (const j of [1, top]) {
    const r = measure('stats', files.long, j);
    rows.push(row(`threadmill fastq stats, long reads (${(longBytes / 1e9).toFixed(2)} GB)`, j, r, r.bytes, r.records));
  }
  rows.push(...convertRows(files, top, bytes));
  const readers = pythonReaders(files);
  md.push(...rows, '', 'GB/s is uncompressed FASTQ bytes per second of wall time, including process start; CPU s is user + system of the whole process tree (the number to compare on a busy machine); seqkit and seqtk run on the same files in the same run. Paired rows read both mate files (their bytes added).', '', readers);
  writeSection('fastq', md.join('\n'));
  process.stdout.write(`${md.join('\n')}\n`);
}

if (process.argv[2] === '--child') await child(process.argv[3] as 'parse' | 'stats', process.argv[4]!, Number(process.argv[5]));
else if (process.argv[1] === self) {
  const flag = process.argv.indexOf('--mb');
  await runFastqBench(flag > 0 ? Number(process.argv[flag + 1]) : undefined);
}
