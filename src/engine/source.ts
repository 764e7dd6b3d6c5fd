/**
 * Turns inputs into jobs. A seekable plain file becomes byte ranges that workers read and frame
 * themselves; a seekable BGZF file becomes compressed ranges that workers inflate; anything else
 * (stdin, plain gzip) is read here in large blocks and cut at the last record boundary.
 */
import { createReadStream, openSync, readSync, closeSync, statSync, type Stats } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { Readable, pipeline } from 'node:stream';
import { isBgzfHeader, BGZF_EOF } from './bgzf.js';
import { ThreadmillError } from './errors.js';
import type { Framing } from './plugin.js';
import type { Job } from './protocol.js';

/** file/bgzf: seekable, planned into ranges; stream: a gzip file or a pipe, read in order (sniffed for gzip). */
export type InputKind = 'file' | 'bgzf' | 'stream' | 'stdin';

/** A job before the run numbers it, with the on-disk bytes it accounts for (for progress). */
export interface PlannedJob { job: DistributiveOmit<Job, 'id' | 'index'>; inputBytes: number }
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

export interface InputInfo { name: string; kind: InputKind; size: number; warnings: string[] }

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
  // consume its writer: stream them, sniffed for gzip as they are read.
  if (!st.isFile()) return { name, kind: 'stream', size: -1, warnings: [] };
  let fd: number;
  try {
    fd = openSync(name, 'r');
  } catch (err) {
    throw inputError(name, err);
  }
  try {
    const head = new Uint8Array(18);
    const n = readSync(fd, head, 0, 18, 0);
    if (n >= 18 && isBgzfHeader(head, 0)) return { name, kind: 'bgzf', size: st.size, warnings: bgzfEofWarning(fd, name, st.size) };
    if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return { name, kind: 'stream', size: st.size, warnings: [] };
    return { name, kind: 'file', size: st.size, warnings: [] };
  } finally {
    closeSync(fd);
  }
}

function inputError(name: string, err: unknown): ThreadmillError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new ThreadmillError('INPUT_NOT_FOUND', `input not found: ${name}`);
  return new ThreadmillError('INPUT_UNREADABLE', `cannot read ${name}: ${(err as Error).message}`);
}

function bgzfEofWarning(fd: number, name: string, size: number): string[] {
  const tail = new Uint8Array(BGZF_EOF.length);
  const n = size >= tail.length ? readSync(fd, tail, 0, tail.length, size - tail.length) : 0;
  const ok = n === tail.length && tail.every((b, i) => b === BGZF_EOF[i]);
  return ok ? [] : [`${name}: no BGZF end-of-file block; the file may be truncated`];
}

/** Seekable inputs: fixed ranges of `chunkSize` bytes, independent of the thread count. */
export function* planRanges(info: InputInfo, inputIndex: number, chunkSize: number, allowTruncated: boolean): Generator<PlannedJob> {
  for (let start = 0; start < info.size; start += chunkSize) {
    const end = Math.min(info.size, start + chunkSize);
    const base = { input: info.name, inputIndex, path: info.name, start, end, size: info.size };
    const job = info.kind === 'bgzf' ? { kind: 'bgzf' as const, ...base, allowTruncated } : { kind: 'file' as const, ...base };
    yield { job, inputBytes: end - start };
  }
}

/** Where to cut a stream block: the last record start found by backing off from the end. */
export function lastRecordStart(buf: Uint8Array, framing: Framing): number {
  for (let back = 4096; ; back *= 4) {
    const from = Math.max(1, buf.length - back);
    const r = framing.recordStart(buf, from, false);
    if (r >= 0) return r;
    if (from === 1) return 0;
  }
}

function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/** Decompressed data of a gzip file, or of stdin (sniffed: plain, gzip or BGZF). */
export async function* streamData(info: InputInfo, counter: { raw: number }): AsyncGenerator<Buffer> {
  const raw: AsyncIterator<Buffer> = info.kind === 'stdin'
    ? (process.stdin[Symbol.asyncIterator]() as AsyncIterator<Buffer>)
    : (createReadStream(info.name, { highWaterMark: 1 << 20 })[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
  const first = await raw.next();
  if (first.done) return;
  const head = first.value;
  async function* counted(): AsyncGenerator<Buffer> {
    counter.raw += head.length;
    yield head;
    for (let n = await raw.next(); !n.done; n = await raw.next()) {
      counter.raw += n.value.length;
      yield n.value;
    }
  }
  if (!isGzip(head)) {
    yield* counted();
    return;
  }
  // Multi-member gzip (and so BGZF) is read through to the end by Node's Gunzip.
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  const piped = pipeline(Readable.from(counted()), gunzip, () => {});
  try {
    for await (const d of piped as AsyncIterable<Buffer>) yield d;
  } catch (err) {
    throw new ThreadmillError('GZIP_CORRUPT', `${info.name}: bad gzip data near compressed byte ${counter.raw}: ${(err as Error).message}`);
  }
}

/**
 * Streams: blocks of about `chunkSize` bytes cut at the last record start (found by the format's
 * framing), the remainder carried into the next block. Copies each block into its own
 * ArrayBuffer so it can be transferred, not cloned, to a worker.
 */
export async function* planStream(info: InputInfo, inputIndex: number, chunkSize: number, framing: Framing): AsyncGenerator<PlannedJob> {
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
  // huge record costs O(n) copying, not O(n^2).
  let tryAt = chunkSize;
  for await (const data of streamData(info, counter)) {
    parts.push(data);
    length += data.length;
    if (length < tryAt) continue;
    const buf = Buffer.concat(parts, length);
    const cut = lastRecordStart(buf, framing);
    if (cut === 0) {
      parts = [buf];
      tryAt = length * 2;
      continue;
    }
    tryAt = chunkSize;
    yield emit(buf.subarray(0, cut));
    parts = [buf.subarray(cut)];
    length = buf.length - cut;
  }
  if (length > 0) yield emit(Buffer.concat(parts, length));
}
