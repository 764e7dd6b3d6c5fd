/**
 * Arrow IPC messages assembled from pieces (format-agnostic). A record batch is described by its
 * field nodes and its buffers, and each buffer may be a list of pieces (views of the arrays the
 * workers returned) that are written back to back. So joining the chunks of a batch never copies
 * the values: only the offsets and validity bitmaps, a few bytes per row, are built on this
 * thread, and the file is written with positional writev calls off the JS thread.
 *
 * Why not apache-arrow's RecordBatchFileWriter: it needs each buffer contiguous, so every batch
 * was first joined (a copy of every byte on the main thread), then copied again by a synchronous
 * write. On 2M BAM records at -j 2 that was 2.0 s of writev and 0.5 s of joins out of the main
 * thread's 3.8 s busy (node --cpu-prof). apache-arrow still encodes the flatbuffer metadata
 * (Message, Footer) and lays out the dictionaries, so only the body layout is ours; it follows
 * VectorAssembler (empty validity buffer when a node has no nulls, buffers padded to 8 bytes).
 */
import { close, fstat, open, writev } from 'node:fs';
import { openOutputSync, STDOUT_PATH } from '../engine/atomic.js';
import { IPC_EOS as EOS, IPC_MAGIC as MAGIC, joined, padded } from './ipc-bytes.js';
import { MetadataVersion, Vector, type Data, type RecordBatch, type Schema } from 'apache-arrow';
import { BodyCompression, BufferRegion, DictionaryBatch, FieldNode, Message, RecordBatch as RecordBatchHeader } from 'apache-arrow/ipc/metadata/message';
import { CompressionType } from 'apache-arrow/fb/compression-type';
import { FileBlock, Footer } from 'apache-arrow/ipc/metadata/file';
import { VectorAssembler } from 'apache-arrow/visitor/vectorassembler';

/** One Arrow buffer, as pieces written back to back. */
export interface PieceBuffer { pieces: Uint8Array[]; byteLength: number }
export interface PieceNode { length: number; nullCount: number }
/** A record batch: nodes and buffers in Arrow's depth-first field order. */
export interface PieceBatch { length: number; nodes: PieceNode[]; buffers: PieceBuffer[] }
/** The body codecs the IPC format defines (LZ4_FRAME, ZSTD). */
export type IpcCodec = 'lz4' | 'zstd';
/**
 * A record batch whose buffers a worker compressed (ipc-compression.ts): one body in which buffer
 * i is a region of `lengths[i]` bytes (0: empty) starting at an 8-byte boundary.
 */
export interface CompressedBatch { length: number; nodes: PieceNode[]; codec: IpcCodec; body: Uint8Array; lengths: number[] }
export type IpcBatch = PieceBatch | CompressedBatch;
/** A dictionary written once before the first batch. */
export interface PieceDictionary { id: number; values: Vector | Data }

const ZEROS = new Uint8Array(8);

const asBytes = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
/** Arrow pads every buffer and message to 8 bytes. */
export const pieceBuffer = (...pieces: ArrayBufferView[]): PieceBuffer => {
  const bytes = pieces.map(asBytes);
  return { pieces: bytes, byteLength: bytes.reduce((n, p) => n + p.byteLength, 0) };
};

/** Bytes of one encapsulated message: continuation, length, flatbuffer, padding, then the body. */
export interface EncodedMessage { pieces: Uint8Array[]; metadataLength: number; bodyLength: number; byteLength: number }

function encapsulate(message: Message, body: PieceBuffer[]): EncodedMessage {
  const flat = Message.encode(message);
  const metadataLength = padded(8 + flat.byteLength);
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setInt32(0, -1, true);
  new DataView(prefix.buffer).setInt32(4, metadataLength - 8, true);
  const pieces = [prefix, flat, ZEROS.subarray(0, metadataLength - 8 - flat.byteLength)];
  let bodyLength = 0;
  for (const b of body) {
    if (b.byteLength === 0) continue;
    pieces.push(...b.pieces);
    const pad = padded(b.byteLength) - b.byteLength;
    if (pad > 0) pieces.push(ZEROS.subarray(0, pad));
    bodyLength += b.byteLength + pad;
  }
  return { pieces: pieces.filter((p) => p.byteLength > 0), metadataLength, bodyLength, byteLength: metadataLength + bodyLength };
}

/** Where each buffer lies in the message body, and the body's length. */
function bodyLayout(buffers: PieceBuffer[]): { regions: BufferRegion[]; bodyLength: number } {
  let at = 0;
  const regions = buffers.map((b) => {
    const r = new BufferRegion(at, padded(b.byteLength));
    at += padded(b.byteLength);
    return r;
  });
  return { regions, bodyLength: at };
}

/**
 * An apache-arrow RecordBatch as pieces, laid out by apache-arrow itself (a sliced batch gets
 * rebased offsets; the values stay views). For callers that build Arrow objects anyway.
 */
export function piecesOf(batch: RecordBatch): PieceBatch {
  const a = VectorAssembler.assemble(batch);
  return {
    length: batch.numRows,
    nodes: a.nodes.map((n) => ({ length: Number(n.length), nullCount: Number(n.nullCount) })),
    buffers: a.buffers.map((b) => pieceBuffer(b)),
  };
}

const CODEC_TYPES: Record<IpcCodec, CompressionType> = { lz4: CompressionType.LZ4_FRAME, zstd: CompressionType.ZSTD };

/**
 * A compressed batch's message: regions at 8-byte boundaries with their exact lengths (a frame
 * decoder must not see the padding), as apache-arrow and Arrow C++ lay them out.
 */
function compressedMessage(batch: CompressedBatch, nodes: FieldNode[]): EncodedMessage {
  let at = 0;
  const regions = batch.lengths.map((n) => {
    const r = new BufferRegion(at, n);
    at += padded(n);
    return r;
  });
  if (at !== batch.body.byteLength) throw new Error(`compressed body is ${batch.body.byteLength} bytes, its regions ${at}`);
  const header = new RecordBatchHeader(batch.length, nodes, regions, new BodyCompression(CODEC_TYPES[batch.codec]));
  return encapsulate(Message.from(header, at), [pieceBuffer(batch.body)]);
}

export function recordBatchMessage(batch: IpcBatch): EncodedMessage {
  const nodes = batch.nodes.map((n) => new FieldNode(n.length, n.nullCount));
  if ('body' in batch) return compressedMessage(batch, nodes);
  const { regions, bodyLength } = bodyLayout(batch.buffers);
  const header = new RecordBatchHeader(batch.length, nodes, regions, null);
  return encapsulate(Message.from(header, bodyLength), batch.buffers);
}

export function dictionaryMessage(d: PieceDictionary): EncodedMessage {
  const vector = d.values instanceof Vector ? d.values : new Vector([d.values]);
  const a = VectorAssembler.assemble(vector);
  const buffers = a.buffers.map((b) => pieceBuffer(b));
  const header = new RecordBatchHeader(vector.length, a.nodes, a.bufferRegions, null);
  return encapsulate(Message.from(new DictionaryBatch(header, d.id, false), a.byteLength), buffers);
}

export function schemaMessage(schema: Schema): EncodedMessage {
  return encapsulate(Message.from(schema), []);
}

/** The start of an IPC stream: the schema and dictionary messages, in one buffer. */
export function ipcStreamHead(schema: Schema, dictionaries: PieceDictionary[]): Uint8Array {
  return joined([schemaMessage(schema), ...dictionaries.map(dictionaryMessage)].flatMap((m) => m.pieces));
}

/** A whole IPC stream of one batch (`head` from ipcStreamHead), in one movable buffer. */
export function ipcStreamBytes(head: Uint8Array, batch: PieceBatch): Uint8Array {
  return joined([head, ...recordBatchMessage(batch).pieces, EOS]);
}

const writevAsync = (fd: number, pieces: Uint8Array[], at: number | null): Promise<number> =>
  new Promise((resolve, reject) => writev(fd, pieces, at, (err, n) => (err ? reject(err) : resolve(n))));
// `-` is fd 1 itself (engine/atomic.ts openOutputSync), never closed here.
const openAsync = (path: string): Promise<number> => (path === STDOUT_PATH ? Promise.resolve(openOutputSync(path)) : new Promise((resolve, reject) => open(path, 'w', (err, fd) => (err ? reject(err) : resolve(fd)))));
const isRegularFile = (fd: number): Promise<boolean> => new Promise((resolve, reject) => fstat(fd, (err, st) => (err ? reject(err) : resolve(st.isFile()))));
const closeAsync = (fd: number): Promise<void> => (fd === 1 ? Promise.resolve() : new Promise((resolve, reject) => close(fd, (err) => (err ? reject(err) : resolve()))));

export interface ArrowIpcOptions {
  /** IPC stream format instead of the file format (no magic, no footer; readable while written). */
  stream?: boolean;
  /** Writes pending at most (default 4). */
  maxInFlight?: number;
}

/**
 * Arrow IPC file (or stream) writer over pieces. Each write is placed at a known position and
 * handed to libuv's thread pool (positional writev), so the kernel's copy of the bytes happens
 * off the JS thread and several batches can be in flight; at most `maxInFlight` are pending,
 * and write() waits for the oldest past that (backpressure, and a bound on retained buffers).
 * Writing to a temporary path and renaming it is the caller's job (engine/atomic.ts).
 */
export class ArrowIpcFileWriter {
  private fd = -1;
  private position = 0;
  private readonly pending: Promise<void>[] = [];
  private failure: unknown = null;
  private readonly recordBlocks: FileBlock[] = [];
  private readonly dictionaryBlocks: FileBlock[] = [];
  private closed = false;
  /**
   * A FIFO, pipe or terminal (`-o -`, `-o /dev/stdout`) cannot be written at a position: there
   * the writes go one after another at the current position (engine/atomic.ts: write-through).
   */
  private sequential = false;
  private tail: Promise<void> = Promise.resolve();
  /** Settles once the last batch queued is placed (write()). */
  private order: Promise<void> = Promise.resolve();

  private constructor(private readonly schema: Schema, private readonly maxInFlight: number, private readonly stream: boolean) {}

  static async open(path: string, schema: Schema, dictionaries: PieceDictionary[] = [], options: ArrowIpcOptions = {}): Promise<ArrowIpcFileWriter> {
    const w = new ArrowIpcFileWriter(schema, options.maxInFlight ?? 4, options.stream ?? false);
    w.fd = await openAsync(path);
    w.sequential = !(await isRegularFile(w.fd));
    // The file format is the stream format between magic numbers, so it starts with the schema.
    if (!w.stream) w.pending.push(w.put([MAGIC, ZEROS.subarray(0, 2)], 8));
    w.pending.push(w.putMessage(schemaMessage(schema)));
    for (const d of dictionaries) w.pending.push(w.putMessage(dictionaryMessage(d), w.dictionaryBlocks));
    return w;
  }

  /**
   * Queues the batch; `written` runs once its bytes are down, when its pieces may be reused. A
   * batch may be a promise (a worker is compressing it): batches are placed in the order of the
   * write() calls whatever order they resolve in, so several can be compressed at once.
   */
  async write(batch: IpcBatch | Promise<IpcBatch>, written?: () => void): Promise<void> {
    if (this.failure) throw this.failure;
    // Placed (a position taken) as soon as it and every earlier batch are ready; `done` (the
    // write) is wrapped so that the next batch is placed without waiting for this one's write.
    const placed = this.order.then(() => batch).then((b) => ({ done: this.putMessage(recordBatchMessage(b), this.recordBlocks, written) }));
    this.order = placed.then(() => {}, () => {});
    this.pending.push(placed.then((p) => p.done, (err: unknown) => {
      this.failure ??= err;
    }));
    while (this.pending.length > this.maxInFlight) await this.pending.shift();
    if (this.failure) throw this.failure;
  }

  /** Writes the end-of-stream marker and (file format) the footer, waits for every write, and closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.order;
    if (this.stream) this.pending.push(this.put([EOS], EOS.byteLength));
    else {
      const footer = Footer.encode(new Footer(this.schema, MetadataVersion.V5, this.recordBlocks, this.dictionaryBlocks));
      const tail = new Uint8Array(4);
      new DataView(tail.buffer).setInt32(0, footer.byteLength, true);
      this.pending.push(this.put([EOS, footer, tail, MAGIC], EOS.byteLength + footer.byteLength + 4 + MAGIC.byteLength));
    }
    await Promise.all(this.pending.splice(0));
    this.closed = true;
    await closeAsync(this.fd);
    if (this.failure) throw this.failure;
  }

  /** Closes without finishing (the caller removes the file); pending writes may still land. */
  abort(): void {
    if (this.closed || this.fd < 0) return;
    this.closed = true;
    const fd = this.fd;
    void Promise.allSettled(this.pending.splice(0)).then(() => closeAsync(fd)).catch(() => {});
  }

  /** Places the message at the current end; resolves once its bytes are down (see put). */
  private putMessage(m: EncodedMessage, blocks?: FileBlock[], written?: () => void): Promise<void> {
    blocks?.push(new FileBlock(m.metadataLength, m.bodyLength, this.position));
    return this.put(m.pieces, m.byteLength, written);
  }

  private put(pieces: Uint8Array[], byteLength: number, written?: () => void): Promise<void> {
    const at = this.position;
    this.position += byteLength;
    const write = this.sequential ? (this.tail = this.tail.then(() => writeAllAt(this.fd, pieces, null, byteLength))) : writeAllAt(this.fd, pieces, at, byteLength);
    return write.then(written, (err: unknown) => {
      this.failure ??= err;
    });
  }
}

/** Positional writev (`at` null: at the current position) until every byte is down (libuv splits past IOV_MAX; short writes are retried). */
async function writeAllAt(fd: number, pieces: Uint8Array[], at: number | null, byteLength: number): Promise<void> {
  let written = await writevAsync(fd, pieces, at);
  if (written === byteLength) return;
  const all = Buffer.concat(pieces);
  while (written < byteLength) {
    const n = await writevAsync(fd, [all.subarray(written)], at === null ? null : at + written);
    if (n <= 0) throw new Error(`write made no progress at offset ${(at ?? 0) + written}`);
    written += n;
  }
}
