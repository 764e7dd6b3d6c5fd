/** The `threadmill fastq` command group: stats, convert. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { addRunOptions, action, checkRejects, printSummary, interruptSignal, moreErrorsNote, positiveInt, printRecordError, progressFor, warner, type RunFlags } from '../../cli/common.js';
import { ErrorLog } from '../../engine/error-log.js';
import { UsageError } from '../../engine/errors.js';
import { OutputTransaction } from '../../engine/atomic.js';
import { runFastq } from './pipeline.js';
import { emptyPartial, finalizeStats, mergePartials, statsJson, statsTable, statsTsv, type FastqStats, type StatsPartial } from './stats.js';
import { addShardOption, shardOf, type ShardFlags } from '../../cli/shard.js';
import { registerFastqMerge, shardConvert, shardStats } from './merge.js';
import { COMPRESSION_CHOICES, COMPRESSION_HELP, type CompressionChoice } from '../../sinks/ipc-compression-option.js';

interface FastqFlags extends RunFlags {
  phred: 33 | 64;
  wrapped?: boolean;
  chunkSize?: number;
  allowTruncated?: boolean;
}

function phred(v: string): 33 | 64 {
  if (v === '33' || v === '64') return Number(v) as 33 | 64;
  throw new InvalidArgumentError('--phred must be 33 or 64');
}

function addFastqOptions(cmd: Command): Command {
  return addShardOption(addRunOptions(cmd))
    .addOption(new Option('--phred <33|64>', 'quality offset: 33 (Sanger, Illumina 1.8+) or 64 (Illumina 1.3-1.7, Solexa)').argParser(phred).default(33))
    .option('--wrapped', 'the input has wrapped (multi-line) records: read each input as one chunk (detected from the first 1 MiB otherwise)')
    .option('--allow-truncated', 'an input cut short (inside a BGZF block, or inside its last record): keep the records before the cut (with a warning) instead of failing')
    .addOption(new Option('--chunk-size <bytes>', 'target chunk size').argParser(positiveInt('--chunk-size')).hideHelp());
}

function errorLogFor(flags: RunFlags, tx: OutputTransaction): ErrorLog {
  return new ErrorLog({ maxErrors: flags.maxErrors, rejectsPath: flags.rejects ? tx.tempFor(flags.rejects) : undefined, onError: printRecordError(flags), onMore: moreErrorsNote(flags), echo: 20 });
}

async function statsOf(input: string, flags: FastqFlags, errorLog: ErrorLog, signal: AbortSignal): Promise<StatsPartial> {
  let partial = emptyPartial();
  const progress = progressFor(flags, `fastq stats ${input}`);
  await runFastq(input, { mode: 'stats', phred: flags.phred }, { threads: flags.threads, chunkSize: flags.chunkSize, wrapped: flags.wrapped, allowTruncated: flags.allowTruncated, failTruncatedRecord: true, progress, errorLog, signal, warn: warner(flags) }, (c) => {
    if (c.payload.kind === 'stats') partial = mergePartials(partial, c.payload.partial);
  });
  progress.finish();
  return partial;
}

function registerStats(fastq: Command): void {
  addFastqOptions(fastq.command('stats')
    .description('the numbers of `seqkit stats -a` for each input (plain, gzip, BGZF, or - for stdin)')
    .argument('<inputs...>', 'FASTQ files, or - for stdin')
    .option('--tsv', 'tab-separated output (like seqkit stats -T)')
    .option('-o, --output <part>', 'with --shard: the part directory to write'))
    .action(action(async (inputs: string[], flags: FastqFlags & ShardFlags & { tsv?: boolean; output?: string }) => {
      const shard = shardOf(flags);
      if (shard) return shardStats(inputs, flags, shard);
      checkRejects(flags, inputs, [], true);
      const tx = new OutputTransaction();
      const errorLog = errorLogFor(flags, tx);
      const signal = interruptSignal();
      const partials: StatsPartial[] = [];
      try {
        for (const input of inputs) partials.push(await statsOf(input, flags, errorLog, signal));
        errorLog.close();
        tx.commit();
      } catch (err) {
        errorLog.close();
        tx.abort();
        throw err;
      }
      const rows: FastqStats[] = partials.map((p, i) => finalizeStats(inputs[i]!, p));
      if (flags.json) process.stdout.write(`${JSON.stringify(statsJson(rows, partials))}\n`);
      else process.stdout.write(flags.tsv ? statsTsv(rows) : statsTable(rows));
      if (errorLog.total > 0 && !flags.quiet) process.stderr.write(`threadmill fastq stats: ${errorLog.total} bad record(s) left out\n`);
    }));
}

function registerConvert(fastq: Command): void {
  addFastqOptions(fastq.command('convert')
    .description('FASTQ → Parquet (.parquet) or Arrow IPC (.arrow, .arrows) with columns id, description, sequence, quality (and mate with --interleaved); several inputs make one table, in order')
    .argument('<inputs...>', 'FASTQ files, or - for stdin')
    .option('--quality-scores', 'write quality as list<uint8> of Phred scores (the --phred offset removed) instead of text')
    .option('--interleaved', 'the input holds pairs, mate 1 then mate 2: add a mate column (1, 2) and check that each pair\'s names agree')
    .requiredOption('-o, --output <file>', 'output file; the format follows the extension')
    .option('--batch-size <rows>', 'rows per record batch / row group', positiveInt('--batch-size'), 65_536)
    .option('--limit <records>', 'stop after this many records', positiveInt('--limit'))
    .addOption(new Option('--compression <codec>', COMPRESSION_HELP).choices(COMPRESSION_CHOICES)))
    .action(action(async (inputs: string[], flags: FastqFlags & ShardFlags & { output: string; batchSize: number; limit?: number; compression?: CompressionChoice; interleaved?: boolean; qualityScores?: boolean }) => {
      const shard = shardOf(flags);
      if (shard && (inputs.length > 1 || flags.interleaved || flags.qualityScores)) throw new UsageError('--shard takes one input without --interleaved or --quality-scores');
      if (shard) return shardConvert(inputs[0]!, flags, shard);
      checkRejects(flags, inputs, [flags.output]);
      const tx = new OutputTransaction();
      const errorLog = errorLogFor(flags, tx);
      const progress = progressFor(flags, 'fastq convert');
      try {
        // Loaded here: stats runs need neither it nor apache-arrow.
        const { convertFastq } = await import('./convert.js');
        const s = await convertFastq({ input: inputs[0]!, inputs, interleaved: flags.interleaved, qualityScores: flags.qualityScores, output: flags.output, threads: flags.threads, chunkSize: flags.chunkSize, batchSize: flags.batchSize, limit: flags.limit, compression: flags.compression, phred: flags.phred, wrapped: flags.wrapped, allowTruncated: flags.allowTruncated, progress, errorLog, signal: interruptSignal(), warn: warner(flags) });
        progress.finish();
        errorLog.close();
        tx.commit();
        printSummary(flags, s, `threadmill fastq convert: ${s.output}`, () => [['records read', s.records_in], ['written', s.written], ['rejected', s.rejected], ['threads', s.threads], ['seconds', s.seconds.toFixed(2)], ['records/s', s.records_per_second]]);
      } catch (err) {
        errorLog.close();
        tx.abort();
        throw err;
      }
    }));
}

export function registerFastqCommands(program: Command): void {
  const fastq = program.command('fastq').description('FASTQ reads: seqkit-style stats, conversion to Parquet / Arrow');
  registerStats(fastq);
  registerConvert(fastq);
  registerFastqMerge(fastq);
}
