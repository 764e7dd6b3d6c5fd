/**
 * Many "hosts" sharing one output directory (issue 15): each host is a pid + UTS namespace with
 * its own host name (test/scale-out/hosts.ts), so pids of one mean nothing to another, as on two
 * nodes over NFS or two Kubernetes pods. Shards of every format run concurrently on two hosts into
 * shared part directories, then merge to the unsharded output; a lock held on one host refuses a
 * writer on another; the temporary of a shard killed with -9 on one host is removed by another
 * only after the lease (shortened here with THREADMILL_LEASE_SECONDS). Skips where unshare is
 * not permitted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tableFromIPC } from 'apache-arrow';
import { syntheticFastq } from '../formats/fastq/helpers.js';
import { bamHeader, bamRecord, lcg, writeBam } from '../formats/bam/raw.js';
import { makeEvents, toJsonl } from '../formats/nostr/fixtures.js';
import { dumpDb as dumpScanDb, generateScan, scanText } from '../formats/fsscan/helpers.js';
import { dumpDb as dumpCodeDb, fixtureTree } from '../formats/code/helpers.js';
import { killAtRename } from '../helpers/faults.js';
import { nostrContents, partPaths, runCli, tempDir } from './helpers.js';
import { holdLockOnHost, hostsUnavailable, runOnHost, type HostOptions } from './hosts.js';

const skip = hostsUnavailable();
const dir = tempDir('hosts');
const LEASE_S = 4;
const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000', THREADMILL_LEASE_SECONDS: String(LEASE_S) };
// Host B's commands get pids a few above host A's: a pid of one host is then dead (or another
// process) on the other, which is what made the old pid-only check remove live work.
const hostA: HostOptions = { name: 'host-a', env, pidOffset: 0 };
const hostB: HostOptions = { name: 'host-b', env, pidOffset: 7 };
const J1 = ['-j', '1', '--chunk-size', '65536', '-q'];
const N = 4;

function ok(args: string[]): string {
  const r = runCli(args, { env });
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function inputs(): Record<string, string> {
  const fq = join(dir, 'reads.fq');
  writeFileSync(fq, syntheticFastq(4000, 3));
  const next = lcg(7);
  const recs = Array.from({ length: 3000 }, (_, i) => bamRecord({
    name: `r${i}`, refId: next(2), pos: next(9000), flag: [0, 16, 99, 147][next(4)]!, cigar: [[60, 0]],
    seq: Uint8Array.from({ length: 60 }, () => [1, 2, 4, 8][next(4)]!), qual: Uint8Array.from({ length: 60 }, () => next(41)),
  }));
  const bam = writeBam(join(dir, 'reads.bam'), bamHeader([['chr1', 10_000], ['chr2', 5_000]]), recs, 9000);
  const lines = toJsonl(makeEvents(400, 9)).split('\n').filter(Boolean);
  const events = join(dir, 'events.jsonl');
  writeFileSync(events, `${[...lines, ...lines.slice(0, 60)].join('\n')}\n`);
  const scan = join(dir, '20260115_srv_proj.list.list_all.log');
  writeFileSync(scan, scanText(generateScan(4, 200, 4000).records, 2));
  return { fq, bam, events, scan, tree: fixtureTree().root };
}

/** One shard command per format for share `s` ("I/N"), writing under `parts/<format>/`. */
function shardCommands(x: Record<string, string>, s: string): string[][] {
  const p = (f: string, suffix = ''): string => join(dir, 'parts', f, `{I}${suffix}`);
  return [
    ['fastq', 'stats', x.fq!, ...J1, '--shard', s, '-o', p('fastq-stats')],
    ['fastq', 'convert', x.fq!, ...J1, '--batch-size', '500', '--shard', s, '-o', p('fastq-convert', '.arrow')],
    ['bam', 'stats', x.bam!, ...J1, '--shard', s, '-o', p('bam-stats')],
    ['bam', 'convert', x.bam!, ...J1, '--shard', s, '-o', p('bam-convert', '.arrow')],
    ['nostr', 'convert', x.events!, ...J1, '--no-validate-signatures', '--shard', s, '-o', p('nostr')],
    ['fsscan', 'import', x.scan!, ...J1, '--shard', s, '--db', p('fsscan')],
    ['code', 'index', x.tree!, '-j', '1', '-q', '--shard', s, '--db', p('code')],
  ];
}

/** Every row of an Arrow IPC file as plain values (bam convert parts restart batches: compare rows). */
function ipcRows(path: string): string {
  return JSON.stringify(tableFromIPC(readFileSync(path)).toArray().map((r) => r.toJSON()), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
}

test('shards of every format on two hosts at once, into shared part directories, merge (at once, and as merges of merges) to the unsharded outputs', { skip, timeout: 300_000 }, async () => {
  const x = inputs();
  const runs = await Promise.all([
    runOnHost(hostA, [0, 2].flatMap((i) => shardCommands(x, `${i}/${N}`)), dir, 'a'),
    runOnHost(hostB, [1, 3].flatMap((i) => shardCommands(x, `${i}/${N}`)), dir, 'b'),
  ]);
  for (const r of runs.flat()) assert.equal(r.status, 0, r.stderr);
  const parts = (f: string, suffix = ''): string[] => partPaths(join(dir, 'parts', f), N, suffix);
  for (const f of ['fastq-stats', 'bam-stats', 'nostr', 'fsscan', 'code']) {
    assert.deepEqual(readdirSync(join(dir, 'parts', f)).sort(), ['0', '1', '2', '3'], `${f}: every part, no temporary left`);
  }

  // Each merge twice: at once, and as a merge of merges (shards 0-1 and 2-3 merged with --partial
  // on the two hosts at once, then the merged parts merged): both give the unsharded output.
  const twoLevel = async (format: string, f: string, out: string[], suffix = ''): Promise<void> => {
    const flag = format === 'fsscan' || format === 'code' ? '--db' : '-o';
    const [a, b] = await Promise.all([
      runOnHost(hostA, [[format, 'merge', '--partial', ...parts(f, suffix).slice(0, 2), flag, join(dir, 'mid', f, `0${suffix}`), '-q']], dir, `mid-${f}-a`),
      runOnHost(hostB, [[format, 'merge', '--partial', ...parts(f, suffix).slice(2), flag, join(dir, 'mid', f, `1${suffix}`), '-q']], dir, `mid-${f}-b`),
    ]);
    for (const r of [...a, ...b]) assert.equal(r.status, 0, r.stderr);
    ok([format, 'merge', ...partPaths(join(dir, 'mid', f), 2, suffix), ...out]);
  };
  const fqWhole = JSON.parse(ok(['fastq', 'stats', x.fq!, '--json'])) as unknown;
  assert.deepEqual(JSON.parse(ok(['fastq', 'merge', ...parts('fastq-stats'), '--json'])), fqWhole);
  await twoLevel('fastq', 'fastq-stats', []);
  assert.deepEqual(JSON.parse(ok(['fastq', 'merge', ...partPaths(join(dir, 'mid', 'fastq-stats'), 2), '--json'])), fqWhole);

  ok(['fastq', 'convert', x.fq!, ...J1, '--batch-size', '500', '-o', join(dir, 'fq-whole.arrow')]);
  ok(['fastq', 'merge', ...parts('fastq-convert', '.arrow'), '-o', join(dir, 'fq.arrow'), '-q']);
  assert.ok(readFileSync(join(dir, 'fq.arrow')).equals(readFileSync(join(dir, 'fq-whole.arrow'))), 'fastq convert: same bytes');
  await twoLevel('fastq', 'fastq-convert', ['-o', join(dir, 'fq2.arrow'), '-q'], '.arrow');
  assert.ok(readFileSync(join(dir, 'fq2.arrow')).equals(readFileSync(join(dir, 'fq-whole.arrow'))), 'fastq convert, merge of merges: same bytes');

  const bamWhole = ok(['bam', 'stats', x.bam!, '--json']);
  assert.equal(ok(['bam', 'merge', ...parts('bam-stats'), '--json']), bamWhole);
  await twoLevel('bam', 'bam-stats', []);
  assert.equal(ok(['bam', 'merge', ...partPaths(join(dir, 'mid', 'bam-stats'), 2), '--json']), bamWhole);

  ok(['bam', 'convert', x.bam!, ...J1, '-o', join(dir, 'bam-whole.arrow')]);
  ok(['bam', 'merge', ...parts('bam-convert', '.arrow'), '-o', join(dir, 'bam.arrow'), '-q']);
  assert.equal(ipcRows(join(dir, 'bam.arrow')), ipcRows(join(dir, 'bam-whole.arrow')));
  await twoLevel('bam', 'bam-convert', ['-o', join(dir, 'bam2.arrow'), '-q'], '.arrow');
  assert.ok(readFileSync(join(dir, 'bam2.arrow')).equals(readFileSync(join(dir, 'bam.arrow'))), 'bam convert, merge of merges: the bytes of the one-level merge');

  ok(['nostr', 'convert', x.events!, ...J1, '--no-validate-signatures', '-o', join(dir, 'nostr-whole')]);
  const nostrWhole = nostrContents(join(dir, 'nostr-whole'));
  ok(['nostr', 'merge', ...parts('nostr'), '-o', join(dir, 'nostr-merged'), '-q']);
  assert.deepEqual(nostrContents(join(dir, 'nostr-merged')), nostrWhole);
  await twoLevel('nostr', 'nostr', ['-o', join(dir, 'nostr-merged2'), '-q']);
  assert.deepEqual(nostrContents(join(dir, 'nostr-merged2')), nostrWhole);

  ok(['fsscan', 'import', x.scan!, ...J1, '--db', join(dir, 'scan-whole.db')]);
  const scanWhole = dumpScanDb(join(dir, 'scan-whole.db'));
  ok(['fsscan', 'merge', ...parts('fsscan'), '--db', join(dir, 'scan.db'), '-q']);
  assert.equal(dumpScanDb(join(dir, 'scan.db')), scanWhole);
  await twoLevel('fsscan', 'fsscan', ['--db', join(dir, 'scan2.db'), '-q']);
  assert.equal(dumpScanDb(join(dir, 'scan2.db')), scanWhole);

  ok(['code', 'index', x.tree!, '-q', '--db', join(dir, 'code-whole.db')]);
  const codeWhole = dumpCodeDb(join(dir, 'code-whole.db'));
  ok(['code', 'merge', ...parts('code'), '--db', join(dir, 'code.db'), '-q']);
  assert.deepEqual(dumpCodeDb(join(dir, 'code.db')), codeWhole);
  await twoLevel('code', 'code', ['--db', join(dir, 'code2.db'), '-q']);
  assert.deepEqual(dumpCodeDb(join(dir, 'code2.db')), codeWhole);
});

test('a lock held on one host refuses a writer on another (with its own host name, or only its own pids)', { skip, timeout: 60_000 }, async () => {
  const events = join(dir, 'lock-events.jsonl');
  writeFileSync(events, toJsonl(makeEvents(20, 4)));
  for (const holder of [hostA, { ...hostA, name: null, pidOffset: 9 }]) {
    const out = join(dir, `locked-${holder.name ?? 'same-name'}`);
    const lock = await holdLockOnHost(holder, out);
    try {
      // Host B (another name), and a host with this machine's name whose pids do not include the
      // holder's (what a pid check alone would take for a dead owner).
      for (const [k, writer] of [hostB, { name: null, env }].entries()) {
        const [r] = await runOnHost(writer, [['nostr', 'convert', events, '-o', out, '-j', '1', '--no-validate-signatures']], dir, `lock-${holder.name ?? 'n'}-${k}`);
        assert.equal(r!.status, 1, r!.stderr);
        assert.match(r!.stderr, /OUTPUT_LOCKED.*\(pid \d+ on host/);
      }
      // In the parent namespace too (the holder's pid may be dead, or another process, here).
      const here = runCli(['nostr', 'convert', events, '-o', out, '-j', '1', '--no-validate-signatures'], { env });
      assert.ok(here.status === 1 && here.stderr.includes('OUTPUT_LOCKED'), here.stderr);
      assert.ok(!readdirSync(out).some((n) => n.endsWith('.pb.gz')), 'nothing written under another host\'s lock');
    } finally {
      await lock.release();
    }
    const after = runCli(['nostr', 'convert', events, '-o', out, '-j', '1', '--no-validate-signatures', '-q'], { env });
    assert.equal(after.status, 0, after.stderr);
  }
});

test("a shard killed with -9 on one host leaves a temporary that another host removes only after the lease", { skip, timeout: 120_000 }, async () => {
  const fq = join(dir, 'lease.fq');
  writeFileSync(fq, syntheticFastq(1500, 8));
  const parts = join(dir, 'lease-parts');
  mkdirSync(parts, { recursive: true });
  const shard = (i: number): string[] => ['fastq', 'convert', fq, ...J1, '--shard', `${i}/2`, '-o', join(parts, '{I}.arrow')];
  const [killed] = await runOnHost({ ...hostA, env: killAtRename(1, env), pidOffset: 12 }, [shard(0)], dir, 'killed');
  assert.equal(killed!.status, 137, `the shard on host A was killed: ${killed!.stderr}`);
  const temp = readdirSync(parts).find((n) => n.startsWith('.0.arrow.threadmill-tmp-'));
  assert.ok(temp, 'host A left its temporary');
  // Its last heartbeat: now. Host A is gone (its namespace ended with it).
  const now = new Date();
  utimesSync(join(parts, temp), now, now);
  const [early] = await runOnHost(hostB, [shard(1)], dir, 'early');
  assert.equal(early!.status, 0, early!.stderr);
  assert.ok(Date.now() - now.getTime() < LEASE_S * 1000, 'host B finished inside the lease (a slow machine would make this test moot)');
  assert.ok(existsSync(join(parts, temp)), 'inside the lease, another host leaves the temporary alone');
  await sleep(Math.max(0, now.getTime() + LEASE_S * 1000 + 300 - Date.now()));
  assert.ok(Date.now() - statSync(join(parts, temp)).mtimeMs > LEASE_S * 1000);
  const [late] = await runOnHost(hostB, [shard(1)], dir, 'late');
  assert.equal(late!.status, 0, late!.stderr);
  assert.ok(!existsSync(join(parts, temp)), 'past the lease, the dead host\'s temporary is removed');
  assert.deepEqual(readdirSync(parts).sort(), ['1.arrow']);
});
