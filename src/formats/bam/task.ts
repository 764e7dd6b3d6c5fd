/**
 * The BAM task module: loaded by the engine in every worker. Chunk 0 starts with the BAM header
 * (the framing keeps it there), so the worker that gets it parses it and hands it back; this
 * makes stdin work exactly like a file.
 */
import { defineTask, type CallResult, type ChunkResult } from '../../engine/plugin.js';
import { bamFraming, recordLength } from './framing.js';
import { resyncBgzf } from '../../engine/bgzf-chunk.js';
import { parseHeader, type BamHeader } from './header.js';
import { columnBuffers, decodeRecords, type BamColumns, type DecodeOptions } from './decode.js';
import { scanStats, type BamStatsPartial } from './stats.js';
import { pooledMemory } from './bytes.js';
import { SharedOutputPool } from '../../engine/shared-pool.js';
import { assembleBatch, assemblyBuffers } from './assemble.js';
import { ASSEMBLE_CALL, PARQUET_CALL, RESYNC_CALL, type AssembleArg, type ParquetArg, type ResyncArg } from './calls.js';
import { IPC_COMPRESS_CALL, type IpcCompressArg } from '../../sinks/ipc-compression-call.js';
import { readRegionPiece, type RegionArg } from './region-read.js';
import { REGION_CALL } from './calls.js';

export interface BamTaskOptions extends DecodeOptions {
  mode: 'convert' | 'stats';
}

export interface BamPayload {
  /** Set on chunk 0 only. */
  header: BamHeader | null;
  columns: BamColumns | null;
  stats: BamStatsPartial | null;
}

/**
 * Column memory of this worker: shared buffers the main thread releases once their rows are
 * written (convert.ts). Sizes run from a few KiB (mapq) to MiBs (seq), hence a small minimum and
 * a large pool; it holds what is in flight (the engine's window, the batch being filled and the
 * writes pending), so it stops growing after the first few batches.
 */
const memory = pooledMemory(new SharedOutputPool(64 << 10, 4096));

function processChunk(bytes: Uint8Array, ctx: { index: number }, options: BamTaskOptions): ChunkResult<BamPayload> {
  let header: BamHeader | null = null;
  let start = 0;
  let nRef = options.nRef;
  if (ctx.index === 0) {
    header = parseHeader(bytes);
    start = header.length;
    nRef = header.references.length;
  }
  return processRecords(bytes, start, nRef, header, options);
}

/** Decodes (convert) or counts (stats) the whole records of bytes[start, …). */
export function processRecords(bytes: Uint8Array, start: number, nRef: number, header: BamHeader | null, options: BamTaskOptions): ChunkResult<BamPayload> {
  if (options.mode === 'stats') {
    const r = scanStats(bytes, start, nRef, options.filter);
    return { payload: { header, columns: null, stats: r.partial }, transfer: [r.partial.flags.buffer as ArrayBuffer, r.partial.perRef.buffer as ArrayBuffer], records: r.records, lines: 0, errors: r.errors };
  }
  const r = decodeRecords(bytes, start, { ...options, nRef }, memory);
  return { payload: { header, columns: r.columns, stats: null }, transfer: columnBuffers(r.columns), records: r.records, lines: 0, errors: r.errors };
}

/** What a region piece gives back (REGION_CALL): its records' result and, for a slice, where to go on. */
export interface RegionValue { result: Omit<ChunkResult<BamPayload>, 'transfer'>; next: bigint | null; skipPlaced: boolean; compressed: number }

/**
 * A region piece: the records samtools view would print, decoded or counted. Errors name the
 * record by virtual offset (its BGZF block and the byte in it): records before the piece were
 * not read, so there is no record number.
 */
function regionPiece(arg: RegionArg, options: BamTaskOptions): CallResult {
  const r = readRegionPiece(arg);
  const { transfer, ...result } = processRecords(r.bytes, 0, options.nRef, null, options);
  result.errors = result.errors.map((e) => {
    const at = r.locate(e.offset);
    return { category: e.category, reason: `record at virtual offset ${at.block}:${at.within} (the BGZF block at compressed offset ${at.block}, byte ${at.within} of its data): ${e.reason}`, offset: at.block };
  });
  result.records = r.records;
  const value: RegionValue = { result, next: r.next, skipPlaced: r.skipPlaced, compressed: r.compressed };
  return { value, transfer };
}

/** A chunk re-read in record order (RESYNC_CALL): its result, and the chunk index to resume at. */
export interface ResyncValue { result: Omit<ChunkResult<BamPayload>, 'transfer'>; resumeAt: number; truncatedAt?: number }

function resync(arg: ResyncArg, options: BamTaskOptions): CallResult {
  const start = arg.index * arg.chunkSize;
  const job = { kind: 'bgzf' as const, id: -1, index: arg.index, input: arg.input, inputIndex: 0, path: arg.path, start, end: Math.min(arg.size, start + arg.chunkSize), size: arg.size, allowTruncated: arg.allowTruncated };
  const r = resyncBgzf(job, arg.chunkSize, bamFraming, recordLength);
  const { transfer, ...result } = processChunk(r.bytes, { index: arg.index }, options);
  const value: ResyncValue = { result, resumeAt: arg.index + r.resumeChunk };
  if (r.placement.truncatedAt !== undefined) value.truncatedAt = r.placement.truncatedAt;
  return { value, transfer };
}

function assemble(arg: AssembleArg): CallResult {
  const value = assembleBatch(arg.spans, arg.options);
  return { value, transfer: assemblyBuffers(value) };
}

/**
 * The whole batch is built and encoded here: the main thread only appends the row group. Loaded
 * on first use, so workers of IPC and stats runs never load parquet-wasm and apache-arrow
 * (~0.3 s of each worker's start-up here).
 */
async function encodeParquet(arg: ParquetArg): Promise<CallResult> {
  const { encodeParquetRowGroup } = await import('./parquet-row-group.js');
  return encodeParquetRowGroup(arg);
}

export default defineTask<BamTaskOptions, BamPayload>({
  framing: bamFraming,
  processChunk,
  calls: {
    [ASSEMBLE_CALL]: assemble, [PARQUET_CALL]: encodeParquet, [RESYNC_CALL]: resync, [REGION_CALL]: regionPiece,
    // Arrow IPC body compression (--compression lz4|zstd); the codec loads on the first call.
    [IPC_COMPRESS_CALL]: async (arg: IpcCompressArg) => (await import('../../sinks/ipc-compression.js')).compressIpcBuffers(arg),
  },
});
