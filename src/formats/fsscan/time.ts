/**
 * Times as fs-scans stores them: naive datetimes (no zone), written as `YYYY-MM-DD HH:MM:SS` text.
 * Internally a time is "naive seconds": the datetime's fields read as if they were UTC, so that
 * comparisons, maxima and day differences are plain arithmetic. GPFS prints naive local times;
 * Lustre and find print epoch seconds, which fs-scans turns into local naive times with
 * `datetime.fromtimestamp` — {@link localNaive} does the same with the process's time zone.
 */

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `YYYY-MM-DD HH:MM:SS` of naive seconds (the text fs-scans' importer stores). */
export function naiveText(sec: number): string {
  const days = Math.floor(sec / 86400);
  const rem = sec - days * 86400;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const hh = Math.floor(rem / 3600);
  const mm = Math.floor((rem % 3600) / 60);
  const ss = rem % 60;
  return `${String(y).padStart(4, '0')}-${pad2(m)}-${pad2(d)} ${pad2(hh)}:${pad2(mm)}:${pad2(ss)}`;
}

/** Naive seconds of a `YYYY-MM-DD HH:MM:SS` text, or NaN when it is not one. */
export function parseNaiveText(s: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2}))?/.exec(s);
  if (!m) return NaN;
  return daysFromCivil(+m[1]!, +m[2]!, +m[3]!) * 86400 + (+(m[4] ?? 0)) * 3600 + (+(m[5] ?? 0)) * 60 + (+(m[6] ?? 0));
}

/** UTC offsets per hour of epoch time: Date is slow, and a scan's times fall in few distinct hours. */
const offsetByHour = new Map<number, number>();

/** Epoch seconds → naive local seconds, like Python's `datetime.fromtimestamp` (honours TZ). */
export function localNaive(epoch: number): number {
  const hour = Math.floor(epoch / 3600);
  let off = offsetByHour.get(hour);
  if (off === undefined) {
    off = -new Date(epoch * 1000).getTimezoneOffset() * 60;
    if (offsetByHour.size > 1 << 20) offsetByHour.clear();
    offsetByHour.set(hour, off);
  }
  return epoch + off;
}

/** Local naive seconds of "now" (fs-scans' `datetime.now()`), with the microseconds it stores. */
export function nowLocalText(): string {
  const ms = Date.now();
  const sec = Math.floor(ms / 1000);
  const micro = String((ms % 1000) * 1000).padStart(6, '0');
  return `${naiveText(localNaive(sec))}.${micro}`;
}
