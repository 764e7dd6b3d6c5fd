/**
 * The main-thread half of the map-reduce: chunk partials merged into one table of directories.
 *
 * A directory is identified by (parent, name): a partial lists parents before children, so each of
 * its directories is looked up under its already-merged parent by the hash of its short name — the
 * main thread never hashes or compares a full path, and never sees a line. Every merge is
 * associative and commutative (sums, maxima, the owner states), so the table does not depend on
 * chunking, on -j or on the order chunks arrive in.
 *
 * Memory per directory (measured in docs/fsscan.md): the name bytes, ~70 bytes of typed-array
 * columns and ~8 bytes of hash slots; nothing per file.
 */
import { hashBytes, MANY, NONE, type DirPartial } from './aggregate.js';
import { HIST_WIDTH } from './buckets.js';

function grow<T extends Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array | BigInt64Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a as never);
  return b;
}

/** Owner/group state merge: NONE is neutral, MANY absorbs, two different ids make MANY. */
export function combineOwner(a: number, b: number): number {
  if (a === NONE) return b;
  if (b === NONE || a === b) return a;
  return MANY;
}

export interface UidHistogram { files: Float64Array; bytes: BigInt64Array }

export class DirTable {
  count = 0;
  private slots = new Int32Array(1 << 16);
  private mask = (1 << 16) - 1;
  parent = new Int32Array(1024);
  nameHash = new Int32Array(1024);
  nameOff = new Uint32Array(1024);
  nameLen = new Uint16Array(1024);
  depth = new Uint16Array(1024);
  names = new Uint8Array(1 << 16);
  namesUsed = 0;
  files = new Float64Array(1024);
  size = new BigInt64Array(1024);
  dirLines = new Float64Array(1024);
  atime = new Float64Array(1024);
  uid = new Float64Array(1024);
  gid = new Float64Array(1024);
  own = new Uint8Array(1024);
  readonly hist = new Map<number, UidHistogram>();
  messages = 0;
  formats = 0;

  private slotOf(parent: number, nh: number): number {
    return Math.imul(nh ^ Math.imul(parent + 2, 0x9e3779b1), 0x85ebca6b) & this.mask;
  }

  /** Global index of `name` (keys[s, e)) under `parent`, inserted when absent. */
  private lookup(parent: number, keys: Uint8Array, s: number, e: number): number {
    const nh = hashBytes(keys, s, e);
    const len = e - s;
    for (let at = this.slotOf(parent, nh); ; at = (at + 1) & this.mask) {
      const id = this.slots[at]! - 1;
      if (id < 0) return this.insert(parent, nh, keys, s, e, at);
      if (this.nameHash[id] !== nh || this.parent[id] !== parent || this.nameLen[id] !== len) continue;
      const o = this.nameOff[id]!;
      let i = 0;
      while (i < len && this.names[o + i] === keys[s + i]) i++;
      if (i === len) return id;
    }
  }

  private insert(parent: number, nh: number, keys: Uint8Array, s: number, e: number, at: number): number {
    const id = this.count++;
    if (id === this.parent.length) this.growRows();
    const len = e - s;
    // len < 64 KiB: aggregate.ts rejects longer paths.
    if (this.namesUsed + len > this.names.length) this.names = grow(this.names, Math.max(this.names.length * 2, this.namesUsed + len));
    this.names.set(keys.subarray(s, e), this.namesUsed);
    this.nameOff[id] = this.namesUsed;
    this.nameLen[id] = len;
    this.namesUsed += len;
    this.parent[id] = parent;
    this.nameHash[id] = nh;
    this.depth[id] = parent < 0 ? 1 : this.depth[parent]! + 1;
    this.atime[id] = -Infinity;
    this.uid[id] = NONE;
    this.gid[id] = NONE;
    this.slots[at] = id + 1;
    if (this.count * 2 > this.slots.length) this.rehash();
    return id;
  }

  private growRows(): void {
    const n = this.parent.length * 2;
    this.parent = grow(this.parent, n); this.nameHash = grow(this.nameHash, n); this.nameOff = grow(this.nameOff, n);
    this.nameLen = grow(this.nameLen, n); this.depth = grow(this.depth, n); this.files = grow(this.files, n);
    this.size = grow(this.size, n); this.dirLines = grow(this.dirLines, n); this.atime = grow(this.atime, n);
    this.uid = grow(this.uid, n); this.gid = grow(this.gid, n); this.own = grow(this.own, n);
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    this.mask = this.slots.length - 1;
    for (let id = 0; id < this.count; id++) {
      let at = this.slotOf(this.parent[id]!, this.nameHash[id]!);
      while (this.slots[at] !== 0) at = (at + 1) & this.mask;
      this.slots[at] = id + 1;
    }
  }

  /** Adds one chunk's partial. */
  merge(p: DirPartial): void {
    const map = new Int32Array(p.count);
    for (let i = 0; i < p.count; i++) {
      const lp = p.parent[i]!;
      const g = this.lookup(lp < 0 ? -1 : map[lp]!, p.keys, p.nameStart[i]!, p.nameEnd[i]!);
      map[i] = g;
      const f = p.files[i]!;
      if (f > 0) {
        this.files[g] = this.files[g]! + f;
        this.size[g] = this.size[g]! + BigInt(p.size[i]!);
        if (p.atime[i]! > this.atime[g]!) this.atime[g] = p.atime[i]!;
        this.uid[g] = combineOwner(this.uid[g]!, p.uid[i]!);
        this.gid[g] = combineOwner(this.gid[g]!, p.gid[i]!);
      }
      this.dirLines[g] = this.dirLines[g]! + p.dirLines[i]!;
      this.own[g] = this.own[g]! | p.own[i]!;
    }
    for (let u = 0; u < p.histUids.length; u++) this.addHistogram(p.histUids[u]!, p.hist.subarray(u * HIST_WIDTH, (u + 1) * HIST_WIDTH));
    this.messages += p.messages;
    this.formats |= p.formats;
  }

  private addHistogram(uid: number, h: Float64Array): void {
    let t = this.hist.get(uid);
    if (!t) this.hist.set(uid, (t = { files: new Float64Array(20), bytes: new BigInt64Array(20) }));
    for (let k = 0; k < 10; k++) {
      t.files[k] = t.files[k]! + h[k]!;
      t.bytes[k] = t.bytes[k]! + BigInt(h[10 + k]!);
      t.files[10 + k] = t.files[10 + k]! + h[20 + k]!;
      t.bytes[10 + k] = t.bytes[10 + k]! + BigInt(h[30 + k]!);
    }
  }

  /** Bytes held by the table's arrays (for the memory figure in docs/fsscan.md). */
  bytesHeld(): number {
    return this.slots.byteLength + this.names.byteLength + [this.parent, this.nameHash, this.nameOff, this.nameLen, this.depth, this.files, this.size, this.dirLines, this.atime, this.uid, this.gid, this.own].reduce((n, a) => n + a.byteLength, 0);
  }

  nameOf(id: number): Uint8Array {
    const o = this.nameOff[id]!;
    return this.names.subarray(o, o + this.nameLen[id]!);
  }
}
