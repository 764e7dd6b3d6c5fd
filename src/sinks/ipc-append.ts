/**
 * Arrow IPC files (or streams) appended into one: the schema and dictionary messages of the
 * first, then every record-batch message of each in order, copied as bytes (never decoded into
 * columns), then the end-of-stream marker and, for the file format, a footer listing the new
 * positions. Written the way ArrowIpcFileWriter (arrow-pieces.ts) writes, so batches that are the
 * same bytes give the same file as one writer would. Used by `merge` of sharded conversions.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { MetadataVersion, type Schema } from 'apache-arrow';
import { Message } from 'apache-arrow/ipc/metadata/message';
import { FileBlock, Footer } from 'apache-arrow/ipc/metadata/file';
import { IPC_EOS as EOS, IPC_MAGIC } from './ipc-bytes.js';

const MAGIC = Buffer.from(IPC_MAGIC);
const COPY_BLOCK = 8 << 20;

interface IpcMessage { kind: 'schema' | 'dictionary' | 'batch'; at: number; metadataLength: number; bodyLength: number; rows: number; schema?: Schema }

function readAt(fd: number, len: number, pos: number): Buffer {
  const b = Buffer.alloc(len);
  let n = 0;
  while (n < len) {
    const got = readSync(fd, b, n, len - n, pos + n);
    if (got === 0) throw new Error(`unexpected end of Arrow IPC data at byte ${pos + n}`);
    n += got;
  }
  return b;
}

/** The messages of one IPC file or stream, up to its end-of-stream marker. */
function messagesOf(fd: number, path: string): { messages: IpcMessage[]; file: boolean } {
  const size = fstatSync(fd).size;
  const file = size >= 8 && readAt(fd, 6, 0).equals(MAGIC);
  const messages: IpcMessage[] = [];
  for (let at = file ? 8 : 0; at + 8 <= size;) {
    const prefix = readAt(fd, 8, at);
    if (prefix.readInt32LE(0) !== -1) throw new Error(`${path}: not an Arrow IPC message at byte ${at}`);
    const len = prefix.readInt32LE(4);
    if (len === 0) return { messages, file };
    const m = Message.decode(readAt(fd, len, at + 8));
    const kind = m.isSchema() ? 'schema' : m.isRecordBatch() ? 'batch' : 'dictionary';
    const rows = m.isRecordBatch() ? Number(m.header().length) : 0;
    messages.push({ kind, at, metadataLength: 8 + len, bodyLength: Number(m.bodyLength), rows, ...(m.isSchema() ? { schema: m.header() } : {}) });
    at += 8 + len + Number(m.bodyLength);
  }
  throw new Error(`${path}: Arrow IPC data without an end-of-stream marker (cut short?)`);
}

/** True when some input holds a batch with rows; read before writing so empty parts can be left out. */
function anyRows(inputs: readonly string[]): boolean {
  return inputs.some((path) => {
    const fd = openSync(path, 'r');
    try {
      return messagesOf(fd, path).messages.some((m) => m.rows > 0);
    } finally {
      closeSync(fd);
    }
  });
}

/**
 * Appends the IPC files `inputs` (all file format or all stream format, one schema) into `output`.
 * A shard with no records still writes a zero-row batch; one unsharded run writes none beside
 * real rows, so zero-row batches are dropped unless every input is empty.
 */
export function appendIpc(inputs: readonly string[], output: string): { batches: number } {
  const keepEmpty = !anyRows(inputs);
  const out = openSync(output, 'w');
  let pos = 0;
  const put = (b: Uint8Array): void => {
    let n = 0;
    while (n < b.length) n += writeSync(out, b, n, b.length - n, pos + n);
    pos += b.length;
  };
  const blocks: FileBlock[] = [];
  const dictBlocks: FileBlock[] = [];
  let head: Buffer | null = null;
  let schema: Schema | undefined;
  let asFile = false;
  try {
    for (const path of inputs) {
      const fd = openSync(path, 'r');
      try {
        const { messages, file } = messagesOf(fd, path);
        const firstBatch = messages.findIndex((m) => m.kind === 'batch');
        const headEnd = firstBatch < 0 ? messages.length : firstBatch;
        const last = messages[headEnd - 1];
        const start = file ? 8 : 0;
        const partHead = last ? readAt(fd, last.at + last.metadataLength + last.bodyLength - start, start) : Buffer.alloc(0);
        if (head === null) {
          head = partHead;
          asFile = file;
          schema = messages.find((m) => m.kind === 'schema')?.schema;
          if (file) put(Buffer.concat([MAGIC, Buffer.alloc(2)]));
          for (const m of messages.slice(0, headEnd)) if (m.kind === 'dictionary') dictBlocks.push(new FileBlock(m.metadataLength, m.bodyLength, pos + m.at - start));
          put(head);
        } else if (file !== asFile || !partHead.equals(head)) {
          throw new Error(`${path}: its schema or dictionaries differ from those of ${inputs[0]}`);
        }
        for (const m of messages.slice(headEnd)) {
          if (m.kind === 'batch' && m.rows === 0 && !keepEmpty) continue;
          if (m.kind !== 'batch') throw new Error(`${path}: a dictionary message after the first record batch (delta dictionaries are not merged)`);
          blocks.push(new FileBlock(m.metadataLength, m.bodyLength, pos));
          const total = m.metadataLength + m.bodyLength;
          for (let done = 0; done < total; done += COPY_BLOCK) put(readAt(fd, Math.min(COPY_BLOCK, total - done), m.at + done));
        }
      } finally {
        closeSync(fd);
      }
    }
    put(EOS);
    if (asFile) {
      if (!schema) throw new Error('Arrow IPC file without a schema message');
      const footer = Footer.encode(new Footer(schema, MetadataVersion.V5, blocks, dictBlocks));
      const tail = Buffer.alloc(4);
      tail.writeInt32LE(footer.byteLength, 0);
      put(Buffer.concat([footer, tail, MAGIC]));
    }
    return { batches: blocks.length };
  } finally {
    closeSync(out);
  }
}
