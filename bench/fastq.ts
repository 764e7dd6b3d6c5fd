/**
 * FASTQ benchmark: generates deterministic data under bench/data/ (short reads of 100–150 bp and a
 * long-read file), then measures parse-only and stats throughput for -j 1..cores, seqkit and seqtk
 * side by side, plain vs gzip vs BGZF input, and peak RSS; writes its section of docs/benchmarks.md.
 *
 *   node dist/bench/fastq.js [--mb 1024]      (or FASTQ_BENCH_MB=256)
 */
import { closeSync, existsSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { prng, timeCommand, writeSection, type Timed } from './report.js';
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

/** Writes `bytes` of FASTQ; read lengths from `len()`. */
function generate(path: string, bytes: number, seed: number, len: (r: () => number) => number): void {
  const r = prng(seed);
  const { bases, quals } = pools(r);
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(16 << 20);
  let at = 0;
  let written = 0;
  for (let i = 0; written + at < bytes; i++) {
    const n = len(r);
    const title = `@SIM.${i} lane=1 tile=${i % 97}\n`;
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

function threadCounts(): number[] {
  const cores = availableParallelism();
  const out = [1];
  for (let j = 2; j < cores; j *= 2) out.push(j);
  if (cores > 1) out.push(cores);
  return out;
}

function prepare(mb: number): { short: string; long: string; gz: string; bgz: string } {
  mkdirSync(dataDir, { recursive: true });
  const short = `${dataDir}fastq-short-${mb}MB.fq`;
  const long = `${dataDir}fastq-long-${Math.ceil(mb / 4)}MB.fq`;
  if (!existsSync(short)) generate(short, mb * 1e6, 7, (r) => 100 + Math.floor(r() * 51));
  if (!existsSync(long)) generate(long, (mb / 4) * 1e6, 11, (r) => 1000 + Math.floor(-Math.log(1 - r()) * 8000) % 40000);
  const gz = `${short}.gz`;
  const bgz = `${short}.bgz`;
  if (!existsSync(gz)) spawnSync('sh', ['-c', `gzip -1 -c '${short}' > '${gz}'`]);
  if (!existsSync(bgz) && have('bgzip')) spawnSync('sh', ['-c', `bgzip -@ ${availableParallelism()} -l 1 -c '${short}' > '${bgz}'`]);
  return { short, long, gz, bgz };
}

function peers(input: string, threads: number[], rows: string[], bytes: number): void {
  if (have('seqkit')) {
    for (const j of threads) {
      const t = timeCommand('seqkit', ['stats', '-a', '-j', String(j), input]);
      rows.push(`| seqkit stats -a | ${j} | ${t.seconds.toFixed(2)} | ${gb(bytes, t.seconds)} | – | ${rss(t)} |`);
    }
  }
  if (have('seqtk') || spawnSync('seqtk', [], { stdio: 'ignore' }).error === undefined) {
    const t = timeCommand('seqtk', ['fqchk', input]);
    rows.push(`| seqtk fqchk (1 thread) | 1 | ${t.seconds.toFixed(2)} | ${gb(bytes, t.seconds)} | – | ${rss(t)} |`);
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
  md.push('| run | -j | seconds | GB/s | M reads/s | peak RSS MiB |', '|---|---|---|---|---|---|');
  const rows: string[] = [];
  for (const mode of ['parse', 'stats'] as const) {
    for (const j of threads) {
      const r = measure(mode, files.short, j);
      rows.push(`| threadmill ${mode === 'parse' ? 'parse (records, no objects)' : 'fastq stats'} | ${j} | ${r.seconds.toFixed(2)} | ${gb(r.bytes, r.seconds)} | ${mreads(r.records, r.seconds)} | ${rss(r)} |`);
    }
  }
  peers(files.short, threads, rows, bytes);
  const top = threads[threads.length - 1]!;
  for (const [label, path] of [['gzip', files.gz], ['BGZF', files.bgz]] as const) {
    if (!existsSync(path)) continue;
    const r = measure('stats', path, top);
    rows.push(`| threadmill fastq stats, ${label} input | ${top} | ${r.seconds.toFixed(2)} | ${gb(r.bytes, r.seconds)} | ${mreads(r.records, r.seconds)} | ${rss(r)} |`);
    if (have('seqkit')) {
      const t = timeCommand('seqkit', ['stats', '-a', '-j', String(top), path]);
      rows.push(`| seqkit stats -a, ${label} input | ${top} | ${t.seconds.toFixed(2)} | ${gb(bytes, t.seconds)} | – | ${rss(t)} |`);
    }
  }
  const longBytes = statSync(files.long).size;
  for (const j of [1, top]) {
    const r = measure('stats', files.long, j);
    rows.push(`| threadmill fastq stats, long reads (${(longBytes / 1e9).toFixed(2)} GB) | ${j} | ${r.seconds.toFixed(2)} | ${gb(r.bytes, r.seconds)} | ${mreads(r.records, r.seconds)} | ${rss(r)} |`);
  }
  md.push(...rows, '', 'GB/s is uncompressed FASTQ bytes per second of wall time, including process start; seqkit and seqtk run on the same file in the same run.');
  writeSection('fastq', md.join('\n'));
  process.stdout.write(`${md.join('\n')}\n`);
}

if (process.argv[2] === '--child') await child(process.argv[3] as 'parse' | 'stats', process.argv[4]!, Number(process.argv[5]));
else if (process.argv[1] === self) {
  const flag = process.argv.indexOf('--mb');
  await runFastqBench(flag > 0 ? Number(process.argv[flag + 1]) : undefined);
}
