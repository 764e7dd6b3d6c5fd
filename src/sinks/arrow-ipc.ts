/**
 * Arrow IPC writer (file format by default, `.arrow`; stream format on request) that writes each
 * record batch straight to a file descriptor. Format-agnostic: it takes a Schema and
 * RecordBatches. Writing to a temporary path and renaming it is the caller's job (see
 * engine/atomic.ts), since one run may commit several outputs together.
 */
import { closeSync, openSync, writevSync } from 'node:fs';
import { AsyncByteQueue, RecordBatchFileWriter, RecordBatchStreamWriter, type RecordBatch, type Schema } from 'apache-arrow';

/**
 * apache-arrow writers push their output into an AsyncByteQueue; handing them this subclass
 * instead lets the bytes go to the file synchronously after each batch, so memory stays bounded
 * by one batch and nothing waits on a stream's event loop turns.
 */
class FdQueue extends AsyncByteQueue {
  private pieces: Uint8Array[] = [];
  private bytes = 0;
  constructor(private readonly fd: number) {
    super();
  }
  override write(value: Uint8Array | ArrayBufferView | ArrayBuffer): void {
    const u = value instanceof Uint8Array ? value : ArrayBuffer.isView(value) ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : new Uint8Array(value);
    if (u.byteLength === 0) return;
    this.pieces.push(u);
    this.bytes += u.byteLength;
  }
  /** Writes what is pending (writev: the writer emits many small pieces per batch). */
  flush(): void {
    // writev takes at most IOV_MAX (1024) buffers per call.
    for (let i = 0; i < this.pieces.length; i += 1024) {
      const part = this.pieces.slice(i, i + 1024);
      let left = part.reduce((n, p) => n + p.byteLength, 0);
      let written = writevSync(this.fd, part);
      // Short writes are rare for regular files, but handle them rather than lose bytes.
      while (written < left) {
        left -= written;
        const rest = concatTail(part, part.reduce((n, p) => n + p.byteLength, 0) - left);
        written = writevSync(this.fd, [rest]);
        part.length = 0;
        part.push(rest);
      }
    }
    this.pieces = [];
    this.bytes = 0;
  }
}

function concatTail(parts: Uint8Array[], skip: number): Uint8Array {
  const all = Buffer.concat(parts);
  return all.subarray(skip);
}

export interface ArrowIpcOptions {
  /** IPC stream format instead of the file format (no footer; readable while being written). */
  stream?: boolean;
}

export class ArrowIpcWriter {
  private readonly fd: number;
  private readonly queue: FdQueue;
  private readonly writer: RecordBatchFileWriter | RecordBatchStreamWriter;
  private closed = false;
  rows = 0;

  constructor(path: string, schema: Schema, options: ArrowIpcOptions = {}) {
    this.fd = openSync(path, 'w');
    this.queue = new FdQueue(this.fd);
    this.writer = options.stream ? new RecordBatchStreamWriter() : new RecordBatchFileWriter();
    this.writer.reset(this.queue, schema);
  }

  write(batch: RecordBatch): void {
    this.writer.write(batch);
    this.queue.flush();
    this.rows += batch.numRows;
  }

  /** Writes the footer and closes the file. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.writer.finish();
      this.queue.flush();
    } finally {
      closeSync(this.fd);
    }
  }

  /** Closes the file without finishing it (the caller removes it). */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}
