/**
 * One huge generated JavaScript file through `code index` (issue #17: a 50 MB file must index in
 * ≤ 1 GB): peak RSS, CPU seconds and wall time for -j 1, 2 and all cores, optionally beside an
 * older build. Writes its section of docs/benchmarks.md.
 *
 *   node dist/bench/code-huge.js [--mb 50] [--before OLD/dist/src/cli.js [--before-label COMMIT]]
 *
 * The file is a function and an object literal every ~100 bytes (933,831 definitions and 1.9
 * million calls at 50 MB): the worst case for facts per byte, written once under $TMPDIR.
 */
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { arg, timeCommand, writeSection } from './report.js';

const cli = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const megabytes = Number(arg('--mb') ?? 50);
const before = arg('--before');
const beforeLabel = arg('--before-label') ?? before;

/** `function fN…` and `const cN = …` lines up to `bytes`, whole lines only. */
async function writeHugeFile(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  let written = 0;
  for (let i = 0; ; i++) {
    const lines = `function f${i}(a,b){ return g${i}(a, b) + h(a) * k.m(b); }\nconst c${i} = { x: f${i}(1,2), y: [1,2,3] };\n`;
    if (written + lines.length > bytes) break;
    written += lines.length;
    if (!out.write(lines)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.end(() => resolve());
  });
}

interface HugeRun { build: string; threads: number; seconds: number; cpuSeconds: number; rssMiB: number; entities: number; calls: number }

function indexHuge(build: string, cliPath: string, dir: string, threads: number): HugeRun {
  const db = join(mkdtempSync(join(tmpdir(), 'tm-bench-huge-db-')), 'graph.db');
  const t = timeCommand(process.execPath, [cliPath, 'code', 'index', dir, '--db', db, '-j', String(threads), '--max-file-size', '200M', '--json', '-q']);
  rmSync(db, { force: true });
  if (t.status !== 0) throw new Error(`code index (${build}) failed: ${t.stderr}`);
  const s = JSON.parse(t.stdout) as { entities: number; calls: number };
  process.stderr.write(`bench code-huge: ${build} -j ${threads}: ${t.cpuSeconds.toFixed(1)} CPU-s, ${Math.round(t.peakRssMiB)} MiB\n`);
  return { build, threads, seconds: t.seconds, cpuSeconds: t.cpuSeconds, rssMiB: t.peakRssMiB, entities: s.entities, calls: s.calls };
}

const dir = join(tmpdir(), `threadmill-code-huge-${megabytes}`);
const file = join(dir, 'big.js');
if (!existsSync(file)) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await writeHugeFile(file, megabytes * 1e6);
}
const cores = availableParallelism();
const runs: HugeRun[] = [];
for (const threads of [...new Set([1, 2, cores])]) {
  if (before) runs.push(indexHuge('before', before, dir, threads));
  runs.push(indexHuge('this build', cli, dir, threads));
}
const rows = runs.map((r) => `| ${r.build} | ${r.threads} | ${r.entities.toLocaleString('en-US')} | ${r.calls.toLocaleString('en-US')} | ${r.seconds.toFixed(1)} | ${r.cpuSeconds.toFixed(1)} | ${Math.round(r.rssMiB)} |`);
writeSection('code-huge', `
## code index: one huge generated file

\`node dist/bench/code-huge.js\`: one ${(statSync(file).size / 1e6).toFixed(1)} MB generated JavaScript file
(a function and an object literal every ~100 bytes), \`--max-file-size 200M\`, ${cores} cores,
load average ${loadavg()[0]!.toFixed(1)} at the end. Peak RSS is the whole process's (GNU time),
workers included. "before" is ${before ? `\`${beforeLabel}\`` : 'not measured in this run'}.

| build | -j | entities | calls | wall s | CPU s | peak RSS MiB |
|---|---|---|---|---|---|---|
${rows.join('\n')}
`);
