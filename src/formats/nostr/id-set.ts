/**
 * Exact set of 32-byte event ids, stored as raw bytes in one open-addressing table: 33 bytes a slot
 * (key + used flag) at a load between 0.35 and 0.7, so 47–94 bytes an id, against well over 100 for
 * a 64-character JS string in a Set (see bench/id-set.ts for the measurement).
 * Full ids are compared, so even adversarial ids (validation off) cannot collide.
 */
const KEY = 32;
const WORDS = KEY / 4;

export class IdSet {
  private capacity: number;
  private keys: Uint32Array;
  private used: Uint8Array;
  size = 0;

  constructor(expected = 1 << 16) {
    this.capacity = 1 << Math.max(4, Math.ceil(Math.log2(expected / 0.7)));
    this.keys = new Uint32Array(this.capacity * WORDS);
    this.used = new Uint8Array(this.capacity);
  }

  /** Adds the id at `bytes[offset..offset+32)`; false when it was already present. */
  add(bytes: Uint8Array, offset = 0): boolean {
    if (this.size + 1 > this.capacity * 0.7) this.grow();
    const slot = this.find(bytes, offset);
    if (this.used[slot]) return false;
    this.used[slot] = 1;
    const k = this.keys;
    const base = slot * WORDS;
    for (let w = 0; w < WORDS; w++) k[base + w] = readWord(bytes, offset + w * 4);
    this.size++;
    return true;
  }

  has(bytes: Uint8Array, offset = 0): boolean {
    return this.used[this.find(bytes, offset)] === 1;
  }

  /** The slot holding this id, or the empty slot where it would go (linear probing). */
  private find(bytes: Uint8Array, offset: number): number {
    const mask = this.capacity - 1;
    const k = this.keys;
    const w0 = readWord(bytes, offset);
    let slot = hash(bytes, offset) & mask;
    for (;;) {
      if (!this.used[slot]) return slot;
      const base = slot * WORDS;
      if (k[base] === w0) {
        let same = true;
        for (let w = 1; w < WORDS; w++) {
          if (k[base + w] !== readWord(bytes, offset + w * 4)) {
            same = false;
            break;
          }
        }
        if (same) return slot;
      }
      slot = (slot + 1) & mask;
    }
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldUsed = this.used;
    const oldCap = this.capacity;
    this.capacity *= 2;
    this.keys = new Uint32Array(this.capacity * WORDS);
    this.used = new Uint8Array(this.capacity);
    this.size = 0;
    // Re-insert word by word: a view per key here was 10% of the main thread's time.
    const mask = this.capacity - 1;
    for (let s = 0; s < oldCap; s++) {
      if (!oldUsed[s]) continue;
      const from = s * WORDS;
      let slot = mix(oldKeys[from]!, oldKeys[from + 1]!, oldKeys[from + 2]!, oldKeys[from + 3]!) & mask;
      while (this.used[slot]) slot = (slot + 1) & mask;
      this.used[slot] = 1;
      for (let w = 0; w < WORDS; w++) this.keys[slot * WORDS + w] = oldKeys[from + w]!;
      this.size++;
    }
  }
}

function readWord(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

function hash(b: Uint8Array, o: number): number {
  return mix(readWord(b, o), readWord(b, o + 4), readWord(b, o + 8), readWord(b, o + 12));
}

/** Mixes 128 bits of the id: ids are hashes when validated, but not when validation is off. */
function mix(a: number, b: number, c: number, d: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ b, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ c, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15) ^ d, 0x165667b1);
  return (h ^ (h >>> 16)) >>> 0;
}
