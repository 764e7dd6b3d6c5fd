/**
 * fsscan benchmark: generates a GPFS policy LIST scan under bench/data/ (10M lines by default, in
 * NCAR's list_all layout, directory lines deferred past their files as inode order does), then
 * imports it with -j 1..cores and reports lines/s (whole run and parse+aggregate+merge alone), peak
 * RSS and database size, plus the main thread's bytes per directory on a scan of 1M directories.
 * fs-scans' figure (≈12k lines/s on 2 workers, as issue 9 reports it) is quoted for scale: its Python
 * cannot be installed here. Writes its section of docs/benchmarks.md.
 *
 *   node dist/bench/fsscan.js [--lines 10000000] [--dir-lines 1000000] [--regenerate 1] [--generate-only 1]
 */
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { arg, prng, writeSection } from './report.js';

const dataDir = fileURLToPath(new URL('../../bench/data/', import.meta.url));
const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const REFERENCE_LINES_PER_S = 12_000;

const WORDS = ['run', 'output', 'case', 'ens', 'hist', 'restart', 'atm', 'ocn', 'lnd', 'ice', 'postproc', 'daily', 'monthly', 'scratch'];

/**
 * Writes `lines` lines: directories of `filesPerDir` files on average (fan-out 8, about 10 levels
 * deep for 10M lines), each directory's own line written a random while after its files.
 */
function generate(path: string, lines: number, filesPerDir: number, seed: number): void {
  const r = prng(seed);
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(32 << 20);
  let at = 0;
  const flush = (): void => { writeSync(fd, block, 0, at); at = 0; };
  const put = (s: string): void => { if (at + s.length * 3 > block.length) flush(); at += block.write(s, at); };
  const day = (): string => `20${String(15 + Math.floor(r() * 11))}-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-${String(1 + Math.floor(r() * 28)).padStart(2, '0')} ${String(Math.floor(r() * 24)).padStart(2, '0')}:${String(Math.floor(r() * 60)).padStart(2, '0')}:${String(Math.floor(r() * 60)).padStart(2, '0')}`;
  put('[I] GPFS Current Data Pool Utilization in KB and %\n[I] Loaded policy rules from list.pol.\n');
  const dirs: string[] = ['/gpfs/csfs1/bench'];
  const pending: string[] = [];
  let inode = 100;
  let written = 0;
  for (let d = 0; written < lines; d++) {
    const parent = dirs[Math.floor(d / 8)] ?? dirs[dirs.length - 1]!;
    const dir = d === 0 ? dirs[0]! : `${parent}/${WORDS[Math.floor(r() * WORDS.length)]}_${d.toString(36)}`;
    if (d > 0) dirs.push(dir);
    const uid = 20000 + Math.floor(r() * 200);
    const gid = 1000 + Math.floor(r() * 20);
    pending.push(`<${d % 16}> ${inode++} 65538 0 s=4096 a=4 u=${uid} g=${gid} m=FAu p=drwxr-sr-x ac=${day()} mt=${day()} cr=${day()} nl=2 -- ${dir}\n`);
    const n = Math.floor(r() * 2 * filesPerDir);
    for (let f = 0; f < n && written < lines; f++, written++) {
      const s = r() < 0.3 ? Math.floor(r() * 4096) : Math.floor(r() * 2 ** (20 + r() * 14));
      const a = s <= 4096 && r() < 0.8 ? 0 : Math.ceil(s / 1024);
      put(`<${f % 16}> ${inode++} 65538 0 s=${s} a=${a} u=${r() < 0.95 ? uid : uid + 1} g=${gid} m=FAu p=-rw-r--r-- ac=${day()} mt=${day()} cr=${day()} nl=1 -- ${dir}/file_${f}.nc\n`);
    }
    if (pending.length > 64 || r() < 0.05) { put(pending.splice(0, Math.floor(r() * pending.length) + 1).join('')); }
    written++;
  }
  put(pending.join(''));
  flush();
  closeSync(fd);
}

interface Summary { lines: number; directories: number; seconds: number; parse_seconds: number; lines_per_second: number; table_bytes_per_directory: number; cpu_seconds: number; parse_cpu_seconds: number }

/**
 * One import in a child, with its peak RSS (GNU time). The summary's CPU seconds are reported
 * because wall time on a shared machine measures the neighbours as much as the code.
 */
function importRun(scan: string, db: string, threads: number): Summary & { peakRssMiB: number } {
  rmSync(db, { force: true });
  const r = spawnSync('/usr/bin/time', ['-f', '__TIME=%M', process.execPath, cli, 'fsscan', 'import', scan, '--db', db, '-j', String(threads), '--json', '--quiet'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const m = /__TIME=(\d+)/.exec(r.stderr ?? '');
  if (r.status !== 0 || !m) throw new Error(`import failed: ${r.stderr}`);
  return { ...(JSON.parse(r.stdout) as Summary), peakRssMiB: Number(m[1]) / 1024 };
}

function main(): void {
  const lines = Number(arg('--lines') ?? 10_000_000);
  const dirLines = Number(arg('--dir-lines') ?? 1_000_000);
  mkdirSync(dataDir, { recursive: true });
  const scan = `${dataDir}20260115_csfs1_bench.list.list_all.log`;
  if (!existsSync(scan) || arg('--regenerate') !== undefined) generate(scan, lines, 20, 42);
  if (arg('--generate-only') !== undefined) return;
  const db = `${dataDir}fsscan-bench.db`;
  const cores = availableParallelism();
  const loadBefore = loadavg()[0]!;
  const rows: string[] = [];
  let last: ReturnType<typeof importRun> | null = null;
  for (let j = 1; j <= cores; j++) {
    const s = importRun(scan, db, j);
    last = s;
    const parseRate = s.lines / s.parse_seconds;
    const n = (x: number): string => Math.round(x).toLocaleString('en-US');
    rows.push(`| ${j} | ${s.seconds.toFixed(1)} | ${n(s.lines_per_second)} | ${s.parse_seconds.toFixed(1)} | ${n(parseRate)} | ${s.parse_cpu_seconds.toFixed(1)} | ${n(s.lines / s.parse_cpu_seconds)} | ${s.cpu_seconds.toFixed(1)} | ${n(s.lines / s.cpu_seconds)} | ${Math.round(s.lines_per_second / REFERENCE_LINES_PER_S)}× | ${s.peakRssMiB.toFixed(0)} |`);
    process.stderr.write(`${rows[rows.length - 1]}\n`);
  }
  const dbMiB = statSync(db).size / 2 ** 20;
  // Memory per directory: a scan that is mostly directories (1M of them).
  const wide = `${dataDir}20260115_csfs1_wide.list.list_all.log`;
  if (!existsSync(wide)) generate(wide, dirLines * 2, 1, 7);
  const w = importRun(wide, `${dataDir}fsscan-wide.db`, cores);
  rmSync(`${dataDir}fsscan-wide.db`, { force: true });
  const scanGiB = statSync(scan).size / 2 ** 30;
  writeSection('fsscan', `## fsscan import (GPFS LIST → fs-scans' SQLite database)

Generated scan: ${last!.lines.toLocaleString('en-US')} lines (${scanGiB.toFixed(2)} GiB), ${last!.directories.toLocaleString('en-US')} directories, directory lines after their files. Machine: ${cores} cores, shared with other jobs while measured (load average ${loadBefore.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end), so wall times understate the code; CPU seconds do not. \`threadmill fsscan import scan --db out.db -j N\`; "parse" is reading + parsing + aggregating in the workers + merging on the main thread; "whole" adds building the tree and writing the database (indexes included). fs-scans: about ${REFERENCE_LINES_PER_S.toLocaleString('en-US')} lines/s on 2 workers (the figure in issue 9; its Python cannot be installed here to measure it on this scan).

| -j | whole s | whole lines/s | parse s | parse lines/s | parse CPU s | parse lines per CPU-second | whole CPU s | whole lines per CPU-second | whole vs fs-scans (wall) | peak RSS MiB |
|---|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Database: ${dbMiB.toFixed(0)} MiB. Memory per directory (scan of ${w.directories.toLocaleString('en-US')} directories, ${w.lines.toLocaleString('en-US')} lines): the main thread's directory table holds ${w.table_bytes_per_directory} bytes per directory (typed-array columns sized by doubling, so up to 2× the live need); peak RSS ${w.peakRssMiB.toFixed(0)} MiB for the whole run including SQLite's page cache.`);
}

main();
