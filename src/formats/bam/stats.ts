/**
 * `bam stats`: flagstat-style counters and idxstats-style per-reference counts. Workers fold
 * their chunk into a BamStatsPartial (typed arrays only); the main thread adds partials, which
 * is associative, so the answer does not depend on chunking or thread count.
 */
import type { RecordError } from '../../engine/plugin.js';
import type { BamReference } from './header.js';
import { FIXED, MAX_RECORD } from './framing.js';
import { isFiltering, keeps, type RecordFilter } from './filter.js';

/** Counter slots, each kept for QC-passed (even index) and QC-failed (odd index) reads. */
export const FLAGSTAT_FIELDS = [
  'in total', 'primary', 'secondary', 'supplementary', 'duplicates', 'primary duplicates', 'mapped', 'primary mapped',
  'paired in sequencing', 'read1', 'read2', 'properly paired', 'with itself and mate mapped', 'singletons',
  'with mate mapped to a different chr', 'with mate mapped to a different chr (mapQ>=5)',
] as const;
const F = Object.fromEntries(FLAGSTAT_FIELDS.map((name, i) => [name, 2 * i])) as Record<(typeof FLAGSTAT_FIELDS)[number], number>;

export interface BamStatsPartial {
  /** 2 × FLAGSTAT_FIELDS.length counters. */
  flags: Float64Array;
  /** Per reference id + 1 (slot 0 is `*`): [mapped, unmapped] pairs. */
  perRef: Float64Array;
}

function countFlags(c: Float64Array, flag: number, tid: number, mtid: number, mapq: number): void {
  const w = flag & 0x200 ? 1 : 0;
  c[F['in total'] + w]!++;
  if (flag & 0x100) c[F.secondary + w]!++;
  else if (flag & 0x800) c[F.supplementary + w]!++;
  else {
    c[F.primary + w]!++;
    if (flag & 1) {
      c[F['paired in sequencing'] + w]!++;
      if (flag & 2) c[F['properly paired'] + w]!++;
      if (flag & 0x40) c[F.read1 + w]!++;
      if (flag & 0x80) c[F.read2 + w]!++;
      if (flag & 8 && !(flag & 4)) c[F.singletons + w]!++;
      if (!(flag & 4) && !(flag & 8)) {
        c[F['with itself and mate mapped'] + w]!++;
        if (mtid !== tid) {
          c[F['with mate mapped to a different chr'] + w]!++;
          if (mapq >= 5) c[F['with mate mapped to a different chr (mapQ>=5)'] + w]!++;
        }
      }
    }
    if (!(flag & 4)) c[F['primary mapped'] + w]!++;
    if (flag & 0x400) c[F['primary duplicates'] + w]!++;
  }
  if (!(flag & 4)) c[F.mapped + w]!++;
  if (flag & 0x400) c[F.duplicates + w]!++;
}

export interface StatsResult { partial: BamStatsPartial; errors: RecordError[]; records: number }

/** Folds the records of bytes[start, end) into a partial; stops at a record that runs past the data. */
export function scanStats(bytes: Uint8Array, start: number, nRef: number, filter?: RecordFilter): StatsResult {
  const keep = isFiltering(filter) ? filter : null;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flags = new Float64Array(2 * FLAGSTAT_FIELDS.length);
  let perRef: Float64Array<ArrayBuffer> = new Float64Array(2 * Math.max(1, nRef + 1));
  const errors: RecordError[] = [];
  let records = 0;
  for (let p = start; p < bytes.length;) {
    records++;
    const bs = p + 4 <= bytes.length ? dv.getUint32(p, true) : 0;
    if (p + 4 + FIXED > bytes.length || bs < FIXED || bs > MAX_RECORD || p + 4 + bs > bytes.length) {
      const impossible = p + 4 <= bytes.length && (bs < FIXED || bs > MAX_RECORD);
      errors.push({ category: impossible ? 'bad_length' : 'truncated_record', reason: impossible ? `impossible record length ${bs}` : 'record runs past the end of the data', offset: p, record: records });
      break;
    }
    const tid = dv.getInt32(p + 4, true);
    const mtid = dv.getInt32(p + 24, true);
    if (tid < -1 || (nRef >= 0 && tid >= nRef) || mtid < -1 || (nRef >= 0 && mtid >= nRef)) {
      errors.push({ category: 'bad_record', reason: `reference id ${tid < -1 || (nRef >= 0 && tid >= nRef) ? tid : mtid} out of range [-1, ${nRef})`, offset: p, record: records });
      p += 4 + bs;
      continue;
    }
    const flag = dv.getUint16(p + 18, true);
    if (keep && !keeps(keep, flag, bytes[p + 13]!)) {
      p += 4 + bs;
      continue;
    }
    countFlags(flags, flag, tid, mtid, bytes[p + 13]!);
    const slot = 2 * (tid + 1) + (flag & 4 ? 1 : 0);
    if (slot >= perRef.length) perRef = grow(perRef, slot + 2);
    perRef[slot]!++;
    p += 4 + bs;
  }
  return { partial: { flags, perRef }, errors, records };
}

function grow(a: Float64Array, min: number): Float64Array<ArrayBuffer> {
  const next = new Float64Array(Math.max(min, a.length * 2));
  next.set(a);
  return next;
}

/** Adds `b` into `a` (returns the possibly grown `a`). */
export function mergeStats(a: BamStatsPartial, b: BamStatsPartial): BamStatsPartial {
  for (let i = 0; i < a.flags.length; i++) a.flags[i]! += b.flags[i]!;
  const perRef = a.perRef.length >= b.perRef.length ? a.perRef : grow(a.perRef, b.perRef.length);
  for (let i = 0; i < b.perRef.length; i++) perRef[i]! += b.perRef[i]!;
  return { flags: a.flags, perRef };
}

export function emptyStats(): BamStatsPartial {
  return { flags: new Float64Array(2 * FLAGSTAT_FIELDS.length), perRef: new Float64Array(2) };
}

function pct(n: number, d: number): string {
  return d === 0 ? 'N/A' : `${((100 * n) / d).toFixed(2)}%`;
}

/** Text like `samtools flagstat` followed by a table like `samtools idxstats`. */
export function formatStats(s: BamStatsPartial, refs: readonly BamReference[]): string {
  const c = s.flags;
  const get = (name: (typeof FLAGSTAT_FIELDS)[number], w: number): number => c[F[name] + w]!;
  const lines: string[] = [];
  for (const name of FLAGSTAT_FIELDS) {
    const pass = get(name, 0);
    const fail = get(name, 1);
    let line = `${pass} + ${fail} ${name}`;
    if (name === 'in total') line += ' (QC-passed reads + QC-failed reads)';
    const denom = name === 'mapped' ? 'in total' : name === 'primary mapped' ? 'primary' : name === 'properly paired' || name === 'singletons' ? 'paired in sequencing' : null;
    if (denom) line += ` (${pct(pass, get(denom, 0))} : ${pct(fail, get(denom, 1))})`;
    lines.push(line);
  }
  lines.push('', 'reference\tlength\tmapped\tunmapped');
  refs.forEach((r, i) => lines.push(`${r.name}\t${r.length}\t${s.perRef[2 * (i + 1)] ?? 0}\t${s.perRef[2 * (i + 1) + 1] ?? 0}`));
  lines.push(`*\t0\t${s.perRef[0] ?? 0}\t${s.perRef[1] ?? 0}`);
  return `${lines.join('\n')}\n`;
}

/** A flagstat counter name as a JSON key: 'with mate mapped to a different chr (mapQ>=5)' → with_mate_mapped_to_a_different_chr_mapq_5. */
function snakeKey(name: string): string {
  return name.toLowerCase().replace(/>=/g, ' ').replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');
}

export interface BamStatsJson {
  qc_passed: Record<string, number>;
  qc_failed: Record<string, number>;
  references: Array<{ name: string; length: number; mapped: number; unmapped: number }>;
}

/**
 * `bam stats --json` (and `bam merge --json` of stats parts): the flagstat counters by name, for
 * QC-passed and QC-failed reads as `samtools flagstat -O json` splits them, and one object per
 * reference (then `*`, the unplaced reads) like `samtools idxstats`. Keys are snake_case, as in
 * every other command's JSON.
 */
export function statsJson(s: BamStatsPartial, refs: readonly BamReference[]): BamStatsJson {
  const side = (w: number): Record<string, number> => Object.fromEntries(FLAGSTAT_FIELDS.map((name) => [snakeKey(name), s.flags[F[name] + w]!]));
  const references = refs.map((r, i) => ({ name: r.name, length: r.length, mapped: s.perRef[2 * (i + 1)] ?? 0, unmapped: s.perRef[2 * (i + 1) + 1] ?? 0 }));
  references.push({ name: '*', length: 0, mapped: s.perRef[0] ?? 0, unmapped: s.perRef[1] ?? 0 });
  return { qc_passed: side(0), qc_failed: side(1), references };
}
