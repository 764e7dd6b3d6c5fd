/**
 * Where a line's bytes stop being UTF-8. Decoding with `Buffer.toString('utf8')` turns each bad
 * sequence into U+FFFD without a word, so an event whose id was computed over U+FFFD would pass the
 * id check with bytes that are not the ones in the file. Lines are therefore checked as bytes
 * before they are decoded: node:buffer's `isUtf8` (simdutf) on the whole chunk first, which costs
 * 0.08 ms (ASCII) to 0.15 ms (mixed scripts) per 4 MiB chunk here, well under 1% of parsing it,
 * and only in a chunk that fails, line by line with the walk below.
 *
 * The walk is hand-written because no library call reports *where* the first bad byte is, and the
 * rejection should say it. It follows RFC 3629 (the table `isUtf8` and the decoder use): no
 * overlong forms, no UTF-16 surrogates (ED A0–BF), nothing above U+10FFFF.
 */

/** Offset of the first byte in `bytes[start, end)` that is not part of valid UTF-8, or -1. */
export function firstInvalidUtf8(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    const need = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (need < 0) return i;
    // The second byte's range is narrower after E0, ED, F0 and F4 (overlongs, surrogates, > U+10FFFF).
    const lo = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
    const hi = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
    for (let k = 1; k <= need; k++) {
      const c = i + k < end ? bytes[i + k]! : -1;
      if (c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return i;
    }
    i += need + 1;
  }
  return -1;
}
