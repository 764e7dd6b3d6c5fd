/**
 * The FASTQ task module: loaded by the engine in every worker (and on the main thread to cut
 * streams). Four modes: `records` hands back the chunk's bytes and a record index (two transferable
 * buffers, not objects), `stats` folds the chunk into a small partial, `columns` builds Arrow Utf8
 * columns for convert, `map` runs a user function from a user module on every record in the worker.
 */
import { defineTask, type ChunkResult } from '../../engine/plugin.js';
import { ENCODE_CALL, type EncodeArg } from '../../sinks/parquet-call.js';
import { IPC_COMPRESS_CALL, type IpcCompressArg } from '../../sinks/ipc-compression-call.js';
import { ThreadmillError } from '../../engine/errors.js';
import { fastqFraming } from './framing.js';
import { notFastq } from './sniff.js';
import { parseChunk } from './parse.js';
import { columnBuffers, columnsOf, firstPairMismatch, type FastqColumns } from './columns.js';
import { recordsOf, type FastqRecord, type RecordsPayload } from './record.js';
import { statsOfChunk, type StatsPartial } from './stats.js';

export interface FastqTaskOptions {
  mode: 'records' | 'stats' | 'map' | 'columns';
  /** `columns` mode, interleaved pairs: also find the first pair whose names differ (firstPairMismatch). */
  pairs?: boolean;
  /** `columns` mode: quality bytes become Phred scores (the offset subtracted), for a list<uint8> column. */
  qualityScores?: boolean;
  phred?: 33 | 64;
  /** `map` mode: module URL and export name. The export is `(record) => R` (values come back per chunk) or `{ map, combine }` (folded per chunk). */
  mapModule?: string;
  mapExport?: string;
}

export type FastqPayload =
  | ({ kind: 'records' } & RecordsPayload)
  | { kind: 'stats'; partial: StatsPartial; wrapped: boolean }
  | { kind: 'map'; values: unknown[]; wrapped: boolean }
  | { kind: 'columns'; columns: FastqColumns; wrapped: boolean; pairMismatch?: [number, number] };

type MapFn = (record: FastqRecord) => unknown;
interface MapCombine { map: MapFn; combine(a: unknown, b: unknown): unknown }
let mapper: MapFn | MapCombine | null = null;

function ownBuffer(b: Uint8Array): Uint8Array {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : b.slice();
}

/** Quality characters → Phred scores in place; the parser has checked every one is ≥ the offset. */
function toScores(q: Uint8Array, offset: number): void {
  for (let i = 0; i < q.length; i++) q[i]! -= offset;
}

function records(bytes: Uint8Array, opts: FastqTaskOptions): ChunkResult<FastqPayload> {
  const p = parseChunk(bytes, { phred: opts.phred ?? 33 });
  const buf = p.buf === bytes ? ownBuffer(bytes) : p.buf;
  const index = p.index.slice();
  const payload: FastqPayload = { kind: 'records', buf, index, count: p.count, wrapped: p.wrapped };
  return { payload, transfer: [buf.buffer as ArrayBuffer, index.buffer], records: p.records, lines: p.lines, errors: p.errors };
}

function stats(bytes: Uint8Array, opts: FastqTaskOptions): ChunkResult<FastqPayload> {
  const { partial, parsed: p } = statsOfChunk(bytes, { phred: opts.phred ?? 33 });
  return { payload: { kind: 'stats', partial, wrapped: p.wrapped }, transfer: [], records: p.records, lines: p.lines, errors: p.errors };
}

function columns(bytes: Uint8Array, opts: FastqTaskOptions): ChunkResult<FastqPayload> {
  const p = parseChunk(bytes, { phred: opts.phred ?? 33 });
  const cols = columnsOf(p);
  if (opts.qualityScores) toScores(cols.quality.data, opts.phred ?? 33);
  const pairMismatch = opts.pairs ? firstPairMismatch(cols) : undefined;
  return { payload: { kind: 'columns', columns: cols, wrapped: p.wrapped, ...(pairMismatch ? { pairMismatch } : {}) }, transfer: columnBuffers(cols), records: p.records, lines: p.lines, errors: p.errors };
}

function mapped(bytes: Uint8Array, opts: FastqTaskOptions): ChunkResult<FastqPayload> {
  const p = parseChunk(bytes, { phred: opts.phred ?? 33 });
  const recs = recordsOf({ buf: p.buf, index: p.index, count: p.count, wrapped: p.wrapped });
  let values: unknown[];
  if (typeof mapper === 'function') values = recs.map(mapper);
  else if (mapper) {
    const m = mapper;
    values = recs.length === 0 ? [] : [recs.map((r) => m.map(r)).reduce((a, b) => m.combine(a, b))];
  } else throw new Error('map mode without a loaded function');
  return { payload: { kind: 'map', values, wrapped: p.wrapped }, transfer: [], records: p.records, lines: p.lines, errors: p.errors };
}

export default defineTask<FastqTaskOptions, FastqPayload>({
  framing: fastqFraming,
  checkHead(head, input) {
    const why = notFastq(head);
    if (why) throw new ThreadmillError('INPUT_NOT_FASTQ', `${input === '-' ? 'stdin' : input}: ${why}`);
  },
  // Parquet row groups are encoded here, not on the main thread (src/sinks/parquet-merge.ts).
  // parquet-wasm is loaded on the first call only: stats runs never need it.
  // Arrow IPC body compression (--compression lz4|zstd) likewise, the codec loaded on the first call.
  calls: {
    [ENCODE_CALL]: async (arg: EncodeArg) => (await import('../../sinks/parquet-piece.js')).encodeParquetPiece(arg),
    [IPC_COMPRESS_CALL]: async (arg: IpcCompressArg) => (await import('../../sinks/ipc-compression.js')).compressIpcBuffers(arg),
  },
  async init(opts) {
    if (opts.mode !== 'map') return;
    const mod = (await import(opts.mapModule!)) as Record<string, unknown>;
    const fn = mod[opts.mapExport ?? 'default'];
    const ok = typeof fn === 'function' || (typeof fn === 'object' && fn !== null && 'map' in fn && 'combine' in fn);
    if (!ok) throw new Error(`${opts.mapModule}: export ${opts.mapExport ?? 'default'} is neither a function nor { map, combine }`);
    mapper = fn as MapFn | MapCombine;
  },
  processChunk(bytes, _ctx, opts) {
    if (opts.mode === 'stats') return stats(bytes, opts);
    if (opts.mode === 'map') return mapped(bytes, opts);
    if (opts.mode === 'columns') return columns(bytes, opts);
    return records(bytes, opts);
  },
});
