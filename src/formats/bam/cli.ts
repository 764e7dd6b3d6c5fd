/** `threadmill bam convert|stats|header`. Registered by src/cli.ts. */
import { Option, type Command } from 'commander';
import { action, addRunOptions, checkRejects, formatTable, interruptSignal, moreErrorsNote, positiveInt, printRecordError, progressFor, warner, type RunFlags } from '../../cli/common.js';
import { OutputTransaction } from '../../engine/atomic.js';
import { ErrorLog } from '../../engine/error-log.js';
import { headerBam, statsBam } from './pipeline.js';
import { shardOf, type ShardFlags } from '../../cli/shard.js';
import { registerBamMerge, shardBamConvert, shardBamStats } from './merge.js';
import { samHeaderText } from './header.js';
import { formatStats } from './stats.js';
import { COMPRESSION_CHOICES, COMPRESSION_HELP, type CompressionChoice } from '../../sinks/ipc-compression-option.js';

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
  compression?: CompressionChoice;
}

function runBase(input: string, flags: RunFlags & { allowTruncated?: boolean; chunkSize?: number }, label: string) {
  return {
    input,
    threads: flags.threads,
    chunkSize: flags.chunkSize,
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
    .addOption(new Option('--compression <codec>', COMPRESSION_HELP).choices(COMPRESSION_CHOICES))
    .option('--allow-truncated', 'keep the records before a truncated end instead of failing'))
    .action(action(async (input: string, flags: ConvertFlags & ShardFlags & { chunkSize?: number }) => {
      const shard = shardOf(flags);
      if (shard) return shardBamConvert(runBase(input, flags, 'bam convert'), flags, shard, flags.quiet);
      checkRejects(flags, [input], [flags.output]);
      const base = runBase(input, flags, 'bam convert');
      // Loaded here: `bam stats` and `bam header` need neither it nor apache-arrow.
      const { convertBam } = await import('./convert.js');
      const r = await convertBam({
        ...base, output: flags.output, format: flags.format, batchSize: flags.batchSize, maxBatchBytes: flags.batchMib * 2 ** 20,
        sequence: flags.sequence, quality: flags.quality, tags: flags.tags, limit: flags.limit, compression: flags.compression,
        rejectsPath: flags.rejects, maxErrors: flags.maxErrors, onRecordError: printRecordError(flags), onMoreRecordErrors: moreErrorsNote(flags),
      });
      base.progress.finish();
      const rejected = Object.values(r.rejected).reduce((a, b) => a + b, 0);
      const summary = { input, output: flags.output, records: r.written, rejected, rejectedByCategory: r.rejected, batches: r.batches, truncated: r.truncated, seconds: r.stats.seconds, threads: r.stats.threads, recordsPerSecond: Math.round(r.written / Math.max(r.stats.seconds, 1e-9)) };
      if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else if (!flags.quiet) {
        const byCategory = Object.entries(r.rejected).map(([c, n]): [string, number] => [`rejected ${c.replace('_', ' ')}`, n]);
        process.stderr.write(`${formatTable([['records', r.written], ...byCategory, ['batches', r.batches], ['threads', r.stats.threads], ['seconds', r.stats.seconds.toFixed(2)], ['records/s', summary.recordsPerSecond]])}\n`);
      }
    }));

  addRunOptions(bam.command('stats')
    .description('record counts like samtools flagstat, and per-reference mapped/unmapped counts like samtools idxstats')
    .argument('<input>', 'BAM file, or - for stdin')
    .option('--allow-truncated', 'count the records before a truncated end instead of failing'))
    .action(action(async (input: string, flags: RunFlags & ShardFlags & { allowTruncated?: boolean; output?: string; chunkSize?: number }) => {
      const shard = shardOf(flags);
      if (shard) return shardBamStats(runBase(input, flags, 'bam stats'), flags.output, shard, flags.quiet);
      checkRejects(flags, [input], [], true);
      const base = runBase(input, flags, 'bam stats');
      // Rejected records are skipped (not counted) and listed like convert's; the list is atomic.
      const tx = new OutputTransaction();
      const errorLog = flags.rejects !== undefined || flags.maxErrors !== undefined
        ? new ErrorLog({ maxErrors: flags.maxErrors, rejectsPath: flags.rejects ? tx.tempFor(flags.rejects) : undefined, onError: printRecordError(flags), onMore: moreErrorsNote(flags), echo: 5 })
        : undefined;
      let r;
      try {
        r = await statsBam({ ...base, errorLog });
        errorLog?.close();
        tx.commit();
      } catch (err) {
        tx.abort();
        throw err;
      }
      base.progress.finish();
      if (errorLog && errorLog.total > 0 && !flags.quiet) process.stderr.write(`threadmill: ${errorLog.total} records rejected and not counted\n`);
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
