/** BIP-340 signing for the nostr benchmarks' generators: bcrypto's native code when present (≈20× faster), else noble. */
import { createHash } from 'node:crypto';
import { schnorr } from '@noble/curves/secp256k1.js';

export async function signer(): Promise<(msg: Uint8Array, sk: Uint8Array) => Uint8Array> {
  try {
    const spec = 'bcrypto/lib/schnorr.js';
    const b = (await import(spec)) as { default: { native: number; sign(m: Buffer, k: Buffer, a?: Buffer): Buffer } };
    if (b.default.native === 2) return (m, k) => b.default.sign(Buffer.from(m), Buffer.from(k), Buffer.alloc(32));
  } catch { /* fall through */ }
  return (m, k) => schnorr.sign(m, k, new Uint8Array(32));
}

/** 64 fixed key pairs (secret key, x-only public key in hex), derived from `label`: generated data repeats run to run. */
export function benchKeys(label: string): { sk: Buffer; pk: string }[] {
  return Array.from({ length: 64 }, (_, i) => {
    const sk = createHash('sha256').update(`${label} ${i}`).digest();
    return { sk, pk: Buffer.from(schnorr.getPublicKey(sk)).toString('hex') };
  });
}
