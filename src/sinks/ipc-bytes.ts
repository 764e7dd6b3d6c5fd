/**
 * Byte helpers of the Arrow IPC layout, shared by the main-thread writer (arrow-pieces.ts) and the
 * workers' body compression (ipc-compression.ts). Kept apart from arrow-pieces.ts so that workers
 * load them without apache-arrow.
 */

/** The first (and last) six bytes of an IPC file: "ARROW1". */
export const IPC_MAGIC = new Uint8Array([0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]);

/** The end-of-stream marker: continuation token, then a zero metadata length. */
export const IPC_EOS = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

/** IPC buffers and messages are padded to 8 bytes. */
export const padded = (n: number): number => (n + 7) & ~7;

/** `parts` copied into one new buffer of its own (never Buffer's shared pool), so it can be moved to another thread. */
export function joined(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
