/**
 * nostr convert at scale (issue 14): small generated events (random ids, 64 authors, 365 days, 5%
 * duplicates) at 1M, 4M and 16M events, -j 1 and -j 2, without checks (and with both checks on the
 * smallest size): events/s, CPU-µs per event in total and per thread role (main, index writer,
 * workers, other = GC and libuv threads) from the per-thread /proc counters (THREADMILL_CPU_REPORT),
 * peak RSS, spill bytes, index.db bytes per event, and the rate 16 workers would reach given the
 * measured per-role costs. Writes the `nostr-scale` section of docs/benchmarks.md.
 *
 *   node dist/bench/nostr-scale.js [--sizes 1000000,4000000,16000000] [--threads 1,2] [--memory-limit 2G]
 */
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { arg, timeCommand, writeSection } from './report.js';
import { benchKeys, signer } from './nostr-signer.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const dataDir = join(here, '../../bench/data');
const cli = join(here, '../src/cli.js');
const sizes = (arg('--sizes') ?? '1000000,4000000,16000000').split(',').map(Number);
const threadList = (arg('--threads') ?? '1,2').split(',').map(Number);
const memoryLimit = arg('--memory-limit');

/** Small events; `signed`: real ids and BIP-340 signatures (bcrypto when present), else random ids. */
async function generate(path: string, n: number, signed: boolean): Promise<void> {
  const sign = signed ? await signer() : null;
  const keys = benchKeys('scale key');
  const out = createWriteStream(path);
  const recent: string[] = [];
  let x = 7;
  const rnd = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  let buf = '';
  for (let i = 0; i < n; i++) {
    let line: string;
    if (i % 20 === 7 && recent.length > 0) line = recent[rnd() % recent.length]!;
    else {
      const key = keys[rnd() % 64]!;
      const ev = { pubkey: key.pk, created_at: 1_690_000_000 + (rnd() % (365 * 86400)), kind: [1, 1, 7, 0, 3][rnd() % 5]!, tags: rnd() % 2 ? [['p', keys[rnd() % 64]!.pk]] : [], content: `event ${i} ${'lorem ipsum '.repeat(rnd() % 8)}` };
      const id = sign ? createHash('sha256').update(JSON.stringify([0, ev.pubkey, ev.created_at, ev.kind, ev.tags, ev.content])).digest() : randomBytes(32);
      const sig = sign ? Buffer.from(sign(id, key.sk)).toString('hex') : 'cd'.repeat(64);
      line = JSON.stringify({ id: id.toString('hex'), ...ev, sig });
      if (recent.length < 1000) recent.push(line);
      else recent[rnd() % 1000] = line;
    }
    buf += `${line}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
}


interface Run { events: number; checks: boolean; defer: boolean; threads: number; seconds: number; rss: number; roles: Record<string, number>; total: number; spilled: number; indexBytes: number; written: number }

function run(input: string, events: number, threads: number, checks: boolean, defer: boolean): Run {
  const out = join(dataDir, 'nostr-scale-out');
  const report = join(dataDir, 'nostr-scale-cpu.json');
  rmSync(out, { recursive: true, force: true });
  const args = [cli, 'nostr', 'convert', input, '-o', out, '-j', String(threads), '--json', '--progress', 'none', ...(checks ? [] : ['--no-validate-signatures', '--no-validate-event-ids']), ...(defer ? ['--defer-indexes'] : []), ...(memoryLimit ? ['--memory-limit', memoryLimit] : [])];
  const t = timeCommand(process.execPath, args, { env: { ...process.env, THREADMILL_CPU_REPORT: report } });
  if (t.status !== 0) throw new Error(`convert failed: ${t.stderr}`);
  const s = JSON.parse(t.stdout) as { written: number; spilled_bytes: number };
  const cpu = JSON.parse(readFileSync(report, 'utf8')) as { roles: Record<string, number>; total: number };
  const r: Run = { events, checks, defer, threads, seconds: t.seconds, rss: t.peakRssMiB, roles: cpu.roles, total: cpu.total, spilled: s.spilled_bytes, indexBytes: statSync(join(out, 'index.db')).size, written: s.written };
  rmSync(out, { recursive: true, force: true });
  return r;
}

const us = (seconds: number, events: number): string => ((seconds / events) * 1e6).toFixed(2);

/**
 * Rate at 16 workers from one run's per-event costs: the parallel work (workers, other) spread over
 * 16 threads, the main thread's work overlapped with it, and the index writer's mostly after it
 * (its rows are complete only when reading ends), so added.
 */
function projected16(r: Run): number {
  const per = (role: string): number => (r.roles[role] ?? 0) / r.events;
  const wall = Math.max((per('worker') + per('other')) / 16, per('main')) + per('index');
  return 1 / wall;
}

function table(runs: Run[]): string {
  const lines = [
    '| events | checks | index | -j | seconds | events/s | CPU-µs/event total | main | index | workers | other | peak RSS MiB | spilled GB | index.db B/event | projected events/s at 16 workers |',
    '|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of runs) {
    lines.push(`| ${r.events.toLocaleString('en-US')} | ${r.checks ? 'ids + signatures' : 'none'} | ${r.defer ? '--defer-indexes' : 'all 4 indexes'} | ${r.threads} | ${r.seconds.toFixed(1)} | ${Math.round(r.events / r.seconds).toLocaleString('en-US')} | ${us(r.total, r.events)} | ${us(r.roles.main ?? 0, r.events)} | ${us(r.roles.index ?? 0, r.events)} | ${us(r.roles.worker ?? 0, r.events)} | ${us(r.roles.other ?? 0, r.events)} | ${r.rss.toFixed(0)} | ${(r.spilled / 1e9).toFixed(2)} | ${(r.indexBytes / r.written).toFixed(0)} | ${Math.round(projected16(r)).toLocaleString('en-US')} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const runs: Run[] = [];
  // -j 1 and -j 2 with every index; --defer-indexes at -j 2; the checks on the smallest size only
  // (generating signed events costs ~20 µs each); -j 1 is left out past 4M to keep the run short.
  const plan: { events: number; checks: boolean; defer: boolean; threads: number }[] = [];
  for (const events of sizes) {
    for (const threads of threadList) if (threads > 1 || events <= 4_000_000) plan.push({ events, checks: false, defer: false, threads });
    plan.push({ events, checks: false, defer: true, threads: Math.max(...threadList) });
  }
  for (const threads of threadList) plan.push({ events: sizes[0]!, checks: true, defer: false, threads });
  for (const { events, checks, defer, threads } of plan) {
    const input = join(dataDir, `nostr-scale-${events}${checks ? '-signed' : ''}.jsonl`);
    if (!existsSync(input)) {
      process.stderr.write(`generating ${events} ${checks ? 'signed' : 'unsigned'} events → ${input}\n`);
      await generate(input, events, checks);
    }
    const r = run(input, events, threads, checks, defer);
    process.stderr.write(`${events} ${checks ? 'checks' : 'no checks'}${defer ? ' deferred' : ''} -j ${threads}: ${r.seconds.toFixed(1)} s, ${us(r.total, events)} CPU-µs/event (main ${us(r.roles.main ?? 0, events)}, index ${us(r.roles.index ?? 0, events)}, workers ${us(r.roles.worker ?? 0, events)}), RSS ${r.rss.toFixed(0)} MiB\n`);
    runs.push(r);
  }
  const md = `## nostr convert at scale\n\n${new Date().toISOString().slice(0, 10)}, ${availableParallelism()} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, \`bench/nostr-scale.ts\`${memoryLimit ? `, --memory-limit ${memoryLimit}` : ', default --memory-limit'}. Small generated events (~410 bytes a line, 5% duplicates, 365 days). CPU per event and thread role from the per-thread /proc counters of one run (\`THREADMILL_CPU_REPORT\`); "other" is V8's GC and libuv's threads. The projection assumes the parallel work spreads over 16 workers and the index writer's work stays serial after reading (its rows are complete only then).\n\n${table(runs)}\n`;
  writeSection('nostr-scale', md);
  process.stdout.write(`${md}\n`);
}

await main();
