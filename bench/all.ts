/**
 * `npm run bench`: every pipeline's benchmark, one after another (never in parallel: they measure
 * thread scaling), each writing its own section of docs/benchmarks.md. Pick some with
 * `node dist/bench/all.js nostr fastq`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const all = ['verifiers', 'nostr', 'nostr-scale', 'fastq', 'bam', 'fsscan', 'code-huge'];
const chosen = process.argv.slice(2).length ? process.argv.slice(2) : all;
let failed = 0;
for (const name of chosen) {
  if (!all.includes(name)) throw new Error(`unknown benchmark ${name}; choose from ${all.join(', ')}`);
  process.stderr.write(`\n=== bench ${name} ===\n`);
  const r = spawnSync(process.execPath, [fileURLToPath(new URL(`./${name}.js`, import.meta.url))], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
