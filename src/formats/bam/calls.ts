/**
 * The side calls the main thread makes to BAM workers (registered in task.ts), with their
 * arguments. Column spans travel as views of the workers' shared buffers, so a call copies none
 * of the rows.
 */
import type { BamSchemaOptions } from './arrow.js';
import type { RowSpan } from './batch.js';
import type { ParquetOptions } from '../../sinks/parquet.js';

/** Join a batch's offsets and bitmaps; returns a BatchAssembly (assemble.ts). */
export const ASSEMBLE_CALL = 'bamAssembleBatch';
export interface AssembleArg { spans: RowSpan[]; options: BamSchemaOptions }

/** Build and encode a batch as one Parquet row group; returns a one-row-group Parquet file. */
export const PARQUET_CALL = 'bamParquetRowGroup';
/** `head`: the IPC stream's schema and dictionary messages (ipcStreamHead). */
export interface ParquetArg extends AssembleArg { head: Uint8Array; parquet: ParquetOptions }

/**
 * Re-read chunk `index` of a BGZF file walking record by record, after its last record ran past
 * its end (resyncBgzf); returns a ResyncValue. `chunkSize` is the engine's, so the worker finds
 * the same chunk ranges.
 */
export const RESYNC_CALL = 'bamResyncChunk';
export interface ResyncArg { input: string; path: string; size: number; chunkSize: number; index: number; allowTruncated: boolean }

/** Read one region piece (region-read.ts): a RegionArg; returns a RegionValue (task.ts). */
export const REGION_CALL = 'bamRegionPiece';
