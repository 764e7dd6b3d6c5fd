/** UTC calendar day of a Nostr `created_at`, as used to name the per-day output files. */
import { civilFromDays } from '../../engine/civil-date.js';

const SECONDS_PER_DAY = 86400;

/**
 * `YYYY_MM_DD` (UTC) of a `created_at` in seconds.
 *
 * Computed arithmetically (Hinnant's days-to-civil) rather than with `Date`, because `Date` stops at
 * year 275,760 while `created_at` may be any safe integer, and because it avoids an allocation per
 * event. Years past 9999 simply get more digits (e.g. a `created_at` in milliseconds).
 */
export function dayKey(createdAt: number): string {
  const { year, month, day } = civilFromDays(Math.floor(createdAt / SECONDS_PER_DAY));
  return `${pad(year, 4)}_${pad(month, 2)}_${pad(day, 2)}`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** Name of the file a day number (days since 1970-01-01 UTC) is written to. */
export function dayFileName(dayNumber: number): string {
  return `${dayKey(dayNumber * SECONDS_PER_DAY)}.pb.gz`;
}
