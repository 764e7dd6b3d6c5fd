/**
 * On a real Slurm (scripts/start-slurm.sh; CI starts one): an array job of 4 shards run two at a
 * time (`sbatch --array=0-3%2`, the index from SLURM_ARRAY_TASK_ID through --shard auto/4) and a
 * merge job that waits for them (`sbatch --wait --dependency=afterok:…`); the merged numbers equal
 * an unsharded run's. Then the two-level plan of docs/scale-out.md at N = 8 for nostr and fastq
 * convert: one shard task cancelled and resubmitted, an array of partial merges, a final merge
 * that is requeued after it finished and succeeds again with the same output. Skips with a
 * message where no Slurm answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeEvents, toJsonl } from '../formats/nostr/fixtures.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { syntheticFastq } from '../formats/fastq/helpers.js';
import { cliPath, nostrContents, runCli, tempDir } from './helpers.js';

function slurmState(): string | false {
  const r = spawnSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) return 'no Slurm reachable (sinfo failed; sudo scripts/start-slurm.sh starts a one-node Slurm)';
  return /^(idle|mixed|allocated)/m.test(r.stdout) ? false : `no Slurm node is up (sinfo: ${r.stdout.trim() || 'nothing'})`;
}

const skip = slurmState();

function sbatch(args: string[]): string {
  const r = spawnSync('sbatch', args, { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `sbatch ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

test('a Slurm array of shards and a dependent merge job give the unsharded result', { skip, timeout: 180_000 }, () => {
  const dir = tempDir('slurm');
  const input = join(dir, 'reads.fq');
  writeFileSync(input, syntheticFastq(6000, 21));
  const node = JSON.stringify(process.execPath);
  const cli = JSON.stringify(cliPath);
  const shard = join(dir, 'shard.sh');
  writeFileSync(shard, `#!/bin/bash\nset -e\nexec ${node} ${cli} fastq stats ${JSON.stringify(input)} --chunk-size 65536 -j 1 --shard auto/4 -o ${JSON.stringify(join(dir, 'parts', '{I}'))} -q\n`);
  const merge = join(dir, 'merge.sh');
  const parts = [0, 1, 2, 3].map((i) => JSON.stringify(join(dir, 'parts', String(i)))).join(' ');
  writeFileSync(merge, `#!/bin/bash\nset -e\n${node} ${cli} fastq merge ${parts} --json > ${JSON.stringify(join(dir, 'merged.json'))}\n`);
  const log = join(dir, 'slurm-%A_%a.out');
  const jid = sbatch(['--parsable', '--array=0-3%2', '-c', '1', '-o', log, '-D', dir, shard]).split(';')[0]!;
  sbatch(['--wait', `--dependency=afterok:${jid}`, '-c', '1', '-o', join(dir, 'merge-%j.out'), '-D', dir, merge]);
  const whole = runCli(['fastq', 'stats', input, '--json']);
  assert.equal(whole.status, 0, whole.stderr);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'merged.json'), 'utf8')), JSON.parse(whole.stdout));
});

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** `scontrol show job` fields of a job (or of the first task of an array). */
function jobFields(id: string): Record<string, string> {
  const text = run('scontrol', ['show', 'job', id, '-o']).split('\n')[0]!;
  return Object.fromEntries(text.split(' ').map((kv) => kv.split('=')).filter((kv) => kv.length >= 2).map(([k, ...v]) => [k!, v.join('=')]));
}

async function waitDone(id: string, timeoutMs: number): Promise<Record<string, string>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const f = jobFields(id);
    if (!/PENDING|RUNNING|REQUEUED|CONFIGURING|COMPLETING|SUSPENDED|REQUEUE_HOLD|REQUEUE_FED/.test(f.JobState ?? '')) return f;
    assert.ok(Date.now() < until, `job ${id} still ${f.JobState} after ${timeoutMs / 1000} s`);
    await sleep(500);
  }
}

test('two-level merge on Slurm at N = 8 (nostr, fastq convert): a cancelled and resubmitted task, a requeued final merge', { skip, timeout: 300_000 }, async () => {
  const dir = tempDir('slurm2');
  const reads = join(dir, 'reads.fq');
  writeFileSync(reads, syntheticFastq(8000, 13));
  const lines = toJsonl(makeEvents(600, 17)).split('\n').filter(Boolean);
  const events = join(dir, 'events.jsonl');
  writeFileSync(events, `${[...lines, ...lines.slice(100, 200)].join('\n')}\n`);
  const tm = `${JSON.stringify(process.execPath)} ${JSON.stringify(cliPath)}`;
  const q = (p: string): string => JSON.stringify(join(dir, p));
  const common = 'set -euo pipefail\nexport SOURCE_DATE_EPOCH=1700000000\n';
  const J = '-j 1 --chunk-size 65536 -q';
  writeFileSync(join(dir, 'shard.sh'), `#!/bin/bash\n${common}` +
    `${tm} nostr convert ${q('events.jsonl')} ${J} --no-validate-signatures --shard auto/8 -o ${q('nostr-parts/{I}')}\n` +
    `${tm} fastq convert ${q('reads.fq')} ${J} --batch-size 500 --shard auto/8 -o ${q('fq-parts/{I}.parquet')}\n`);
  // Merge task J of the first level takes shards 4J … 4J+3.
  writeFileSync(join(dir, 'mid.sh'), `#!/bin/bash\n${common}J=$SLURM_ARRAY_TASK_ID\n` +
    `${tm} nostr merge --partial $(seq -f ${q('nostr-parts/%g')} $((J*4)) $((J*4+3))) -o ${q('nostr-mid/')}$J -q\n` +
    `${tm} fastq merge --partial $(seq -f ${q('fq-parts/%g.parquet')} $((J*4)) $((J*4+3))) -o ${q('fq-mid/')}$J.parquet -q\n`);
  writeFileSync(join(dir, 'final.sh'), `#!/bin/bash\n${common}` +
    `${tm} nostr merge ${q('nostr-mid/0')} ${q('nostr-mid/1')} -o ${q('nostr-out')} -q\n` +
    `${tm} fastq merge ${q('fq-mid/0.parquet')} ${q('fq-mid/1.parquet')} -o ${q('reads.parquet')} -q\n`);
  const opts = ['-c', '1', '-D', dir, '-o', join(dir, 'slurm-%A_%a.out')];
  const shards = sbatch(['--parsable', '--hold', '--array=0-7%4', ...opts, join(dir, 'shard.sh')]).split(';')[0]!;
  run('scancel', [`${shards}_5`]); // a task cancelled (by its user, a preemption, a node failure) …
  run('scontrol', ['release', shards]);
  const again = sbatch(['--parsable', '--array=5', ...opts, join(dir, 'shard.sh')]).split(';')[0]!; // … and resubmitted by index
  // afterany on the array (its task 5 was cancelled, so afterok never comes), afterok on the
  // resubmission; merge itself refuses a missing or failed part (PART_MISSING).
  const mid = sbatch(['--parsable', '--array=0-1', `--dependency=afterany:${shards},afterok:${again}`, ...opts, join(dir, 'mid.sh')]).split(';')[0]!;
  const final = sbatch(['--parsable', '--requeue', `--dependency=afterok:${mid}`, '-c', '1', '-D', dir, '-o', join(dir, 'final-%j.out'), join(dir, 'final.sh')]).split(';')[0]!;
  const first = await waitDone(final, 240_000);
  assert.equal(first.JobState, 'COMPLETED', `final merge: ${JSON.stringify(first)} ${readFileSync(join(dir, `final-${final}.out`), 'utf8')}`);
  const merged = { nostr: nostrContents(join(dir, 'nostr-out')), parquet: readFileSync(join(dir, 'reads.parquet')) };

  run('scontrol', ['requeue', final]); // a requeued merge job finds its own earlier output
  // slurmctld holds a requeued job back (a begin time ~2 min ahead); let it start sooner, once
  // the requeue has shown (Restarts counts it; the state may pass through COMPLETING first).
  for (let k = 0; k < 60; k++) {
    const f = jobFields(final);
    if (Number(f.Restarts) >= 1 && f.JobState === 'PENDING') break;
    await sleep(250);
  }
  // Not "now": slurmd refuses a launch in the second the earlier run's credential was revoked
  // ("Job credential revoked", exit 1) — the reason slurmctld holds requeued jobs back at all.
  spawnSync('scontrol', ['update', `JobId=${final}`, 'StartTime=now+3'], { encoding: 'utf8', timeout: 10_000 });
  await sleep(500);
  const second = await waitDone(final, 120_000);
  assert.equal(second.JobState, 'COMPLETED', `requeued merge: ${JSON.stringify(second)} ${readFileSync(join(dir, `final-${final}.out`), 'utf8')}`);
  assert.ok(Number(second.Restarts) >= 1, `the merge job ran again (Restarts=${second.Restarts})`);

  const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };
  for (const args of [['nostr', 'convert', events, '-j', '1', '--chunk-size', '65536', '--no-validate-signatures', '-q', '-o', join(dir, 'nostr-whole')],
    ['fastq', 'convert', reads, '-j', '1', '--chunk-size', '65536', '--batch-size', '500', '-q', '-o', join(dir, 'whole.parquet')]]) {
    const r = runCli(args, { env });
    assert.equal(r.status, 0, r.stderr);
  }
  const whole = nostrContents(join(dir, 'nostr-whole'));
  assert.deepEqual(merged.nostr, whole);
  assert.deepEqual(nostrContents(join(dir, 'nostr-out')), whole, 'after the requeued merge');
  assert.ok(merged.parquet.equals(readFileSync(join(dir, 'whole.parquet'))), 'fastq: the unsharded Parquet bytes');
  assert.ok(readFileSync(join(dir, 'reads.parquet')).equals(merged.parquet), 'fastq: the same bytes after the requeued merge');
});
