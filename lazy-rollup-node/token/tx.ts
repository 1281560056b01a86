// The token rollup's transaction encoding (proto/metro/rollup/token/v1/token.proto). Reading accepts
// only the canonical encoding (wire.ts), so one transfer has one encoding and one hash; writing is
// protobufjs's, which is that canonical encoding.
import { metro } from "../../proto/index.ts";
import { toLong } from "../uint64.ts";
import { readCanonical, utf8, type FieldKind } from "./wire.ts";

const { Tx, TxBody } = metro.rollup.token.v1;

export interface TransferBody {
  chainId: string;
  nonce: bigint;
  to: string;
  amount: bigint;
}

export interface TokenTx {
  /** The body's bytes exactly as signed. */
  bodyBytes: Uint8Array;
  body: TransferBody;
  pubkey: Uint8Array;
  signature: Uint8Array;
}

const TX_FIELDS: FieldKind[] = ["bytes", "bytes", "bytes"]; // body, pubkey, signature
const BODY_FIELDS: FieldKind[] = ["bytes", "varint", "message"]; // chain_id, nonce, transfer
const TRANSFER_FIELDS: FieldKind[] = ["bytes", "varint"]; // to, amount

/** The transaction, or why it is malformed (a revert reason's tail). */
export function decodeTokenTx(bytes: Uint8Array): TokenTx | string {
  const tx = readCanonical(bytes, TX_FIELDS);
  if (typeof tx === "string") return tx;
  const [bodyBytes, pubkey, signature] = tx as (Uint8Array | undefined)[];
  if (bodyBytes === undefined) return "missing body";
  if (pubkey?.length !== 33) return `pubkey must be 33 bytes (compressed secp256k1), got ${pubkey?.length ?? 0}`;
  if (signature?.length !== 64) return `signature must be 64 bytes (r||s), got ${signature?.length ?? 0}`;
  const body = readCanonical(bodyBytes, BODY_FIELDS);
  if (typeof body === "string") return `body: ${body}`;
  const [chainIdBytes, nonce = 0n, transferBytes] = body as [Uint8Array | undefined, bigint | undefined, Uint8Array | undefined];
  if (transferBytes === undefined) return "body: missing transfer";
  const transfer = readCanonical(transferBytes, TRANSFER_FIELDS);
  if (typeof transfer === "string") return `body: transfer: ${transfer}`;
  const [toBytes, amount = 0n] = transfer as [Uint8Array | undefined, bigint | undefined];
  const chainId = utf8(chainIdBytes);
  const to = utf8(toBytes);
  if (chainId === undefined || to === undefined) return "body: a string is not valid UTF-8";
  return { bodyBytes, body: { chainId, nonce, to, amount }, pubkey, signature };
}

/** The canonical encoding (protobufjs omits proto3 zeros, as decodeTokenTx requires). */
export function encodeTransferBody(body: TransferBody): Uint8Array {
  return TxBody.encode({ chainId: body.chainId, nonce: toLong(body.nonce), transfer: { to: body.to, amount: toLong(body.amount) } }).finish();
}

export function encodeTokenTx(tx: Omit<TokenTx, "body">): Uint8Array {
  return Tx.encode({ body: tx.bodyBytes, pubkey: tx.pubkey, signature: tx.signature }).finish();
}
