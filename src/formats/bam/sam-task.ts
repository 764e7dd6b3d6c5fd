/**
 * The SAM task module: BAM's (task.ts), with text lines instead of BAM records. Each chunk's
 * lines are encoded as BAM records (sam-encode.ts) and decoded or counted by the same code as
 * BAM's, so a SAM file gives the rows and counts of the BAM samtools makes of it.
 */
import { defineTask, lineFraming, type ChunkResult, type RecordError } from '../../engine/plugin.js';
import bamTask, { processRecords, type BamPayload, type BamTaskOptions } from './task.js';
import { encodeSam } from './sam-encode.js';

export interface SamTaskOptions extends BamTaskOptions {
  /** The header's @SQ names, in order: RNAME/RNEXT → reference id. */
  samReferences: string[];
}

let ids: Map<string, number> | null = null;

function processChunk(bytes: Uint8Array, _ctx: unknown, options: SamTaskOptions): ChunkResult<BamPayload> {
  ids ??= new Map(options.samReferences.map((n, i) => [n, i]));
  const enc = encodeSam(bytes, ids);
  const r = processRecords(enc.bam, 0, options.samReferences.length, null, options);
  // Errors of decoding name the SAM line the record came from.
  const decoded: RecordError[] = r.errors.map((e) => {
    let lo = 0;
    let hi = enc.at.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (enc.at[mid]! <= e.offset) lo = mid;
      else hi = mid - 1;
    }
    return { category: e.category, reason: e.reason, offset: enc.offsets[lo] ?? 0, line: enc.lines[lo] ?? 0 };
  });
  const errors = [...enc.errors, ...decoded].sort((a, b) => a.offset - b.offset);
  return { ...r, records: enc.at.length + enc.errors.length, lines: enc.newlines, errors };
}

export default defineTask<SamTaskOptions, BamPayload>({
  ...(bamTask as unknown as ReturnType<typeof defineTask<SamTaskOptions, BamPayload>>),
  framing: lineFraming,
  processChunk,
});
