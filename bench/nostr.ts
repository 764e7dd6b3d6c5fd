/**
 * nostr convert benchmark: a deterministic set of signed events (5% duplicates, 1% bad lines),
 * converted with -j 1, 2, … up to the cores, with and without signature checks; events/s, MB/s
 * and peak RSS of the whole process. Optionally (BENCH_NOSTR_BIG_MB=2000) a large unsigned input
 * to measure memory on a 2 GB file. Writes its section of docs/benchmarks.md.
 *
 *   node dist/bench/nostr.js [--threads 1,2] [--events 100000]
 */
import { existsSync, mkdirSync, rmSync, statSync, createWriteStream } from 'node:fs';
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
const cores = availableParallelism();
const threadList = (arg('--threads') ?? [1, 2, 4, 8, 16, 32].filter((t) => t <= cores).join(',')).split(',').map(Number);
const nEvents = Number(arg('--events') ?? 100_000);


async function generate(path: string, n: number): Promise<void> {
  const sign = await signer();
  const keys = benchKeys('bench key');
  const out = createWriteStream(path);
  const recent: string[] = [];
  let x = 12345;
  const rnd = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  for (let i = 0; i < n; i++) {
    let line: string;
    if (i % 100 === 50) line = '{"id":"not json';
    else if (i % 20 === 7 && recent.length > 0) line = recent[rnd() % recent.length]!;
    else {
      const key = keys[rnd() % keys.length]!;
      const tags = Array.from({ length: rnd() % 6 }, (_, t) => [t % 2 ? 'p' : 'e', createHash('sha256').update(`${i}/${t}`).digest('hex'), 'wss://relay.example.com']);
      const content = `note ${i} ${'lorem ipsum dolor sit amet '.repeat(rnd() % 30)}`;
      const created_at = 1_690_000_000 + (rnd() % (365 * 86400));
      const kind = [1, 1, 1, 7, 0, 3, 6, 30023][rnd() % 8]!;
      const id = createHash('sha256').update(JSON.stringify([0, key.pk, created_at, kind, tags, content])).digest();
      const sig = Buffer.from(sign(id, key.sk)).toString('hex');
      line = JSON.stringify({ id: id.toString('hex'), pubkey: key.pk, created_at, kind, tags, content, sig });
      if (recent.length < 1000) recent.push(line);
      else recent[rnd() % 1000] = line;
    }
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Unsigned events with distinct random ids, for the memory run (id/signature checks off). */
async function generateBig(path: string, megabytes: number): Promise<void> {
  const out = createWriteStream(path);
  const pubkey = 'ab'.repeat(32);
  const sig = 'cd'.repeat(64);
  let written = 0;
  for (let i = 0; written < megabytes * 1e6; i++) {
    const line = `${JSON.stringify({ id: randomBytes(32).toString('hex'), pubkey, created_at: 1_690_000_000 + (i % 31_536_000), kind: 1, tags: [['t', 'bench']], content: `event ${i} ${'x'.repeat(700)}`, sig })}\n`;
    written += line.length;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

interface Row { label: string; threads: number; seconds: number; events: number; mb: number; rss: number }

function convert(input: string, threads: number, extra: string[]): Row {
  const out = join(dataDir, 'nostr-out');
  rmSync(out, { recursive: true, force: true });
  const t = timeCommand(process.execPath, [cli, 'nostr', 'convert', input, '-o', out, '-j', String(threads), '--json', '--progress', 'none', ...extra]);
  if (t.status !== 0) throw new Error(`convert failed: ${t.stderr}`);
  const s = JSON.parse(t.stdout) as { lines_read: number };
  return { label: extra.join(' ') || 'all checks', threads, seconds: t.seconds, events: s.lines_read, mb: statSync(input).size / 1e6, rss: t.peakRssMiB };
}

function table(rows: Row[]): string {
  const base = new Map<string, number>();
  const lines = ['| checks | -j | seconds | events/s | MB/s | speed-up vs -j 1 | peak RSS MiB |', '|---|---:|---:|---:|---:|---:|---:|'];
  for (const r of rows) {
    const rate = r.events / r.seconds;
    if (r.threads === 1) base.set(r.label, rate);
    const b = base.get(r.label);
    lines.push(`| ${r.label} | ${r.threads} | ${r.seconds.toFixed(2)} | ${Math.round(rate).toLocaleString('en-US')} | ${(r.mb / r.seconds).toFixed(1)} | ${b ? (rate / b).toFixed(2) : '-'}× | ${r.rss.toFixed(0)} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const input = join(dataDir, `nostr-${nEvents}.jsonl`);
  if (!existsSync(input)) {
    process.stderr.write(`generating ${nEvents} signed events → ${input}\n`);
    await generate(input, nEvents);
  }
  const rows: Row[] = [];
  for (const extra of [[], ['--no-validate-signatures'], ['--no-validate-signatures', '--no-validate-event-ids']]) {
    for (const t of threadList) {
      const r = convert(input, t, extra);
      process.stderr.write(`${r.label} -j ${t}: ${Math.round(r.events / r.seconds)} events/s, ${(r.mb / r.seconds).toFixed(1)} MB/s, RSS ${r.rss.toFixed(0)} MiB\n`);
      rows.push(r);
    }
  }
  let big = '';
  const bigMb = Number(process.env.BENCH_NOSTR_BIG_MB ?? 0);
  if (bigMb > 0) {
    const bigInput = join(dataDir, `nostr-big-${bigMb}MB.jsonl`);
    if (!existsSync(bigInput)) await generateBig(bigInput, bigMb);
    const r = convert(bigInput, Math.max(...threadList), ['--no-validate-signatures', '--no-validate-event-ids']);
    big = `\nMemory on a large input: ${bigMb} MB, ${r.events.toLocaleString('en-US')} distinct events, -j ${r.threads}, no id/signature checks: ${r.seconds.toFixed(1)} s, peak RSS ${r.rss.toFixed(0)} MiB (the dedup set holds ${r.events.toLocaleString('en-US')} ids).\n`;
  }
  rmSync(join(dataDir, 'nostr-out'), { recursive: true, force: true });
  const md = `## nostr convert\n\n${new Date().toISOString().slice(0, 10)}, ${cores} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}. Input: ${nEvents.toLocaleString('en-US')} signed events (${(statSync(input).size / 1e6).toFixed(0)} MB; 5% duplicates, 1% broken lines), \`bench/nostr.ts\`. Wall time of the whole command (start-up, index, commit included); RSS of the process tree's largest member via GNU time. No peer tool runs here (Proton Beam is Rust and cannot be built offline).\n\n${table(rows)}\n${big}`;
  writeSection('nostr', md);
  process.stdout.write(`${md}\n`);
}

await main();
