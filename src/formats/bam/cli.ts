/** `threadmill bam convert|stats|header`. Registered by src/cli.ts. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { isFiltering, parseFlagValue, type RecordFilter } from './filter.js';
import { action, addRunOptions, checkRejects, formatTable, interruptSignal, moreErrorsNote, positiveInt, printRecordError, progressFor, warner, type RunFlags } from '../../cli/common.js';
import { OutputTransaction } from '../../engine/atomic.js';
import { ErrorLog } from '../../engine/error-log.js';
import { UsageError } from '../../engine/errors.js';
import { headerBam, statsBam } from './pipeline.js';
import { shardOf, type ShardFlags } from '../../cli/shard.js';
import { registerBamMerge, shardBamConvert, shardBamStats } from './merge.js';
import { samHeaderText } from './header.js';
import { formatStats, statsJson } from './stats.js';
import { BAM_COLUMNS, FLAG_COLUMNS } from './column-names.js';
import { COMPRESSION_CHOICES, COMPRESSION_HELP, type CompressionChoice } from '../../sinks/ipc-compression-option.js';

interface ConvertFlags extends RunFlags, FilterFlags {
  output: string;
  format?: 'ipc' | 'parquet';
  batchSize: number;
  batchMib: number;
  sequence: boolean;
  quality: boolean;
  tags: boolean;
  columns?: string[];
  flagColumns?: boolean;
  limit?: number;
  allowTruncated?: boolean;
  compression?: CompressionChoice;
}

interface FilterFlags { requireFlags?: number; excludeFlags?: number; excludeAllFlags?: number; minMapq?: number }

/** commander shows an InvalidArgumentError as a usage error (exit 2). */
function flagArg(option: string, v: string): number {
  try {
    return parseFlagValue(option, v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/** samtools view's record filters, as options of convert and stats. */
function addFilterOptions(cmd: Command): Command {
  return cmd
    .option('-f, --require-flags <flags>', 'only records with all these flag bits set (samtools view -f: a number, 0x…, or names like PAIRED,READ1)', (v) => flagArg('-f', v))
    .option('-F, --exclude-flags <flags>', 'leave out records with any of these flag bits set (samtools view -F)', (v) => flagArg('-F', v))
    .option('-G, --exclude-all-flags <flags>', 'leave out records with all of these flag bits set (samtools view -G)', (v) => flagArg('-G', v))
    // Not -q: that is --quiet in every threadmill command (docs/decisions/0022-bam-filters-and-json.md).
    .option('--min-mapq <n>', 'leave out records whose MAPQ is below n (samtools view -q)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 255) throw new InvalidArgumentError('-q must be an integer from 0 to 255');
      return n;
    });
}

/** Parts' manifests do not record these yet, so a merge could not tell parts written with other ones. */
const NOT_IN_MANIFEST = '--shard cannot be combined with -f/-F/-G/--min-mapq, --columns or --flag-columns yet (the part manifest does not record them)';

function filterOf(flags: FilterFlags): RecordFilter | undefined {
  const f = { require: flags.requireFlags ?? 0, exclude: flags.excludeFlags ?? 0, excludeAll: flags.excludeAllFlags ?? 0, minMapq: flags.minMapq ?? 0 };
  return isFiltering(f) ? f : undefined;
}

function runBase(input: string, flags: RunFlags & FilterFlags & { allowTruncated?: boolean; chunkSize?: number }, label: string) {
  return {
    input,
    filter: filterOf(flags),
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

  addFilterOptions(addRunOptions(bam.command('convert')
    .description('convert a BAM file (or - for stdin) to Arrow IPC or Parquet, one row per record')
    .argument('<input>', 'BAM file, or - for stdin')
    .requiredOption('-o, --output <file>', 'output file (.arrow / .parquet)')
    .addOption(new Option('--format <format>', 'output format (default: from the extension)').choices(['ipc', 'parquet']))
    .option('--batch-size <n>', 'rows per record batch / row group', positiveInt('--batch-size'), 100_000)
    .option('--batch-mib <n>', 'at most this many MiB of values per batch (long reads)', positiveInt('--batch-mib'), 64)
    .option('--no-sequence', 'leave out the seq column')
    .option('--no-quality', 'leave out the qual column')
    .option('--no-tags', 'leave out the tags column')
    .option('--columns <list>', `only these columns, comma-separated (of ${BAM_COLUMNS.join(',')})`, (v) => v.split(',').map((c) => c.trim()).filter((c) => c !== ''))
    .option('--flag-columns', `add one boolean column per flag bit after flag (${FLAG_COLUMNS.join(', ')})`)
    .option('--limit <n>', 'stop after N records', positiveInt('--limit'))
    .addOption(new Option('--compression <codec>', COMPRESSION_HELP).choices(COMPRESSION_CHOICES))
    .option('--allow-truncated', 'keep the records before a truncated end instead of failing')))
    .action(action(async (input: string, flags: ConvertFlags & ShardFlags & { chunkSize?: number }) => {
      const shard = shardOf(flags);
      if (shard && (filterOf(flags) || flags.columns || flags.flagColumns)) throw new UsageError(NOT_IN_MANIFEST);
      if (shard) return shardBamConvert(runBase(input, flags, 'bam convert'), flags, shard, flags.quiet);
      checkRejects(flags, [input], [flags.output]);
      const base = runBase(input, flags, 'bam convert');
      // Loaded here: `bam stats` and `bam header` need neither it nor apache-arrow.
      const { convertBam } = await import('./convert.js');
      const r = await convertBam({
        ...base, output: flags.output, format: flags.format, batchSize: flags.batchSize, maxBatchBytes: flags.batchMib * 2 ** 20,
        sequence: flags.sequence, quality: flags.quality, tags: flags.tags, columns: flags.columns, flagColumns: flags.flagColumns, limit: flags.limit, compression: flags.compression,
        rejectsPath: flags.rejects, maxErrors: flags.maxErrors, onRecordError: printRecordError(flags), onMoreRecordErrors: moreErrorsNote(flags),
      });
      base.progress.finish();
      const rejected = Object.values(r.rejected).reduce((a, b) => a + b, 0);
      const summary = { input, output: flags.output, records: r.written, rejected, rejected_by_category: r.rejected, batches: r.batches, truncated: r.truncated, seconds: r.stats.seconds, threads: r.stats.threads, records_per_second: Math.round(r.written / Math.max(r.stats.seconds, 1e-9)) };
      if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else if (!flags.quiet) {
        const byCategory = Object.entries(r.rejected).map(([c, n]): [string, number] => [`rejected ${c.replace('_', ' ')}`, n]);
        process.stderr.write(`${formatTable([['records', r.written], ...byCategory, ['batches', r.batches], ['threads', r.stats.threads], ['seconds', r.stats.seconds.toFixed(2)], ['records/s', summary.records_per_second]])}\n`);
      }
    }));

  addFilterOptions(addRunOptions(bam.command('stats')
    .description('record counts like samtools flagstat, and per-reference mapped/unmapped counts like samtools idxstats')
    .argument('<input>', 'BAM file, or - for stdin')
    .option('--allow-truncated', 'count the records before a truncated end instead of failing')))
    .action(action(async (input: string, flags: RunFlags & ShardFlags & FilterFlags & { allowTruncated?: boolean; output?: string; chunkSize?: number }) => {
      const shard = shardOf(flags);
      if (shard && filterOf(flags)) throw new UsageError(NOT_IN_MANIFEST);
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
        process.stdout.write(`${JSON.stringify(statsJson(r.stats, r.header.references))}\n`);
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
