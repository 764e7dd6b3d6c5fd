/** `threadmill bam convert|stats|header`. Registered by src/cli.ts. */
import { Option, type Command } from 'commander';
import { action, addRunOptions, checkRejects, formatTable, interruptSignal, positiveInt, progressFor, warner, type RunFlags } from '../../cli/common.js';
import { headerBam, statsBam } from './pipeline.js';
import { shardOf, type ShardFlags } from '../../cli/shard.js';
import { registerBamMerge, shardBamConvert, shardBamStats } from './merge.js';
import { samHeaderText } from './header.js';
import { formatStats } from './stats.js';

interface ConvertFlags extends RunFlags {
  output: string;
  format?: 'ipc' | 'parquet';
  batchSize: number;
  batchMib: number;
  sequence: boolean;
  quality: boolean;
  tags: boolean;
  limit?: number;
  allowTruncated?: boolean;
  compression: 'zstd' | 'snappy' | 'none';
}

function runBase(input: string, flags: RunFlags & { allowTruncated?: boolean }, label: string) {
  return {
    input,
    threads: flags.threads,
    progress: progressFor(flags, label),
    warn: warner(flags),
    allowTruncated: flags.allowTruncated ?? false,
    signal: interruptSignal(),
  };
}

export function registerBamCommands(program: Command): void {
  const bam = program.command('bam').description('BAM (BGZF-compressed alignments): convert to Arrow IPC / Parquet, stats, header');

  addRunOptions(bam.command('convert')
    .description('convert a BAM file (or - for stdin) to Arrow IPC or Parquet, one row per record')
    .argument('<input>', 'BAM file, or - for stdin')
    .requiredOption('-o, --output <file>', 'output file (.arrow / .parquet)')
    .addOption(new Option('--format <format>', 'output format (default: from the extension)').choices(['ipc', 'parquet']))
    .option('--batch-size <n>', 'rows per record batch / row group', positiveInt('--batch-size'), 100_000)
    .option('--batch-mib <n>', 'at most this many MiB of values per batch (long reads)', positiveInt('--batch-mib'), 64)
    .option('--no-sequence', 'leave out the seq column')
    .option('--no-quality', 'leave out the qual column')
    .option('--no-tags', 'leave out the tags column')
    .option('--limit <n>', 'stop after N records', positiveInt('--limit'))
    .addOption(new Option('--compression <codec>', 'Parquet compression (zstd: smaller; snappy: faster)').choices(['zstd', 'snappy', 'none']).default('zstd'))
    .option('--allow-truncated', 'keep the records before a truncated end instead of failing'))
    .action(action(async (input: string, flags: ConvertFlags & ShardFlags & { chunkSize?: number }) => {
      const shard = shardOf(flags);
      if (shard) return shardBamConvert({ ...runBase(input, flags, 'bam convert'), chunkSize: flags.chunkSize }, flags, shard, flags.quiet);
      checkRejects(flags, [input], [flags.output]);
      const base = runBase(input, flags, 'bam convert');
      // Loaded here: `bam stats` and `bam header` need neither it nor apache-arrow.
      const { convertBam } = await import('./convert.js');
      const r = await convertBam({
        ...base, output: flags.output, format: flags.format, batchSize: flags.batchSize, maxBatchBytes: flags.batchMib * 2 ** 20,
        sequence: flags.sequence, quality: flags.quality, tags: flags.tags, limit: flags.limit, compression: flags.compression,
      });
      base.progress.finish();
      const summary = { input, output: flags.output, records: r.written, batches: r.batches, truncated: r.truncated, seconds: r.stats.seconds, threads: r.stats.threads, recordsPerSecond: Math.round(r.written / Math.max(r.stats.seconds, 1e-9)) };
      if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else if (!flags.quiet) {
        process.stderr.write(`${formatTable([['records', r.written], ['batches', r.batches], ['threads', r.stats.threads], ['seconds', r.stats.seconds.toFixed(2)], ['records/s', summary.recordsPerSecond]])}\n`);
      }
    }));

  addRunOptions(bam.command('stats')
    .description('record counts like samtools flagstat, and per-reference mapped/unmapped counts like samtools idxstats')
    .argument('<input>', 'BAM file, or - for stdin')
    .option('--allow-truncated', 'count the records before a truncated end instead of failing'))
    .action(action(async (input: string, flags: RunFlags & ShardFlags & { allowTruncated?: boolean; output?: string; chunkSize?: number }) => {
      const shard = shardOf(flags);
      if (shard) return shardBamStats({ ...runBase(input, flags, 'bam stats'), chunkSize: flags.chunkSize }, flags.output, shard, flags.quiet);
      checkRejects(flags, [input]);
      const base = runBase(input, flags, 'bam stats');
      const r = await statsBam(base);
      base.progress.finish();
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ flags: Array.from(r.stats.flags), perRef: Array.from(r.stats.perRef), references: r.header.references })}\n`);
      } else process.stdout.write(formatStats(r.stats, r.header.references));
    }));

  registerBamMerge(bam);

  bam.command('header')
    .description('print the SAM header text (as samtools view -H does)')
    .argument('<input>', 'BAM file, or - for stdin')
    .action(action(async (input: string) => {
      const h = await headerBam({ input, threads: 1 });
      process.stdout.write(samHeaderText(h));
    }));
}
