/**
 * fs-scans' histogram buckets (core/models.py ATIME_BUCKETS, SIZE_BUCKETS), copied as facts: the
 * access-age bucket is the first whose day limit exceeds the whole days between the file's access
 * and the scan date; the size bucket is by allocated bytes.
 */
export const ATIME_BUCKETS: readonly (readonly [string, number | null])[] = [
  ['< 1 Month', 30], ['1-3 Months', 90], ['3-6 Months', 180], ['6-12 Months', 365], ['1-2 Years', 730],
  ['2-3 Years', 1095], ['3-4 Years', 1460], ['5-6 Years', 2190], ['6-7 Years', 2555], ['7+ Years', null],
];

const KiB = 1024, MiB = KiB * 1024, GiB = MiB * 1024;
export const SIZE_BUCKETS: readonly (readonly [string, number, number | null])[] = [
  ['0 - 1 KiB', 0, KiB], ['1 KiB - 10 KiB', KiB, 10 * KiB], ['10 KiB - 100 KiB', 10 * KiB, 100 * KiB],
  ['100 KiB - 1 MiB', 100 * KiB, MiB], ['1 MiB - 10 MiB', MiB, 10 * MiB], ['10 MiB - 100 MiB', 10 * MiB, 100 * MiB],
  ['100 MiB - 1 GiB', 100 * MiB, GiB], ['1 GiB - 10 GiB', GiB, 10 * GiB], ['10 GiB - 100 GiB', 10 * GiB, 100 * GiB],
  ['100 GiB+', 100 * GiB, null],
];

/** Numbers per uid in a partial: age counts, age bytes, size counts, size bytes (10 each). */
export const HIST_WIDTH = 40;

const AGE_LIMITS = ATIME_BUCKETS.slice(0, 9).map(([, days]) => days! * 86400);
const SIZE_LIMITS = SIZE_BUCKETS.slice(0, 9).map(([, , max]) => max!);

/** Bucket of an access `ageSeconds` before the scan date ((scan − atime).days < limit ⇔ age < limit·86400). */
export function atimeBucket(ageSeconds: number): number {
  for (let i = 0; i < 9; i++) if (ageSeconds < AGE_LIMITS[i]!) return i;
  return 9;
}

export function sizeBucket(alloc: number): number {
  for (let i = 0; i < 9; i++) if (alloc < SIZE_LIMITS[i]!) return i;
  return 9;
}
