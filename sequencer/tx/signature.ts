// SIGN_MODE_DIRECT verification: rebuild the SignDoc from the raw body and auth-info bytes exactly as
// signed, hash it, and check the secp256k1 signature with libsecp256k1 (native, which rejects
// high-S signatures as the SDK does).
import { SignDoc } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import secp256k1 from "secp256k1";
import { hash } from "node:crypto";
import type { DecodedTx } from "./decode.ts";

export function signDocBytes(tx: Pick<DecodedTx, "bodyBytes" | "authInfoBytes">, chainId: string, accountNumber: bigint): Uint8Array {
  return SignDoc.encode({ bodyBytes: tx.bodyBytes, authInfoBytes: tx.authInfoBytes, chainId, accountNumber }).finish();
}

export function verifyTxSignature(tx: DecodedTx, chainId: string, accountNumber: bigint): boolean {
  if (!tx.pubKey || tx.signature.length !== 64) return false;
  const digest = hash("sha256", signDocBytes(tx, chainId, accountNumber), "buffer");
  try {
    return secp256k1.ecdsaVerify(tx.signature, digest, tx.pubKey);
  } catch {
    return false; // malformed key or signature
  }
}
