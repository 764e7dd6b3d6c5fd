/**
 * What is learned from a source file's bytes before parsing, the same whether a worker reads a
 * whole file or the main thread plans a huge one in pieces (huge-files.ts).
 */
import { isUtf8 } from 'node:buffer';

/** Git's own test: a NUL byte in the first 8000 bytes makes a file binary. */
const SNIFF_BYTES = 8000;

export function isBinary(bytes: Uint8Array): boolean {
  return bytes.subarray(0, SNIFF_BYTES).indexOf(0) >= 0;
}

/**
 * Not valid UTF-8 (a Latin-1 source, a stray byte): read as Latin-1, one character a byte, so a
 * name with such a byte stays whole instead of being cut at a U+FFFD the grammar rejects.
 */
export function textEncoding(bytes: Uint8Array): 'utf8' | 'latin1' {
  return isUtf8(bytes) ? 'utf8' : 'latin1';
}

/** Line breaks (`\n` bytes) in `bytes`. */
export function newlines(bytes: Uint8Array): number {
  let n = 0;
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) n++;
  return n;
}

/** Lines as an editor counts them: a last line without its newline still counts. */
export function lineCount(bytes: Uint8Array): number {
  return newlines(bytes) + (bytes.length > 0 && bytes[bytes.length - 1] !== 10 ? 1 : 0);
}
