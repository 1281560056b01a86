// Signing token transfers: the same key (a Secp256k1Signer or its raw private key, e.g. from a cosmjs
// wallet) that signs the user's Metro transactions.
import { sha256 } from "../../celestia/sha256.ts";
import { publicKeyOf, signDigest, type SigningKey } from "../secp256k1-key.ts";
import { encodeTokenTx, encodeTransferBody, type TransferBody } from "./tx.ts";

/** The Tx bytes to submit as a rollup transaction (MsgSubmitRollupTx.data). */
export function signTokenTransfer(key: SigningKey, transfer: TransferBody): Uint8Array {
  const bodyBytes = encodeTransferBody(transfer);
  return encodeTokenTx({ bodyBytes, pubkey: publicKeyOf(key), signature: signDigest(key, sha256(bodyBytes)) });
}
