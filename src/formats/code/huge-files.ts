/**
 * Files too big to hold as one syntax tree. tree-sitter's tree costs ~90 bytes of native memory per
 * byte of JavaScript (measured: a 5 MB generated file, 466 MB after parse; its 432,000 query
 * matches as JS objects another 660 MB), so a 50 MB file took 8 GB. Past HUGE_FILE the text is cut
 * into pieces of about CHUNK_CHARS at lines that start a top-level statement (a letter, `_`, `@`
 * or `#` in column 0 after a line break), each piece is parsed and extracted alone, and its tree is
 * released before the next: memory follows the piece, not the file. A cut cannot see inside a
 * multi-line string or comment whose lines start in column 0; such a piece parses with errors and
 * is still indexed (parse_errors). A file with no such line (minified, one line) is one piece.
 */
import type { Extracted } from './extract.js';

export const HUGE_FILE = 4 << 20;
const CHUNK_CHARS = 1 << 20;
/** At most about this many pieces: each costs a full collection, whose cost grows with the facts kept so far. */
const MAX_PIECES = 12;

/** Characters per piece for a text of `length`: 1 Mi, more for very large files (see MAX_PIECES). */
export function pieceChars(length: number): number {
  return Math.max(CHUNK_CHARS, Math.ceil(length / MAX_PIECES));
}

/** Where the pieces of `text` start: 0, then the start of a top-level-looking line past each CHUNK_CHARS. */
export function cutPoints(text: string, chunk = CHUNK_CHARS): number[] {
  const points = [0];
  let from = chunk;
  while (from < text.length) {
    let nl = text.indexOf('\n', from);
    while (nl >= 0 && nl + 1 < text.length && !/[\p{L}_@#$]/u.test(text[nl + 1]!)) nl = text.indexOf('\n', nl + 1);
    if (nl < 0 || nl + 1 >= text.length) break;
    points.push(nl + 1);
    from = nl + 1 + chunk;
  }
  return points;
}

/** Appends one piece's facts to the file's: lines shifted, entity indices rebased. */
export function appendPiece(into: Extracted, piece: Extracted, lineOffset: number): void {
  const base = into.entities.length;
  for (const e of piece.entities) {
    into.entities.push([e[0], e[1], e[2], e[3] + lineOffset, e[4] + lineOffset, e[5], e[6] < 0 ? -1 : e[6] + base, e[7]]);
  }
  for (const r of piece.refs) {
    // `@N` names entity N of the piece (extract.ts): rebase it like a parent index.
    const receiver = /^@\d+$/.test(r[4]) ? `@${Number(r[4].slice(1)) + base}` : r[4];
    into.refs.push([r[0] < 0 ? -1 : r[0] + base, r[1], r[2] + lineOffset, r[3], receiver]);
  }
  for (const i of piece.imports) into.imports.push([i[0] + lineOffset, i[1], i[2], i[3]]);
  if (!into.pkg) into.pkg = piece.pkg;
}
