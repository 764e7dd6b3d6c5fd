/**
 * One scan line → one record, by hand over the bytes. Why by hand: this runs once per line of
 * 10–100M-line scans and the goal is ≥ 2M lines/s per core; a regex plus string slicing per field
 * (what fs-scans does) allocates several strings a line. Here nothing is allocated for a good line:
 * fields land in the reused {@link Rec}, the path is a byte range of the chunk.
 *
 * Formats (docs/fsscan.md has the exact commands that produce them):
 * - gpfs:   `[<thread>] inode gen snapid key=value… -- /path` (policy LIST, SHOW fields s a u g p ac…)
 * - lustre: `0xSEQ:0xOID:0xVER s= b= u= g= p= type= perm= a= m= c= -- /path` (lfs find --printf)
 * - find:   `%y s=%s b=%b u=%U g=%G a=%A@ -- %p` (GNU find -printf)
 */
import { daysFromCivil } from '../../engine/civil-date.js';
import { localNaive } from './time.js';

export type ScanFormat = 'gpfs' | 'lustre' | 'find';
export const SCAN_FORMATS: readonly ScanFormat[] = ['gpfs', 'lustre', 'find'];

/** What a line turned out to be. */
export const LINE_RECORD = 0;
export const LINE_MESSAGE = 1;
export const LINE_ERROR = 2;

/** The fields of one record; reused for every line (no allocation per line). */
export interface Rec {
  isDir: boolean;
  /** Allocated bytes (the size fs-scans sums). */
  alloc: number;
  uid: number;
  gid: number;
  /** Access time, naive seconds (time.ts). */
  atime: number;
  pathStart: number;
  pathEnd: number;
  /** Which parser read it: index in SCAN_FORMATS. */
  format: number;
  /** Why the line was rejected (LINE_ERROR). */
  reason: string;
}

export function newRec(): Rec {
  return { isDir: false, alloc: 0, uid: 0, gid: 0, atime: 0, pathStart: 0, pathEnd: 0, format: 0, reason: '' };
}

/** Largest size accepted: sums of a chunk's sizes stay exact doubles (see aggregate.ts). */
export const MAX_SIZE = 2 ** 50;
const SP = 0x20;

/** Parsed unsigned decimal at b[i..) ; sets `numEnd`. NaN when no digit or too large. */
let numEnd = 0;
function uint(b: Uint8Array, i: number, e: number): number {
  let v = 0;
  const start = i;
  while (i < e) {
    const c = b[i]! - 0x30;
    if (c < 0 || c > 9) break;
    v = v * 10 + c;
    i++;
  }
  numEnd = i;
  return i === start || v > Number.MAX_SAFE_INTEGER ? NaN : v;
}

/** Start of the token after the one at i (tokens are short: a loop beats a builtin call). */
function nextToken(b: Uint8Array, i: number, e: number): number {
  while (i < e && b[i] !== SP) i++;
  while (i < e && b[i] === SP) i++;
  return i;
}

function skipSpaces(b: Uint8Array, i: number, e: number): number {
  while (i < e && b[i] === SP) i++;
  return i;
}

/** `YYYY-MM-DD HH:MM:SS` at b[i..i+19) → naive seconds, NaN when malformed. */
function gpfsTime(b: Uint8Array, i: number, e: number): number {
  if (i + 19 > e || b[i + 4] !== 0x2d || b[i + 7] !== 0x2d || b[i + 10] !== SP || b[i + 13] !== 0x3a || b[i + 16] !== 0x3a) return NaN;
  const d = (k: number): number => {
    const c = b[i + k]! - 0x30;
    return c >= 0 && c <= 9 ? c : NaN;
  };
  const y = d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3);
  const mo = d(5) * 10 + d(6);
  const da = d(8) * 10 + d(9);
  const hh = d(11) * 10 + d(12);
  const mi = d(14) * 10 + d(15);
  const ss = d(17) * 10 + d(18);
  if (!(mo >= 1 && mo <= 12 && da >= 1 && da <= 31 && hh <= 23 && mi <= 59 && ss <= 60)) return NaN;
  const first = y >= 1970 && y < 2170 ? MONTH_START[(y - 1970) * 12 + mo - 1]! : daysFromCivil(y, mo, 1);
  return (first + da - 1) * 86400 + hh * 3600 + mi * 60 + ss;
}

/** Day number of the 1st of each month 1970–2169: a lookup instead of calendar arithmetic per line. */
const MONTH_START = Int32Array.from({ length: 200 * 12 }, (_, i) => daysFromCivil(1970 + Math.floor(i / 12), (i % 12) + 1, 1));

const K = (s: string): number => s.charCodeAt(0);
const KEY_S = K('s'), KEY_A = K('a'), KEY_U = K('u'), KEY_G = K('g'), KEY_P = K('p'), KEY_B = K('b'), KEY_T = K('t');
const EQ = 0x3d;

function fail(r: Rec, reason: string): number {
  r.reason = reason;
  return LINE_ERROR;
}

/** True when b[i..] starts the ` -- ` separator's `-- ` (fields are space-separated tokens, so the first such token ends them). */
function isSeparator(b: Uint8Array, i: number): boolean {
  return b[i] === 0x2d && b[i + 1] === 0x2d && b[i + 2] === SP;
}

/** Reads the path after `-- ` at `sep`: absolute, no trailing `/`. */
function setPath(b: Uint8Array, r: Rec, sep: number, e: number): number {
  if (sep < 0) return fail(r, 'no " -- " before the path');
  const p = sep + 3;
  if (p >= e || b[p] !== 0x2f) return fail(r, 'the path after " -- " is not absolute');
  if (b[e - 1] === 0x2f) return fail(r, 'the path ends with "/"');
  r.pathStart = p;
  r.pathEnd = e;
  return LINE_RECORD;
}

/** `b[i..]` is ` key=` (after the value that ended at i). */
function at(b: Uint8Array, i: number, k0: number, k1: number): boolean {
  return b[i] === SP && b[i + 1] === k0 && (k1 === EQ ? b[i + 2] === EQ : b[i + 2] === k1 && b[i + 3] === EQ);
}

/**
 * NCAR's SHOW layout in its fixed order, `s= a= u= g= m= p= ac= mt= cr= nl= -- ` (fs-scans' scans):
 * read straight through without dispatching on each key (measured ~15% of a line). Returns the
 * separator's position, or -1 when the line is laid out otherwise or needs a careful look (then
 * the general loop reads it and words the error).
 */
function ncarLayout(b: Uint8Array, i: number, e: number, r: Rec): number {
  if (b[i] !== KEY_S || b[i + 1] !== EQ) return -1;
  const size = uint(b, i + 2, e);
  if (!at(b, numEnd, KEY_A, EQ)) return -1;
  const kib = uint(b, numEnd + 3, e);
  if (!at(b, numEnd, KEY_U, EQ)) return -1;
  const uid = uint(b, numEnd + 3, e);
  if (!at(b, numEnd, KEY_G, EQ)) return -1;
  const gid = uint(b, numEnd + 3, e);
  if (!at(b, numEnd, 0x6d, EQ)) return -1; // m=
  let j = numEnd + 3;
  while (j < e && b[j] !== SP) j++;
  if (!at(b, j, KEY_P, EQ) || j + 3 >= e || b[j + 3] === SP) return -1;
  const isDir = b[j + 3] === 0x64;
  j += 3;
  while (j < e && b[j] !== SP) j++;
  if (!at(b, j, 0x61, 0x63)) return -1; // ac=
  const atime = gpfsTime(b, j + 4, e);
  j += 4 + 19;
  if (!at(b, j, 0x6d, 0x74) || !at(b, j + 23, 0x63, 0x72) || !at(b, j + 46, 0x6e, 0x6c)) return -1; // mt= cr= nl=
  j += 50;
  while (j < e && b[j] !== SP) j++;
  if (!(b[j] === SP && isSeparator(b, j + 1))) return -1;
  if (Number.isNaN(size + kib + uid + gid + atime) || size > MAX_SIZE || kib > MAX_SIZE / 1024) return -1;
  r.uid = uid;
  r.gid = gid;
  r.isDir = isDir;
  r.atime = atime;
  r.alloc = kib === 0 && size <= 4096 ? size : kib * 1024;
  return j + 1;
}

/** GPFS policy LIST line. Values follow `key=`; times are 19 bytes and contain a space. */
export function parseGpfs(b: Uint8Array, s: number, e: number, r: Rec): number {
  r.format = 0;
  let i = s;
  if (b[i] === 0x3c) { // <thread>
    i = b.indexOf(0x3e, i);
    if (i < 0 || i >= e) return fail(r, 'unclosed "<thread>"');
    i = skipSpaces(b, i + 1, e);
  }
  for (let k = 0; k < 3; k++) { // inode gen snapid
    if (Number.isNaN(uint(b, i, e)) || (numEnd < e && b[numEnd] !== SP)) return fail(r, 'expected inode, generation and snapshot id numbers');
    i = skipSpaces(b, numEnd, e);
  }
  const fast = ncarLayout(b, i, e, r);
  if (fast >= 0) return setPath(b, r, fast, e);
  let sep = -1;
  let have = 0; // bits: s a u g p ac
  let size = 0, kib = 0;
  while (i < e) {
    const c0 = b[i]!;
    if (c0 === 0x2d && isSeparator(b, i)) { sep = i; break; }
    const c1 = b[i + 1];
    if (c1 === EQ && c0 !== KEY_P && c0 !== 0x6d) { // s= a= u= g=: a number (m= is flags)
      const n = uint(b, i + 2, e);
      if (c0 === KEY_S) { size = n; have |= 1; }
      else if (c0 === KEY_A) { kib = n; have |= 2; }
      else if (c0 === KEY_U) { r.uid = n; have |= 4; }
      else if (c0 === KEY_G) { r.gid = n; have |= 8; }
      else { i = nextToken(b, i, e); continue; }
      if (Number.isNaN(n) || (numEnd < e && b[numEnd] !== SP)) return fail(r, `${String.fromCharCode(c0)}= is not a number`);
      i = skipSpaces(b, numEnd, e);
      continue;
    }
    if (c1 === EQ && c0 === KEY_P) {
      if (i + 2 >= e || b[i + 2] === SP) return fail(r, 'empty p= (mode)');
      r.isDir = b[i + 2] === 0x64;
      have |= 16;
    } else if (c0 === 0x61 && c1 === 0x63 && b[i + 2] === EQ) { // ac=
      r.atime = gpfsTime(b, i + 3, e);
      if (Number.isNaN(r.atime)) return fail(r, 'ac= is not "YYYY-MM-DD HH:MM:SS"');
      have |= 32;
      i = skipSpaces(b, i + 3 + 19, e);
      continue;
    } else if ((c0 === 0x6d && c1 === 0x74 || c0 === 0x63 && c1 === 0x72) && b[i + 2] === EQ) { // mt= cr=: skip the 19-byte time
      i = skipSpaces(b, Math.min(i + 3 + 19, e), e);
      continue;
    }
    i = nextToken(b, i, e);
  }
  if (sep < 0) return fail(r, 'no " -- " before the path');
  if (have !== 63) return fail(r, `missing ${['s=', 'a=', 'u=', 'g=', 'p=', 'ac='].filter((_, k) => !(have & (1 << k))).join(' ')}`);
  if (size > MAX_SIZE || kib > MAX_SIZE / 1024) return fail(r, 'size beyond 1 PiB');
  // GPFS keeps small files in the inode and reports a=0: fs-scans then counts the size.
  r.alloc = kib === 0 && size <= 4096 ? size : kib * 1024;
  return setPath(b, r, sep, e);
}

/** Shared by lustre and find: `key=value` pairs up to ` -- `; epoch times; 512-byte blocks. */
function parseEpochFields(b: Uint8Array, i: number, e: number, r: Rec, typeKey: boolean): number {
  let sep = -1;
  let have = 0; // s b u g type a
  let blocks = 0;
  if (!typeKey) have |= 16;
  while (i < e) {
    const c0 = b[i]!;
    if (c0 === 0x2d && isSeparator(b, i)) { sep = i; break; }
    if (b[i + 1] === EQ) {
      const v = i + 2;
      let n = NaN;
      if (c0 === KEY_S) { n = uint(b, v, e); have |= 1; }
      else if (c0 === KEY_B) { n = blocks = uint(b, v, e); have |= 2; }
      else if (c0 === KEY_U) { n = r.uid = uint(b, v, e); have |= 4; }
      else if (c0 === KEY_G) { n = r.gid = uint(b, v, e); have |= 8; }
      else if (c0 === KEY_A) { n = uint(b, v, e); r.atime = localNaive(n); have |= 32; }
      else n = 0;
      if (Number.isNaN(n)) return fail(r, `${String.fromCharCode(c0)}= is not a number`);
    } else if (typeKey && c0 === KEY_T && b[i + 4] === EQ && b[i + 1] === 0x79 && b[i + 2] === 0x70 && b[i + 3] === 0x65) { // type=
      if (i + 5 >= e || b[i + 5] === SP) return fail(r, 'empty type=');
      r.isDir = b[i + 5] === 0x64;
      have |= 16;
    }
    i = nextToken(b, i, e);
  }
  if (sep < 0) return fail(r, 'no " -- " before the path');
  if (have !== 63) return fail(r, `missing ${['s=', 'b=', 'u=', 'g=', 'type=', 'a='].filter((_, k) => !(have & (1 << k))).join(' ')}`);
  if (blocks > MAX_SIZE / 512) return fail(r, 'size beyond 1 PiB');
  r.alloc = blocks * 512;
  return setPath(b, r, sep, e);
}

/** Lustre `lfs find --printf` line (fs-scans' lustre.py layout). */
export function parseLustre(b: Uint8Array, s: number, e: number, r: Rec): number {
  r.format = 1;
  if (b[s] !== 0x30 || b[s + 1] !== 0x78) return fail(r, 'expected a FID 0x…:0x…:0x…');
  const sp = b.indexOf(SP, s);
  if (sp < 0 || sp >= e) return fail(r, 'expected fields after the FID');
  return parseEpochFields(b, skipSpaces(b, sp, e), e, r, true);
}

/** GNU find line: the type letter (`%y`) first, then the fields. */
export function parseFind(b: Uint8Array, s: number, e: number, r: Rec): number {
  r.format = 2;
  if (s + 2 > e || b[s + 1] !== SP) return fail(r, 'expected the file type letter (%y) and a space');
  r.isDir = b[s] === 0x64;
  return parseEpochFields(b, skipSpaces(b, s + 1, e), e, r, false);
}

/** Which format a record line is in, from its first bytes; null for none. */
export function formatOfLine(b: Uint8Array, s: number, e: number): ScanFormat | null {
  const c = b[s]!;
  if (c === 0x30 && b[s + 1] === 0x78) return 'lustre';
  if (c === 0x3c || (c >= 0x30 && c <= 0x39)) return 'gpfs';
  if (c >= 0x61 && c <= 0x7a && s + 1 < e && b[s + 1] === SP) return 'find';
  return null;
}

/** Policy messages (`[I] …`, `[W] …`, `[E] …`) and blank lines are skipped and counted. */
export function isMessage(b: Uint8Array, s: number, e: number): boolean {
  return s === e || b[s] === 0x5b;
}

/**
 * Parses one line [s, e) (no newline, no CR) in `format`, or in the format its first bytes
 * name when `format` is null. Returns LINE_RECORD, LINE_MESSAGE or LINE_ERROR (reason in r).
 */
export function parseLine(b: Uint8Array, s: number, e: number, format: ScanFormat | null, r: Rec): number {
  if (isMessage(b, s, e)) return LINE_MESSAGE;
  const f = format ?? formatOfLine(b, s, e);
  if (f === 'gpfs') return parseGpfs(b, s, e, r);
  if (f === 'lustre') return parseLustre(b, s, e, r);
  if (f === 'find') return parseFind(b, s, e, r);
  return fail(r, 'not a GPFS, Lustre or find record');
}
