/** The BAM header: magic, SAM header text, and the binary reference list (SAM/BAM spec §4.2). */
import { BamError } from './errors.js';

export interface BamReference { name: string; length: number }
export interface BamHeader {
  /** The SAM header text as stored (may lack @SQ lines; see samHeaderText). */
  text: string;
  references: BamReference[];
  /** Decompressed bytes the header occupies; records start here. */
  length: number;
}

const MAGIC = [0x42, 0x41, 0x4d, 0x01]; // "BAM\1"

/**
 * What the data looks like when it is not BAM, with what to run instead: SAM text and CRAM are the
 * usual mix-ups (same tools, same data), and each has a one-line fix with samtools.
 */
function notBamHint(buf: Uint8Array): string {
  const head = new TextDecoder('latin1').decode(buf.subarray(0, 4096));
  if (head.startsWith('CRAM')) return 'it is CRAM, which threadmill does not decode (it needs the reference): convert it with `samtools view -b -T ref.fa -o in.bam in.cram`, or pipe `samtools view -u -T ref.fa in.cram | threadmill bam convert - -o …`';
  const line = head.split('\n', 1)[0]!;
  if (/^@(HD|SQ|RG|PG|CO)\t/.test(line) || line.split('\t').length >= 11) return 'it is SAM text, which threadmill reads from a file (plain, gzip or BGZF) but not from stdin: name the file instead of -, or pipe `samtools view -u in.sam | threadmill bam convert - -o …`';
  return 'the decompressed data does not start with "BAM\\1"';
}

/** Checks the magic bytes present so far; throws BAM_BAD_MAGIC as soon as one differs. */
function checkMagic(buf: Uint8Array): void {
  for (let i = 0; i < 4 && i < buf.length; i++) {
    if (buf[i] !== MAGIC[i]) throw new BamError('BAM_BAD_MAGIC', `not a BAM file: ${notBamHint(buf)}`);
  }
}

/**
 * Length of the header at the start of `buf`, or -1 while it is incomplete. Throws on a wrong
 * magic or impossible lengths (BAM_BAD_HEADER).
 */
export function headerLength(buf: Uint8Array): number {
  checkMagic(buf);
  if (buf.length < 12) return -1;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const lText = dv.getInt32(4, true);
  if (lText < 0) throw new BamError('BAM_BAD_HEADER', `BAM header: negative text length ${lText}`);
  let p = 8 + lText;
  if (p + 4 > buf.length) return -1;
  const nRef = dv.getInt32(p, true);
  if (nRef < 0) throw new BamError('BAM_BAD_HEADER', `BAM header: negative reference count ${nRef}`);
  p += 4;
  for (let i = 0; i < nRef; i++) {
    if (p + 4 > buf.length) return -1;
    const lName = dv.getInt32(p, true);
    if (lName < 1) throw new BamError('BAM_BAD_HEADER', `BAM header: reference ${i} has name length ${lName}`);
    p += 4 + lName + 4;
    if (p > buf.length) return -1;
  }
  return p;
}

const latin = new TextDecoder('utf-8');

/** Parses a complete header (throws BAM_BAD_HEADER when `buf` holds less than the header). */
export function parseHeader(buf: Uint8Array): BamHeader {
  const length = headerLength(buf);
  if (length < 0) throw new BamError('BAM_BAD_HEADER', 'BAM header is cut short (file truncated?)');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const lText = dv.getInt32(4, true);
  // The text may be NUL-padded; samtools prints it up to the first NUL.
  let textEnd = 8 + lText;
  const nul = buf.subarray(8, textEnd).indexOf(0);
  if (nul >= 0) textEnd = 8 + nul;
  const text = latin.decode(buf.subarray(8, textEnd));
  const nRef = dv.getInt32(8 + lText, true);
  const references: BamReference[] = [];
  let p = 12 + lText;
  for (let i = 0; i < nRef; i++) {
    const lName = dv.getInt32(p, true);
    const name = latin.decode(buf.subarray(p + 4, p + 4 + lName - 1));
    references.push({ name, length: dv.getInt32(p + 4 + lName, true) });
    p += 8 + lName;
  }
  return { text, references, length };
}

/**
 * The header as `samtools view -H` prints it: the stored text, plus @SQ lines rebuilt from the
 * binary reference list when the text has none (htslib does the same).
 */
export function samHeaderText(h: BamHeader): string {
  let text = h.text;
  if (text.length > 0 && !text.endsWith('\n')) text += '\n';
  if (h.references.length > 0 && !/^@SQ\t/m.test(text)) {
    text += h.references.map((r) => `@SQ\tSN:${r.name}\tLN:${r.length}\n`).join('');
  }
  return text;
}
