/**
 * Is this input FASTQ at all? Shown the first decompressed bytes of every input (the engine's
 * FormatTask.checkHead), before anything is framed. Without it, a FASTA, BAM or binary file was
 * one long "bad record" and `fastq stats` printed an all-zero row with exit 0 (issue 8).
 *
 * The rule depends only on the first bytes, so it does not depend on chunking or -j: a FASTQ input
 * begins (after blank lines) with `@`. Anything else is refused, named as well as its bytes allow.
 * An input that begins with `@` is FASTQ unless its first lines are a SAM header; a damaged first
 * record stays a record error, like any other.
 */
import { sniffCompression } from '../../engine/compression.js';
import { AT, CR, NL, fourLineRecordAt } from './framing.js';

/** Magic numbers of formats that end up fed to `fastq` by mistake (after decompression). */
const MAGICS: [string, string][] = [
  ['BAM\x01', 'BAM (binary alignments; read it with threadmill bam)'],
  ['CRAM', 'CRAM (compressed alignments; samtools fastq turns it into FASTQ)'],
  ['BCF\x02', 'BCF (binary variant calls)'],
  ['\x89HDF\r\n\x1a\n', 'HDF5 (e.g. nanopore FAST5; basecall it to FASTQ first)'],
  ['PAR1', 'Parquet'],
  ['ARROW1', 'Arrow IPC'],
  ['PK\x03\x04', 'a zip archive'],
  ['\xef\xbb\xbf@', 'FASTQ behind a UTF-8 byte order mark (remove the first 3 bytes)'],
];

const SAM_HEADER = /^@(HD|SQ|RG|PG|CO)\t/;

function startsWith(b: Uint8Array, p: number, magic: string): boolean {
  for (let i = 0; i < magic.length; i++) if (b[p + i] !== magic.charCodeAt(i)) return false;
  return true;
}

/** Text is printable ASCII, tabs and line ends, or UTF-8; binary data has control bytes and NULs. */
function looksBinary(b: Uint8Array): boolean {
  let odd = 0;
  const n = Math.min(b.length, 4096);
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c === 0 || (c < 0x20 && c !== 0x09 && c !== NL && c !== CR) || c === 0x7f) odd++;
  }
  return odd > n / 100;
}

function firstLine(b: Uint8Array, p: number): string {
  const nl = b.indexOf(NL, p);
  const end = Math.min(nl < 0 ? b.length : nl, p + 60);
  return JSON.stringify(Buffer.from(b.buffer, b.byteOffset + p, end - p).toString('latin1').replace(/\r$/, ''));
}

/** Why an input whose first decompressed bytes are `head` is not FASTQ, or null when it may be. */
export function notFastq(head: Uint8Array): string | null {
  let p = 0;
  let line = 1;
  for (;;) {
    if (head[p] === NL) p += 1;
    else if (head[p] === CR && head[p + 1] === NL) p += 2;
    else break;
    line++;
  }
  if (p >= head.length) return null;
  if (head[p] === AT) {
    const text = Buffer.from(head.buffer, head.byteOffset + p, Math.min(head.length - p, 8)).toString('latin1');
    if (SAM_HEADER.test(text) && fourLineRecordAt(head, p, false, false) !== 1) return `input looks like SAM (line ${line} is a SAM header line), not FASTQ: samtools fastq turns it into FASTQ`;
    return null;
  }
  for (const [magic, name] of MAGICS) if (startsWith(head, p, magic)) return `input looks like ${name}, not FASTQ`;
  const inner = sniffCompression(head.subarray(p));
  if (inner) return `input is ${inner}-compressed inside its compression (compressed twice?), not FASTQ`;
  if (head[p] === 0x3e) return `input looks like FASTA (line ${line} starts with '>'), not FASTQ: threadmill fastq reads FASTQ only`;
  if (looksBinary(head.subarray(p))) {
    const hex = Array.from(head.subarray(p, p + 8), (c) => c.toString(16).padStart(2, '0')).join(' ');
    return `input looks like binary data (first bytes ${hex}), not FASTQ`;
  }
  return `input is not FASTQ: line ${line} should start a record with '@' but is ${firstLine(head, p)}`;
}
