/**
 * On a real Slurm (scripts/start-slurm.sh; CI starts one): an array job of 4 shards run two at a
 * time (`sbatch --array=0-3%2`, the index from SLURM_ARRAY_TASK_ID through --shard auto/4) and a
 * merge job that waits for them (`sbatch --wait --dependency=afterok:…`); the merged numbers equal
 * an unsharded run's. Skips with a message where no Slurm answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { syntheticFastq } from '../formats/fastq/helpers.js';
import { cliPath, runCli, tempDir } from './helpers.js';

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
