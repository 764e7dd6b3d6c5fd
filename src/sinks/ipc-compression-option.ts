/**
 * What `--compression` means for each output format. Parquet keeps its meaning (page codec,
 * default zstd); Arrow IPC defaults to no compression (what readers expect of a plain `.arrow`,
 * and what apache-arrow reads without registering a codec) and takes lz4 or zstd, the two codecs
 * the IPC format defines. Anything else is a usage error before the run starts.
 */
import { UsageError } from '../engine/errors.js';
import type { IpcCodec } from './arrow-pieces.js';

/** Every value `--compression` takes, over both formats. */
export const COMPRESSION_CHOICES = ['zstd', 'lz4', 'snappy', 'none'] as const;
export type CompressionChoice = (typeof COMPRESSION_CHOICES)[number];

export const COMPRESSION_HELP = 'Parquet: zstd (default), snappy or none; Arrow IPC: lz4, zstd or none (default)';

/** The IPC body codec, or null for none. */
export function ipcCodecOf(compression: string | undefined): IpcCodec | null {
  if (compression === undefined || compression === 'none') return null;
  if (compression === 'lz4' || compression === 'zstd') return compression;
  throw new UsageError(`--compression ${compression} is not an Arrow IPC codec; use lz4, zstd or none (snappy is for Parquet)`);
}

/** The Parquet page codec (default zstd). */
export function parquetCompressionOf(compression: string | undefined): 'zstd' | 'snappy' | 'none' {
  if (compression === undefined) return 'zstd';
  if (compression === 'zstd' || compression === 'snappy' || compression === 'none') return compression;
  throw new UsageError(`--compression ${compression} is not a Parquet codec here; use zstd, snappy or none (lz4 is for Arrow IPC)`);
}
