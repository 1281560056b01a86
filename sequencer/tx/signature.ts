// SIGN_MODE_DIRECT verification: rebuild the SignDoc from the raw body and auth-info bytes exactly as
// signed, hash it, and check the secp256k1 signature with libsecp256k1 (native, which rejects
// high-S signatures as the SDK does).
import secp256k1 from "secp256k1";
import { hash } from "node:crypto";
import { bytesFieldLength, varintLength, writeBytesField, writeVarint } from "../../proto/wire-writer.ts";
import type { DecodedTx } from "./decode.ts";

const utf8 = new TextEncoder();

// The chain id's bytes, for the chain this node runs (one, nearly always).
let chainIdText = "";
let chainIdBytes = new Uint8Array(0);

function chainIdUtf8(chainId: string): Uint8Array {
  if (chainId !== chainIdText) {
    chainIdBytes = utf8.encode(chainId);
    chainIdText = chainId;
  }
  return chainIdBytes;
}

function signDocSize(tx: Pick<DecodedTx, "bodyBytes" | "authInfoBytes">, chain: Uint8Array, accountNumber: number | bigint): number {
  let size = bytesFieldLength(tx.bodyBytes) + bytesFieldLength(tx.authInfoBytes) + bytesFieldLength(chain);
  if (accountNumber !== 0 && accountNumber !== 0n) size += 1 + varintLength(accountNumber);
  return size;
}

function writeSignDoc(out: Uint8Array, tx: Pick<DecodedTx, "bodyBytes" | "authInfoBytes">, chain: Uint8Array, accountNumber: number | bigint): number {
  let at = writeBytesField(out, 0, 0x0a, tx.bodyBytes);
  at = writeBytesField(out, at, 0x12, tx.authInfoBytes);
  at = writeBytesField(out, at, 0x1a, chain);
  if (accountNumber !== 0 && accountNumber !== 0n) {
    out[at++] = 0x20;
    at = writeVarint(out, at, accountNumber);
  }
  return at;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Account numbers as numbers when they fit (nearly always): number varints are cheaper. */
function smallest(n: bigint): number | bigint {
  return n <= MAX_SAFE ? Number(n) : n;
}

/**
 * SignDoc{body_bytes=1, auth_info_bytes=2, chain_id=3, account_number=4}, encoded by hand: this runs
 * once per admitted transaction, and cosmjs-types' writer allocates an 8 KiB slab per message.
 * Proto3 omits empty fields, as every SIGN_MODE_DIRECT signer does.
 */
export function signDocBytes(tx: Pick<DecodedTx, "bodyBytes" | "authInfoBytes">, chainId: string, accountNumber: bigint): Uint8Array {
  const chain = utf8.encode(chainId);
  const n = smallest(accountNumber);
  const out = new Uint8Array(signDocSize(tx, chain, n));
  writeSignDoc(out, tx, chain, n);
  return out;
}

// SignDocs are written here and hashed at once, and digests land in `digest`; nothing holds on to
// either between calls.
let scratch = new Uint8Array(64 * 1024);
const digest = Buffer.alloc(32);
const latin1Write = (Buffer.prototype as unknown as { latin1Write(this: Uint8Array, text: string, offset: number, length: number): number }).latin1Write;

/**
 * sha256 of the SignDoc, without allocating one; the result is overwritten by the next call. (A
 * "binary" digest copied into place costs half of a "buffer" one, which allocates off the heap.)
 */
function signDocDigest(tx: Pick<DecodedTx, "bodyBytes" | "authInfoBytes">, chainId: string, accountNumber: bigint): Uint8Array {
  const chain = chainIdUtf8(chainId);
  const n = smallest(accountNumber);
  const size = signDocSize(tx, chain, n);
  if (size > scratch.length) scratch = new Uint8Array(Math.max(size, 2 * scratch.length));
  const end = writeSignDoc(scratch, tx, chain, n);
  latin1Write.call(digest, hash("sha256", scratch.subarray(0, end), "binary"), 0, 32);
  return digest;
}

export function verifyTxSignature(tx: DecodedTx, chainId: string, accountNumber: bigint): boolean {
  if (!tx.pubKey || tx.signature.length !== 64) return false;
  try {
    return secp256k1.ecdsaVerify(tx.signature, signDocDigest(tx, chainId, accountNumber), tx.pubKey);
  } catch {
    return false; // malformed key or signature
  }
}
