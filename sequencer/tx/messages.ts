// The three messages the sequencer accepts, decoded from their Any and checked on their own (no
// state): MsgSend moves umetro; MsgSubmitRollupTx and MsgSubmitBundle carry rollup data it only orders.
//
// Decoded by hand on the wire reader, with the TxBody's rules (decode.ts): unknown fields only if
// non-critical, matching wire types, no singular field twice, strings valid UTF-8.
import type { ChainParams } from "../params.ts";
import { FEE_DENOM } from "../params.ts";
import { sdkError, sequencerError } from "./errors.ts";
import { parseAddress } from "./address.ts";
import type { AnyRef } from "./decode.ts";
import { bytesEqual, duplicate, once, smallBigInt, utf8String, WireError, WireReader } from "./wire.ts";

export const MSG_SEND = "/cosmos.bank.v1beta1.MsgSend";
export const MSG_SUBMIT_ROLLUP_TX = "/metro.sequencer.v1.MsgSubmitRollupTx";
export const MSG_SUBMIT_BUNDLE = "/metro.sequencer.v1.MsgSubmitBundle";

const utf8 = new TextEncoder();
const MSG_SEND_BYTES = utf8.encode(MSG_SEND);
const MSG_SUBMIT_ROLLUP_TX_BYTES = utf8.encode(MSG_SUBMIT_ROLLUP_TX);
const MSG_SUBMIT_BUNDLE_BYTES = utf8.encode(MSG_SUBMIT_BUNDLE);
const FEE_DENOM_BYTES = utf8.encode(FEE_DENOM);

export interface RollupTx {
  secondaryChainId: string;
  data: Uint8Array;
}

export type SequencerMsg =
  | { type: typeof MSG_SEND; signer: string; to: string; amount: bigint }
  | { type: typeof MSG_SUBMIT_ROLLUP_TX; signer: string; tx: RollupTx }
  | { type: typeof MSG_SUBMIT_BUNDLE; signer: string; txs: RollupTx[] };

const SECONDARY_CHAIN_ID = /^[a-z0-9-]{1,64}$/;

export function validateSecondaryChainId(id: string): void {
  if (!SECONDARY_CHAIN_ID.test(id)) {
    throw sequencerError("invalidSecondaryChainId", `${JSON.stringify(id)} must be 1 to 64 characters of [a-z0-9-]`);
  }
}

function checkRollupTx(tx: RollupTx, params: ChainParams): RollupTx {
  validateSecondaryChainId(tx.secondaryChainId);
  if (tx.data.length === 0) throw sequencerError("emptyRollupData", `rollup ${tx.secondaryChainId}`);
  if (tx.data.length > params.maxRollupDataBytes) {
    throw sequencerError("rollupDataTooLarge", `${tx.data.length} bytes for rollup ${tx.secondaryChainId} exceeds the limit of ${params.maxRollupDataBytes}`);
  }
  return tx;
}

export function checkAddress(address: string, role: string): string {
  try {
    parseAddress(address);
  } catch (error) {
    throw sdkError("invalidAddress", `${role}: ${(error as Error).message}`);
  }
  return address;
}

/** A Coin as offsets of its denom and amount. */
export interface CoinRef {
  denomStart: number;
  denomEnd: number;
  amountStart: number;
  amountEnd: number;
}

const COIN_FIELDS = [1, 2];

/** cosmos.base.v1beta1.Coin{denom=1, amount=2}, with `r.end` at its end. */
export function parseCoin(r: WireReader, allowNonCritical: boolean): CoinRef {
  const coin: CoinRef = { denomStart: r.pos, denomEnd: r.pos, amountStart: r.pos, amountEnd: r.pos };
  let seen = 0;
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag === 0x0a) {
      seen = once(seen, "Coin", 1);
      coin.denomStart = r.skipString();
      coin.denomEnd = r.pos;
    } else if (tag === 0x12) {
      seen = once(seen, "Coin", 2);
      coin.amountStart = r.skipString();
      coin.amountEnd = r.pos;
    } else {
      r.unexpected(tag, "Coin", COIN_FIELDS, allowNonCritical);
    }
  }
  return coin;
}

/** Whether a coin is umetro with an amount of ASCII digits (the SDK's Int, without a sign). */
export function isFeeDenomAmount(buf: Uint8Array, coin: CoinRef): boolean {
  if (!bytesEqual(buf, coin.denomStart, coin.denomEnd, FEE_DENOM_BYTES) || coin.amountStart === coin.amountEnd) return false;
  for (let i = coin.amountStart; i < coin.amountEnd; i++) if (buf[i] < 0x30 || buf[i] > 0x39) return false;
  return true;
}

/** The amount of a coin that passed isFeeDenomAmount. */
export function coinAmount(buf: Uint8Array, coin: CoinRef): bigint {
  const { amountStart: start, amountEnd: end } = coin;
  if (end - start > 15) return BigInt(utf8String(buf, start, end));
  let n = 0;
  for (let i = start; i < end; i++) n = n * 10 + (buf[i] - 0x30);
  return smallBigInt(n);
}

interface MsgSendParts {
  fromAddress: string;
  toAddress: string;
  amount: CoinRef[];
}

const MSG_SEND_FIELDS = [1, 2, 3];

// A message's coins may carry non-critical unknown fields, as the message itself may.
const parseSendCoin = (r: WireReader) => parseCoin(r, true);

// cosmos.bank.v1beta1.MsgSend{from_address=1, to_address=2, repeated amount=3}.
function parseMsgSend(r: WireReader): MsgSendParts {
  const msg: MsgSendParts = { fromAddress: "", toAddress: "", amount: [] };
  let seen = 0;
  while (r.pos < r.end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        seen = once(seen, "MsgSend", 1);
        msg.fromAddress = r.string();
        break;
      case 0x12:
        seen = once(seen, "MsgSend", 2);
        msg.toAddress = r.string();
        break;
      case 0x1a:
        msg.amount.push(r.nested(parseSendCoin));
        break;
      default:
        r.unexpected(tag, "MsgSend", MSG_SEND_FIELDS, true);
    }
  }
  return msg;
}

const EMPTY = new Uint8Array(0);
const ROLLUP_TX_FIELDS = [1, 2];
const MSG_SUBMIT_ROLLUP_TX_FIELDS = [1, 2, 3];
const MSG_SUBMIT_BUNDLE_FIELDS = [1, 2];

// metro.sequencer.v1.MsgSubmitRollupTx{signer=1, secondary_chain_id=2, data=3}.
function parseMsgSubmitRollupTx(r: WireReader): { signer: string; tx: RollupTx } {
  let signer = "";
  const tx: RollupTx = { secondaryChainId: "", data: EMPTY };
  let seen = 0;
  while (r.pos < r.end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        seen = once(seen, "MsgSubmitRollupTx", 1);
        signer = r.string();
        break;
      case 0x12:
        seen = once(seen, "MsgSubmitRollupTx", 2);
        tx.secondaryChainId = r.string();
        break;
      case 0x1a:
        seen = once(seen, "MsgSubmitRollupTx", 3);
        tx.data = r.bytes();
        break;
      default:
        r.unexpected(tag, "MsgSubmitRollupTx", MSG_SUBMIT_ROLLUP_TX_FIELDS, true);
    }
  }
  return { signer, tx };
}

// metro.sequencer.v1.RollupTx{secondary_chain_id=1, data=2}, with `r.end` at its end.
function parseRollupTx(r: WireReader): RollupTx {
  const tx: RollupTx = { secondaryChainId: "", data: EMPTY };
  let seen = 0;
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag === 0x0a) {
      seen = once(seen, "RollupTx", 1);
      tx.secondaryChainId = r.string();
    } else if (tag === 0x12) {
      seen = once(seen, "RollupTx", 2);
      tx.data = r.bytes();
    } else {
      r.unexpected(tag, "RollupTx", ROLLUP_TX_FIELDS, true);
    }
  }
  return tx;
}

// metro.sequencer.v1.MsgSubmitBundle{signer=1, repeated txs=2}.
function parseMsgSubmitBundle(r: WireReader): { signer: string; txs: RollupTx[] } {
  let signer = "";
  const txs: RollupTx[] = [];
  let seenSigner = false;
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag === 0x0a) {
      if (seenSigner) throw duplicate("MsgSubmitBundle", 1);
      seenSigner = true;
      signer = r.string();
    } else if (tag === 0x12) {
      txs.push(r.nested(parseRollupTx));
    } else {
      r.unexpected(tag, "MsgSubmitBundle", MSG_SUBMIT_BUNDLE_FIELDS, true);
    }
  }
  return { signer, txs };
}

function parseOrThrow<T>(typeUrl: string, r: WireReader, parse: (r: WireReader) => T): T {
  try {
    return parse(r);
  } catch (error) {
    if (error instanceof WireError) throw sdkError("txDecode", `decoding ${typeUrl}: ${error.message}`);
    throw error;
  }
}

/**
 * Decodes and checks one message, an Any at offsets `any` of `buf`. The signer's address is checked by
 * the caller, which compares it with the address of the signing key (cheaper than a bech32 decode,
 * and stricter).
 */
export function decodeMessage(buf: Uint8Array, any: AnyRef, params: ChainParams): SequencerMsg {
  const r = new WireReader(buf, any.valueStart, any.valueEnd);
  const { typeUrlStart, typeUrlEnd } = any;
  if (bytesEqual(buf, typeUrlStart, typeUrlEnd, MSG_SUBMIT_ROLLUP_TX_BYTES)) {
    const msg = parseOrThrow(MSG_SUBMIT_ROLLUP_TX, r, parseMsgSubmitRollupTx);
    return { type: MSG_SUBMIT_ROLLUP_TX, signer: msg.signer, tx: checkRollupTx(msg.tx, params) };
  }
  if (bytesEqual(buf, typeUrlStart, typeUrlEnd, MSG_SUBMIT_BUNDLE_BYTES)) {
    const msg = parseOrThrow(MSG_SUBMIT_BUNDLE, r, parseMsgSubmitBundle);
    if (msg.txs.length === 0) throw sequencerError("emptyBundle", "a bundle needs at least one transaction");
    if (msg.txs.length > params.maxBundleTxs) {
      throw sequencerError("bundleTooLarge", `${msg.txs.length} transactions exceed the limit of ${params.maxBundleTxs}`);
    }
    for (const tx of msg.txs) checkRollupTx(tx, params);
    return { type: MSG_SUBMIT_BUNDLE, signer: msg.signer, txs: msg.txs };
  }
  if (bytesEqual(buf, typeUrlStart, typeUrlEnd, MSG_SEND_BYTES)) {
    const msg = parseOrThrow(MSG_SEND, r, parseMsgSend);
    if (msg.amount.length !== 1 || !isFeeDenomAmount(buf, msg.amount[0])) {
      throw sdkError("invalidCoins", `MsgSend must move exactly one ${FEE_DENOM} amount`);
    }
    const amount = coinAmount(buf, msg.amount[0]);
    if (amount === 0n) throw sdkError("invalidCoins", "MsgSend amount must be positive");
    checkAddress(msg.toAddress, "recipient");
    return { type: MSG_SEND, signer: msg.fromAddress, to: msg.toAddress, amount };
  }
  throw sdkError("txDecode", `unable to resolve type URL ${utf8String(buf, typeUrlStart, typeUrlEnd)}`);
}

/** The rollup transactions a message carries, in order. */
export function rollupTxsOf(msg: SequencerMsg): RollupTx[] {
  switch (msg.type) {
    case MSG_SUBMIT_ROLLUP_TX:
      return [msg.tx];
    case MSG_SUBMIT_BUNDLE:
      return msg.txs;
    default:
      return [];
  }
}
