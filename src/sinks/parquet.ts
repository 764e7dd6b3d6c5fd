/**
 * Parquet writer for Arrow record batches (format-agnostic), built on parquet-wasm (arrow-rs's
 * writer compiled to WebAssembly): each batch is handed over as Arrow IPC and becomes one row
 * group, streamed to the file, so memory stays bounded by a batch or two. Why parquet-wasm and
 * not hyparquet-writer or @dsnp/parquetjs: docs/decisions/0004-parquet-writer.md.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { RecordBatchStreamWriter, type RecordBatch, type Schema } from 'apache-arrow';
import * as pw from 'parquet-wasm';

export interface ParquetOptions {
  /** Rows per row group (the caller's batches should not be larger). */
  rowGroupSize?: number;
  /** Default zstd: measured smaller than snappy at similar speed (decision 0004). */
  compression?: 'zstd' | 'snappy' | 'none';
  /**
   * Top-level columns written PLAIN, without a dictionary: ones whose values rarely repeat (read
   * names, sequences, positions), where arrow-rs builds a dictionary, overflows it and falls back
   * anyway. On 100,000 short reads that was ~15% of the encoding CPU for 0% size (decision 0034).
   */
  plainColumns?: readonly string[];
}

const COMPRESSION = { zstd: pw.Compression.ZSTD, snappy: pw.Compression.SNAPPY, none: pw.Compression.UNCOMPRESSED } as const;

/** The writer properties shared by this writer and the per-row-group encoder (parquet-merge.ts). */
export function writerProperties(options: ParquetOptions): pw.WriterProperties {
  let builder = new pw.WriterPropertiesBuilder()
    .setCompression(COMPRESSION[options.compression ?? 'zstd'])
    .setMaxRowGroupSize(options.rowGroupSize ?? 100_000)
    // Column-chunk statistics only: the page-level ones feed the page index, which the merger
    // (parquet-merge.ts) drops; computing them cost ~12% of a BAM row group's encoding (decision 0034).
    .setStatisticsEnabled(pw.EnabledStatistics.Chunk)
    .setCreatedBy('threadmill (parquet-wasm)');
  for (const column of options.plainColumns ?? []) builder = builder.setColumnDictionaryEnabled(column, false);
  return builder.build();
}

/** Arrow JS batch → parquet-wasm batch, through one IPC stream message (a copy into WASM memory). */
function toWasmBatch(batch: RecordBatch): pw.RecordBatch {
  const ipc = RecordBatchStreamWriter.writeAll([batch]).toUint8Array(true);
  const table = pw.Table.fromIPCStream(ipc);
  const b = table.recordBatch(0);
  if (!b) throw new Error('parquet-wasm: empty IPC table');
  return b;
}

export class ParquetWriter {
  private readonly fd: number;
  private readonly done: Promise<void>;
  private controller!: ReadableStreamDefaultController<pw.RecordBatch>;
  /** Wakes a write() that waits for the transform to take the queued batch (backpressure). */
  private wake: (() => void) | null = null;
  private failure: unknown = null;
  private closed = false;
  rows = 0;

  constructor(path: string, schema: Schema, options: ParquetOptions = {}) {
    this.fd = openSync(path, 'w');
    const input = new ReadableStream<pw.RecordBatch>({
      start: (c) => {
        this.controller = c;
      },
      pull: () => this.wakeWriter(),
    }, { highWaterMark: 1 });
    const props = writerProperties(options);
    this.done = this.pump(input, props).catch((e: unknown) => {
      this.failure = e;
      this.wakeWriter();
    });
  }

  private wakeWriter(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private async pump(input: ReadableStream<pw.RecordBatch>, props: pw.WriterProperties): Promise<void> {
    const output = await pw.transformParquetStream(input, props);
    const reader = (output as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (this.failure === null) writeSync(this.fd, value);
    }
  }

  /** Queues one batch (one row group); resolves once the encoder has taken it. */
  async write(batch: RecordBatch): Promise<void> {
    if (this.failure) throw this.failure;
    this.controller.enqueue(toWasmBatch(batch));
    this.rows += batch.numRows;
    while ((this.controller.desiredSize ?? 1) <= 0 && this.failure === null) {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
    if (this.failure) throw this.failure;
  }

  /** Flushes the last row group and the footer, and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.controller.close();
    try {
      await this.done;
      if (this.failure) throw this.failure;
    } finally {
      closeSync(this.fd);
    }
  }

  /** Stops without finishing the file (the caller removes it). */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    this.failure = new Error('aborted');
    try {
      this.controller.error(this.failure);
    } catch {
      // already closed
    }
    closeSync(this.fd);
  }
}
