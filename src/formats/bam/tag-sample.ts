/**
 * `--tags auto`: the tags of the first N records of a file and the types they were seen with,
 * read on the main thread before the run (the schema must be known before the first batch).
 * A tag seen with one kind gets that type; integers of any width are int64; B arrays of one
 * subtype are a list of it; a tag seen with several kinds is widened to utf8 holding SAM's
 * `TYPE:VALUE` text, which holds any of them.
 */
import { statSync } from 'node:fs';
import { UsageError } from '../../engine/errors.js';
import { readHead } from '../../engine/source.js';
import { FIXED, auxSize } from './framing.js';
import { headerLength } from './header.js';
import { BlockWindow } from './region-read.js';
import { encodeSam } from './sam-encode.js';
import { readSamHeader } from './sam-header.js';
import type { TagSpec } from './typed-tags.js';

/** Kinds seen per tag, in first-seen order. */
type Seen = Map<string, Set<string>>;

/** Notes the aux fields of the record at `p` of `buf` (a whole record); false when it does not parse. */
function noteRecord(buf: Uint8Array, dv: DataView, p: number, seen: Seen): boolean {
  const r = p + 4;
  const end = r + dv.getUint32(p, true);
  let q = r + FIXED + buf[r + 8]! + 4 * dv.getUint16(r + 12, true);
  const lSeq = dv.getInt32(r + 16, true);
  q += ((lSeq + 1) >> 1) + lSeq;
  while (q + 3 <= end) {
    const name = String.fromCharCode(buf[q]!, buf[q + 1]!);
    const type = buf[q + 2]!;
    let kind: string;
    let next: number;
    if (type === 0x5a || type === 0x48) {
      kind = 'text';
      next = buf.indexOf(0, q + 3) + 1;
      if (next <= 0) return false;
    } else if (type === 0x42) {
      kind = `B:${String.fromCharCode(buf[q + 3]!)}`;
      next = q + 8 + auxSize(buf[q + 3]!) * dv.getUint32(q + 4, true);
    } else {
      kind = type === 0x66 ? 'float' : type === 0x41 ? 'text' : 'int';
      if (auxSize(type) === 0) return false;
      next = q + 3 + auxSize(type);
    }
    // CG holds a long CIGAR: it is the cigar column, not a tag.
    if (name !== 'CG') {
      const kinds = seen.get(name) ?? new Set<string>();
      kinds.add(kind);
      seen.set(name, kinds);
    }
    q = next;
  }
  return true;
}

function walk(buf: Uint8Array, from: number, limit: number, seen: Seen): number {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let n = 0;
  for (let p = from; n < limit && p + 4 <= buf.length; n++) {
    const total = 4 + dv.getUint32(p, true);
    if (p + total > buf.length || total < 4 + FIXED || !noteRecord(buf, dv, p, seen)) break;
    p += total;
  }
  return n;
}

function sampleBam(path: string, limit: number, seen: Seen): void {
  const w = new BlockWindow(path, path, statSync(path).size, 0);
  // Blocks until the header and `limit` records are in (or the file ends), 4 MiB at a time.
  let target = 1 << 22;
  for (;;) {
    while (w.length < target && w.more()) { /* inflate */ }
    const buf = w.buf.subarray(0, w.length);
    const h = headerLength(buf);
    const probe = new Map() as Seen;
    if (h >= 0 && (walk(buf, h, limit, probe) >= limit || w.eof)) {
      walk(buf, h, limit, seen);
      return;
    }
    if (w.eof) return;
    target *= 2;
  }
}

function sampleSam(path: string, limit: number, seen: Seen): void {
  const header = readSamHeader(path)!;
  const head = readHead(path, 64 << 20) ?? new Uint8Array(0);
  const text = Buffer.from(head.buffer, head.byteOffset, head.length).toString('latin1');
  const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('@'));
  // The last line may be cut by the read's end: leave it out unless the file was read whole.
  const take = lines.slice(0, Math.min(limit, head.length >= 64 << 20 ? lines.length - 1 : lines.length));
  const enc = encodeSam(Buffer.from(take.join('\n'), 'latin1'), new Map(header.references.map((r, i) => [r.name, i])));
  walk(enc.bam, 0, limit, seen);
}

/** The typed fields for every tag seen in the first `limit` records of `path` (BAM or SAM file). */
export function sampleTagSpecs(path: string, limit: number): TagSpec[] {
  if (path === '-') throw new UsageError('--tags auto reads the first records before the run, so it needs a file, not stdin; name the tags with --tag TAG:TYPE instead');
  const seen: Seen = new Map();
  if (readSamHeader(path)) sampleSam(path, limit, seen);
  else sampleBam(path, limit, seen);
  return [...seen].map(([name, kinds]): TagSpec => {
    if (kinds.size > 1) return { name, kind: 'any' };
    const kind = [...kinds][0]!;
    if (kind.startsWith('B:')) return { name, kind: 'list', sub: kind[2]! };
    return { name, kind: kind as TagSpec['kind'] };
  });
}
