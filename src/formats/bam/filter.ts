/**
 * Record filters with samtools view's meaning: `-f` keeps records with all these flag bits set,
 * `-F` drops records with any of them, `-G` drops records with all of them, `-q` drops records
 * whose MAPQ is below the minimum (255, "unavailable", is a number there too, so it passes).
 * Applied in the workers before a record is decoded.
 */
import { UsageError } from '../../engine/errors.js';

export interface RecordFilter { require: number; exclude: number; excludeAll: number; minMapq: number }

export const NO_FILTER: RecordFilter = { require: 0, exclude: 0, excludeAll: 0, minMapq: 0 };

export function isFiltering(f: RecordFilter | undefined): f is RecordFilter {
  return f !== undefined && (f.require !== 0 || f.exclude !== 0 || f.excludeAll !== 0 || f.minMapq !== 0);
}

export function keeps(f: RecordFilter, flag: number, mapq: number): boolean {
  return (flag & f.require) === f.require && (flag & f.exclude) === 0 && (f.excludeAll === 0 || (flag & f.excludeAll) !== f.excludeAll) && mapq >= f.minMapq;
}

/** The flag names samtools accepts (samtools flags), bit by bit. */
const FLAG_NAMES = ['PAIRED', 'PROPER_PAIR', 'UNMAP', 'MUNMAP', 'REVERSE', 'MREVERSE', 'READ1', 'READ2', 'SECONDARY', 'QCFAIL', 'DUP', 'SUPPLEMENTARY'];

/** A flag value as samtools reads it: decimal, 0x hex, 0 octal, or comma-separated names (UNMAP,DUP). */
export function parseFlagValue(option: string, text: string): number {
  const t = text.trim();
  let v: number;
  if (/^0x[0-9a-f]+$/i.test(t)) v = parseInt(t.slice(2), 16);
  else if (/^0[0-7]+$/.test(t)) v = parseInt(t.slice(1), 8);
  else if (/^\d+$/.test(t)) v = Number(t);
  else {
    v = 0;
    for (const name of t.split(',')) {
      const bit = FLAG_NAMES.indexOf(name.trim().toUpperCase());
      if (bit < 0) throw new UsageError(`${option}: ${JSON.stringify(name)} is not a flag number or name (${FLAG_NAMES.join(', ')})`);
      v |= 1 << bit;
    }
  }
  if (!(v >= 0 && v <= 0xffff)) throw new UsageError(`${option}: ${JSON.stringify(text)} is not a 16-bit flag value`);
  return v;
}
