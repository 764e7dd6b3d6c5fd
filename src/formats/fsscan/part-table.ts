/**
 * The directory table a part holds (`fsscan import --shard`): written as one DirPartial (parents
 * before children, as partials always are) and read back. Parts' tables added in shard order are
 * the import's own associative merge (merge.ts), so the combined table gives directories the ids,
 * sums, maxima and owner states of one unsharded import; the tree, the recursive roll-up and the
 * database are then built once (import.ts importParts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ThreadmillError } from '../../engine/errors.js';
import type { Part } from '../../engine/parts.js';
import type { DirPartial } from './aggregate.js';
import { HIST_WIDTH } from './buckets.js';
import { DirTable } from './merge.js';

const TABLE_FILE = 'dirs.bin';

/** The table as one partial. Sizes go through float64 like every partial's (exact below 2^53 bytes). */
function tableAsPartial(t: DirTable): DirPartial {
  const n = t.count;
  const nameStart = new Int32Array(n);
  const nameEnd = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    nameStart[i] = t.nameOff[i]!;
    nameEnd[i] = t.nameOff[i]! + t.nameLen[i]!;
  }
  const histUids = Float64Array.from(t.hist.keys());
  const hist = new Float64Array(histUids.length * HIST_WIDTH);
  let u = 0;
  for (const h of t.hist.values()) {
    const at = u++ * HIST_WIDTH;
    for (let k = 0; k < 10; k++) {
      hist[at + k] = h.files[k]!;
      hist[at + 10 + k] = Number(h.bytes[k]!);
      hist[at + 20 + k] = h.files[10 + k]!;
      hist[at + 30 + k] = Number(h.bytes[10 + k]!);
    }
  }
  return {
    count: n, parent: t.parent.slice(0, n), nameStart, nameEnd, keys: t.names.slice(0, t.namesUsed),
    files: t.files.slice(0, n), size: Float64Array.from(t.size.subarray(0, n), Number), dirLines: t.dirLines.slice(0, n),
    atime: t.atime.slice(0, n), uid: t.uid.slice(0, n), gid: t.gid.slice(0, n), own: t.own.slice(0, n),
    histUids, hist, messages: t.messages, formats: t.formats,
  };
}

const ARRAYS = ['parent', 'nameStart', 'nameEnd', 'keys', 'files', 'size', 'dirLines', 'atime', 'uid', 'gid', 'own', 'histUids', 'hist'] as const;
type ArrayField = (typeof ARRAYS)[number];

/** A JSON header line, then the arrays' bytes back to back. */
function encodePartial(p: DirPartial): Buffer {
  const lengths = ARRAYS.map((k) => p[k].byteLength);
  const head = Buffer.from(`${JSON.stringify({ count: p.count, messages: p.messages, formats: p.formats, lengths })}\n`);
  return Buffer.concat([head, ...ARRAYS.map((k) => Buffer.from(p[k].buffer, p[k].byteOffset, p[k].byteLength))]);
}

function decodePartial(buf: Buffer, path: string): DirPartial {
  const nl = buf.indexOf(0x0a);
  const head = JSON.parse(buf.subarray(0, nl).toString()) as { count: number; messages: number; formats: number; lengths: number[] };
  let at = nl + 1;
  const out: Partial<Record<ArrayField, ArrayBufferView>> = {};
  const ctor: Record<ArrayField, { new (b: ArrayBuffer): ArrayBufferView }> = {
    parent: Int32Array, nameStart: Int32Array, nameEnd: Int32Array, keys: Uint8Array, files: Float64Array, size: Float64Array, dirLines: Float64Array,
    atime: Float64Array, uid: Float64Array, gid: Float64Array, own: Uint8Array, histUids: Float64Array, hist: Float64Array,
  };
  ARRAYS.forEach((k, i) => {
    const len = head.lengths[i]!;
    if (at + len > buf.length) throw new ThreadmillError('PART_INVALID', `${path} is cut short; nothing was written`);
    // A copy into its own buffer: typed arrays need aligned offsets.
    out[k] = new ctor[k](buf.buffer.slice(buf.byteOffset + at, buf.byteOffset + at + len) as ArrayBuffer);
    at += len;
  });
  return { ...(out as Record<ArrayField, never>), count: head.count, messages: head.messages, formats: head.formats };
}

/** Writes `table` into the part directory `dir`. */
export function writePartTable(dir: string, table: DirTable): void {
  writeFileSync(join(dir, TABLE_FILE), encodePartial(tableAsPartial(table)));
}

/** The parts' directory tables added in shard order, and the records and rejections their manifests count. */
export function combinedTable(parts: Part[]): { table: DirTable; records: number; rejected: number } {
  const table = new DirTable();
  let records = 0;
  let rejected = 0;
  for (const p of parts) {
    table.merge(decodePartial(readFileSync(join(p.path, TABLE_FILE)), p.path));
    records += Number(p.manifest.data?.records ?? 0);
    rejected += Number(p.manifest.data?.rejected ?? 0);
  }
  return { table, records, rejected };
}
