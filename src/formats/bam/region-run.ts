/**
 * `bam convert|stats in.bam REGION…`: the run loop for region reads. The index turns regions
 * into pieces (region-plan.ts); the engine's worker pool reads them (REGION_CALL, several in
 * flight), and their results are handed on in piece order, which is samtools view's output
 * order, so the output does not depend on -j. An open-ended piece (`*`, `.`) is read a slice at
 * a time, each slice starting where the last one stopped (no index entry marks record starts
 * among unplaced reads).
 */
import type { BamRunOptions } from './pipeline.js';
import { existsSync, statSync } from 'node:fs';
import { UsageError, InterruptedError } from '../../engine/errors.js';
import { WorkerPool } from '../../engine/pool.js';
import { defaultThreads } from '../../engine/run.js';
import type { EngineHandle, LocatedError, RunStats } from '../../engine/run-types.js';
import { BamError } from './errors.js';
import { STRUCTURAL } from './record-errors.js';
import type { BamHeader } from './header.js';
import { readBamIndex, type BamIndex } from './bam-index.js';
import { parseRegion, readBedRegions } from './region.js';
import { regionPieces, regionSegments, type RegionPiece } from './region-plan.js';
import { REGION_CALL } from './calls.js';
import type { RegionArg } from './region-read.js';
import type { BamPayload, BamTaskOptions, RegionValue } from './task.js';

/** What a region run is asked: the regions, and optionally the index file and -M. */
export interface RegionChoice {
  regions: string[];
  /** A BED file of regions (0-based, half-open), read as samtools view --region-file does (-M implied). */
  bed?: string;
  /** The .bai/.csi file; default: beside the input, as samtools looks for it. */
  index?: string;
  /** samtools view -M: records in several regions come once, in file order. */
  mergeRegions?: boolean;
}

/**
 * Compressed bytes per piece: small enough that a region of a few MB is read by several
 * workers, large enough that a piece's round trip (~0.1 ms) is noise.
 */
export const PIECE_BYTES = 1 << 20;

/** The index samtools would use: in.bam.csi, in.bam.bai, in.csi, in.bai (htslib's order). */
export function findIndex(input: string, explicit?: string): string {
  if (explicit !== undefined) {
    if (!existsSync(explicit)) throw new UsageError(`--index ${explicit}: no such file`);
    return explicit;
  }
  const stem = input.replace(/\.bam$/i, '');
  const candidates = [`${input}.csi`, `${input}.bai`, ...(stem !== input ? [`${stem}.csi`, `${stem}.bai`] : [])];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new UsageError(`${input}: regions need an index and none was found (${candidates.join(', ')}); make one with \`samtools index ${input}\`, or name it with --index FILE`);
  return found;
}

/** What a region run takes of a whole-file run's options. */
type RegionRunOptions = Pick<BamRunOptions, 'input' | 'threads' | 'progress' | 'warn' | 'allowTruncated' | 'chunkSize' | 'signal' | 'errorLog' | 'filter'>;

/** Checks the index against the header and turns the regions into pieces. */
export function planRegions(input: string, header: BamHeader, choice: RegionChoice, pieceBytes: number, warn?: (m: string) => void): { index: BamIndex; pieces: RegionPiece[]; size: number } {
  const size = statSync(input).size;
  const indexPath = findIndex(input, choice.index);
  const index = readBamIndex(indexPath);
  if (index.nRef !== header.references.length) throw new BamError('BAM_BAD_INDEX', `${indexPath}: the index has ${index.nRef} references but ${input} has ${header.references.length}; it belongs to another file (make it again with \`samtools index\`)`);
  if (statSync(indexPath).mtimeMs < statSync(input).mtimeMs) warn?.(`${indexPath}: the index file is older than ${input}`);
  const ids = new Map(header.references.map((r, i) => [r.name, i]));
  const regions = [...choice.regions.map((r) => parseRegion(r, ids)), ...(choice.bed ? readBedRegions(choice.bed, ids, warn) : [])];
  const segments = regionSegments(index, regions, (choice.mergeRegions ?? false) || choice.bed !== undefined, pieceBytes);
  return { index, pieces: regionPieces(segments, pieceBytes, size), size };
}

/** An error a piece reported, made fatal unless a log takes it. */
function recordProblem(opts: RegionRunOptions, rel: { category: string; reason: string; offset: number }): boolean {
  const e: LocatedError = { ...rel, input: opts.input };
  if (e.category === 'truncated_record' && opts.allowTruncated) {
    opts.warn?.(`${opts.input}: the data ends inside a record; kept the records before it (--allow-truncated)`);
    return true;
  }
  if (opts.errorLog && !STRUCTURAL.has(e.category)) {
    opts.errorLog.add(e);
    return false;
  }
  throw new BamError(e.category === 'truncated_record' ? 'BAM_TRUNCATED' : 'BAM_BAD_RECORD', `${opts.input}: ${e.reason}`);
}

/**
 * Runs the pieces in order on the pool (a window of 2 per worker); an open-ended piece holds
 * back the pieces after it until it says where its next slice starts.
 */
export async function runRegions(
  opts: RegionRunOptions, choice: RegionChoice, header: BamHeader, taskModule: URL, taskOptions: BamTaskOptions,
  onPayload: (p: BamPayload, header: BamHeader, engine: EngineHandle) => void | Promise<void>,
  shouldStop?: () => boolean,
  onEnd?: (engine: EngineHandle, header: BamHeader | null) => void | Promise<void>,
): Promise<{ stats: RunStats; header: BamHeader; truncated: boolean; records: number }> {
  if (opts.input === '-') throw new UsageError('regions need an indexed BAM file, not stdin');
  const started = performance.now();
  const pieceBytes = Math.max(4096, opts.chunkSize ?? PIECE_BYTES);
  const { pieces, size } = planRegions(opts.input, header, choice, pieceBytes, opts.warn);
  opts.progress?.setTotal(pieces.reduce((n, p) => n + p.weight, 0));
  const threads = Math.max(1, Math.min(opts.threads ?? defaultThreads(), Math.max(1, pieces.length)));
  const pool = new WorkerPool(taskModule, { ...taskOptions, nRef: header.references.length, ...(opts.filter ? { filter: opts.filter } : {}) }, threads);
  const engine: EngineHandle = { threads, call: <T>(name: string, arg: unknown, transfer?: ArrayBuffer[]) => pool.call<T>(name, arg, transfer) };
  const order = [...pieces];
  const inFlight = new Map<number, Promise<RegionValue>>();
  const isOpen = (p: RegionPiece): boolean => p.segments.some((s) => s.end === null);
  let launched = 0;
  let openPending = false;
  const launch = (): void => {
    while (!openPending && launched < order.length && inFlight.size < 2 * threads) {
      const i = launched++;
      const arg: RegionArg = { input: opts.input, path: opts.input, size, piece: order[i]!, sliceBytes: pieceBytes };
      const p = pool.call<RegionValue>(REGION_CALL, arg);
      p.catch(() => undefined); // observed in its turn
      inFlight.set(i, p);
      if (isOpen(order[i]!)) openPending = true;
    }
  };
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = (): void => reject(new InterruptedError(String(opts.signal?.reason ?? 'SIGINT')));
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  let records = 0;
  let truncated = false;
  let chunks = 0;
  let bytes = 0;
  try {
    for (let i = 0; i < order.length; i++) {
      launch();
      const v = await Promise.race([inFlight.get(i)!, aborted]);
      inFlight.delete(i);
      if (isOpen(order[i]!)) {
        openPending = false;
        if (v.next !== null) order.splice(i + 1, 0, { segments: [{ beg: v.next, end: null, test: null, skipPlaced: v.skipPlaced }], weight: 0 });
      }
      for (const e of v.result.errors) if (recordProblem(opts, e)) truncated = true;
      records += v.result.records;
      chunks++;
      bytes += v.compressed;
      await onPayload(v.result.payload, header, engine);
      opts.progress?.advance(Math.min(v.compressed, order[i]!.weight || v.compressed), v.result.records);
      if (shouldStop?.()) break;
    }
    await onEnd?.(engine, header);
    return { stats: { chunks, records, bytes, errors: 0, threads: pool.size, seconds: (performance.now() - started) / 1000 }, header, truncated, records };
  } finally {
    await pool.close();
  }
}
