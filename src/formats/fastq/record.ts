/** FastqRecord (a view over a chunk's bytes) and the typed parse errors of the library API. */
import type { LocatedError } from '../../engine/run-types.js';
import { F, ID_END, LEN, QUAL, SEQ, TITLE, TITLE_END } from './parse.js';

/**
 * One FASTQ record. Strings are decoded only when asked for: titles as UTF-8, as `fastq convert`
 * writes them (a title that is not UTF-8 is a rejected record: decision 0015), sequence and
 * quality as the ASCII they were checked to be. The `*Bytes` getters are views into the chunk's
 * buffer, with no copy, for callers that want speed.
 */
export class FastqRecord {
  /** @internal */
  constructor(private readonly buf: Buffer, private readonly index: Int32Array, private readonly slot: number) {}

  private field(k: number): number {
    return this.index[this.slot * F + k]!;
  }

  /** The title up to the first space or tab, without `@`. */
  get id(): string {
    return this.buf.toString('utf8', this.field(TITLE), this.field(ID_END));
  }

  /** The rest of the title after the first space or tab (empty when there is none). */
  get description(): string {
    const idEnd = this.field(ID_END);
    const end = this.field(TITLE_END);
    return idEnd < end ? this.buf.toString('utf8', idEnd + 1, end) : '';
  }

  /** The whole title line without `@` and the line end. */
  get title(): string {
    return this.buf.toString('utf8', this.field(TITLE), this.field(TITLE_END));
  }

  get sequence(): string {
    const s = this.field(SEQ);
    return this.buf.toString('latin1', s, s + this.length);
  }

  /** Quality characters as written (Phred+33, or +64 with `phred: 64`). */
  get quality(): string {
    const s = this.field(QUAL);
    return this.buf.toString('latin1', s, s + this.length);
  }

  get length(): number {
    return this.field(LEN);
  }

  get titleBytes(): Uint8Array {
    return this.buf.subarray(this.field(TITLE), this.field(TITLE_END));
  }

  get sequenceBytes(): Uint8Array {
    const s = this.field(SEQ);
    return this.buf.subarray(s, s + this.length);
  }

  get qualityBytes(): Uint8Array {
    const s = this.field(QUAL);
    return this.buf.subarray(s, s + this.length);
  }

  toJSON(): { id: string; description: string; sequence: string; quality: string } {
    return { id: this.id, description: this.description, sequence: this.sequence, quality: this.quality };
  }
}

/** The records of one parsed chunk, as the main thread receives them. */
export interface RecordsPayload {
  buf: Uint8Array;
  index: Int32Array;
  count: number;
  wrapped: boolean;
}

export function recordsOf(p: RecordsPayload): FastqRecord[] {
  const buf = Buffer.from(p.buf.buffer, p.buf.byteOffset, p.buf.byteLength);
  const out = new Array<FastqRecord>(p.count);
  for (let i = 0; i < p.count; i++) out[i] = new FastqRecord(buf, p.index, i);
  return out;
}

/** A bad record: where it is (input, chunk, record, line, byte offset) and why. */
export class FastqParseError extends Error {
  readonly input: string;
  /** Engine chunk number the record was found in. */
  readonly chunk: number;
  /** 1-based record number within the input (bad records count). */
  readonly record: number;
  /** 1-based line of the record's first line. */
  readonly line: number;
  /** Byte offset of the record in the (decompressed) input. */
  readonly offset: number;
  /** Stable category: missing_at, missing_plus, plus_mismatch, length_mismatch, truncated, invalid_title, invalid_sequence, invalid_quality. */
  readonly category: string;
  readonly reason: string;
  constructor(e: LocatedError, chunk: number) {
    super(`${e.input}: record ${e.record ?? '?'} (line ${e.line ?? '?'}, byte ${e.offset}): ${e.reason}`);
    this.name = 'FastqParseError';
    this.input = e.input;
    this.chunk = chunk;
    this.record = e.record ?? 0;
    this.line = e.line ?? 0;
    this.offset = e.offset;
    this.category = e.category;
    this.reason = e.reason;
  }
}

/** Every bad record of a parse (thrown at its end unless `skipInvalid` is set). */
export class FastqParseErrors extends AggregateError {
  declare readonly errors: FastqParseError[];
  constructor(errors: FastqParseError[]) {
    super(errors, `${errors.length} bad FASTQ record${errors.length === 1 ? '' : 's'}; first: ${errors[0]?.message ?? ''}`);
    this.name = 'FastqParseErrors';
  }
}
