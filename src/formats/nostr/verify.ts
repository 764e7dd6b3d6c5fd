/**
 * BIP-340 Schnorr verifiers. The measurements behind the choice are in
 * docs/decisions/0002-schnorr-verifier.md (bench/verifiers.ts reproduces them).
 */

/** Verifies a BIP-340 signature. Never throws: malformed keys or signatures are simply invalid. */
export interface Verifier {
  name: string;
  verify(sig64: Uint8Array, msg32: Uint8Array, pub32: Uint8Array): boolean;
}

export type VerifierName = 'auto' | 'bcrypto' | 'tiny-secp256k1' | 'noble';

/**
 * The fastest correct verifier available; called once per worker.
 *
 * `auto` (the default, or `THREADMILL_VERIFIER=<name>` to force one) takes bcrypto's native
 * binding when it is installed *and* its native build loaded (≈19k verifies/s on one core here),
 * otherwise tiny-secp256k1 — libsecp256k1 compiled to WASM (≈4.1k/s), the fastest portable option.
 * bcrypto is optional: where its node-gyp build is absent or failed, the WASM path is used silently.
 */
export async function createVerifier(name: VerifierName = 'auto'): Promise<Verifier> {
  const chosen = name === 'auto' ? verifierFromEnv() : name;
  if (chosen === 'noble') return createNobleVerifier();
  if (chosen === 'tiny-secp256k1') return createTinySecp256k1Verifier();
  const native = await createBcryptoNativeVerifier();
  if (native) return native;
  if (chosen === 'bcrypto') throw new Error('bcrypto with its native build is not installed');
  return createTinySecp256k1Verifier();
}

function verifierFromEnv(): VerifierName {
  const env = process.env.THREADMILL_VERIFIER;
  return env === 'bcrypto' || env === 'tiny-secp256k1' || env === 'noble' ? env : 'auto';
}

/** libsecp256k1 (WASM) via tiny-secp256k1, imported lazily so workers that skip signatures never load it. */
export async function createTinySecp256k1Verifier(): Promise<Verifier> {
  const ecc = await import('tiny-secp256k1');
  return {
    name: 'tiny-secp256k1',
    verify(sig64, msg32, pub32) {
      try {
        return ecc.verifySchnorr(msg32, pub32, sig64); // its argument checks throw on keys off the curve
      } catch {
        return false;
      }
    },
  };
}

interface BcryptoSchnorr {
  native: number;
  verify(msg: Buffer, sig: Buffer, key: Buffer): boolean;
}

/**
 * bcrypto's BIP-340 in C (libtorsion, N-API, safe in worker threads), or null when bcrypto is not
 * installed or only its pure-JS backend loaded (which is slower than WASM: ≈0.5k/s).
 */
export async function createBcryptoNativeVerifier(): Promise<Verifier | null> {
  let schnorr: BcryptoSchnorr;
  try {
    // A non-literal specifier: bcrypto is an optional, untyped dependency that may be absent.
    const specifier = 'bcrypto/lib/schnorr.js';
    const mod = (await import(specifier)) as { default?: BcryptoSchnorr } & BcryptoSchnorr;
    schnorr = mod.default ?? mod;
  } catch {
    return null;
  }
  if (schnorr.native !== 2) return null;
  return {
    name: 'bcrypto-native',
    verify(sig64, msg32, pub32) {
      try {
        return schnorr.verify(asBuffer(msg32), asBuffer(sig64), asBuffer(pub32));
      } catch {
        return false;
      }
    },
  };
}

/** bcrypto insists on Buffers; wrapping a Uint8Array's memory costs no copy. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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

/**
 * Remembers the last `capacity` verdicts by (message, signature, key), so an event seen again
 * (relay dumps repeat events; dedup happens later, on the main thread) costs a map lookup instead
 * of a ~50–250 µs verification. Keyed by all three inputs, since an id does not commit to its sig.
 */
export function withVerdictCache(inner: Verifier, capacity = 65536): Verifier {
  let verdicts = new Map<string, boolean>();
  let previous = new Map<string, boolean>();
  return {
    name: `${inner.name}+cache`,
    verify(sig64, msg32, pub32) {
      const key = verdictKey(sig64, msg32, pub32);
      const known = verdicts.get(key) ?? previous.get(key);
      if (known !== undefined) return known;
      const ok = inner.verify(sig64, msg32, pub32);
      // Two generations: when the current one fills up it becomes the previous one, so memory stays
      // bounded at 2 × capacity without per-entry LRU bookkeeping.
      if (verdicts.size >= capacity) {
        previous = verdicts;
        verdicts = new Map();
      }
      verdicts.set(key, ok);
      return ok;
    },
  };
}

function verdictKey(sig64: Uint8Array, msg32: Uint8Array, pub32: Uint8Array): string {
  const latin1 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
  return latin1(msg32) + latin1(sig64) + latin1(pub32);
}
