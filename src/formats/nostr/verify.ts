/**
 * BIP-340 Schnorr verifiers. The measurements behind the choice are in
 * docs/decisions/0002-schnorr-verifier.md (bench/verifiers.ts reproduces them).
 */

/** Verifies a BIP-340 signature. Never throws: malformed keys or signatures are simply invalid. */
export interface Verifier {
  name: string;
  verify(sig64: Uint8Array, msg32: Uint8Array, pub32: Uint8Array): boolean;
}

export type VerifierName = 'tiny-secp256k1' | 'noble';

/**
 * The fastest correct verifier available; called once per worker.
 *
 * tiny-secp256k1 (libsecp256k1 compiled to WASM) measured fastest of the in-process options; it is
 * imported lazily so workers that skip signature checks never instantiate the WASM module.
 */
export async function createVerifier(name: VerifierName = 'tiny-secp256k1'): Promise<Verifier> {
  return name === 'noble' ? createNobleVerifier() : createTinySecp256k1Verifier();
}

/** libsecp256k1 (WASM) via tiny-secp256k1. Its argument validation throws on keys off the curve. */
export async function createTinySecp256k1Verifier(): Promise<Verifier> {
  const ecc = await import('tiny-secp256k1');
  return {
    name: 'tiny-secp256k1',
    verify(sig64, msg32, pub32) {
      try {
        return ecc.verifySchnorr(msg32, pub32, sig64);
      } catch {
        return false;
      }
    },
  };
}

/**
 * Pure-JS @noble/curves. Slow, but independent of libsecp256k1, so tests use it as a cross-check and
 * it accepts messages of any length (BIP-340 vectors 15–18).
 */
export async function createNobleVerifier(): Promise<Verifier> {
  const { schnorr } = await import('@noble/curves/secp256k1.js');
  return {
    name: 'noble',
    verify(sig64, msg32, pub32) {
      try {
        return schnorr.verify(sig64, msg32, pub32);
      } catch {
        return false;
      }
    },
  };
}
