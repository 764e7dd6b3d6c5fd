/**
 * Plans one shard's share of the inputs into jobs (see shard.ts for what a share is).
 *
 * - Plain files and BGZF: the share is a byte range (compressed offsets for BGZF: the blocks that
 *   start in it), planned into chunk ranges exactly as a whole file is; workers frame them.
 * - Plain gzip cannot be entered in the middle: its share is a range of the *decompressed* data,
 *   so every shard first counts the decompressed size (one inflate pass, no parsing), then reads
 *   up to the end of its share and frames the two ends on this thread like stream blocks. gzip
 *   therefore scales out poorly (each shard inflates the whole file once and its prefix again);
 *   docs/scale-out.md says to recompress with bgzip.
 * - stdin and pipes cannot be read by N processes: a usage error.
 */
import { closeSync, openSync } from 'node:fs';
import { bgzfBlocks } from './bgzf.js';
import { ThreadmillError } from './errors.js';
import { lastRecordStart, planRanges, streamData, type InputInfo, type PlannedJob } from './source.js';
import { shareRanges, type ByteRange, type Shard } from './shard.js';
import type { Framing } from './plugin.js';
import type { OrderedChunk } from './run-types.js';

/** What a shard covered of one input: the manifest records it and merge checks the tiling. */
export interface ShareCoverage {
  /** Bytes on disk (plain files), compressed offsets (BGZF), decompressed offsets (gzip). */
  unit: 'bytes' | 'compressed' | 'decompressed';
  start: number;
  end: number;
  /** The size the shares of this input divide (same unit). */
  size: number;
}

export class SharePlan {
  /** Decompressed offset of the first byte handed to workers, per gzip input (for error offsets). */
  private readonly streamStart = new Map<number, number>();
  /** Decompressed offset of a BGZF share's first block, found on the first error only. */
  private readonly bgzfStart = new Map<number, number>();

  private constructor(readonly shard: Shard, readonly infos: InputInfo[], readonly coverage: ShareCoverage[], private readonly chunkSize: number) {}

  /** Sizes every input (gzip: one counting inflate pass) and takes this shard's share of them. */
  static async create(infos: InputInfo[], shard: Shard, chunkSize: number): Promise<SharePlan> {
    const sizes: number[] = [];
    for (const info of infos) {
      if (info.kind === 'stdin' || info.size < 0) {
        throw new ThreadmillError('SHARD_UNSEEKABLE', `--shard ${shard.index}/${shard.count}: ${info.name === '-' ? 'stdin' : info.name} is a stream; every shard must read the same input, so give a file`, { exitCode: 2 });
      }
      sizes.push(info.kind === 'stream' ? await decompressedSize(info) : info.size);
    }
    const ranges = shareRanges(sizes, shard, infos.map((info) => (info.kind === 'stream' ? 1 : chunkSize)));
    const coverage = infos.map((info, i): ShareCoverage => ({
      unit: info.kind === 'file' ? 'bytes' : info.kind === 'bgzf' ? 'compressed' : 'decompressed',
      start: ranges[i]!.start, end: ranges[i]!.end, size: sizes[i]!,
    }));
    return new SharePlan(shard, infos, coverage, chunkSize);
  }

  /**
   * The number the share's first chunk has in the unsharded plan (files and BGZF: chunks before it
   * on the grid; gzip, whose blocks are not on a grid: a positive stand-in). Formats may rely on
   * chunk 0 being the start of the input (a header), and a shard's chunks are the plan's chunks.
   */
  get firstIndex(): number {
    let n = 0;
    for (const [i, c] of this.coverage.entries()) {
      if (c.end > c.start) return n + (this.infos[i]!.kind === 'stream' ? (c.start > 0 ? 1 : 0) : Math.ceil(c.start / this.chunkSize));
      n += Math.max(1, Math.ceil(c.size / this.chunkSize));
    }
    return n;
  }

  /** Bytes this shard plans (for progress). */
  get bytes(): number {
    return this.coverage.reduce((n, c) => n + c.end - c.start, 0);
  }

  /** The jobs of this shard's share of input `i`. */
  async *plan(i: number, chunkSize: number, framing: Framing, allowTruncated: boolean): AsyncGenerator<PlannedJob> {
    const info = this.infos[i]!;
    const range = this.coverage[i]!;
    if (range.end <= range.start) return;
    if (info.kind === 'stream') {
      yield* this.planStreamShare(info, i, chunkSize, framing, range);
      return;
    }
    for (const planned of planRanges({ ...info, size: range.end - range.start }, i, chunkSize, allowTruncated)) {
      const job = planned.job as { start: number; end: number; size: number };
      job.start += range.start;
      job.end += range.start;
      job.size = info.size;
      yield planned;
    }
  }

  /**
   * Makes a chunk's error positions as absolute as a shard can know them: byte offsets become
   * absolute (gzip: add where the share began; BGZF: the decompressed offset of the share's first
   * block, found by walking block headers from the start, once). Lines and record numbers count
   * from the share's start, which a shard cannot relate to the whole file without reading all of
   * it before its share, so they are left out past the first share.
   */
  locate(chunk: OrderedChunk<unknown>): void {
    const range = this.coverage[chunk.inputIndex]!;
    if (range.start === 0 || chunk.errors.length === 0) return;
    const info = this.infos[chunk.inputIndex]!;
    let base = 0;
    if (info.kind === 'stream') base = this.streamStart.get(chunk.inputIndex) ?? 0;
    else if (info.kind === 'bgzf') {
      let b = this.bgzfStart.get(chunk.inputIndex);
      if (b === undefined) {
        b = decompressedOffsetOfBlock(info.name, range.start);
        this.bgzfStart.set(chunk.inputIndex, b);
      }
      base = b;
    }
    for (const e of chunk.errors) {
      e.offset += base;
      delete e.line;
      delete e.record;
    }
  }

  /** gzip: decompressed [first record start ≥ start, first record start ≥ end), cut into blocks. */
  private async *planStreamShare(info: InputInfo, inputIndex: number, chunkSize: number, framing: Framing, range: ShareCoverage): AsyncGenerator<PlannedJob> {
    const lookBehind = range.start > 0 ? 1 : 0;
    let at = 0; // decompressed offset of buf[0]
    let buf: Buffer = Buffer.alloc(0);
    let started = false;
    const emit = (bytes: Uint8Array): PlannedJob => {
      const own = new Uint8Array(bytes.length);
      own.set(bytes);
      return { job: { kind: 'bytes', input: info.name, inputIndex, bytes: own }, inputBytes: bytes.length };
    };
    let tryAt = chunkSize;
    const data = streamData(info, { raw: 0 });
    for (let eof = false; !eof;) {
      const next = await data.next();
      eof = next.done === true;
      if (!eof) {
        const piece = next.value as Buffer;
        const keepFrom = range.start - lookBehind - at;
        // Bytes before the share (less the look-behind byte) are dropped as they arrive.
        if (!started && keepFrom >= buf.length + piece.length) {
          at += buf.length + piece.length;
          buf = Buffer.alloc(0);
          continue;
        }
        buf = Buffer.concat([buf, piece]);
        if (!started && keepFrom > 0) {
          buf = buf.subarray(keepFrom);
          at += keepFrom;
        }
      }
      if (!started) {
        if (at + buf.length < range.start && !eof) continue;
        const s = framing.recordStart(buf, Math.min(lookBehind, buf.length), eof);
        if (s < 0) continue;
        buf = buf.subarray(s);
        at += s;
        started = true;
        this.streamStart.set(inputIndex, at);
      }
      if (at >= range.end) return;
      if (at + buf.length > range.end || eof) {
        const e = framing.recordStart(buf, Math.min(range.end - at, buf.length), eof);
        if (e < 0) continue;
        if (e > 0) yield emit(buf.subarray(0, e));
        return;
      }
      if (buf.length < tryAt) continue;
      const cut = lastRecordStart(buf, framing);
      if (cut === 0) {
        tryAt = buf.length * 2;
        continue;
      }
      tryAt = chunkSize;
      yield emit(buf.subarray(0, cut));
      buf = buf.subarray(cut);
      at += cut;
    }
  }
}

async function decompressedSize(info: InputInfo): Promise<number> {
  let n = 0;
  for await (const piece of streamData(info, { raw: 0 })) n += piece.length;
  return n;
}

/** Sum of the ISIZE of the BGZF blocks before compressed offset `pos` (no inflating). */
export function decompressedOffsetOfBlock(path: string, pos: number): number {
  const fd = openSync(path, 'r');
  try {
    let total = 0;
    for (const b of bgzfBlocks(fd)) {
      if (b.pos >= pos) break;
      total += b.isize;
    }
    return total;
  } finally {
    closeSync(fd);
  }
}

export type { ByteRange };
