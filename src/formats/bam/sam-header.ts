/**
 * SAM text input, found from the bytes (plain, gzip or BGZF; never from the name): its header is
 * read here, on the main thread, since every worker needs the reference names to encode RNAME
 * and RNEXT as ids (sam-encode.ts); the records then go through the engine like any text lines.
 */
import { readHead } from '../../engine/source.js';
import type { BamHeader } from './header.js';

/** Whether decompressed data starts like SAM: a header line, or a first record of 11+ fields. */
export function looksLikeSam(head: Uint8Array): boolean {
  const start = Buffer.from(head.buffer, head.byteOffset, Math.min(head.length, 4096)).toString('latin1');
  if (start.startsWith('BAM\x01') || start.startsWith('CRAM')) return false;
  const line = start.split('\n', 1)[0]!;
  return /^@(HD|SQ|RG|PG|CO)\t/.test(line) || /^@CO\b/.test(line) || line.split('\t').length >= 11;
}

/**
 * The header of a SAM file (null when the file is not SAM, or is stdin): its `@` lines as text
 * and the references of its `@SQ` lines. `length` is 0: the records' chunks skip `@` lines.
 */
export function readSamHeader(path: string): BamHeader | null {
  if (path === '-') return null;
  for (let max = 1 << 16; ; max *= 8) {
    const head = readHead(path, max);
    if (!head || head.length === 0 || !looksLikeSam(head)) return null;
    const text = Buffer.from(head.buffer, head.byteOffset, head.length).toString('utf8');
    // The header ends at the first line not starting with '@' (or the data's end, when all of it came).
    const firstRecord = text.search(/(^|\n)[^@\n]/);
    if (firstRecord < 0 && head.length >= max) continue;
    const headerText = firstRecord < 0 ? text : text.slice(0, firstRecord + (text[firstRecord] === '\n' ? 1 : 0));
    const references = [];
    for (const line of headerText.split('\n')) {
      if (!line.startsWith('@SQ\t')) continue;
      const fields = new Map(line.split('\t').slice(1).map((f) => [f.slice(0, 2), f.slice(3)]));
      references.push({ name: fields.get('SN') ?? '', length: Number(fields.get('LN') ?? 0) });
    }
    return { text: headerText.replace(/\r\n/g, '\n'), references, length: 0 };
  }
}
