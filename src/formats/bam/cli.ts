/** `threadmill bam`: convert and stats declared for the runner (src/cli/command-spec.ts), and header. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { action, positiveInt } from '../../cli/common.js';
import { defineCommand, type CommonFlags, type FormatSpec, type RunContext } from '../../cli/command-spec.js';
import { normalChunkSize } from '../../engine/manifest.js';
import { tableKindOf } from '../../sinks/table-file.js';
import { COMPRESSION_CHOICES, COMPRESSION_HELP, ipcCodecOf, parquetCompressionOf, type CompressionChoice } from '../../sinks/ipc-compression-option.js';
import { isFiltering, parseFlagValue, type RecordFilter } from './filter.js';
import { headerBam, statsBam, type BamRunOptions } from './pipeline.js';
import { samHeaderText, type BamReference } from './header.js';
import { formatStats, mergeStats, statsJson, type BamStatsPartial } from './stats.js';
import { BAM_COLUMNS, FLAG_COLUMNS } from './column-names.js';
import type { BamConvertResult } from './convert.js';
import type { ShareCoverage } from '../../engine/share-plan.js';
import { addRegionOptions, regionChoiceOf, regionShardRefusal, type RegionFlags } from './region-options.js';
import { addTagOptions, isTagsAuto, tagShardRefusal, typedTagsOf, type TagFlags } from './tag-options.js';

interface FilterFlags { requireFlags?: number; excludeFlags?: number; excludeAllFlags?: number; minMapq?: number }
interface BamFlags extends CommonFlags, FilterFlags, RegionFlags { allowTruncated?: boolean; chunkSize?: number }
interface ConvertFlags extends BamFlags, TagFlags {
  output: string; format?: 'ipc' | 'parquet'; batchSize: number; batchMib?: number; sequence: boolean; quality: boolean; tags: boolean;
  columns?: string[]; flagColumns?: boolean; limit?: number; compression?: CompressionChoice;
}
interface StatsResult { references: BamReference[]; stats: BamStatsPartial; truncated: boolean; records: number; rejected: number; share: ShareCoverage[] | null }
type ConvertResult = BamConvertResult & { input: string; output: string };

/** commander shows an InvalidArgumentError as a usage error (exit 2). */
function flagArg(option: string, v: string): number {
  try {
    return parseFlagValue(option, v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/** samtools view's record filters, the truncation policy and the hidden chunk size: convert's and stats' options. */
function bamOptions(cmd: Command): Command {
  return addRegionOptions(cmd)
    .option('-f, --require-flags <flags>', 'only records with all these flag bits set (samtools view -f: a number, 0x…, or names like PAIRED,READ1)', (v) => flagArg('-f', v))
    .option('-F, --exclude-flags <flags>', 'leave out records with any of these flag bits set (samtools view -F)', (v) => flagArg('-F', v))
    .option('-G, --exclude-all-flags <flags>', 'leave out records with all of these flag bits set (samtools view -G)', (v) => flagArg('-G', v))
    // Not -q: that is --quiet in every threadmill command (docs/decisions/0022-bam-filters-and-json.md).
    .option('--min-mapq <n>', 'leave out records whose MAPQ is below n (samtools view -q)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 255) throw new InvalidArgumentError('-q must be an integer from 0 to 255');
      return n;
    })
    .option('--allow-truncated', 'keep the records before a truncated end instead of failing')
    .addOption(new Option('--chunk-size <bytes>', 'target chunk size (compressed bytes)').argParser(positiveInt('--chunk-size')).hideHelp());
}

/** Parts' manifests do not record these yet, so a merge could not tell parts written with other ones. */
const NOT_IN_MANIFEST = '--shard cannot be combined with -f/-F/-G/--min-mapq, --columns or --flag-columns yet (the part manifest does not record them)';

function filterOf(flags: FilterFlags): RecordFilter | undefined {
  const f = { require: flags.requireFlags ?? 0, exclude: flags.excludeFlags ?? 0, excludeAll: flags.excludeAllFlags ?? 0, minMapq: flags.minMapq ?? 0 };
  return isFiltering(f) ? f : undefined;
}

/** A bad record fails a bam run unless --rejects or --max-errors ask to skip it (decision 0022). */
function runOptionsOf(ctx: RunContext<BamFlags>, label?: string): BamRunOptions & { progress: { finish(): void } } {
  const f = ctx.flags;
  return { input: ctx.inputs[0]!, filter: filterOf(f), threads: f.threads, chunkSize: f.chunkSize, allowTruncated: f.allowTruncated ?? false, progress: ctx.progress(label), warn: ctx.warn, signal: ctx.signal, shard: ctx.shard, errorLog: ctx.rejecting ? ctx.errorLog : undefined, regions: regionChoiceOf(f) };
}

/**
 * Parquet batches default to 16 MiB of values: each worker's parquet-wasm memory grows to its
 * largest row group and never shrinks, and 16 MiB measured 511–528 MB peak RSS at -j 2 against
 * 677 MB with 64 MiB, at the same CPU, for files 0.07% larger (decision 0034).
 */
const batchMibOf = (f: { batchMib?: number }, format: 'ipc' | 'parquet'): number => f.batchMib ?? (format === 'parquet' ? 16 : 64);

const readOptions = (f: BamFlags): Record<string, unknown> => ({ allowTruncated: f.allowTruncated ?? false, chunkSize: normalChunkSize(f.chunkSize) });
const rejectedNote = (n: number): string | undefined => (n > 0 ? `threadmill bam stats: ${n} bad record(s) left out` : undefined);
/** The manifest's JSON has sorted keys; a reference is printed as the header reader builds it. */
const referencesOf = (refs: BamReference[]): BamReference[] => refs.map(({ name, length }) => ({ name, length }));

const statsCommand = defineCommand<BamFlags, StatsResult, BamStatsPartial>({
  name: 'stats',
  description: 'record counts like samtools flagstat, and per-reference mapped/unmapped counts like samtools idxstats',
  inputs: { name: 'input', help: 'BAM file, or - for stdin', many: false },
  options: bamOptions,
  async run(ctx) {
    const base = runOptionsOf(ctx);
    const r = await statsBam(base);
    base.progress.finish();
    return { references: r.header.references, stats: r.stats, truncated: r.truncated, records: r.run.records, rejected: ctx.errorLog.total, share: r.run.share ?? null };
  },
  counts: (r) => ({ records: r.records, rejected: r.rejected }),
  report: (r) => ({ summary: statsJson(r.stats, r.references), stdout: formatStats(r.stats, r.references), note: rejectedNote(r.rejected) }),
  shard: {
    refuse: (f) => regionShardRefusal(f) ?? (filterOf(f) ? NOT_IN_MANIFEST : undefined),
    manifestOptions: readOptions,
    share: (r) => r.share,
    data: (r) => ({ references: r.references, truncated: r.truncated }),
    part: {
      kind: 'summary',
      partialOf: (r) => r.stats,
      toJson: (s) => ({ flags: Array.from(s.flags), perRef: Array.from(s.perRef) }),
      fromJson: (x) => {
        const s = x as { flags?: unknown; perRef?: unknown };
        return Array.isArray(s.flags) && Array.isArray(s.perRef) ? { flags: Float64Array.from(s.flags as number[]), perRef: Float64Array.from(s.perRef as number[]) } : null;
      },
      combine: mergeStats,
      resultOf: (s, data) => ({ references: referencesOf(data.references as BamReference[]), stats: s, truncated: data.truncated === true, records: Number(data.records ?? 0), rejected: Number(data.rejected ?? 0), share: null }),
    },
  },
});

const convertCommand = defineCommand<ConvertFlags, ConvertResult>({
  name: 'convert',
  description: 'convert a BAM file (or - for stdin) to Arrow IPC or Parquet, one row per record',
  inputs: { name: 'input', help: 'BAM file, or - for stdin', many: false },
  options: (cmd) => addTagOptions(bamOptions(cmd))
    .addOption(new Option('--format <format>', 'output format (default: from the extension)').choices(['ipc', 'parquet']))
    .option('--batch-size <n>', 'rows per record batch / row group', positiveInt('--batch-size'), 100_000)
    .option('--batch-mib <n>', 'at most this many MiB of values per batch (long reads; default 64, for Parquet 16)', positiveInt('--batch-mib'))
    .option('--no-sequence', 'leave out the seq column')
    .option('--no-quality', 'leave out the qual column')
    .option('--no-tags', 'leave out the tags column')
    .option('--columns <list>', `only these columns, comma-separated (of ${BAM_COLUMNS.join(',')})`, (v) => v.split(',').map((c) => c.trim()).filter((c) => c !== ''))
    .option('--flag-columns', `add one boolean column per flag bit after flag (${FLAG_COLUMNS.join(', ')})`)
    .option('--limit <n>', 'stop after N records', positiveInt('--limit'))
    .addOption(new Option('--compression <codec>', COMPRESSION_HELP).choices(COMPRESSION_CHOICES)),
  output: { flags: '-o, --output <file>', help: 'output file (.arrow / .parquet)', required: true, of: (f) => f.output },
  async run(ctx) {
    const f = ctx.flags;
    const base = runOptionsOf(ctx);
    // Loaded here: `bam stats` and `bam header` need neither it nor apache-arrow.
    const { convertBam, outputFormat } = await import('./convert.js');
    const r = await convertBam({
      ...base, output: ctx.output!, format: f.format, batchSize: f.batchSize, maxBatchBytes: batchMibOf(f, outputFormat(ctx.output!, f.format)) * 2 ** 20,
      sequence: f.sequence, quality: f.quality, tags: f.tags, columns: f.columns, flagColumns: f.flagColumns, limit: f.limit, compression: f.compression, typedTags: typedTagsOf(f, ctx.inputs[0]!), tagsAuto: isTagsAuto(f),
    });
    base.progress.finish();
    return { ...r, input: ctx.inputs[0]!, output: ctx.output! };
  },
  counts: (r) => ({ records: r.written, rejected: Object.values(r.rejected).reduce((a, b) => a + b, 0) }),
  report(r) {
    const rejected = Object.values(r.rejected).reduce((a, b) => a + b, 0);
    const perSecond = Math.round(r.written / Math.max(r.stats.seconds, 1e-9));
    const byCategory = Object.entries(r.rejected).map(([c, n]): [string, number] => [`rejected ${c.replace('_', ' ')}`, n]);
    return {
      summary: { input: r.input, output: r.output, records: r.written, rejected, rejected_by_category: r.rejected, batches: r.batches, truncated: r.truncated, seconds: r.stats.seconds, threads: r.stats.threads, records_per_second: perSecond },
      rows: () => [['records', r.written], ...byCategory, ['batches', r.batches], ['threads', r.stats.threads], ['seconds', r.stats.seconds.toFixed(2)], ['records/s', perSecond]],
    };
  },
  shard: {
    refuse(f) {
      if (regionShardRefusal(f)) return regionShardRefusal(f);
      if (tagShardRefusal(f)) return tagShardRefusal(f);
      if (filterOf(f) || f.columns || f.flagColumns) return NOT_IN_MANIFEST;
      if (f.limit !== undefined) return '--limit cannot be combined with --shard (each shard would stop at its own limit)';
      return undefined;
    },
    manifestOptions(f) {
      const format = f.format ?? (tableKindOf(f.output) === 'parquet' ? 'parquet' : 'ipc');
      // Normalised: `--compression zstd` and no flag are one run.
      const compression = format === 'parquet' ? parquetCompressionOf(f.compression) : ipcCodecOf(f.compression) ?? 'none';
      return { ...readOptions(f), format, batchSize: f.batchSize, batchMib: batchMibOf(f, format), sequence: f.sequence, quality: f.quality, tags: f.tags, compression, ext: format === 'parquet' ? 'parquet' : 'arrow' };
    },
    share: (r) => r.stats.share,
    data: (r) => ({ truncated: r.truncated }),
    part: { kind: 'table' },
  },
});

function registerHeader(bam: Command): void {
  bam.command('header')
    .description('print the SAM header text (as samtools view -H does)')
    .argument('<input>', 'BAM file, or - for stdin')
    .action(action(async (input: string) => {
      const h = await headerBam({ input, threads: 1 });
      process.stdout.write(samHeaderText(h));
    }));
}

export const bamFormat: FormatSpec = {
  name: 'bam',
  description: 'BAM (BGZF-compressed alignments): convert to Arrow IPC / Parquet, stats, header',
  commands: [convertCommand, statsCommand],
  more: registerHeader,
};
