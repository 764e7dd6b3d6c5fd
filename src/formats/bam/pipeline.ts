/**
 * The BAM run loop (used by `bam convert`, convert.ts) and `bam stats`, `bam header`: compose the
 * engine with the BAM task module. Workers inflate BGZF blocks and decode records; this thread
 * reads the header, fails on record errors and checks reference ids for streams.
 */
import { moduleBeside } from '../../engine/plugin.js';
import { closeSync, openSync, readSync } from 'node:fs';
import { DEFAULT_CHUNK_SIZE, runChunks, type EngineOptions } from '../../engine/run.js';
import type { ErrorLog } from '../../engine/error-log.js';
import { describeInput } from '../../engine/source.js';
import { blockSizeAt, inflateBlock, isBgzfHeader, locateBlock } from '../../engine/bgzf.js';
import type { EngineHandle, LocatedError, OrderedChunk, RunStats } from '../../engine/run-types.js';
import type { Progress } from '../../engine/progress.js';
import { BamError } from './errors.js';
import { STRUCTURAL } from './record-errors.js';
import { headerLength, parseHeader, type BamHeader } from './header.js';
import { emptyStats, mergeStats, type BamStatsPartial } from './stats.js';
import type { BamPayload, BamTaskOptions, ResyncValue } from './task.js';
import { RESYNC_CALL, type ResyncArg } from './calls.js';
import type { BamColumns } from './decode.js';
import type { RecordFilter } from './filter.js';
import { runRegions, type RegionChoice } from './region-run.js';
import { UsageError } from '../../engine/errors.js';
import { readSamHeader } from './sam-header.js';

const TASK = moduleBeside(import.meta.url, './task');
const SAM_TASK = moduleBeside(import.meta.url, './sam-task');

export interface BamRunOptions {
  input: string;
  threads?: number;
  progress?: Progress;
  warn?: (message: string) => void;
  /** Keep the records decoded before a truncated end instead of failing. */
  allowTruncated?: boolean;
  /** Compressed bytes per chunk (default: the engine's 4 MiB). */
  chunkSize?: number;
  signal?: AbortSignal;
  /** Only this share of the input (`--shard`, src/engine/shard.ts); RunStats.share says what it covered. */
  shard?: import('../../engine/shard.js').Shard;
  /**
   * With a log, a bad record (bad field, reference id, CIGAR, text, qualities) is counted, written
   * to its rejects file and skipped (the log fails the run past --max-errors); without one the
   * first bad record fails the run. A record cut short or with an impossible length is always fatal.
   */
  errorLog?: ErrorLog;
  /** samtools view's -f/-F/-G/-q (filter.ts): records it drops are counted as read, not written or counted in stats. */
  filter?: RecordFilter;
  /** Only the records of these regions, through the index (region-run.ts). */
  regions?: RegionChoice;
}

/**
 * Reads the header of a BGZF file on this thread (a few blocks), so a wrong file fails before
 * any worker starts and workers can check reference ids. Null for inputs that are not BGZF files.
 */
export function readHeaderFromFile(path: string): BamHeader | null {
  // describeInput names a missing or unreadable input with the engine's codes (INPUT_NOT_FOUND, ...).
  if (path === '-' || describeInput(path).kind !== 'bgzf') return null;
  const fd = openSync(path, 'r');
  try {
    const parts: Uint8Array[] = [];
    let pos = 0;
    for (;;) {
      const head = new Uint8Array(1 << 16);
      const n = readSync(fd, head, 0, head.length, pos);
      if (pos === 0 && !isBgzfHeader(head.subarray(0, n), 0)) return null;
      const size = blockSizeAt(head.subarray(0, n), 0);
      if (size < 0 || size > n) throw new BamError('BAM_BAD_HEADER', `${path}: BAM header is cut short (no complete BGZF block at compressed offset ${pos})`);
      parts.push(inflateBlock(head, 0, pos, undefined, path));
      pos += size;
      const data = Buffer.concat(parts);
      if (headerLength(data) >= 0) return parseHeader(data);
      if (size === 28 && parts[parts.length - 1]!.length === 0) throw new BamError('BAM_BAD_HEADER', `${path}: BAM header is cut short (file truncated?)`);
    }
  } finally {
    closeSync(fd);
  }
}

/** One line naming the record, its offsets and, for files, the compressed offset of its block. */
function describeBad(input: string, e: LocatedError): string {
  if (e.line !== undefined) return `${input}: line ${e.line} (byte ${e.offset}): ${e.reason}`;
  const block = input !== '-' ? locateBlockSafe(input, e.offset) : -1;
  const where = block >= 0 ? `in the BGZF block at compressed offset ${block} ` : '';
  return `${input}: record ${e.record ?? '?'} ${where}(decompressed offset ${e.offset}): ${e.reason}`;
}

function locateBlockSafe(path: string, uoffset: number): number {
  try {
    return locateBlock(path, uoffset);
  } catch {
    return -1;
  }
}


/**
 * Shared run loop: header from chunk 0, record errors (fatal, or counted and skipped with an
 * error log), reference-id checks for streams, and the sequential re-read of a chunk whose last
 * record ran past its end (its end was not a true record boundary: see RESYNC_CALL). Records are
 * numbered here, not by the engine, since the chunks a re-read replaces are dropped.
 */
export async function runBam(opts: BamRunOptions, taskOptions: BamTaskOptions, onPayload: (p: BamPayload, header: BamHeader, engine: EngineHandle) => void | Promise<void>, shouldStop?: () => boolean, onEnd?: (engine: EngineHandle, header: BamHeader | null) => void | Promise<void>, drop?: (p: BamPayload) => void): Promise<{ stats: RunStats; header: BamHeader; truncated: boolean; records: number }> {
  if (opts.regions && (opts.regions.regions.length > 0 || opts.regions.bed !== undefined)) {
    if (opts.input === '-') throw new UsageError('regions need an indexed BAM file, not stdin');
    const header = readHeaderFromFile(opts.input);
    if (!header) throw new UsageError(`${opts.input}: regions need a BGZF-compressed BAM file with an index`);
    return runRegions(opts, opts.regions, header, TASK, taskOptions, onPayload, shouldStop, onEnd);
  }
  // SAM text (plain, gzip or BGZF) is found from the bytes; its lines go to the SAM task.
  const sam = readSamHeader(opts.input);
  const pre = sam ?? readHeaderFromFile(opts.input);
  const info = opts.input === '-' ? null : describeInput(opts.input);
  const chunkSize = Math.max(1 << 16, opts.chunkSize ?? DEFAULT_CHUNK_SIZE);
  let header: BamHeader | null = pre;
  let truncated = false;
  /** Records the engine has numbered (dropped chunks included), and records of the true walk. */
  let engineRecords = 0;
  let records = 0;
  let resumeAt = 0;
  const engineOptions: EngineOptions<BamTaskOptions, BamPayload> = {
    inputs: [opts.input],
    taskModule: sam ? SAM_TASK : TASK,
    taskOptions: { ...taskOptions, nRef: pre ? pre.references.length : -1, ...(opts.filter ? { filter: opts.filter } : {}), ...(sam ? { samReferences: sam.references.map((r) => r.name) } : {}) },
    threads: opts.threads,
    chunkSize,
    progress: opts.progress,
    warn: opts.warn,
    allowTruncated: opts.allowTruncated,
    signal: opts.signal,
    shard: opts.shard,
    shouldStop,
    onChunk: async (chunk, engine) => {
      const before = engineRecords;
      engineRecords += chunk.records;
      if (chunk.truncatedAt !== undefined) truncated = true;
      if (chunk.index < resumeAt) {
        drop?.(chunk.payload);
        return;
      }
      let p = chunk.payload;
      let n = chunk.records;
      let errors: LocatedError[] = chunk.errors.map((e) => ({ ...e, ...(e.record !== undefined ? { record: e.record - before } : {}) }));
      // A share's chunks are numbered from the share's start, which the re-read cannot see (its
      // walk may also pass the share's end): shards keep the content framing alone.
      if (info?.kind === 'bgzf' && !opts.shard && errors.some((e) => e.category === 'truncated_record')) {
        const arg: ResyncArg = { input: opts.input, path: opts.input, size: info.size, chunkSize, index: chunk.index, allowTruncated: opts.allowTruncated ?? false };
        const r = await engine.call<ResyncValue>(RESYNC_CALL, arg);
        drop?.(p);
        p = r.result.payload;
        n = r.result.records;
        errors = r.result.errors.map((e) => ({ ...e, input: opts.input, offset: chunk.offset + e.offset }));
        resumeAt = r.resumeAt;
        if (r.truncatedAt !== undefined) truncated = true;
      }
      if (p.header) header = p.header;
      if (!header) throw new BamError('BAM_BAD_HEADER', `${opts.input}: no BAM header before the first records`);
      for (const rel of errors) {
        const e = rel.record !== undefined ? { ...rel, record: records + rel.record } : rel;
        if (e.category === 'truncated_record' && opts.allowTruncated) {
          truncated = true;
          opts.warn?.(`${opts.input}: the data ends inside record ${e.record ?? '?'}; kept the ${(e.record ?? 1) - 1} records before it (--allow-truncated)`);
          continue;
        }
        if (opts.errorLog && !STRUCTURAL.has(e.category)) {
          opts.errorLog.add(e);
          continue;
        }
        throw new BamError(e.category === 'truncated_record' ? 'BAM_TRUNCATED' : 'BAM_BAD_RECORD', describeBad(opts.input, e));
      }
      records += n;
      const cols = p.columns;
      if (cols && cols.maxRef >= header.references.length) throw badRefId(opts.input, chunk, cols, header.references.length);
      await onPayload(p, header, engine);
    },
    onEnd: onEnd && ((engine) => onEnd(engine, header)),
  };
  const stats = await runChunks(engineOptions);
  if (!header) throw new BamError('BAM_BAD_HEADER', `${opts.input}: empty input, no BAM header`);
  return { stats, header, truncated, records };
}

/** Streams only (files check in the workers): the first row whose reference id is out of range. */
function badRefId(input: string, chunk: OrderedChunk<BamPayload>, c: BamColumns, nRef: number): BamError {
  let i = 0;
  while (i < c.rows && c.refId[i]! < nRef && c.rnext[i]! <= nRef) i++;
  const before = chunk.records - c.rows;
  return new BamError('BAM_BAD_RECORD', `${input}: record ${before + i + 1} of the chunk at decompressed offset ${chunk.offset}: reference id out of range [-1, ${nRef})`);
}

export interface BamStatsResult { header: BamHeader; stats: BamStatsPartial; run: RunStats; truncated: boolean }

/** `bam stats`: flagstat-like counters and per-reference counts (map-reduce). */
export async function statsBam(opts: BamRunOptions): Promise<BamStatsResult> {
  let total = emptyStats();
  const run = await runBam(opts, { sequence: false, quality: false, tags: false, mode: 'stats', nRef: -1 }, (p) => {
    if (p.stats) total = mergeStats(total, p.stats);
  });
  run.stats.records = run.records;
  return { header: run.header, stats: total, run: run.stats, truncated: run.truncated };
}

/** `bam header`: reads only the first blocks of a file; streams go through the engine. */
export async function headerBam(opts: BamRunOptions): Promise<BamHeader> {
  const pre = readSamHeader(opts.input) ?? readHeaderFromFile(opts.input);
  if (pre) return pre;
  let header: BamHeader | null = null;
  await runBam(opts, { sequence: false, quality: false, tags: false, mode: 'stats', nRef: -1 }, (p) => {
    header ??= p.header;
  }, () => header !== null);
  return header!;
}
