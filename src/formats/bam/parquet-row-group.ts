/**
 * Worker side of `bam convert` to Parquet: a batch of row spans → one Arrow IPC stream → one
 * Parquet row group (a complete small file that the main thread's ParquetMerger appends).
 */
import type { CallResult } from '../../engine/plugin.js';
import { ipcStreamBytes } from '../../sinks/arrow-pieces.js';
import { encodeParquetPiece } from '../../sinks/parquet-piece.js';
import { assembleBatch } from './assemble.js';
import { toPieceBatch } from './arrow.js';
import type { ParquetArg } from './calls.js';

/**
 * Columns whose values rarely repeat within a row group; a dictionary there is built, overflows
 * and is thrown away (decision 0034). rname, rnext, flag, mapq and tags keep theirs.
 */
const PLAIN_COLUMNS = ['qname', 'pos', 'cigar', 'pnext', 'tlen', 'seq', 'qual'];

export function encodeParquetRowGroup(arg: ParquetArg): CallResult {
  const batch = toPieceBatch(arg.options, arg.spans, assembleBatch(arg.spans, arg.options));
  return encodeParquetPiece({ ipc: ipcStreamBytes(arg.head, batch), options: { ...arg.parquet, plainColumns: PLAIN_COLUMNS } });
}
