/**
 * Region strings as samtools view reads them (htslib's hts_parse_region with
 * HTS_PARSE_THOUSANDS_SEP): `chr1`, `chr1:1000-2000`, `chr1:1,000-2k`, `chr1:1000` (to the end),
 * `chr1:-500`, `{name:with:colons}:1-9`, `*` (unplaced reads) and `.` (from the first record).
 * Positions are 1-based inclusive in the text and 0-based half-open here.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../../engine/errors.js';

/** Past any position a BAM record can hold (htslib's HTS_POS_MAX, for our purposes). */
export const POS_MAX = Number.MAX_SAFE_INTEGER;

export type Region =
  | { kind: 'span'; text: string; tid: number; beg: number; end: number }
  | { kind: 'unplaced'; text: string }
  | { kind: 'all'; text: string };

/** hts_parse_decimal: digits with `,` separators, a fraction, an exponent or k/M/G; null when no digits. */
function parseDecimal(s: string, at: number): { value: number; end: number } | null {
  let p = at;
  let sign = 1;
  if (s[p] === '+' || s[p] === '-') sign = s[p++] === '-' ? -1 : 1;
  let digits = '';
  while (p < s.length && (/[0-9]/.test(s[p]!) || s[p] === ',')) {
    if (s[p] !== ',') digits += s[p];
    p++;
  }
  let decimals = '';
  if (s[p] === '.') {
    p++;
    while (p < s.length && /[0-9]/.test(s[p]!)) decimals += s[p++];
  }
  if (digits.length + decimals.length === 0) return null;
  let e = 0;
  const c = s[p];
  if (c === 'e' || c === 'E') {
    p++;
    let esign = 1;
    if (s[p] === '+' || s[p] === '-') esign = s[p++] === '-' ? -1 : 1;
    let ed = '';
    while (p < s.length && /[0-9]/.test(s[p]!)) ed += s[p++];
    e = esign * Number(ed || '0');
  } else {
    const suffix = { k: 3, m: 6, g: 9 }[(c ?? '').toLowerCase()];
    if (suffix !== undefined) {
      e = suffix;
      p++;
    }
  }
  // The integer part of digits.decimals × 10^e (the fraction is dropped, as htslib does).
  const mantissa = `${digits}${decimals}`;
  const shift = e - decimals.length;
  const text = shift >= 0 ? mantissa + '0'.repeat(Math.min(shift, 30)) : mantissa.slice(0, Math.max(0, mantissa.length + shift));
  const value = Math.min(Number(text || '0'), POS_MAX);
  return { value: sign * value, end: p };
}

function bad(text: string, why: string): UsageError {
  return new UsageError(`region ${JSON.stringify(text)}: ${why}`);
}

/** One region string against the header's reference names (name → id). */
export function parseRegion(text: string, ids: ReadonlyMap<string, number>): Region {
  if (text === '*') return { kind: 'unplaced', text };
  if (text === '.') return { kind: 'all', text };
  const unknown = (name: string): UsageError => bad(text, `no reference named ${JSON.stringify(name)} in the header${ids.size > 0 ? ` (first ones: ${[...ids.keys()].slice(0, 5).join(', ')})` : ''}`);
  let name: string;
  let coords: string | null;
  if (text.startsWith('{')) {
    const close = text.indexOf('}');
    if (close < 0) throw bad(text, 'mismatching braces');
    name = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) throw bad(text, `unexpected ${JSON.stringify(rest)} after the braced name`);
    coords = rest === '' ? null : rest.slice(1);
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0 || ids.has(text)) {
      // A whole name wins, unless its part before the last colon is a name too (ambiguous).
      if (colon >= 0 && ids.has(text.slice(0, colon))) throw bad(text, `ambiguous; write {${text}} or {${text.slice(0, colon)}}${text.slice(colon)}`);
      const tid = ids.get(text);
      if (tid === undefined) throw unknown(text);
      return { kind: 'span', text, tid, beg: 0, end: POS_MAX };
    }
    name = text.slice(0, colon);
    coords = text.slice(colon + 1);
  }
  const tid = ids.get(name);
  if (tid === undefined) throw unknown(name);
  if (coords === null) return { kind: 'span', text, tid, beg: 0, end: POS_MAX };
  const span = parseCoords(text, coords);
  return { kind: 'span', text, tid, ...span };
}

/** The part after the colon: `beg`, `beg-end`, `beg-`, `-end` (1-based, inclusive) → [beg, end). */
function parseCoords(text: string, s: string): { beg: number; end: number } {
  const first = parseDecimal(s, 0);
  let beg = (first?.value ?? 0) - 1;
  const after = first ? first.end : 0;
  const rest = s.slice(after);
  if (beg < 0) {
    if (beg !== -1 && rest.startsWith('-') && s !== '') throw bad(text, 'coordinates must be > 0');
    if (rest === '' || /^[0-9]/.test(rest)) {
      // chr:-100 is chr:1-100.
      return { beg: 0, end: beg === -1 ? POS_MAX : -(beg + 1) };
    }
    if (beg < -1) throw bad(text, `unexpected ${JSON.stringify(rest)} after the region`);
  }
  let end: number;
  if (rest === '') end = POS_MAX;
  else if (rest.startsWith('-')) {
    const e = parseDecimal(s, after + 1);
    if (e && e.end !== s.length) throw bad(text, `unexpected ${JSON.stringify(s.slice(e.end))} after the region`);
    if (!e && after + 1 !== s.length) throw bad(text, `unexpected ${JSON.stringify(s.slice(after + 1))} after the region`);
    end = e ? e.value : 0;
  } else throw bad(text, `unexpected ${JSON.stringify(rest)} after the region`);
  if (end === 0) end = POS_MAX;
  if (beg < 0) beg = 0;
  if (beg >= end) throw bad(text, 'the end is before the start');
  return { beg, end };
}

/**
 * The regions of a BED file (chrom, start, end: 0-based, half-open; `track`, `browser` and `#`
 * lines skipped), for `--regions-file`. References the header lacks are skipped with one warning,
 * as samtools does for a BED made for another assembly's extra contigs.
 */
export function readBedRegions(path: string, ids: ReadonlyMap<string, number>, warn?: (m: string) => void): Region[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--regions-file ${path}: ${(e as Error).message}`);
  }
  const out: Region[] = [];
  const unknown = new Set<string>();
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || /^(#|track\b|browser\b)/.test(line)) continue;
    const [chrom, start, end] = line.split(/[\t ]+/);
    const beg = Number(start);
    const stop = Number(end);
    if (!chrom || !/^\d+$/.test(start ?? '') || !/^\d+$/.test(end ?? '') || stop < beg) throw new UsageError(`--regions-file ${path}: line ${i + 1} is not "chrom start end" with 0 <= start <= end: ${JSON.stringify(line.slice(0, 80))}`);
    const tid = ids.get(chrom);
    if (tid === undefined) {
      unknown.add(chrom);
      continue;
    }
    if (stop > beg) out.push({ kind: 'span', text: `${path}:${i + 1}`, tid, beg, end: stop });
  }
  if (unknown.size > 0) warn?.(`--regions-file ${path}: skipped the regions on ${unknown.size} reference(s) the BAM header has not (${[...unknown].slice(0, 3).join(', ')}${unknown.size > 3 ? ', …' : ''})`);
  return out;
}
