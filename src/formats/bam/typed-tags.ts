/**
 * `--tag NM:i --tag MD:Z`: the named tags as typed fields of a `tags` struct (as oxbow's
 * `tag_defs` do), instead of the map of SAM text. Types: `i` → int64 (BAM's c C s S i I all fit;
 * uint32 does not fit int32), `f` → float32 (BAM stores float32), `Z`, `H`, `A` → utf8, and
 * `B:x` → list of the subtype x (c int8, C uint8, s int16, S uint16, i int32, I uint32, f float32;
 * the values are BAM's little-endian bytes as they are). A record
 * without the tag has null there; one whose tag has another type is a record error
 * (`invalid_tag_type`), never a silent null. Built in the workers like every other column.
 */
import { UsageError } from '../../engine/errors.js';
import { Bytes, type ColumnMemory } from './bytes.js';
import { auxSize } from './framing.js';
import type { RowSpan } from './batch.js';
import type { Bits } from './assemble.js';
import { auxNumber, type RecordProblem } from './decode.js';

/** decode.ts's writer of one aux value as SAM text (`TYPE:VALUE`). */
type AuxText = (values: Bytes, buf: Uint8Array, dv: DataView, p: number, next: number) => RecordProblem | null;

/** `any`: utf8 holding `TYPE:VALUE` as SAM prints it (the map's value), for a tag seen with several types by --tags auto. */
export type TagKind = 'int' | 'float' | 'text' | 'list' | 'any';
/** `sub`: a B array's subtype letter (lists only). */
export interface TagSpec { name: string; kind: TagKind; sub?: string }

/** `NM:i` → { name: 'NM', kind: 'int' }; the SAM type letters i, f, Z, H, A, and B:x. */
export function parseTagSpec(text: string): TagSpec {
  const m = /^([A-Za-z][A-Za-z0-9]):([ifZHA]|B:[cCsSiIf])$/.exec(text.trim());
  if (!m) throw new UsageError(`--tag ${JSON.stringify(text)}: write TAG:TYPE, e.g. NM:i, MD:Z, XF:f, ML:B:C (types i, f, Z, H, A, B:c|C|s|S|i|I|f)`);
  const t = m[2]!;
  if (t.startsWith('B')) return { name: m[1]!, kind: 'list', sub: t[2]! };
  return { name: m[1]!, kind: t === 'i' ? 'int' : t === 'f' ? 'float' : 'text' };
}

/** What `--tag` asked, as SAM writes the type (for messages). */
export const typeText = (s: TagSpec): string => (s.kind === 'int' ? 'i' : s.kind === 'float' ? 'f' : s.kind === 'list' ? `B:${s.sub}` : 'Z/H/A');

/** Whether an aux field of BAM type `type` (and B subtype `sub`) fits the spec. */
export function fitsSpec(s: TagSpec, type: number, sub: number): boolean {
  switch (s.kind) {
    case 'int': return 'cCsSiI'.includes(String.fromCharCode(type));
    case 'float': return type === 0x66;
    case 'text': return type === 0x5a || type === 0x48 || type === 0x41;
    case 'any': return true;
    default: return type === 0x42 && sub === s.sub!.charCodeAt(0);
  }
}

/**
 * One typed tag column of a chunk: int64 as (low, high) int32 pairs, float32, or text / list
 * (offsets in bytes for text, in elements for lists); `present` 1/0 per row.
 */
export interface TagColumnTyped { present: Uint8Array; ints: Int32Array | null; floats: Float32Array | null; text: { offsets: Int32Array; data: Uint8Array } | null }

function grow<T extends Uint8Array | Int32Array | Float32Array>(a: T, n: number, make: (n: number) => T): T {
  if (n <= a.length) return a;
  const next = make(Math.max(n, 2 * a.length));
  next.set(a);
  return next;
}

/** Per-chunk builders of the typed tags (decode.ts calls add for every decoded record). */
export class TypedTagBuilders {
  private present: Uint8Array[];
  private ints: Array<Int32Array | null>;
  private floats: Array<Float32Array | null>;
  private data: Array<Bytes | null>;
  private offsets: Array<Int32Array | null>;
  private rows = 0;
  /** Aux values whose tag has no field (not written). */
  untyped = 0;
  constructor(readonly specs: TagSpec[], rowsHint: number, mem: ColumnMemory, private readonly auxText: AuxText) {
    const n = Math.max(16, rowsHint);
    this.present = specs.map(() => new Uint8Array(n));
    this.ints = specs.map((s) => (s.kind === 'int' ? new Int32Array(2 * n) : null));
    this.floats = specs.map((s) => (s.kind === 'float' ? new Float32Array(n) : null));
    const variable = (s: TagSpec): boolean => s.kind !== 'int' && s.kind !== 'float';
    this.data = specs.map((s) => (variable(s) ? new Bytes(n * 8, mem) : null));
    this.offsets = specs.map((s) => (variable(s) ? new Int32Array(n + 1) : null));
  }

  /**
   * Adds the record's row from its aux fields buf[p, end) (CG at `skipAt` left out); returns why
   * it cannot (a named tag of another type), or null.
   */
  add(buf: Uint8Array, dv: DataView, p: number, end: number, skipAt: number): string | null {
    const row = this.rows;
    for (let k = 0; k < this.specs.length; k++) {
      this.present[k] = grow(this.present[k]!, row + 1, (n) => new Uint8Array(n));
      this.present[k]![row] = 0;
      const ints = this.ints[k];
      if (ints) this.ints[k] = grow(ints, 2 * row + 2, (n) => new Int32Array(n));
      const floats = this.floats[k];
      if (floats) this.floats[k] = grow(floats, row + 1, (n) => new Float32Array(n));
      const offsets = this.offsets[k];
      if (offsets) this.offsets[k] = grow(offsets, row + 2, (n) => new Int32Array(n));
    }
    while (p < end) {
      const type = buf[p + 2]!;
      const next = auxEnd(buf, dv, p, type);
      if (p !== skipAt) {
        const k = this.specs.findIndex((s) => s.name.charCodeAt(0) === buf[p] && s.name.charCodeAt(1) === buf[p + 1]);
        if (k >= 0) {
          const why = this.put(k, row, buf, dv, p, type, next);
          if (why) return why;
        } else this.untyped++;
      }
      p = next;
    }
    for (let k = 0; k < this.specs.length; k++) {
      const o = this.offsets[k];
      if (o) o[row + 1] = this.specs[k]!.kind === 'list' ? this.data[k]!.len / auxSize(this.specs[k]!.sub!.charCodeAt(0)) : this.data[k]!.len;
      if (this.present[k]![row] === 0) {
        if (this.ints[k]) this.ints[k]!.fill(0, 2 * row, 2 * row + 2);
        if (this.floats[k]) this.floats[k]![row] = 0;
      }
    }
    this.rows++;
    return null;
  }

  private put(k: number, row: number, buf: Uint8Array, dv: DataView, p: number, type: number, next: number): string | null {
    const spec = this.specs[k]!;
    const numeric = type !== 0x5a && type !== 0x48 && type !== 0x41 && type !== 0x42 && type !== 0x66;
    if (spec.kind === 'int' && numeric) {
      const v = auxNumber(dv, type, p + 3);
      this.ints[k]![2 * row] = v | 0;
      this.ints[k]![2 * row + 1] = v < 0 ? -1 : 0;
    } else if (spec.kind === 'float' && type === 0x66) {
      this.floats[k]![row] = dv.getFloat32(p + 3, true);
    } else if (spec.kind === 'text' && (type === 0x5a || type === 0x48 || type === 0x41)) {
      const to = type === 0x41 ? p + 4 : next - 1;
      this.data[k]!.append(buf, p + 3, to);
    } else if (spec.kind === 'any') {
      this.auxText(this.data[k]!, buf, dv, p, next);
    } else if (spec.kind === 'list' && fitsSpec(spec, type, buf[p + 3]!)) {
      this.data[k]!.append(buf, p + 8, next);
    } else {
      return `tag ${spec.name} has type ${String.fromCharCode(type)}, not the ${typeText(spec)} asked with --tag or found by --tags auto`;
    }
    this.present[k]![row] = 1;
    return null;
  }

  /** The chunk's columns (plain arrays: moved to the main thread, not shared). */
  take(): TagColumnTyped[] {
    const n = this.rows;
    return this.specs.map((_, k) => ({
      present: this.present[k]!.slice(0, n),
      ints: this.ints[k] ? this.ints[k]!.slice(0, 2 * n) : null,
      floats: this.floats[k] ? this.floats[k]!.slice(0, n) : null,
      text: this.offsets[k] ? { offsets: this.offsets[k]!.slice(0, n + 1), data: this.data[k]!.take() } : null,
    }));
  }
}


/** Offset after the aux field at `p` (the record was checked: its aux fields parse). */
function auxEnd(buf: Uint8Array, dv: DataView, p: number, type: number): number {
  if (type === 0x5a || type === 0x48) return buf.indexOf(0, p + 3) + 1;
  if (type === 0x42) return p + 8 + auxSize(buf[p + 3]!) * dv.getUint32(p + 4, true);
  return p + 3 + auxSize(type);
}

/** Every array of the chunk's typed tag columns (for the leases that recycle column memory). */
export function typedTagViews(cols: TagColumnTyped[] | null): ArrayBufferView[] {
  const out: ArrayBufferView[] = [];
  for (const c of cols ?? []) {
    out.push(c.present);
    if (c.ints) out.push(c.ints);
    if (c.floats) out.push(c.floats);
    if (c.text) out.push(c.text.offsets, c.text.data);
  }
  return out;
}

/** A batch's validity bitmaps and (text) joined offsets of the typed tags. */
export interface TypedTagAssembly { bits: Bits; offsets: Int32Array | null }

export function assembleTypedTags(spans: RowSpan[], n: number, specs: TagSpec[]): TypedTagAssembly[] {
  return specs.map((spec, k) => {
    const bits = new Uint8Array((n + 7) >> 3);
    let nulls = 0;
    let row = 0;
    const offsets = spec.kind !== 'int' && spec.kind !== 'float' ? new Int32Array(n + 1) : null;
    let at = 0;
    for (const r of spans) {
      const c = r.cols.typedTags![k]!;
      const o = c.text?.offsets;
      const shift = o ? at - o[r.from]! : 0;
      for (let i = r.from; i < r.to; i++, row++) {
        if (c.present[i]) bits[row >> 3]! |= 1 << (row & 7);
        else nulls++;
        if (o && offsets) offsets[row + 1] = o[i + 1]! + shift;
      }
      if (offsets) at = offsets[row]!;
    }
    return { bits: { bits, nulls }, offsets };
  });
}
