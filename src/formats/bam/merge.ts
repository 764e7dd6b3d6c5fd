/**
 * `bam stats|convert --shard I/N` (write a part) and `bam merge PART… [-o OUT]`.
 *
 * stats: a part holds the shard's counters (flagstat and per-reference), which add up.
 * convert: a part holds the shard's Arrow IPC or Parquet file; merge appends them in shard order.
 * The records are those of an unsharded run in the same order; batches restart at each share's
 * start (convert cuts batches of exactly --batch-size rows across chunks), so the batch layout,
 * and so the bytes, differ from an unsharded file unless each share is a multiple of the batch
 * size (docs/scale-out.md).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { action, positiveInt } from '../../cli/common.js';
import { PARTIAL_HELP, addShardOption, mergedPartPath, partPathOf } from '../../cli/shard.js';
import { ThreadmillError, UsageError } from '../../engine/errors.js';
import { makeManifest, normalChunkSize } from '../../engine/manifest.js';
import { ipcCodecOf, parquetCompressionOf } from '../../sinks/ipc-compression-option.js';
import { mergedManifest, readParts, readStatsFile, writePart, type Part } from '../../engine/parts.js';
import type { Shard } from '../../engine/shard.js';
import { mergeConverted } from '../fastq/merge.js';
import { statsBam, type BamRunOptions } from './pipeline.js';
import { emptyStats, formatStats, mergeStats, statsJson, type BamStatsPartial } from './stats.js';
import type { BamReference } from './header.js';

const STATS_FILE = 'stats.json';

/** `bam stats --shard`: the shard's counters as a part. */
export async function shardBamStats(base: BamRunOptions, output: string | undefined, shard: Shard, quiet?: boolean): Promise<void> {
  const path = partPathOf(output, shard);
  const r = await statsBam({ ...base, shard });
  base.progress?.finish?.();
  const manifest = makeManifest({
    format: 'bam', command: 'stats', options: { allowTruncated: base.allowTruncated ?? false, chunkSize: normalChunkSize(base.chunkSize) }, inputs: [base.input], shard,
    share: r.run.share ?? null, data: { references: r.header.references, truncated: r.truncated },
  });
  await writePart(path, manifest, (dir) => writeFileSync(join(dir, STATS_FILE), `${JSON.stringify({ flags: Array.from(r.stats.flags), perRef: Array.from(r.stats.perRef) })}\n`));
  if (!quiet) process.stderr.write(`threadmill bam stats: shard ${shard.index}/${shard.count} → ${path}\n`);
}

export interface BamConvertShardOptions { output: string; format?: 'ipc' | 'parquet'; batchSize: number; batchMib: number; sequence: boolean; quality: boolean; tags: boolean; compression?: string; limit?: number }

/** `bam convert --shard`: the shard's rows as one IPC / Parquet file in a part (-o names the part). */
export async function shardBamConvert(base: BamRunOptions, o: BamConvertShardOptions, shard: Shard, quiet?: boolean): Promise<void> {
  if (o.limit !== undefined) throw new UsageError('--limit cannot be combined with --shard (each shard would stop at its own limit)');
  const { convertBam, outputFormat } = await import('./convert.js');
  const format = outputFormat(o.output, o.format);
  const ext = format === 'parquet' ? 'parquet' : 'arrow';
  const path = partPathOf(o.output, shard);
  // Normalised (defaults spelled out): `--compression zstd` and no flag are one run.
  const compression = format === 'parquet' ? parquetCompressionOf(o.compression) : ipcCodecOf(o.compression) ?? 'none';
  const options = { format, batchSize: o.batchSize, batchMib: o.batchMib, sequence: o.sequence, quality: o.quality, tags: o.tags, compression, allowTruncated: base.allowTruncated ?? false, chunkSize: normalChunkSize(base.chunkSize), ext };
  let result: Awaited<ReturnType<typeof convertBam>> | null = null;
  await writePart(path, makeManifest({ format: 'bam', command: 'convert', options, inputs: [base.input], shard }), async (dir) => {
    result = await convertBam({
      ...base, shard, output: join(dir, `data.${ext}`), format, batchSize: o.batchSize, maxBatchBytes: o.batchMib * 2 ** 20,
      sequence: o.sequence, quality: o.quality, tags: o.tags, compression: o.compression as 'zstd' | 'snappy' | 'none',
    });
    base.progress?.finish?.();
  }, (m) => {
    m.share = result!.stats.share ?? null;
    m.data = { records: result!.written, truncated: result!.truncated };
  });
  if (!quiet) process.stderr.write(`threadmill bam convert: shard ${shard.index}/${shard.count} → ${path} (${result!.written} records)\n`);
}

function sumBamStats(parts: Part[]): BamStatsPartial {
  let total: BamStatsPartial = emptyStats();
  for (const p of parts) {
    const s = readStatsFile<{ flags: number[]; perRef: number[] }>(join(p.path, STATS_FILE), (x) => Array.isArray(x.flags) && Array.isArray(x.perRef));
    total = mergeStats(total, { flags: Float64Array.from(s.flags), perRef: Float64Array.from(s.perRef) });
  }
  return total;
}

/** `merge --partial`: consecutive parts into one merged part (counters added, or data appended). */
async function mergeBamPartial(parts: Part[], output: string): Promise<void> {
  const m0 = parts[0]!.manifest;
  const truncated = parts.some((p) => p.manifest.data?.truncated === true);
  if (m0.command === 'stats') {
    const total = sumBamStats(parts);
    await writePart(output, mergedManifest(parts, { references: m0.data!.references, truncated }), (dir) => writeFileSync(join(dir, STATS_FILE), `${JSON.stringify({ flags: Array.from(total.flags), perRef: Array.from(total.perRef) })}\n`));
    return;
  }
  let records = 0;
  await writePart(output, mergedManifest(parts, {}), async (dir) => {
    records = await mergeConverted(parts, join(dir, `data.${String(m0.options.ext)}`));
  }, (m) => {
    m.data = { records, truncated };
  });
}

function mergeBamStats(parts: Part[], json?: boolean): void {
  const total = sumBamStats(parts);
  // The manifest's JSON has sorted keys; `bam stats --json` prints a reference as the header
  // reader builds it (name, then length), and so must the merge.
  const references = (parts[0]!.manifest.data!.references as BamReference[]).map(({ name, length }) => ({ name, length }));
  if (json) process.stdout.write(`${JSON.stringify(statsJson(total, references))}\n`);
  else process.stdout.write(formatStats(total, references));
}

/** Adds --shard (and the hidden --chunk-size) to `bam convert` and `bam stats`, -o PART to stats, and the merge command. */
export function registerBamMerge(bam: Command): void {
  for (const cmd of bam.commands) {
    if (cmd.name() !== 'convert' && cmd.name() !== 'stats') continue;
    addShardOption(cmd).addOption(new Option('--chunk-size <bytes>', 'target chunk size (compressed bytes)').argParser(positiveInt('--chunk-size')).hideHelp());
    if (cmd.name() === 'stats') cmd.option('-o, --output <part>', 'with --shard: the part directory to write');
  }
  bam.command('merge')
    .description('merge the parts written by `bam stats|convert --shard I/N` into what one unsharded run gives')
    .argument('<parts...>', 'part directories, every shard 0…N−1 of one run exactly once')
    .option('-o, --output <file>', 'convert parts: the merged .arrow or .parquet file')
    .option('--json', 'stats parts: JSON on stdout; convert parts: the summary as JSON')
    .option('-q, --quiet', 'no summary on stderr')
    .option('--partial', PARTIAL_HELP)
    .action(action(async (paths: string[], flags: { output?: string; json?: boolean; quiet?: boolean; partial?: boolean }) => {
      const started = performance.now();
      const parts = readParts(paths, 'bam', ['stats', 'convert'], { partial: flags.partial });
      if (flags.partial) return mergeBamPartial(parts, mergedPartPath(flags.output));
      if (parts[0]!.manifest.command === 'stats') return mergeBamStats(parts, flags.json);
      if (!flags.output) throw new UsageError('merging convert parts needs -o OUT (.arrow or .parquet)');
      let records: number;
      try {
        records = await mergeConverted(parts, flags.output);
      } catch (err) {
        throw err instanceof ThreadmillError ? err : new ThreadmillError('MERGE_FAILED', (err as Error).message);
      }
      const seconds = (performance.now() - started) / 1000;
      if (flags.json) process.stdout.write(`${JSON.stringify({ output: flags.output, parts: parts.length, records, seconds })}\n`);
      else if (!flags.quiet) process.stderr.write(`threadmill bam merge: ${parts.length} part(s), ${records} records → ${flags.output} in ${seconds.toFixed(2)} s\n`);
    }));
}
