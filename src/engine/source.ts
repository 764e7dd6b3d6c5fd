/**
 * Turns inputs into jobs. A seekable plain file becomes byte ranges that workers read and frame
 * themselves; a seekable BGZF file becomes compressed ranges that workers inflate; anything else
 * (stdin, pipes, gzip and zstd files) is read here in large blocks and cut at the last record
 * boundary. Compression is told from the bytes (compression.ts), never from the name.
 */
import { createReadStream, openSync, readSync, closeSync, statSync, type Stats } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { Readable, pipeline } from 'node:stream';
import { BGZF_EOF, inflateBgzfStream, isBgzfHeader, type BgzfStreamOptions } from './bgzf.js';
import { ThreadmillError } from './errors.js';
import { faultPoint } from './fault-points.js';
import { SNIFF_LENGTH, decompressHead, refuseUnsupported, sniffCompression, zstdChunks } from './compression.js';
import { chunkTooLarge, maxChunkBytes, recordTooLarge } from './limits.js';
import type { Framing } from './plugin.js';
import type { Job } from './protocol.js';

/** file/bgzf: seekable, planned into ranges; stream: a gzip/zstd file, a pipe or a device, read in order (sniffed). */
export type InputKind = 'file' | 'bgzf' | 'stream' | 'stdin';

/** A job before the run numbers it, with the on-disk bytes it accounts for (for progress). */
export interface PlannedJob { job: DistributiveOmit<Job, 'id' | 'index'>; inputBytes: number }
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

export interface InputInfo {
  name: string;
  kind: InputKind;
  size: number;
  warnings: string[];
  /** A regular file as the run found it; one that differs at the end (or on a failure) is INPUT_CHANGED. */
  identity?: FileIdentity;
  /**
   * Shown the first decompressed bytes of a stream (up to {@link HEAD_BYTES}) before any of it is
   * framed; throws to refuse an input that is not in the run's format (FormatTask.checkHead).
   */
  checkHead?: (head: Uint8Array) => void;
}

/** What tells that a file is still the one the run began with. */
export interface FileIdentity { dev: number; ino: number; size: number; mtimeMs: number }

/** How much of an input's decompressed head a format is shown to tell whether the input is in its format. */
export const HEAD_BYTES = 1 << 16;

const STDIN_ALIASES = new Set(['/dev/stdin', '/dev/fd/0', '/proc/self/fd/0']);

/** Looks at an input's first bytes (never its name) to choose how to read it. */
export function describeInput(name: string): InputInfo {
  if (name === '-') return { name, kind: 'stdin', size: -1, warnings: [] };
  let st: Stats;
  try {
    st = statSync(name);
  } catch (err) {
    throw inputError(name, err);
  }
  if (st.isDirectory()) throw new ThreadmillError('INPUT_UNREADABLE', `input is a directory: ${name}`);
  // Pipes and devices (e.g. <(zcat …)) cannot be read at a position, and opening one here would
  // consume its writer: stream them, sniffed for gzip as they are read. This process's own stdin
  // is read as stdin: opened by name it fails (ENXIO) when it is a socket, as under Node's spawn.
  if (!st.isFile()) return { name, kind: STDIN_ALIASES.has(name) ? 'stdin' : 'stream', size: -1, warnings: [] };
  let fd: number;
  try {
    fd = openSync(name, 'r');
  } catch (err) {
    throw inputError(name, err);
  }
  try {
    const head = new Uint8Array(SNIFF_LENGTH);
    const compression = sniffCompression(head.subarray(0, readSync(fd, head, 0, SNIFF_LENGTH, 0)));
    refuseUnsupported(name, compression);
    const identity = { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
    if (compression === 'bgzf') return { name, kind: 'bgzf', size: st.size, identity, warnings: bgzfEofWarning(fd, name, st.size) };
    if (compression !== null) return { name, kind: 'stream', size: st.size, identity, warnings: [] };
    return { name, kind: 'file', size: st.size, identity, warnings: [] };
  } finally {
    closeSync(fd);
  }
}

function inputError(name: string, err: unknown): ThreadmillError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new ThreadmillError('INPUT_NOT_FOUND', `input not found: ${name}`);
  return new ThreadmillError('INPUT_UNREADABLE', `cannot read ${name}: ${(err as Error).message}`);
}

/**
 * INPUT_CHANGED for the first input that is no longer the file the run described (another size,
 * mtime, device or inode, or gone), else null. A file rewritten while it is read gives records
 * of neither version; one cut short gave half of them with exit 0 (issue 16).
 */
export function changedInput(infos: readonly InputInfo[], cause?: unknown): ThreadmillError | null {
  for (const info of infos) {
    const was = info.identity;
    if (!was) continue;
    let now: Stats | null = null;
    try {
      now = statSync(info.name);
    } catch {
      // gone: reported below
    }
    const what = !now ? 'was removed'
      : now.dev !== was.dev || now.ino !== was.ino ? 'was replaced by another file'
      : now.size !== was.size ? `changed size from ${was.size} to ${now.size} bytes`
      : now.mtimeMs !== was.mtimeMs ? `was modified (mtime ${new Date(was.mtimeMs).toISOString()} → ${new Date(now.mtimeMs).toISOString()})`
      : null;
    if (what) return new ThreadmillError('INPUT_CHANGED', `${info.name} ${what} while the run read it; no output was replaced: rerun on a file nobody writes to`, { cause });
  }
  return null;
}

function bgzfEofWarning(fd: number, name: string, size: number): string[] {
  const tail = new Uint8Array(BGZF_EOF.length);
  const n = size >= tail.length ? readSync(fd, tail, 0, tail.length, size - tail.length) : 0;
  const ok = n === tail.length && tail.every((b, i) => b === BGZF_EOF[i]);
  return ok ? [] : [`${name}: no BGZF end-of-file block; the file may be truncated`];
}

/**
 * Lets the format refuse inputs that are not in its format before any is framed: seekable ones
 * now, from their first HEAD_BYTES (decompressed), streams as their first bytes arrive.
 */
export function checkHeads(infos: InputInfo[], check: ((head: Uint8Array, input: string) => void) | undefined): void {
  if (!check) return;
  for (const info of infos) {
    info.checkHead = (head) => check(head, info.name);
    if (info.kind !== 'file' && info.kind !== 'bgzf') continue;
    const head = readHead(info.name, HEAD_BYTES);
    if (head && head.length > 0) info.checkHead(head);
  }
}

/** Seekable inputs: fixed ranges of `chunkSize` bytes, independent of the thread count. */
export function* planRanges(info: InputInfo, inputIndex: number, chunkSize: number, allowTruncated: boolean): Generator<PlannedJob> {
  for (let start = 0; start < info.size; start += chunkSize) {
    const end = Math.min(info.size, start + chunkSize);
    if (info.kind === 'file' && end - start > maxChunkBytes()) throw chunkTooLarge(info.name, maxChunkBytes());
    const base = { input: info.name, inputIndex, path: info.name, start, end, size: info.size };
    const job = info.kind === 'bgzf' ? { kind: 'bgzf' as const, ...base, allowTruncated } : { kind: 'file' as const, ...base };
    yield { job, inputBytes: end - start };
  }
}

/**
 * Where to cut a stream block: the last record start, found by backing off from the end and then
 * stepping forward over the records after the first start found. (Returning that first start cut
 * one short record per block off a block that ends in a huge record, so the huge record was copied
 * and scanned again for every short record before it.) 0 when there is none.
 */
export function lastRecordStart(buf: Uint8Array, framing: Framing): number {
  for (let back = 4096; ; back *= 4) {
    const from = Math.max(1, buf.length - back);
    let r = framing.recordStart(buf, from, false);
    if (r >= 0) {
      for (let next = r; next >= 0 && next < buf.length; next = framing.recordStart(buf, r + 1, false)) r = next;
      return r;
    }
    if (from === 1) return 0;
  }
}

/** Where a sequential walk over a stream stands: the next known record start in the carried bytes. */
interface StreamWalk { at: number; atInputStart: boolean }

/**
 * Where to cut a stream block of a format with {@link Framing.recordEnd}: the last record start a
 * sequential reader reaches, walking on from where the previous look stopped (so a block that
 * grows is walked once, O(n) in all). A record with an impossible length stops the walk: the block
 * is cut before it, so the worker that gets it reports it; at the block's very start the cut falls
 * back to the content search.
 */
function walkedCut(buf: Uint8Array, framing: Framing & { recordEnd: NonNullable<Framing['recordEnd']> }, walk: StreamWalk): number {
  let p = walk.at;
  for (;;) {
    const end = framing.recordEnd(buf, p, walk.atInputStart && p === 0);
    if (end <= 0) {
      walk.at = p;
      return end === 0 && p === 0 ? lastRecordStart(buf, framing) : p;
    }
    p = end;
  }
}

/** Raw bytes of a stream input: its first pieces joined until the compression can be told, then the rest as read. */
async function* rawPieces(info: InputInfo, counter: { raw: number }): AsyncGenerator<Buffer> {
  const source: AsyncIterable<Buffer> = info.kind === 'stdin' ? process.stdin : createReadStream(info.name, { highWaterMark: 1 << 20 });
  for await (const piece of source) {
    counter.raw += piece.length;
    faultPoint('read');
    yield piece;
  }
}

/**
 * Decompressed data of a stream input: a compressed file, a pipe, or stdin, sniffed from its first
 * bytes (plain, gzip or BGZF through node:zlib, zstd through fzstd; bzip2/xz/lz4 refused). The
 * first {@link HEAD_BYTES} are shown to `info.checkHead` before anything is yielded.
 */
export async function* streamData(info: InputInfo, counter: { raw: number }, bgzf: BgzfStreamOptions = {}): AsyncGenerator<Buffer> {
  const raw = rawPieces(info, counter);
  // A pipe may deliver its first bytes a few at a time: gather enough to tell the compression.
  const headParts: Buffer[] = [];
  let headLength = 0;
  while (headLength < SNIFF_LENGTH) {
    const n = await raw.next();
    if (n.done) break;
    headParts.push(n.value);
    headLength += n.value.length;
  }
  if (headLength === 0) return;
  const head = Buffer.concat(headParts, headLength);
  const compression = sniffCompression(head);
  refuseUnsupported(info.name, compression);
  async function* all(): AsyncGenerator<Buffer> {
    yield head;
    yield* raw;
  }
  let data: AsyncIterable<Uint8Array> = all();
  if (compression === 'zstd') data = zstdChunks(all(), info.name, () => counter.raw);
  // BGZF block by block (bgzf.ts): the codes, offsets and --allow-truncated of a BGZF file.
  else if (compression !== null) data = isBgzfHeader(head, 0) ? inflateBgzfStream(all(), info.name, bgzf) : gunzipped(all(), info, counter);
  yield* headChecked(data, info.checkHead);
}

/** Multi-member gzip (and so BGZF) read through to the end by Node's Gunzip. */
async function* gunzipped(raw: AsyncIterable<Buffer>, info: InputInfo, counter: { raw: number }): AsyncGenerator<Buffer> {
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  const piped = pipeline(Readable.from(raw), gunzip, () => {});
  try {
    for await (const d of piped as AsyncIterable<Buffer>) yield d;
  } catch (err) {
    if (err instanceof ThreadmillError) throw err;
    throw new ThreadmillError('GZIP_CORRUPT', `${info.name}: bad gzip data near compressed byte ${counter.raw}: ${(err as Error).message}`);
  }
}

/** Yields `data` as Buffers, holding back the first HEAD_BYTES until `check` has seen them. */
async function* headChecked(data: AsyncIterable<Uint8Array>, check: ((head: Uint8Array) => void) | undefined): AsyncGenerator<Buffer> {
  const held: Buffer[] = [];
  let heldLength = 0;
  for await (const d of data) {
    const b = Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength);
    if (!check) {
      yield b;
      continue;
    }
    held.push(b);
    heldLength += b.length;
    if (heldLength < HEAD_BYTES) continue;
    check(Buffer.concat(held, heldLength).subarray(0, HEAD_BYTES));
    check = undefined;
    yield* held.splice(0);
  }
  if (check && heldLength > 0) check(Buffer.concat(held, heldLength));
  yield* held;
}

/**
 * The first `max` decompressed bytes of a seekable input (plain, gzip, BGZF or zstd), for a
 * format that sniffs its input before a run; null for stdin, pipes and devices, which cannot be
 * read twice (and would lose what was read: issue 8, `INTERNAL ESPIPE` on `<(…)`).
 */
export function readHead(name: string, max: number): Uint8Array | null {
  let fd: number;
  try {
    // stat, not open, first: opening a FIFO blocks until a writer comes, and closing it breaks the writer.
    if (name === '-' || !statSync(name).isFile()) return null;
    fd = openSync(name, 'r');
  } catch {
    return null; // the run reports a missing or unreadable input with its stable code
  }
  try {
    const raw = Buffer.alloc(max);
    const n = readSync(fd, raw, 0, max, 0);
    return decompressHead(raw.subarray(0, n), sniffCompression(raw.subarray(0, n)), max);
  } finally {
    closeSync(fd);
  }
}

/**
 * Streams: blocks of about `chunkSize` bytes cut at the last record start (found by the format's
 * framing), the remainder carried into the next block. Copies each block into its own
 * ArrayBuffer so it can be transferred, not cloned, to a worker.
 */
export async function* planStream(info: InputInfo, inputIndex: number, chunkSize: number, framing: Framing, bgzf: BgzfStreamOptions = {}): AsyncGenerator<PlannedJob> {
  const counter = { raw: 0 };
  let reported = 0;
  let parts: Buffer[] = [];
  let length = 0;
  const emit = (bytes: Uint8Array): PlannedJob => {
    const own = new Uint8Array(bytes.length);
    own.set(bytes);
    const inputBytes = counter.raw - reported;
    reported = counter.raw;
    return { job: { kind: 'bytes', input: info.name, inputIndex, bytes: own }, inputBytes };
  };
  // A record longer than a block leaves no cut: wait for twice as much before trying again, so a
  // huge record costs O(n) copying, not O(n^2) — up to the chunk limit, past which it is an error.
  const max = maxChunkBytes();
  let emitted = 0;
  let tryAt = Math.min(chunkSize, max + 1);
  const walk: StreamWalk = { at: 0, atInputStart: true };
  const cutOf = (buf: Uint8Array): number => {
    if (chunkSize > max) return 0;
    return framing.recordEnd ? walkedCut(buf, framing as Parameters<typeof walkedCut>[1], walk) : lastRecordStart(buf, framing);
  };
  for await (const data of streamData(info, counter, bgzf)) {
    parts.push(data);
    length += data.length;
    if (length < tryAt) continue;
    const buf = Buffer.concat(parts, length);
    // A chunk size past the limit asks for the whole input as one chunk: never cut it.
    const cut = cutOf(buf);
    if (cut === 0) {
      if (length > max) throw chunkSize > max ? chunkTooLarge(info.name, max) : recordTooLarge(info.name, emitted, max);
      parts = [buf];
      tryAt = Math.min(length * 2, max + 1);
      continue;
    }
    tryAt = chunkSize;
    walk.at = 0;
    walk.atInputStart = false;
    yield emit(buf.subarray(0, cut));
    emitted += cut;
    parts = [buf.subarray(cut)];
    length = buf.length - cut;
    // What is left is one unfinished record: already past the limit, it can never be a chunk.
    if (length > max) throw recordTooLarge(info.name, emitted, max);
  }
  if (length > max) throw chunkSize > max ? chunkTooLarge(info.name, max) : recordTooLarge(info.name, emitted, max);
  if (length > 0) yield emit(Buffer.concat(parts, length));
}
