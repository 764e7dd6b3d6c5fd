/**
 * The nostr task module, loaded by every engine worker: checks each JSON line of its chunk and
 * encodes the valid events as length-delimited ProtoEvents. The chunk's result is a handful of
 * typed arrays (ids, pubkeys, kinds, created_at, record ends, protobuf bytes) moved to the main
 * thread, which only deduplicates ids and appends bytes; it never sees an event object.
 */
import { deflateRawSync, constants, crc32 } from 'node:zlib';
import { isUtf8 } from 'node:buffer';
import { defineTask, lineFraming, type RecordError } from '../../engine/plugin.js';
import { checkLine, type ValidationOptions } from './event.js';
import { createVerifier, withVerdictCache, type Verifier } from './verify.js';
import { ByteSink, writeDelimitedEvent } from './proto.js';
import type { SegmentParts, CompressedSegment } from './day-files.js';
import { SharedOutputPool } from '../../engine/shared-pool.js';
import { firstInvalidUtf8 } from './utf8.js';

export interface NostrTaskOptions extends ValidationOptions { compressionLevel: number }

export interface ConvertPayload {
  /** Valid events in the chunk. */
  count: number;
  /** Lines in the chunk, blank ones and a last unterminated one included. */
  linesRead: number;
  ids: Uint8Array;
  pubkeys: Uint8Array;
  kinds: Int32Array;
  createdAt: Float64Array;
  /** End offset in `proto` of each event's length-delimited record. */
  ends: Uint32Array;
  proto: Uint8Array;
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

  /** Trimmed copies with their own buffers, ready to transfer. */
  finish(linesRead: number): ConvertPayload {
    const n = this.count;
    return {
      count: n, linesRead,
      ids: this.ids.slice(0, n * 32), pubkeys: this.pubkeys.slice(0, n * 32),
      kinds: this.kinds.slice(0, n), createdAt: this.createdAt.slice(0, n), ends: this.ends.slice(0, n),
      proto: shared(this.proto.bytes()),
    };
  }
}

const outputs = new SharedOutputPool();

/** A copy in (recycled) shared memory, so day segments can point into it from any thread. */
function shared(bytes: Uint8Array): Uint8Array {
  const out = outputs.take(bytes.length);
  out.set(bytes);
  return out;
}

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
    // proto is shared memory (not transferred): the main thread hands slices of it to other workers.
    const transfer = [payload.ids, payload.pubkeys, payload.kinds, payload.createdAt, payload.ends].map((a) => a.buffer as ArrayBuffer);
    return { payload, transfer, records, lines: newlines, errors };
  },

  calls: {
    /**
     * One segment of a day file as raw deflate ending in a sync flush, so segments compressed in
     * parallel concatenate into a single valid deflate stream (pigz's method).
     */
    deflateSegment(arg: SegmentParts, options) {
      const data = arg.parts.length === 1 ? arg.parts[0]! : Buffer.concat(arg.parts);
      const out = deflateRawSync(data, { level: options.compressionLevel, finishFlush: constants.Z_SYNC_FLUSH });
      const own = new Uint8Array(out.length);
      own.set(out);
      return { value: { deflated: own, crc: crc32(data), length: data.length } satisfies CompressedSegment, transfer: [own.buffer] };
    },
  },
});
