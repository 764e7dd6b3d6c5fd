/**
 * Regions → pieces of work. Each region becomes htslib's chunk list (bam-index.ts); a long run
 * of chunks is cut at known record starts into pieces of about `pieceBytes` compressed bytes,
 * which workers read in parallel, and short ones of neighbouring regions share a piece. Output
 * order is the pieces' order, which is samtools view's: region by region in the order given
 * (a record in two regions comes twice), or with `merge` (samtools view -M) each record once,
 * in file order.
 */
import type { BamIndex, VChunk } from './bam-index.js';
import { firstOffset, mergeChunks, noCoorOffset, recordStarts, regionChunks } from './bam-index.js';
import type { Region } from './region.js';

/** 0-based half-open span on a reference; a record is kept when it overlaps one. */
export interface Interval { tid: number; beg: number; end: number }

/**
 * Records whose first byte's virtual offset lies in [beg, end) and that overlap one of `test`
 * (null: all). beg -1n is "right after the header"; end null is the end of the file. With
 * `skipPlaced`, records before the first unplaced one are skipped (samtools view -M's `*`).
 */
export interface RegionSegment { beg: bigint; end: bigint | null; test: Interval[] | null; skipPlaced?: boolean }

/**
 * A piece is read by one worker call. One with an open end (`end: null`) is read a slice at a
 * time: the worker stops after about pieceBytes and says where to go on, since nothing in the
 * index marks record starts among unplaced reads.
 */
export interface RegionPiece { segments: RegionSegment[]; weight: number }

const blockOf = (v: bigint): number => Number(v >> 16n);

/** Compressed bytes a segment spans (about; its last block is not counted). */
function spanOf(s: RegionSegment, fileSize: number): number {
  const beg = s.beg < 0n ? 0 : blockOf(s.beg);
  return Math.max(1, (s.end === null ? fileSize : blockOf(s.end)) - beg);
}

/** Cuts [c.u, c.v) at record starts so each part spans about `bytes` compressed bytes. */
function cutChunk(c: VChunk, starts: bigint[], bytes: number): VChunk[] {
  const parts: VChunk[] = [];
  let from = c.u;
  // First known start past c.u (binary search), then every start far enough from the last cut.
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid]! <= c.u) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < starts.length && starts[i]! < c.v; i++) {
    const s = starts[i]!;
    if (blockOf(s) - blockOf(from) >= bytes && blockOf(c.v) - blockOf(s) >= bytes / 4) {
      parts.push({ u: from, v: s });
      from = s;
    }
  }
  parts.push({ u: from, v: c.v });
  return parts;
}

function segmentsOfChunks(idx: BamIndex, tid: number, chunks: VChunk[], test: Interval[], bytes: number, startsOf: (tid: number) => bigint[]): RegionSegment[] {
  const out: RegionSegment[] = [];
  for (const c of mergeChunks(chunks)) {
    const parts = blockOf(c.v) - blockOf(c.u) > bytes ? cutChunk(c, startsOf(tid), bytes) : [c];
    for (const p of parts) out.push({ beg: p.u, end: p.v, test });
  }
  return out;
}

/** The sections of the file for each region, in output order. */
export function regionSegments(idx: BamIndex, regions: Region[], merge: boolean, bytes: number): RegionSegment[] {
  const startsCache = new Map<number, bigint[]>();
  const startsOf = (tid: number): bigint[] => {
    let s = startsCache.get(tid);
    if (!s) startsCache.set(tid, (s = recordStarts(idx, tid)));
    return s;
  };
  if (!merge) {
    const out: RegionSegment[] = [];
    for (const r of regions) {
      if (r.kind === 'span') {
        out.push(...segmentsOfChunks(idx, r.tid, regionChunks(idx, r.tid, r.beg, r.end), [{ tid: r.tid, beg: Math.max(0, r.beg), end: r.end }], bytes, startsOf));
      } else {
        const from = r.kind === 'unplaced' ? noCoorOffset(idx) : firstOffset(idx);
        if (from !== null) out.push({ beg: from === 0n ? -1n : from, end: null, test: null });
      }
    }
    return out;
  }
  // -M: htslib reads from the start for `.`, whatever else is asked.
  if (regions.some((r) => r.kind === 'all')) {
    const from = firstOffset(idx);
    return from === null ? [] : [{ beg: from === 0n ? -1n : from, end: null, test: null }];
  }
  const byTid = new Map<number, Interval[]>();
  for (const r of regions) if (r.kind === 'span') byTid.set(r.tid, [...(byTid.get(r.tid) ?? []), { tid: r.tid, beg: Math.max(0, r.beg), end: r.end }]);
  const out: RegionSegment[] = [];
  for (const [tid, test] of byTid) {
    const chunks = test.flatMap((i) => regionChunks(idx, tid, i.beg, i.end));
    out.push(...segmentsOfChunks(idx, tid, chunks, test, bytes, startsOf));
  }
  // File order: each record once (a reference's chunks never interleave with another's).
  out.sort((a, b) => (a.beg < b.beg ? -1 : a.beg > b.beg ? 1 : 0));
  if (regions.some((r) => r.kind === 'unplaced')) {
    const from = noCoorOffset(idx);
    if (from !== null) out.push({ beg: from === 0n ? -1n : from, end: null, test: null, skipPlaced: true });
  }
  return out;
}

/** Groups consecutive closed segments into pieces of about `bytes`; an open one is a piece alone. */
export function regionPieces(segments: RegionSegment[], bytes: number, fileSize: number): RegionPiece[] {
  const pieces: RegionPiece[] = [];
  let current: RegionPiece | null = null;
  for (const s of segments) {
    const w = spanOf(s, fileSize);
    if (s.end === null) {
      current = null;
      pieces.push({ segments: [s], weight: w });
      continue;
    }
    if (!current || current.weight + w > bytes) {
      current = { segments: [], weight: 0 };
      pieces.push(current);
    }
    current.segments.push(s);
    current.weight += w;
  }
  return pieces;
}
