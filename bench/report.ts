/** Shared benchmark helpers: peak RSS of a child, and writing one section of docs/benchmarks.md. */
import { readFileSync, writeFileSync, existsSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnSync, type SpawnSyncOptionsWithStringEncoding } from 'node:child_process';

export const benchmarksFile = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));

/**
 * Replaces the section between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` in docs/benchmarks.md
 * (appending it when absent), so each pipeline's benchmark owns its own part of the file.
 */
export function writeSection(name: string, markdown: string): void {
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  const text = existsSync(benchmarksFile) ? readFileSync(benchmarksFile, 'utf8') : '# Benchmarks\n\nWritten by `npm run bench` (each pipeline rewrites its own section).\n';
  const block = `${open}\n${markdown.trim()}\n${close}`;
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  const next = start >= 0 && end > start ? text.slice(0, start) + block + text.slice(end + close.length) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(benchmarksFile, next);
}

/** `cpuSeconds`: user + system CPU of the command and its children (GNU time; -1 without it) — the number to quote on a busy machine. */
export interface Timed { seconds: number; cpuSeconds: number; peakRssMiB: number; status: number | null; stdout: string; stderr: string }

/** Runs a command and reports wall seconds, CPU seconds and peak RSS (via GNU time when present, else -1). */
export function timeCommand(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Timed {
  const useTime = existsSync('/usr/bin/time');
  const start = performance.now();
  const spawnOptions: SpawnSyncOptionsWithStringEncoding = { encoding: 'utf8', maxBuffer: 1 << 28, cwd: opts.cwd, env: opts.env ?? process.env, ...(opts.input ? { stdio: [openSync(opts.input, 'r'), 'pipe', 'pipe'] } : {}) };
  const r = useTime ? spawnSync('/usr/bin/time', ['-f', '__RSS_KB=%M __CPU=%U+%S', cmd, ...args], spawnOptions) : spawnSync(cmd, args, spawnOptions);
  const seconds = (performance.now() - start) / 1000;
  const m = /__RSS_KB=(\d+) __CPU=([\d.]+)\+([\d.]+)/.exec(r.stderr ?? '');
  const cpuSeconds = m ? Number(m[2]) + Number(m[3]) : -1;
  return { seconds, cpuSeconds, peakRssMiB: m ? Number(m[1]) / 1024 : -1, status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '').replace(/__RSS_KB=\d+ __CPU=\S+\n?/, '') };
}

/** `--name value` from the command line. */
export function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** xorshift32: deterministic and fast enough to write 1 GB of test data in a few seconds. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

const readersScript = fileURLToPath(new URL('../../bench/check-readers.py', import.meta.url));

/**
 * One line for docs/benchmarks.md: pyarrow (full validation) and polars from Python open `outputs`
 * with equal rows and values (bench/check-readers.py), where $PYTHON (default python3) has both.
 */
export function pythonReadersLine(what: string, outputs: string[], root: string): string {
  const python = process.env.PYTHON ?? 'python3';
  const probe = spawnSync(python, ['-c', 'import pyarrow, polars'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) return `Python readers: skipped (${python} lacks pyarrow or polars; set PYTHON to a venv's python).`;
  const check = spawnSync(python, [readersScript, ...outputs], { encoding: 'utf8' });
  const lines = check.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ok?: boolean; file?: string; why?: string; pyarrow?: string; polars?: string });
  const last = lines[lines.length - 1]!;
  const bad = lines.filter((l) => l.ok === false).map((l) => `${l.file!.slice(root.length + 1)} (${l.why})`);
  return `Python readers: pyarrow ${last.pyarrow} (full validation) and polars ${last.polars} open ${outputs.length - bad.length} of ${outputs.length} ${what} with equal rows and values${bad.length ? `; failed: ${bad.join(', ')}` : ''}`;
}
