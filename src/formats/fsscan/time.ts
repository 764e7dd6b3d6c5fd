/**
 * Times as fs-scans stores them: naive datetimes (no zone), written as `YYYY-MM-DD HH:MM:SS` text.
 * Internally a time is "naive seconds": the datetime's fields read as if they were UTC, so that
 * comparisons, maxima and day differences are plain arithmetic. GPFS prints naive local times;
 * Lustre and find print epoch seconds, which fs-scans turns into local naive times with
 * `datetime.fromtimestamp` — {@link localNaive} does the same with the process's time zone.
 */
import { civilFromDays, daysFromCivil } from '../../engine/civil-date.js';

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `YYYY-MM-DD HH:MM:SS` of naive seconds (the text fs-scans' importer stores). */
export function naiveText(sec: number): string {
  const days = Math.floor(sec / 86400);
  const rem = sec - days * 86400;
  const { year: y, month: m, day: d } = civilFromDays(days);
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
