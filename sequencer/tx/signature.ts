// SIGN_MODE_DIRECT verification: rebuild the SignDoc from the raw body and auth-info bytes exactly as
// signed, hash it, and check the secp256k1 signature with libsecp256k1 (native, which rejects
// high-S signatures as the SDK does).
import secp256k1 from "secp256k1";
import { hash } from "node:crypto";
import type { DecodedTx } from "./decode.ts";

function varintLength(n: bigint): number {
  let length = 1;
  while (n >= 0x80n) {
    n >>= 7n;
    length++;
  }
  return length;
}

function writeVarint(out: Uint8Array, at: number, n: bigint): number {
  while (n >= 0x80n) {
    out[at++] = Number(n & 0x7fn) | 0x80;
    n >>= 7n;
  }
  out[at++] = Number(n);
  return at;
}

const utf8 = new TextEncoder();

/**
 * SignDoc{body_bytes=1, auth_info_bytes=2, chain_id=3, account_number=4}, encoded by hand: this runs
 * once per admitted transaction, and cosmjs-types' writer allocates an 8 KiB slab per message.
 * Proto3 omits empty fields, as every SIGN_MODE_DIRECT signer does.
 */
export function signDocBytes(tx: Pick<DecodedTx, "bodyBytes" | "authInfoBytes">, chainId: string, accountNumber: bigint): Uint8Array {
  const chain = utf8.encode(chainId);
  const fields: [number, Uint8Array][] = [
    [0x0a, tx.bodyBytes],
    [0x12, tx.authInfoBytes],
    [0x1a, chain],
  ];
  let size = 0;
  for (const [, value] of fields) if (value.length > 0) size += 1 + varintLength(BigInt(value.length)) + value.length;
  if (accountNumber !== 0n) size += 1 + varintLength(accountNumber);
  const out = new Uint8Array(size);
  let at = 0;
  for (const [tag, value] of fields) {
    if (value.length === 0) continue;
    out[at++] = tag;
    at = writeVarint(out, at, BigInt(value.length));
    out.set(value, at);
    at += value.length;
  }
  if (accountNumber !== 0n) {
    out[at++] = 0x20;
    writeVarint(out, at, accountNumber);
  }
  return out;
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
