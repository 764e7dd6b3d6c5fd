/**
 * Running shards as separate processes, two at a time (as a Slurm array throttled with %2 would),
 * each taking its index from a scheduler variable or from an explicit I/N, and comparing parts.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { cliPath, runCli, runCliAsync } from '../helpers/faults.js';

export { cliPath, runCli };

export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `tm-scale-${label}-`));
}

export type { CliRun as Done } from '../helpers/faults.js';


/** How shard i learns its index: `--shard i/N`, or `--shard auto/N` with one of the scheduler variables. */
export type IndexFrom = 'explicit' | 'SLURM_ARRAY_TASK_ID' | 'JOB_COMPLETION_INDEX';

/**
 * Runs shards 0…n−1 (`args(shardSpec)` builds each command line), two processes at a time;
 * rejects naming the first shard that failed.
 */
export async function runShards(n: number, args: (shard: string) => string[], from: IndexFrom = 'explicit'): Promise<void> {
  const queue = Array.from({ length: n }, (_, i) => i);
  const worker = async (): Promise<void> => {
    for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
      const env: NodeJS.ProcessEnv = { ...process.env };
      delete env.SLURM_ARRAY_TASK_ID;
      delete env.JOB_COMPLETION_INDEX;
      delete env.AWS_BATCH_JOB_ARRAY_INDEX;
      if (from !== 'explicit') env[from] = String(i);
      const r = await runCliAsync([...args(from === 'explicit' ? `${i}/${n}` : `auto/${n}`), '-q'], { env });
      if (r.status !== 0) throw new Error(`shard ${i}/${n} exited ${r.status}: ${r.stderr}`);
    }
  };
  await Promise.all([worker(), worker()]);
}

/** The part directories of a run (`dir/0` … `dir/n−1`). */
export function partPaths(dir: string, n: number, suffix = ''): string[] {
  return Array.from({ length: n }, (_, i) => join(dir, `${i}${suffix}`));
}

/** Every file of a part directory with its bytes, for "a shard run twice writes the same part". */
export function partContent(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isFile()) out.set(name, readFileSync(p));
  }
  return out;
}

/** A coded failure: exit status 1 and `[CODE]` in the message. */
export function failedWith(r: { status: number | null; stderr: string }, code: string): boolean {
  return r.status === 1 && r.stderr.includes(`[${code}]`);
}

/** What a nostr DIR holds: each day file's decompressed bytes (hex), and the index rows by id. */
export function nostrContents(out: string): { days: Record<string, string>; rows: unknown[] } {
  const days: Record<string, string> = {};
  for (const name of readdirSync(out).filter((n) => n.endsWith('.pb.gz')).sort()) days[name] = gunzipSync(readFileSync(join(out, name))).toString('hex');
  const db = new Database(join(out, 'index.db'), { readonly: true });
  const rows = db.prepare('SELECT * FROM events ORDER BY id').all();
  db.close();
  return { days, rows };
}
