/**
 * `fastq stats|convert --shard I/N` (write a part) and `fastq merge PART… [-o OUT]`.
 *
 * stats: a part holds each input's StatsPartial; merging them in shard order is the same
 * associative merge the engine does for chunks, so the table is the unsharded one.
 * convert: a part holds the shard's Arrow IPC or Parquet file; shares are whole chunks of the
 * unsharded plan, so the batches (and Parquet row groups) are the same, and appending them gives
 * the same records in the same batches (docs/scale-out.md says where the bytes are identical).
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { action, interruptSignal, progressFor, warner, type RunFlags } from '../../cli/common.js';
import { PARTIAL_HELP, mergedPartPath, partPathOf } from '../../cli/shard.js';
import { ErrorLog } from '../../engine/error-log.js';
import { OutputTransaction } from '../../engine/atomic.js';
import { ThreadmillError, UsageError } from '../../engine/errors.js';
import { makeManifest, normalChunkSize } from '../../engine/manifest.js';
import { mergedManifest, readParts, readStatsFile, writePart, type Part } from '../../engine/parts.js';
import type { Shard } from '../../engine/shard.js';
import type { ShareCoverage } from '../../engine/share-plan.js';
import { runFastq } from './pipeline.js';
import { emptyPartial, finalizeStats, mergePartials, statsJson, statsTable, statsTsv, type StatsPartial } from './stats.js';
import { ipcCodecOf, parquetCompressionOf, type CompressionChoice } from '../../sinks/ipc-compression-option.js';

export interface FastqShardFlags extends RunFlags { phred: 33 | 64; wrapped?: boolean; chunkSize?: number }

const STATS_FILE = 'stats.json';

/** Infinity (the empty partial's min) does not survive JSON. */
const toJson = (p: StatsPartial): unknown => ({ ...p, minLen: Number.isFinite(p.minLen) ? p.minLen : null });
const fromJson = (p: StatsPartial & { minLen: number | null }): StatsPartial => ({ ...p, minLen: p.minLen ?? Infinity });

/** `fastq stats --shard`: each input's partial over this shard's share, written as a part. */
export async function shardStats(inputs: string[], flags: FastqShardFlags & { output?: string }, shard: Shard): Promise<void> {
  const path = partPathOf(flags.output, shard);
  const errorLog = new ErrorLog({ maxErrors: flags.maxErrors });
  const signal = interruptSignal();
  const partials: StatsPartial[] = [];
  const share: ShareCoverage[] = [];
  for (const input of inputs) {
    let partial = emptyPartial();
    const progress = progressFor(flags, `fastq stats ${input} (shard ${shard.index}/${shard.count})`);
    const run = await runFastq(input, { mode: 'stats', phred: flags.phred }, { threads: flags.threads, chunkSize: flags.chunkSize, wrapped: flags.wrapped, progress, errorLog, signal, warn: warner(flags), shard }, (c) => {
      if (c.payload.kind === 'stats') partial = mergePartials(partial, c.payload.partial);
    });
    progress.finish();
    partials.push(partial);
    share.push(...(run.share ?? []));
  }
  const manifest = makeManifest({ format: 'fastq', command: 'stats', options: { phred: flags.phred, chunkSize: normalChunkSize(flags.chunkSize), wrapped: flags.wrapped ?? false }, inputs, shard, share, data: { names: inputs, rejected: errorLog.total } });
  await writePart(path, manifest, (dir) => writeFileSync(join(dir, STATS_FILE), `${JSON.stringify(partials.map(toJson))}\n`));
  if (!flags.quiet) process.stderr.write(`threadmill fastq stats: shard ${shard.index}/${shard.count} → ${path}\n`);
}

const outputExt = (output: string): string => {
  const m = /\.(parquet|arrows|arrow|feather|ipc)$/i.exec(output);
  if (!m) throw new UsageError(`cannot tell the output format from ${JSON.stringify(output)}: use .parquet, .arrow or .arrows`);
  return m[1]!.toLowerCase();
};

/** `fastq convert --shard`: the shard's records as one Arrow IPC / Parquet file in a part. */
export async function shardConvert(input: string, flags: FastqShardFlags & { output: string; batchSize: number; limit?: number; compression?: CompressionChoice }, shard: Shard): Promise<void> {
  if (flags.limit !== undefined) throw new UsageError('--limit cannot be combined with --shard (each shard would stop at its own limit)');
  // The part is a directory named by -o; its extension says what the shard writes (as for convert).
  const ext = outputExt(flags.output);
  const path = partPathOf(flags.output, shard);
  const { convertFastq } = await import('./convert.js');
  const errorLog = new ErrorLog({ maxErrors: flags.maxErrors });
  const progress = progressFor(flags, `fastq convert (shard ${shard.index}/${shard.count})`);
  // Normalised (defaults spelled out): parts that differ only in how an option was written merge.
  const compression = ext === 'parquet' ? parquetCompressionOf(flags.compression) : ipcCodecOf(flags.compression) ?? 'none';
  const options = { phred: flags.phred, chunkSize: normalChunkSize(flags.chunkSize), wrapped: flags.wrapped ?? false, batchSize: flags.batchSize, ext, compression };
  let summary: Awaited<ReturnType<typeof convertFastq>> | null = null;
  await writePart(path, makeManifest({ format: 'fastq', command: 'convert', options, inputs: [input], shard }), async (dir) => {
    summary = await convertFastq({ input, output: join(dir, `data.${ext}`), threads: flags.threads, chunkSize: flags.chunkSize, batchSize: flags.batchSize, compression: flags.compression, phred: flags.phred, wrapped: flags.wrapped, progress, errorLog, signal: interruptSignal(), warn: warner(flags), shard });
    progress.finish();
  }, (m) => {
    const s = summary!;
    m.share = s.share ?? null;
    m.data = { records: s.written, rejected: s.rejected };
  });
  if (!flags.quiet) process.stderr.write(`threadmill fastq convert: shard ${shard.index}/${shard.count} → ${path} (${summary!.written} records)\n`);
}

interface MergeFlags { output?: string; tsv?: boolean; json?: boolean; quiet?: boolean; partial?: boolean }

/** The parts' partials added per input, and their rejected records. */
function sumStats(parts: Part[]): { names: string[]; sums: StatsPartial[]; rejected: number } {
  const names = parts[0]!.manifest.data!.names as string[];
  const sums = names.map(() => emptyPartial());
  let rejected = 0;
  for (const p of parts) {
    const partials = readStatsFile<(StatsPartial & { minLen: number | null })[]>(join(p.path, STATS_FILE), Array.isArray).map(fromJson);
    if (partials.length !== names.length) throw new ThreadmillError('PART_INVALID', `${p.path}/${STATS_FILE} holds ${partials.length} input(s), its manifest ${names.length}; nothing was written`);
    partials.forEach((x, i) => { sums[i] = mergePartials(sums[i]!, x); });
    rejected += Number(p.manifest.data!.rejected ?? 0);
  }
  return { names, sums, rejected };
}

function mergeStats(parts: Part[], flags: MergeFlags): void {
  const { names, sums, rejected } = sumStats(parts);
  const rows = names.map((n, i) => finalizeStats(n, sums[i]!));
  if (flags.json) process.stdout.write(`${JSON.stringify(statsJson(rows, sums))}\n`);
  else process.stdout.write(flags.tsv ? statsTsv(rows) : statsTable(rows));
  if (rejected > 0 && !flags.quiet) process.stderr.write(`threadmill fastq stats: ${rejected} bad record(s) left out\n`);
}

/** Appends the parts' Arrow IPC files or Parquet row groups into `output`, atomically. */
export async function mergeConverted(parts: ReturnType<typeof readParts>, output: string): Promise<number> {
  const ext = parts[0]!.manifest.options.ext as string;
  const wanted = outputExt(output);
  if ((wanted === 'parquet') !== (ext === 'parquet') || (wanted === 'arrows') !== (ext === 'arrows')) {
    throw new UsageError(`the parts hold .${ext} data; name the merged output accordingly (got ${output})`);
  }
  const files = parts.map((p) => join(p.path, `data.${ext}`));
  const tx = new OutputTransaction();
  const tmp = tx.tempFor(output);
  try {
    // Loaded here, as convert loads its writers: stats runs and merges need no apache-arrow.
    if (files.length === 1) copyFileSync(files[0]!, tmp);
    else if (ext === 'parquet') {
      const { ParquetMerger } = await import('../../sinks/parquet-merge.js');
      const m = new ParquetMerger(tmp);
      for (const f of files) m.append(readFileSync(f));
      m.finish();
    } else (await import('../../sinks/ipc-append.js')).appendIpc(files, tmp);
    tx.commit();
  } catch (err) {
    tx.abort();
    throw err instanceof ThreadmillError ? err : new ThreadmillError('MERGE_FAILED', `merging into ${output}: ${(err as Error).message}`, { cause: err });
  }
  return parts.reduce((n, p) => n + Number(p.manifest.data?.records ?? 0), 0);
}

/**
 * `merge --partial`: consecutive parts into one merged part, which a later merge takes like a
 * shard's. Stats: the partials added; convert: the data appended (the same batches and row groups,
 * so the final file is the same bytes).
 */
async function mergePartial(parts: Part[], output: string): Promise<void> {
  const m0 = parts[0]!.manifest;
  if (m0.command === 'stats') {
    const { names, sums, rejected } = sumStats(parts);
    await writePart(output, mergedManifest(parts, { names, rejected }), (dir) => writeFileSync(join(dir, STATS_FILE), `${JSON.stringify(sums.map(toJson))}\n`));
    return;
  }
  const ext = m0.options.ext as string;
  let records = 0;
  await writePart(output, mergedManifest(parts, {}), async (dir) => {
    records = await mergeConverted(parts, join(dir, `data.${ext}`));
  }, (m) => {
    m.data = { records, rejected: parts.reduce((n, p) => n + Number(p.manifest.data?.rejected ?? 0), 0) };
  });
}

export function registerFastqMerge(fastq: Command): void {
  fastq.command('merge')
    .description('merge the parts written by `fastq stats|convert --shard I/N` into what one unsharded run gives')
    .argument('<parts...>', 'part directories, every shard 0…N−1 of one run exactly once')
    .option('-o, --output <file>', 'convert parts: the merged .arrow / .arrows / .parquet file')
    .option('--tsv', 'stats parts: tab-separated output')
    .option('--json', 'stats parts: JSON on stdout')
    .option('-q, --quiet', 'no summary on stderr')
    .option('--partial', PARTIAL_HELP)
    .action(action(async (paths: string[], flags: MergeFlags) => {
      const started = performance.now();
      const parts = readParts(paths, 'fastq', ['stats', 'convert'], { partial: flags.partial });
      if (flags.partial) return mergePartial(parts, mergedPartPath(flags.output));
      if (parts[0]!.manifest.command === 'stats') return mergeStats(parts, flags);
      if (!flags.output) throw new UsageError('merging convert parts needs -o OUT (.arrow, .arrows or .parquet)');
      const records = await mergeConverted(parts, flags.output);
      const seconds = (performance.now() - started) / 1000;
      if (flags.json) process.stdout.write(`${JSON.stringify({ output: flags.output, parts: parts.length, records, seconds })}\n`);
      else if (!flags.quiet) process.stderr.write(`threadmill fastq merge: ${parts.length} part(s), ${records} records → ${flags.output} in ${seconds.toFixed(2)} s\n`);
    }));
}
