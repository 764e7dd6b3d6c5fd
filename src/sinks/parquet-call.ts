/**
 * The side call that encodes one batch as a Parquet piece in a worker (parquet-piece.ts), and its
 * argument. A module without dependencies, so a task module can name the call without loading
 * parquet-wasm or apache-arrow before the call is first made.
 */
import type { ParquetOptions } from './parquet.js';

export const ENCODE_CALL = 'encodeParquetRowGroup';

export interface EncodeArg { ipc: Uint8Array; options: ParquetOptions }
