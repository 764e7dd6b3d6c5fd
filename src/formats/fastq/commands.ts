/** `threadmill fastq`: stats and convert, declared for the runner (src/cli/command-spec.ts). */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { positiveInt } from '../../cli/common.js';
import { defineCommand, type CommonFlags, type FormatSpec, type RunContext } from '../../cli/command-spec.js';
import { normalChunkSize } from '../../engine/manifest.js';
import { UsageError } from '../../engine/errors.js';
import type { ShareCoverage } from '../../engine/share-plan.js';
import { COMPRESSION_CHOICES, COMPRESSION_HELP, ipcCodecOf, parquetCompressionOf, type CompressionChoice } from '../../sinks/ipc-compression-option.js';
import { tableExtensionOf } from '../../sinks/table-file.js';
import { runFastq } from './pipeline.js';
import { emptyPartial, finalizeStats, mergePartials, statsJson, statsTable, statsTsv, type StatsPartial } from './stats.js';
import type { ConvertSummary } from './convert.js';

interface FastqFlags extends CommonFlags { phred: 33 | 64; wrapped?: boolean; chunkSize?: number; allowTruncated?: boolean }
interface StatsFlags extends FastqFlags { tsv?: boolean }
interface ConvertFlags extends FastqFlags { output: string; batchSize: number; limit?: number; compression?: CompressionChoice; interleaved?: boolean; paired?: boolean; qualityScores?: boolean }

interface StatsResult { names: string[]; partials: StatsPartial[]; rejected: number; share: ShareCoverage[] }

function phred(v: string): 33 | 64 {
  if (v === '33' || v === '64') return Number(v) as 33 | 64;
  throw new InvalidArgumentError('--phred must be 33 or 64');
}

function fastqOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--phred <33|64>', 'quality offset: 33 (Sanger, Illumina 1.8+) or 64 (Illumina 1.3-1.7, Solexa)').argParser(phred).default(33))
    .option('--wrapped', 'the input has wrapped (multi-line) records: read each input as one chunk (detected from the first 1 MiB otherwise)')
    .option('--allow-truncated', 'an input cut short (inside a BGZF block, or inside its last record): keep the records before the cut (with a warning) instead of failing')
    .addOption(new Option('--chunk-size <bytes>', 'target chunk size').argParser(positiveInt('--chunk-size')).hideHelp());
}

/** What makes two shards' parts one run, normalised (defaults spelled out). */
const readOptions = (f: FastqFlags): Record<string, unknown> => ({ phred: f.phred, chunkSize: normalChunkSize(f.chunkSize), wrapped: f.wrapped ?? false, allowTruncated: f.allowTruncated ?? false });

function runOptions(ctx: RunContext<FastqFlags>) {
  const f = ctx.flags;
  return { threads: f.threads, chunkSize: f.chunkSize, wrapped: f.wrapped, allowTruncated: f.allowTruncated, failTruncatedRecord: true, errorLog: ctx.errorLog, signal: ctx.signal, warn: ctx.warn, shard: ctx.shard };
}

async function stats(ctx: RunContext<StatsFlags>): Promise<StatsResult> {
  const partials: StatsPartial[] = [];
  const share: ShareCoverage[] = [];
  for (const input of ctx.inputs) {
    let partial = emptyPartial();
    const progress = ctx.progress(input);
    const run = await runFastq(input, { mode: 'stats', phred: ctx.flags.phred }, { ...runOptions(ctx), progress }, (c) => {
      if (c.payload.kind === 'stats') partial = mergePartials(partial, c.payload.partial);
    });
    progress.finish();
    partials.push(partial);
    share.push(...(run.share ?? []));
  }
  return { names: ctx.inputs, partials, rejected: ctx.errorLog.total, share };
}

/** Infinity (the empty partial's min) does not survive JSON. */
const partialToJson = (p: StatsPartial): unknown => ({ ...p, minLen: Number.isFinite(p.minLen) ? p.minLen : null });
const partialFromJson = (p: StatsPartial & { minLen: number | null }): StatsPartial => ({ ...p, minLen: p.minLen ?? Infinity });

const statsCommand = defineCommand<StatsFlags, StatsResult, StatsPartial[]>({
  name: 'stats',
  description: 'the numbers of `seqkit stats -a` for each input (plain, gzip, BGZF, or - for stdin)',
  inputs: { name: 'inputs', help: 'FASTQ files, or - for stdin', many: true },
  options: fastqOptions,
  reportOptions: (cmd) => cmd.option('--tsv', 'tab-separated output (like seqkit stats -T)'),
  run: stats,
  counts: (r) => ({ records: r.partials.reduce((n, p) => n + p.records, 0), rejected: r.rejected }),
  report(r, flags) {
    const rows = r.partials.map((p, i) => finalizeStats(r.names[i]!, p));
    return {
      summary: statsJson(rows, r.partials),
      stdout: flags.tsv ? statsTsv(rows) : statsTable(rows),
      note: r.rejected > 0 ? `threadmill fastq stats: ${r.rejected} bad record(s) left out` : undefined,
    };
  },
  shard: {
    manifestOptions: readOptions,
    share: (r) => r.share,
    data: (_r, _f, inputs) => ({ names: inputs }),
    part: {
      kind: 'summary',
      partialOf: (r) => r.partials,
      toJson: (p) => p.map(partialToJson),
      fromJson: (x) => (Array.isArray(x) ? (x as (StatsPartial & { minLen: number | null })[]).map(partialFromJson) : null),
      combine: (a, b) => {
        if (a.length !== b.length) throw new UsageError(`parts hold ${a.length} and ${b.length} inputs`);
        return a.map((p, i) => mergePartials(p, b[i]!));
      },
      resultOf: (p, data) => ({ names: data.names as string[], partials: p, rejected: Number(data.rejected ?? 0), share: [] }),
    },
  },
});

/** The part's data file extension: the one -o names (the part is a directory named like the output). */
function tableExtension(output: string): string {
  const ext = tableExtensionOf(output);
  if (!ext || ext === 'pq') throw new UsageError(`cannot tell the output format from ${JSON.stringify(output)}: use .parquet, .arrow or .arrows`);
  return ext;
}

const convertCommand = defineCommand<ConvertFlags, ConvertSummary>({
  name: 'convert',
  description: 'FASTQ → Parquet (.parquet) or Arrow IPC (.arrow, .arrows) with columns id, description, sequence, quality (and mate with --interleaved or --paired R1 R2); several inputs make one table, in order',
  inputs: { name: 'inputs', help: 'FASTQ files, or - for stdin', many: true },
  options: (cmd) => fastqOptions(cmd)
    .option('--quality-scores', 'write quality as list<uint8> of Phred scores (the --phred offset removed) instead of text')
    .option('--interleaved', 'the input holds pairs, mate 1 then mate 2: add a mate column (1, 2) and check that each pair\'s names agree')
    .option('--paired', 'the inputs are R1 R2 [R1 R2 …] (record k of R1 is the mate of record k of its R2): one table in pair order with a mate column (1, 2), names checked as for --interleaved')
    .option('--batch-size <rows>', 'rows per record batch / row group', positiveInt('--batch-size'), 65_536)
    .option('--limit <records>', 'stop after this many records', positiveInt('--limit'))
    .addOption(new Option('--compression <codec>', COMPRESSION_HELP).choices(COMPRESSION_CHOICES)),
  output: { flags: '-o, --output <file>', help: 'output file; the format follows the extension', required: true, of: (f) => f.output },
  async run(ctx) {
    const f = ctx.flags;
    const progress = ctx.progress();
    // Loaded here: stats runs need neither it nor apache-arrow.
    const { convertFastq } = await import('./convert.js');
    const s = await convertFastq({ ...runOptions(ctx), input: ctx.inputs[0]!, inputs: ctx.inputs, interleaved: f.interleaved, paired: f.paired, qualityScores: f.qualityScores, output: ctx.output!, batchSize: f.batchSize, limit: f.limit, compression: f.compression, phred: f.phred, progress });
    progress.finish();
    return s;
  },
  counts: (s) => ({ records: s.written, rejected: s.rejected }),
  report: (s) => ({
    summary: s,
    title: `threadmill fastq convert: ${s.output}`,
    rows: () => [['records read', s.records_in], ['written', s.written], ['rejected', s.rejected], ['threads', s.threads], ['seconds', s.seconds.toFixed(2)], ['records/s', s.records_per_second]],
  }),
  shard: {
    refuse(f, inputs) {
      if (f.paired) return '--paired cannot be combined with --shard (a shard covers one input; its manifest does not record pairs)';
      if (inputs.length > 1 || f.interleaved || f.qualityScores) return '--shard takes one input without --interleaved or --quality-scores';
      if (f.limit !== undefined) return '--limit cannot be combined with --shard (each shard would stop at its own limit)';
      return undefined;
    },
    manifestOptions(f) {
      const ext = tableExtension(f.output);
      // Normalised: `--compression zstd` and no flag are one run.
      const compression = ext === 'parquet' ? parquetCompressionOf(f.compression) : ipcCodecOf(f.compression) ?? 'none';
      return { ...readOptions(f), batchSize: f.batchSize, ext, compression };
    },
    share: (s) => s.share,
    part: { kind: 'table' },
  },
});

export const fastqFormat: FormatSpec = {
  name: 'fastq',
  description: 'FASTQ reads: seqkit-style stats, conversion to Parquet / Arrow',
  commands: [statsCommand, convertCommand],
};
