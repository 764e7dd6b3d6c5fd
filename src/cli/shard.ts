/** `--shard I/N` on the long commands, and the output of `merge`: shared by every format's CLI. */
import type { Command } from 'commander';
import { expandPartPath, parseShard, type Shard } from '../engine/shard.js';
import { UsageError } from '../engine/errors.js';

export interface ShardFlags { shard?: string }

export const SHARD_HELP = 'do only share I of N (0-based) and write a part (-o names it; {I} and {N} in it are replaced) for `merge`; auto/N takes I from SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX';

export function addShardOption(cmd: Command): Command {
  return cmd.option('--shard <I/N>', SHARD_HELP);
}

/** The parsed --shard (undefined without it); a usage error (exit 2) when it is malformed. */
export function shardOf(flags: ShardFlags): Shard | undefined {
  return flags.shard === undefined ? undefined : parseShard(flags.shard);
}

/** Where a shard writes its part: `-o`, with {I}/{N} expanded; required. */
export function partPathOf(output: string | undefined, shard: Shard): string {
  if (!output) throw new UsageError('--shard needs -o PART: the directory the shard writes its part to (e.g. -o parts/{I})');
  return expandPartPath(output, shard);
}

export const PARTIAL_HELP = 'merge consecutive shards into a merged part at -o (or --db), for a later merge that takes merged parts like shards\' parts (merges of merges)';

/** Where `merge --partial` writes its merged part; required. */
export function mergedPartPath(output: string | undefined, option = '-o'): string {
  if (!output) throw new UsageError(`merge --partial needs ${option} PART: the directory to write the merged part to`);
  return output;
}
