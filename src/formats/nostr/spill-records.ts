/**
 * The two record layouts a convert spills (src/engine/partition-spill.ts), and the grouping a
 * worker does so the main thread moves whole segments, never single events:
 *
 * - a *day record*, partitioned by day (days since 1970, UTC): `[id 32][length u32 LE][the
 *   length-delimited ProtoEvent]`. Two copies of an event share their id and so their created_at
 *   and their day: deduplicating each day on its own is exact.
 * - an *index row*, partitioned by the id's first byte: `[id 32][pubkey 32][kind i32 LE]
 *   [created_at f64 LE]`, 76 bytes. Sorted by id within a partition and taken in partition order,
 *   rows arrive at index.db in id order (appends to its B-tree, never random inserts).
 */
export const ID_BYTES = 32;
export const DAY_HEADER = ID_BYTES + 4;
export const ROW_BYTES = 76;
export const ROW_BUCKETS = 256;

/** Where the day record starting at `start` ends; -1 when it runs past `limit`. */
export function dayRecordEnd(buf: Uint8Array, start: number, limit: number): number {
  if (start + DAY_HEADER > limit) return -1;
  const len = (buf[start + 32]! | (buf[start + 33]! << 8) | (buf[start + 34]! << 16) | (buf[start + 35]! << 24)) >>> 0;
  const end = start + DAY_HEADER + len;
  return end > limit ? -1 : end;
}

export function rowEnd(_buf: Uint8Array, start: number, limit: number): number {
  return start + ROW_BYTES > limit ? -1 : start + ROW_BYTES;
}

export function dayOf(createdAt: number): number {
  return Math.floor(createdAt / 86400);
}

/** Segments of one grouped buffer: partition keys ascending, each segment's end and record count. */
export interface Grouped { keys: Float64Array; ends: Uint32Array; counts: Uint32Array }

/** A chunk's events in columns, as the parser collected them. */
export interface EventColumns { count: number; ids: Uint8Array; pubkeys: Uint8Array; kinds: Int32Array; createdAt: Float64Array; ends: Uint32Array; proto: Uint8Array }

/**
 * Writes the chunk's day records into `out` (from `take(bytes)`), grouped by day ascending and in
 * input order within a day. A stable counting sort over the days present: O(events + days).
 */
export function groupByDay(c: EventColumns, take: (bytes: number) => Uint8Array): { bytes: Uint8Array; groups: Grouped } {
  const slot = new Map<number, number>();
  const days: number[] = [];
  const dayIndex = new Uint32Array(c.count);
  for (let i = 0; i < c.count; i++) {
    const d = dayOf(c.createdAt[i]!);
    let k = slot.get(d);
    if (k === undefined) {
      k = days.length;
      slot.set(d, k);
      days.push(d);
    }
    dayIndex[i] = k;
  }
  const order = days.map((d, k) => ({ d, k })).sort((a, b) => a.d - b.d);
  const rank = new Uint32Array(days.length);
  order.forEach((o, r) => { rank[o.k] = r; });
  const sizes = new Float64Array(days.length);
  const counts = new Uint32Array(days.length);
  for (let i = 0; i < c.count; i++) {
    const r = rank[dayIndex[i]!]!;
    sizes[r] = sizes[r]! + DAY_HEADER + c.ends[i]! - (i === 0 ? 0 : c.ends[i - 1]!);
    counts[r] = counts[r]! + 1;
  }
  const ends = new Uint32Array(days.length);
  const at = new Float64Array(days.length);
  let total = 0;
  for (let r = 0; r < days.length; r++) {
    at[r] = total;
    total += sizes[r]!;
    ends[r] = total;
  }
  const out = take(total);
  for (let i = 0; i < c.count; i++) {
    const r = rank[dayIndex[i]!]!;
    const from = i === 0 ? 0 : c.ends[i - 1]!;
    const len = c.ends[i]! - from;
    let p = at[r]!;
    out.set(c.ids.subarray(i * 32, i * 32 + 32), p);
    out[p + 32] = len & 0xff;
    out[p + 33] = (len >>> 8) & 0xff;
    out[p + 34] = (len >>> 16) & 0xff;
    out[p + 35] = len >>> 24;
    p += DAY_HEADER;
    out.set(c.proto.subarray(from, from + len), p);
    at[r] = p + len;
  }
  return { bytes: out, groups: { keys: Float64Array.from(order.map((o) => o.d)), ends, counts } };
}

/** Writes the chunk's index rows into `out`, grouped by the id's first byte (a counting sort). */
export function groupRows(c: EventColumns, take: (bytes: number) => Uint8Array): { bytes: Uint8Array; groups: Grouped } {
  const counts = new Uint32Array(ROW_BUCKETS);
  for (let i = 0; i < c.count; i++) counts[c.ids[i * 32]!]!++;
  const at = new Uint32Array(ROW_BUCKETS);
  const keys: number[] = [];
  const ends: number[] = [];
  const present: number[] = [];
  let total = 0;
  for (let b = 0; b < ROW_BUCKETS; b++) {
    at[b] = total;
    total += counts[b]! * ROW_BYTES;
    if (counts[b]! > 0) {
      keys.push(b);
      ends.push(total);
      present.push(counts[b]!);
    }
  }
  const out = take(total);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < c.count; i++) {
    const p = at[c.ids[i * 32]!]!;
    out.set(c.ids.subarray(i * 32, i * 32 + 32), p);
    out.set(c.pubkeys.subarray(i * 32, i * 32 + 32), p + 32);
    view.setInt32(p + 64, c.kinds[i]!, true);
    view.setFloat64(p + 68, c.createdAt[i]!, true);
    at[c.ids[i * 32]!] = p + ROW_BYTES;
  }
  return { bytes: out, groups: { keys: Float64Array.from(keys), ends: Uint32Array.from(ends), counts: Uint32Array.from(present) } };
}
