// secp256k1 on native libsecp256k1, as the sequencer uses it: signatures are 64-byte r||s, always
// low-S when signed here, and verification refuses high-S, so a signature cannot be malleated into a
// second valid one.
import secp256k1 from "secp256k1";

/**
 * A Secp256k1Signer (sequencer/client/signer.ts) or a raw 32-byte private key. The same key is the
 * user's Metro account and their rollup account: both derive the address ripemd160(sha256(pubkey)).
 */
export type SigningKey = Uint8Array | { readonly privateKey: Uint8Array };

function privateKeyOf(key: SigningKey): Uint8Array {
  const privateKey = key instanceof Uint8Array ? key : key.privateKey;
  if (!secp256k1.privateKeyVerify(privateKey)) throw new Error("invalid secp256k1 private key");
  return privateKey;
}

/** The 33-byte compressed public key. */
export function publicKeyOf(key: SigningKey): Uint8Array {
  return secp256k1.publicKeyCreate(privateKeyOf(key), true);
}

/** 64-byte r||s over a 32-byte digest; RFC 6979 nonces, so the same key and digest give the same signature. */
export function signDigest(key: SigningKey, digest: Uint8Array): Uint8Array {
  return secp256k1.ecdsaSign(digest, privateKeyOf(key)).signature;
}

/** True iff `signature` is a valid low-S signature of `digest` by `publicKey`. Never throws. */
export function verifyDigest(signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || digest.length !== 32) return false;
  try {
    return secp256k1.ecdsaVerify(signature, digest, publicKey);
  } catch {
    return false; // a key or signature that does not parse
  }
}
