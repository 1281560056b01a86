// C0 receipts: the node's signature over (tx hash, chain id, time received), handed out when a
// transaction is admitted, so a user can later prove that the sequencer saw it.
import { ed25519Sign, ed25519Verify, type Ed25519Key } from "../cometbft/ed25519.ts";
import { timestampFromMs, timestampToMs } from "../cometbft/time.ts";
import { metro } from "../proto/index.ts";
import Long from "long";

const pb = metro.sequencer.v1;
const DOMAIN = new TextEncoder().encode("metro/c0-receipt/v1");

export interface Receipt {
  chainId: string;
  txHash: Uint8Array;
  receivedAtMs: number;
  nodePubKey: Uint8Array;
  signature: Uint8Array;
}

function signBytes(chainId: string, txHash: Uint8Array, receivedAtMs: number): Uint8Array {
  const t = timestampFromMs(receivedAtMs);
  const body = pb.ReceiptBody.encode({ chainId, txHash, receivedAt: { seconds: Long.fromString(t.seconds.toString()), nanos: t.nanos } }).finish();
  const bytes = new Uint8Array(DOMAIN.length + body.length);
  bytes.set(DOMAIN);
  bytes.set(body, DOMAIN.length);
  return bytes;
}

export function signReceipt(key: Ed25519Key, chainId: string, txHash: Uint8Array, receivedAtMs: number): Receipt {
  return { chainId, txHash, receivedAtMs, nodePubKey: key.publicKey, signature: ed25519Sign(key, signBytes(chainId, txHash, receivedAtMs)) };
}

export function verifyReceipt(r: Receipt): boolean {
  return ed25519Verify(r.nodePubKey, signBytes(r.chainId, r.txHash, r.receivedAtMs), r.signature);
}

export function encodeReceipt(r: Receipt): Uint8Array {
  const t = timestampFromMs(r.receivedAtMs);
  return pb.Receipt.encode({
    body: { chainId: r.chainId, txHash: r.txHash, receivedAt: { seconds: Long.fromString(t.seconds.toString()), nanos: t.nanos } },
    nodePubKey: r.nodePubKey,
    signature: r.signature,
  }).finish();
}

export function decodeReceipt(bytes: Uint8Array): Receipt {
  const r = pb.Receipt.decode(bytes);
  const at = r.body?.receivedAt;
  return {
    chainId: r.body?.chainId ?? "",
    txHash: r.body?.txHash ?? new Uint8Array(),
    receivedAtMs: timestampToMs({ seconds: BigInt((at?.seconds ?? 0).toString()), nanos: at?.nanos ?? 0 }),
    nodePubKey: r.nodePubKey,
    signature: r.signature,
  };
}
