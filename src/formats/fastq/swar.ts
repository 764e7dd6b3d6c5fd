/**
 * Per-byte work of `fastq stats`, 4 bytes per step ("SIMD within a register") on aligned 32-bit
 * words of the chunk, plus a scalar loop for the unaligned ends and for wrapped records.
 *
 * Every test sets the top bit of a byte lane; lanes never carry into each other because every byte
 * is first checked to be in [lo, 126] (below 0x80):
 *   a byte < lo:        (x - lo·0x01010101) & ~x
 *   a byte > 126:       (x + 0x01010101) | x
 *   a byte >= t:        x + (128 - t)·0x01010101            (valid bytes only)
 *   a byte == 0:        ~(((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x)  (exact, no false hits)
 * Top bits are summed per lane (`acc += m >>> 7`, at most 255 times) and folded at the end.
 * Measured against the 256-entry histogram it replaces: see docs/decisions/0007-fastq-stats.md.
 */
const ONES = 0x01010101;
const HIGH = 0x80808080 | 0;
const LOW7 = 0x7f7f7f7f;

/** Counters of one chunk; `bad` is set when a byte outside the allowed range was seen. */
export class Counts {
  gc = 0;
  gaps = 0;
  q20 = 0;
  q30 = 0;
  bad = false;
}

const zeroBytes = (x: number): number => ~(((x & LOW7) + LOW7) | x) & HIGH;
const outside = (x: number, loX: number): number => (((x - loX) & ~x) | (x + ONES) | x) & HIGH;
/** Sum of the four byte lanes of `acc`. */
const fold = (acc: number): number => (acc & 0xff) + ((acc >>> 8) & 0xff) + ((acc >>> 16) & 0xff) + (acc >>> 24);

function seqByte(c: number, k: Counts): void {
  if (c < 33 || c > 126) k.bad = true;
  const l = c | 0x20;
  if (l === 0x67 || l === 0x63) k.gc++;
  else if (c === 0x2d || c === 0x2e) k.gaps++;
}

function qualByte(c: number, lo: number, t20: number, k: Counts): void {
  if (c < lo || c > 126) k.bad = true;
  if (c >= t20) k.q20++;
  if (c >= t20 + 10) k.q30++;
}

/** G/C and gap counts of seq bytes [s, e) of `b` (`words` views b's buffer, or null). */
export function countSeq(b: Uint8Array, words: Int32Array | null, s: number, e: number, k: Counts): void {
  const base = b.byteOffset;
  let i = s;
  if (words) {
    for (; i < e && ((base + i) & 3) !== 0; i++) seqByte(b[i]!, k);
    const wEnd = (base + e) >> 2;
    let w = (base + i) >> 2;
    const lo33 = Math.imul(33, ONES);
    while (w < wEnd) {
      let acc = 0;
      for (const stop = Math.min(wEnd, w + 255); w < stop; w++) {
        const x = words[w]!;
        if (outside(x, lo33) !== 0) k.bad = true;
        // Below '0' (gaps '-' '.', and rare punctuation): count those bytes one by one.
        if (((x - 0x30303030) & ~x & HIGH) !== 0) {
          for (let j = 0; j < 32; j += 8) {
            const c = (x >>> j) & 0xff;
            if (c === 0x2d || c === 0x2e) k.gaps++;
          }
        }
        const y = x | 0x20202020;
        acc += (zeroBytes(y ^ 0x67676767) | zeroBytes(y ^ 0x63636363)) >>> 7;
      }
      k.gc += fold(acc);
    }
    i = Math.max(i, wEnd * 4 - base);
  }
  for (; i < e; i++) seqByte(b[i]!, k);
}

/** Bytes >= phred+20 and >= phred+30 among quality bytes [s, e); flags bytes outside [lo, 126]. */
export function countQual(b: Uint8Array, words: Int32Array | null, s: number, e: number, lo: number, phred: number, k: Counts): void {
  const base = b.byteOffset;
  const t20 = phred + 20;
  let i = s;
  if (words) {
    for (; i < e && ((base + i) & 3) !== 0; i++) qualByte(b[i]!, lo, t20, k);
    const wEnd = (base + e) >> 2;
    let w = (base + i) >> 2;
    const loX = Math.imul(lo, ONES);
    const add20 = Math.imul(128 - t20, ONES);
    const add30 = Math.imul(118 - t20, ONES);
    while (w < wEnd) {
      let a20 = 0;
      let a30 = 0;
      for (const stop = Math.min(wEnd, w + 255); w < stop; w++) {
        const x = words[w]!;
        if (outside(x, loX) !== 0) k.bad = true;
        a20 += ((x + add20) & HIGH) >>> 7;
        a30 += ((x + add30) & HIGH) >>> 7;
      }
      k.q20 += fold(a20);
      k.q30 += fold(a30);
    }
    i = Math.max(i, wEnd * 4 - base);
  }
  for (; i < e; i++) qualByte(b[i]!, lo, t20, k);
}
