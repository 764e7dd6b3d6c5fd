/**
 * Files too big to hold as one syntax tree. tree-sitter's tree costs ~90 bytes of native memory per
 * byte of JavaScript (measured: a 5 MB generated file, 466 MB after parse; its 432,000 query
 * matches as JS objects another 660 MB), so a 50 MB file took 8 GB. Past HUGE_FILE the main thread
 * plans the file as pieces of about PIECE_CHARS, cut at lines that start a top-level statement (a
 * letter, `_`, `$`, `@` or `#` in column 0 after a line break), and each piece is an item of its
 * own: any worker reads its byte range, parses and extracts it, and its facts are written before
 * the next piece's (the scheduler releases in plan order). Neither a worker nor the writer ever
 * holds the whole file's facts: a 50 MB file's 0.9 million entities and 1.9 million calls held
 * whole by the worker and again by the writer were ~2.2 GB of the 3.2–4.6 GB it took (measured
 * 2026-12-04), and its pieces now parse on every thread at once.
 * A cut cannot see inside a multi-line string or comment whose lines start in column 0; such a
 * piece parses with errors and is still indexed (parse_errors). A file with no such line
 * (minified, one line) is one piece.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { ThreadmillError } from '../../engine/errors.js';
import { isBinary, lineCount, newlines, textEncoding } from './file-bytes.js';
import { refineLanguage, type Language } from './languages.js';
import type { EntityRow, ImportRow, RefRow } from './facts.js';

export const HUGE_FILE = 4 << 20;
/**
 * Characters a piece holds at least. 1 Mi: a tree of ~90 MB per worker. Pieces no longer cost a
 * collection that grows with the facts kept so far (nothing is kept), so they need not be fewer.
 */
export const PIECE_CHARS = 256 << 10;

/** Where one piece of a huge file is, and what the main thread learned of the whole file. */
export interface FilePiece {
  index: number;
  count: number;
  /** The piece's bytes: [start, end) of the file. */
  start: number;
  end: number;
  /** Lines of the file before the piece. */
  line: number;
  /** The whole file as planned; a worker that finds another size or mtime stops the run (INPUT_CHANGED). */
  size: number;
  mtimeMs: number;
  lines: number;
  sha256: string;
  encoding: 'utf8' | 'latin1';
  language: Language;
}

export interface PieceOptions {
  maxFileSize: number;
  /** Files over this many bytes are planned in pieces; tests force it small. */
  hugeFile?: number;
  pieceChars?: number;
}

/** What a huge-file plan needs of an item (task.ts FileItem). */
interface PlannedFile { abs: string; path: string; language: Language; weight: number; bytes?: number; previousSha?: string; piece?: FilePiece }

/** The items with each huge file replaced by its pieces, in order. */
export function withPieces<I extends PlannedFile>(items: readonly I[], o: PieceOptions): I[] {
  const huge = o.hugeFile ?? HUGE_FILE;
  return items.flatMap((item) => ((item.bytes ?? 0) > huge ? piecesOf(item, o) : [item]));
}

/**
 * A huge file's pieces; the item unchanged where a worker decides alone (unreadable, too large,
 * binary, unchanged since the last index, or one piece). Reading, hashing and cutting run on the
 * main thread: 0.12–0.26 s for the 50 MB file of bench/code-huge.ts (191 pieces), against its
 * ~115 CPU-s of parsing (measured 2026-12-04).
 */
function piecesOf<I extends PlannedFile>(item: I, o: PieceOptions): I[] {
  let bytes: Buffer;
  let mtimeMs: number;
  try {
    mtimeMs = statSync(item.abs).mtimeMs;
    bytes = readFileSync(item.abs);
  } catch {
    return [item];
  }
  if (bytes.length > o.maxFileSize || isBinary(bytes)) return [item];
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (item.previousSha === sha256) return [item];
  const encoding = textEncoding(bytes);
  const text = bytes.toString(encoding);
  const cuts = cutPoints(text, o.pieceChars ?? PIECE_CHARS);
  if (cuts.length === 1) return [item];
  const file = { size: bytes.length, mtimeMs, lines: lineCount(bytes), sha256, encoding, language: refineLanguage(item.language, item.path, text) };
  const out: I[] = [];
  for (let p = 0, start = 0, line = 0; p < cuts.length; p++) {
    const piece = text.slice(cuts[p], cuts[p + 1] ?? text.length);
    const size = Buffer.byteLength(piece, encoding);
    out.push({ ...item, weight: size + 2048, bytes: size, piece: { index: p, count: cuts.length, start, end: start + size, line, ...file } });
    line += newlines(bytes.subarray(start, start + size));
    start += size;
  }
  return out;
}

/** Where the pieces of `text` start: 0, then the start of a top-level-looking line past each `chunk` characters. */
export function cutPoints(text: string, chunk = PIECE_CHARS): number[] {
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

/** A worker's read of its piece, after checking that the file is still the one planned. */
export function readPiece(abs: string, path: string, piece: FilePiece): Buffer {
  const fd = openSync(abs, 'r');
  try {
    const st = fstatSync(fd);
    if (st.size !== piece.size || st.mtimeMs !== piece.mtimeMs) {
      throw new ThreadmillError('INPUT_CHANGED', `${path} changed while it was indexed (${piece.size} bytes when planned, ${st.size} now): no graph was written; rerun on a tree nobody writes to`);
    }
    const bytes = Buffer.allocUnsafe(piece.end - piece.start);
    for (let at = 0; at < bytes.length;) {
      const n = readSync(fd, bytes, at, bytes.length - at, piece.start + at);
      if (n === 0) throw new ThreadmillError('INPUT_CHANGED', `${path} ends at byte ${piece.start + at}, short of the ${piece.size} bytes planned: it changed while it was indexed`);
      at += n;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}

/** A piece's facts moved to the file's lines (extract.ts counts from the piece's first line). */
export function shiftToFile(facts: { entities: EntityRow[]; refs: RefRow[]; imports: ImportRow[] }, line: number): void {
  for (const e of facts.entities) { e[3] += line; e[4] += line; }
  for (const r of facts.refs) r[2] += line;
  for (const i of facts.imports) i[0] += line;
}
