/**
 * The nostr task module, loaded by every engine worker: checks each JSON line of its chunk and
 * encodes the valid events as length-delimited ProtoEvents. The chunk's result is two shared
 * buffers already grouped for the main thread (spill-records.ts): the events by day, and their
 * index rows by the id's first byte. The main thread only files whole groups; it never sees an
 * event. The side calls finish a convert: a day's deduplication and file, a bucket's sorted rows.
 */
import { isUtf8 } from 'node:buffer';
import { defineTask, lineFraming, type RecordError } from '../../engine/plugin.js';
import { checkLine, type ValidationOptions } from './event.js';
import { createVerifier, withVerdictCache, type Verifier } from './verify.js';
import { ByteSink, writeDelimitedEvent } from './proto.js';
import { SharedOutputPool } from '../../engine/shared-pool.js';
import { groupByDay, groupRows, type Grouped } from './spill-records.js';
import { finalizeDay, type FinalizeDayArg, type FinalizeDayResult } from './day-finalize.js';
import { sortRows, type SortRowsArg, type SortedRows } from './index-rows.js';
import { firstInvalidUtf8 } from './utf8.js';

export type NostrTaskOptions = ValidationOptions;

export interface ConvertPayload {
  /** Valid events in the chunk. */
  count: number;
  /** Lines in the chunk, blank ones and a last unterminated one included. */
  linesRead: number;
  /** Day records grouped by day (shared memory; empty when count is 0). */
  days: Uint8Array;
  dayGroups: Grouped;
  /** Index rows grouped by the id's first byte (shared memory). */
  rows: Uint8Array;
  rowGroups: Grouped;
}

let verifier: Verifier | null = null;
/**
 * One protobuf buffer per worker, reset for each chunk: a fresh one per chunk grew by doubling
 * and re-faulted its pages every time (~7% of worker time in the profile).
 */
const protoSink = new ByteSink(8 << 20);

/** Growable columns for one chunk; sized for ~1 kB events, doubled when a chunk holds more. */
class Columns {
  count = 0;
  ids = new Uint8Array(32 * 1024);
  pubkeys = new Uint8Array(32 * 1024);
  private pubkeyView = Buffer.from(this.pubkeys.buffer);
  kinds = new Int32Array(1024);
  createdAt = new Float64Array(1024);
  ends = new Uint32Array(1024);
  readonly proto = protoSink;

  constructor() {
    protoSink.reset();
  }

  push(id: Uint8Array, pubkeyHex: string, kind: number, createdAt: number): void {
    if (this.count === this.kinds.length) this.grow();
    const i = this.count++;
    this.ids.set(id, i * 32);
    this.pubkeyView.write(pubkeyHex, i * 32, 32, 'hex');
    this.kinds[i] = kind;
    this.createdAt[i] = createdAt;
    this.ends[i] = this.proto.length;
  }

  private grow(): void {
    const n = this.kinds.length * 2;
    const copy = <T extends Uint8Array | Int32Array | Float64Array | Uint32Array>(a: T, make: (n: number) => T, size: number): T => {
      const b = make(size);
      b.set(a as never);
      return b;
    };
    this.ids = copy(this.ids, (k) => new Uint8Array(k), n * 32);
    this.pubkeys = copy(this.pubkeys, (k) => new Uint8Array(k), n * 32);
    this.pubkeyView = Buffer.from(this.pubkeys.buffer);
    this.kinds = copy(this.kinds, (k) => new Int32Array(k), n);
    this.createdAt = copy(this.createdAt, (k) => new Float64Array(k), n);
    this.ends = copy(this.ends, (k) => new Uint32Array(k), n);
  }

  /** The chunk's events grouped by day and its index rows by bucket, in shared memory. */
  finish(linesRead: number): ConvertPayload {
    const cols = { count: this.count, ids: this.ids, pubkeys: this.pubkeys, kinds: this.kinds, createdAt: this.createdAt, ends: this.ends, proto: this.proto.bytes() };
    if (this.count === 0) {
      const none = (): Grouped => ({ keys: new Float64Array(0), ends: new Uint32Array(0), counts: new Uint32Array(0) });
      return { count: 0, linesRead, days: new Uint8Array(0), dayGroups: none(), rows: new Uint8Array(0), rowGroups: none() };
    }
    const days = groupByDay(cols, (n) => outputs.take(n));
    const rows = groupRows(cols, (n) => outputs.take(n));
    return { count: this.count, linesRead, days: days.bytes, dayGroups: days.groups, rows: rows.bytes, rowGroups: rows.groups };
  }
}

/**
 * Recycled shared memory, so a group's bytes can travel on to other workers without copies. Small
 * minimum (64 KiB): a chunk's index rows are ~1/5 of its events' bytes, and the spill budget
 * counts whole buffers, so 4 MiB buffers for them would waste most of it.
 */
const outputs = new SharedOutputPool(64 << 10);

/**
 * A UTF-8 byte order mark at the start of a line is skipped: it is how some editors and Windows
 * tools start a file (and so every file of a `cat a.jsonl b.jsonl`); U+FEFF is not JSON
 * whitespace, so without this the first event of such a file was rejected as a parse error.
 * Done per line, not per input, because a worker does not know whether its chunk starts an input
 * (streams have no offsets), and the answer must not depend on chunking.
 */
function skipBom(bytes: Uint8Array, start: number, end: number): number {
  return end - start >= 3 && bytes[start] === 0xef && bytes[start + 1] === 0xbb && bytes[start + 2] === 0xbf ? start + 3 : start;
}

function utf8Rejection(bytes: Uint8Array, start: number, end: number): string | null {
  const at = firstInvalidUtf8(bytes, start, end);
  if (at < 0) return null;
  return `byte 0x${bytes[at]!.toString(16).padStart(2, '0')} at position ${at - start} of the line is not UTF-8 (decoding would replace it with U+FFFD and alter the event)`;
}

function isBlank(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  }
  return true;
}

export default defineTask<NostrTaskOptions, ConvertPayload>({
  framing: lineFraming,

  async init(options) {
    // Duplicates reach the workers before dedup (which is on the main thread, in order): a small
    // verdict cache keeps a re-sent event from costing a second signature check (~50 µs native).
    if (options.validateSignatures) verifier = withVerdictCache(await createVerifier());
  },

  processChunk(bytes, _ctx, options) {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    const cols = new Columns();
    const errors: RecordError[] = [];
    // One vectorized check for the chunk; lines are walked only in a chunk that has a bad byte.
    const allUtf8 = isUtf8(bytes);
    let line = 0;
    let records = 0;
    let newlines = 0;
    for (let start = 0; start < text.length;) {
      const nl = text.indexOf(0x0a, start);
      const stop = nl < 0 ? text.length : nl;
      line++;
      if (nl >= 0) newlines++;
      const end = stop > start && text[stop - 1] === 0x0d ? stop - 1 : stop;
      const from = skipBom(text, start, end);
      if (!isBlank(text, from, end)) {
        records++;
        const raw = text.toString('utf8', from, end);
        const badUtf8 = allUtf8 ? null : utf8Rejection(text, from, end);
        const r = badUtf8 === null ? checkLine(raw, options, verifier) : { ok: false as const, category: 'invalid_utf8' as const, reason: badUtf8 };
        if (r.ok) {
          writeDelimitedEvent(cols.proto, r.event);
          cols.push(r.id, r.event.pubkey, r.event.kind, r.event.created_at);
        } else {
          errors.push({ category: r.category, reason: r.reason, offset: start, line, record: records, text: raw });
        }
      }
      start = stop + 1;
    }
    const payload = cols.finish(line);
    // The groups' bytes are shared memory (not transferred): the main thread hands them on to other workers.
    const g = [payload.dayGroups, payload.rowGroups].flatMap((x) => [x.keys.buffer, x.ends.buffer, x.counts.buffer] as ArrayBuffer[]);
    return { payload, transfer: g, records, lines: newlines, errors };
  },

  calls: {
    finalizeDay(arg: FinalizeDayArg) {
      // Reading is over: the chunk buffers this worker kept for reuse would only hold memory now.
      outputs.clear();
      return { value: finalizeDay(arg) satisfies FinalizeDayResult, transfer: [] };
    },
    sortRows(arg: SortRowsArg & { expected: number }) {
      const sorted = sortRows(arg, arg.expected);
      return { value: sorted satisfies SortedRows, transfer: [sorted.rows.buffer as ArrayBuffer] };
    },
  },
});
