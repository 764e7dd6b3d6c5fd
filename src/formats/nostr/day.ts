/** UTC calendar day of a Nostr `created_at`, as used to name the per-day output files. */

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

interface Civil { year: number; month: number; day: number }

function civilFromDays(daysSinceEpoch: number): Civil {
  const z = daysSinceEpoch + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return { year, month, day };
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
