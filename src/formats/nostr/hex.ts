/** Lowercase-hex helpers for the fixed-size fields of a Nostr event. */

const HEX64 = /^[0-9a-f]{64}$/;
const HEX128 = /^[0-9a-f]{128}$/;

/** True for exactly 64 lowercase hex characters (an id or a pubkey). */
export function isHex64(value: string): boolean {
  return value.length === 64 && HEX64.test(value);
}

/** True for exactly 128 lowercase hex characters (a signature). */
export function isHex128(value: string): boolean {
  return value.length === 128 && HEX128.test(value);
}

/**
 * Decodes `hex` (already validated) into `target` at `offset`. Buffer's native hex writer is used
 * because it is several times faster than a JS loop and needs no allocation.
 */
export function hexInto(hex: string, target: Buffer, offset = 0): Buffer {
  target.write(hex, offset, hex.length >>> 1, 'hex');
  return target;
}

/** Decodes validated hex into a new buffer that owns its bytes. */
export function hexToBytes(hex: string): Uint8Array {
  return Buffer.from(hex, 'hex');
}
