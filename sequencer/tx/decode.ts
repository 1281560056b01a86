// TxRaw bytes -> a decoded, statelessly checked transaction. Everything that can be known without
// state is checked here, once, when a transaction first arrives.
//
// The decoder reads exactly the fields Metro uses, in place, and is as strict as the Cosmos SDK's
// (x/tx/decode): TxRaw must follow ADR-027 (fields 1, 2, 3... in ascending order, shortest length
// prefixes) and have no unknown fields; AuthInfo may have no unknown fields anywhere; TxBody and the
// messages in it may have unknown fields only if they are non-critical (field number with bit 11
// set). A wire type that does not match its field is refused, and so, stricter than the SDK, is a
// singular field that appears twice (Go merges repeated message fields where cosmjs replaces them,
// so such bytes could mean two different things). Any of this is a `tx parse error`.
import { hash } from "node:crypto";
import type { ChainParams } from "../params.ts";
import { FEE_DENOM } from "../params.ts";
import { sdkError } from "./errors.ts";
import { checkAddress, coinAmount, decodeMessage, isFeeDenomAmount, parseCoin, type CoinRef, type SequencerMsg } from "./messages.ts";
import { knownKey } from "./address.ts";
import { bytesEqual, duplicate, once, utf8String, varintSize, WireError, WireReader } from "./wire.ts";

const SECP256K1_PUBKEY = "/cosmos.crypto.secp256k1.PubKey";
const SECP256K1_PUBKEY_BYTES = new TextEncoder().encode(SECP256K1_PUBKEY);
const SIGN_MODE_DIRECT = 1;

export interface DecodedTx {
  bytes: Uint8Array;
  /** sha256(TxRaw), the CometBFT tx hash. */
  hash: Uint8Array;
  /** The hash in upper-case hex, as CometBFT writes it (and the mempool keys by). */
  hashHex: string;
  bodyBytes: Uint8Array;
  authInfoBytes: Uint8Array;
  signature: Uint8Array;
  messages: SequencerMsg[];
  memo: string;
  /** Compressed secp256k1 key from the signer info; absent only in a Simulate request. */
  pubKey: Uint8Array | undefined;
  signer: string;
  sequence: bigint;
  gasLimit: bigint;
  /** Offered fee in umetro. */
  fee: bigint;
}

export interface DecodeOptions {
  /** Simulate requests carry an empty signature and may omit the public key. */
  simulate?: boolean;
}

/** A google.protobuf.Any as offsets into the transaction bytes. */
export interface AnyRef {
  typeUrlStart: number;
  typeUrlEnd: number;
  valueStart: number;
  valueEnd: number;
}

interface TxRawParts {
  bodyStart: number;
  bodyEnd: number;
  authInfoStart: number;
  authInfoEnd: number;
  signatures: Uint8Array[];
}

interface TxBodyParts {
  messages: AnyRef[];
  memo: string;
  timeoutHeight: bigint;
  unordered: boolean;
  timeoutTimestamp: boolean;
  extensionOptions: number;
}

interface SignerInfoParts {
  publicKey: AnyRef | undefined;
  /** The single signer's sign mode; -1 without a ModeInfo.Single, -2 with a ModeInfo.Multi. */
  mode: number;
  sequence: bigint;
}

interface FeeParts {
  amount: CoinRef[];
  gasLimit: bigint;
  payerOrGranter: boolean;
}

interface AuthInfoParts {
  signerInfos: SignerInfoParts[];
  fee: FeeParts | undefined;
  tip: boolean;
}

const TX_RAW_FIELDS = [1, 2, 3];
const TX_BODY_FIELDS = [1, 2, 3, 4, 5, 1023, 2047];
const ANY_FIELDS = [1, 2];
const AUTH_INFO_FIELDS = [1, 2, 3];
const SIGNER_INFO_FIELDS = [1, 2, 3];
const MODE_INFO_FIELDS = [1, 2];
const SINGLE_FIELDS = [1];
const FEE_FIELDS = [1, 2, 3, 4];
const PUBKEY_FIELDS = [1];

// TxRaw{body_bytes=1, auth_info_bytes=2, repeated signatures=3}, by ADR-027's rules.
function parseTxRaw(r: WireReader): TxRawParts {
  const parts: TxRawParts = { bodyStart: 0, bodyEnd: 0, authInfoStart: 0, authInfoEnd: 0, signatures: [] };
  let previous = 0;
  while (r.pos < r.end) {
    const tag = r.tag();
    const field = tag >>> 3;
    if ((tag & 7) !== 2 || field > 3) r.unexpected(tag, "TxRaw", TX_RAW_FIELDS, false);
    if (field < previous) throw new WireError(`TxRaw must follow ADR-027: field ${field} after field ${previous}`);
    if (field === previous && field !== 3) throw duplicate("TxRaw", field);
    previous = field;
    const prefixStart = r.pos;
    const end = r.lengthDelimited();
    if (r.pos - prefixStart !== varintSize(end - r.pos)) throw new WireError(`TxRaw must follow ADR-027: the length of field ${field} is not encoded as short as possible`);
    if (field === 1) {
      parts.bodyStart = r.pos;
      parts.bodyEnd = end;
    } else if (field === 2) {
      parts.authInfoStart = r.pos;
      parts.authInfoEnd = end;
    } else {
      parts.signatures.push(r.buf.subarray(r.pos, end));
    }
    r.pos = end;
  }
  return parts;
}

// google.protobuf.Any{type_url=1, value=2}, with `r.end` at its end.
function parseAny(r: WireReader, allowNonCritical: boolean): AnyRef {
  const ref: AnyRef = { typeUrlStart: r.pos, typeUrlEnd: r.pos, valueStart: r.pos, valueEnd: r.pos };
  let seen = 0;
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag === 0x0a) {
      seen = once(seen, "Any", 1);
      ref.typeUrlStart = r.skipString();
      ref.typeUrlEnd = r.pos;
    } else if (tag === 0x12) {
      seen = once(seen, "Any", 2);
      const end = r.lengthDelimited();
      ref.valueStart = r.pos;
      ref.valueEnd = end;
      r.pos = end;
    } else {
      r.unexpected(tag, "Any", ANY_FIELDS, allowNonCritical);
    }
  }
  return ref;
}

// Messages may carry non-critical unknown fields; a public key and a fee coin may not.
const parseMessageAny = (r: WireReader) => parseAny(r, true);
const parseKeyAny = (r: WireReader) => parseAny(r, false);
const parseFeeCoin = (r: WireReader) => parseCoin(r, false);

function parseTxBody(r: WireReader): TxBodyParts {
  const parts: TxBodyParts = { messages: [], memo: "", timeoutHeight: 0n, unordered: false, timeoutTimestamp: false, extensionOptions: 0 };
  let seen = 0;
  while (r.pos < r.end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        parts.messages.push(r.nested(parseMessageAny));
        break;
      case 0x12:
        seen = once(seen, "TxBody", 2);
        parts.memo = r.string();
        break;
      case 0x18:
        seen = once(seen, "TxBody", 3);
        parts.timeoutHeight = r.uint64();
        break;
      case 0x20:
        seen = once(seen, "TxBody", 4);
        parts.unordered = r.bool();
        break;
      case 0x2a:
        // google.protobuf.Timestamp: any timeout_timestamp is refused, so its content is not read.
        seen = once(seen, "TxBody", 5);
        r.pos = r.lengthDelimited();
        parts.timeoutTimestamp = true;
        break;
      case (1023 << 3) | 2:
      case (2047 << 3) | 2: {
        // Extension options are refused, so their content is not read.
        r.pos = r.lengthDelimited();
        parts.extensionOptions++;
        break;
      }
      default:
        r.unexpected(tag, "TxBody", TX_BODY_FIELDS, true);
    }
  }
  return parts;
}

// Fee{repeated amount=1, gas_limit=2, payer=3, granter=4}, with `r.end` at its end.
function parseFee(r: WireReader): FeeParts {
  const fee: FeeParts = { amount: [], gasLimit: 0n, payerOrGranter: false };
  let seen = 0;
  while (r.pos < r.end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        fee.amount.push(r.nested(parseFeeCoin));
        break;
      case 0x10:
        seen = once(seen, "Fee", 2);
        fee.gasLimit = r.uint64();
        break;
      case 0x1a:
      case 0x22: {
        seen = once(seen, "Fee", tag >>> 3);
        if (r.skipString() < r.pos) fee.payerOrGranter = true; // a non-empty address
        break;
      }
      default:
        r.unexpected(tag, "Fee", FEE_FIELDS, false);
    }
  }
  return fee;
}

// ModeInfo.Single{mode=1}.
function parseSingle(r: WireReader): number {
  let mode = 0;
  let seen = 0;
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag === 0x08) {
      seen = once(seen, "ModeInfo.Single", 1);
      mode = r.int32();
    } else {
      r.unexpected(tag, "ModeInfo.Single", SINGLE_FIELDS, false);
    }
  }
  return mode;
}

// ModeInfo{single=1 {mode=1}, multi=2}; returns the single mode, -1 if none, -2 for multi.
function parseModeInfo(r: WireReader): number {
  let mode = -1;
  let seen = 0;
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag === 0x0a) {
      seen = once(seen, "ModeInfo", 1);
      mode = r.nested(parseSingle);
    } else if (tag === 0x12) {
      // Multisig is refused whatever it holds, so its content is not read.
      seen = once(seen, "ModeInfo", 2);
      r.pos = r.lengthDelimited();
    } else {
      r.unexpected(tag, "ModeInfo", MODE_INFO_FIELDS, false);
    }
  }
  return seen & (1 << 2) ? -2 : mode; // once() keeps field n at bit n
}

// SignerInfo{public_key=1, mode_info=2, sequence=3}, with `r.end` at its end.
function parseSignerInfo(r: WireReader): SignerInfoParts {
  const info: SignerInfoParts = { publicKey: undefined, mode: -1, sequence: 0n };
  let seen = 0;
  while (r.pos < r.end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a: {
        seen = once(seen, "SignerInfo", 1);
        info.publicKey = r.nested(parseKeyAny);
        break;
      }
      case 0x12: {
        seen = once(seen, "SignerInfo", 2);
        info.mode = r.nested(parseModeInfo);
        break;
      }
      case 0x18:
        seen = once(seen, "SignerInfo", 3);
        info.sequence = r.uint64();
        break;
      default:
        r.unexpected(tag, "SignerInfo", SIGNER_INFO_FIELDS, false);
    }
  }
  return info;
}

function parseAuthInfo(r: WireReader): AuthInfoParts {
  const parts: AuthInfoParts = { signerInfos: [], fee: undefined, tip: false };
  let seen = 0;
  while (r.pos < r.end) {
    const tag = r.tag();
    switch (tag) {
      case 0x0a:
        parts.signerInfos.push(r.nested(parseSignerInfo));
        break;
      case 0x12: {
        seen = once(seen, "AuthInfo", 2);
        parts.fee = r.nested(parseFee);
        break;
      }
      case 0x1a:
        // Tips are refused, so the content is not read.
        seen = once(seen, "AuthInfo", 3);
        r.pos = r.lengthDelimited();
        parts.tip = true;
        break;
      default:
        r.unexpected(tag, "AuthInfo", AUTH_INFO_FIELDS, false);
    }
  }
  return parts;
}

// cosmos.crypto.secp256k1.PubKey{key=1}.
function parsePubKey(r: WireReader): Uint8Array {
  let key: Uint8Array | undefined;
  while (r.pos < r.end) {
    const tag = r.tag();
    if (tag === 0x0a) {
      if (key) throw duplicate("PubKey", 1);
      key = r.bytes();
    } else {
      r.unexpected(tag, "PubKey", PUBKEY_FIELDS, false);
    }
  }
  return key ?? new Uint8Array(0);
}

function parseError(what: string, error: unknown): Error {
  if (error instanceof WireError) return sdkError("txDecode", `decoding ${what}: ${error.message}`);
  return error as Error;
}

// Transaction hashes are taken as hex and written into 32-byte views of a shared slab, as Buffer's
// own pool does: a "buffer" digest allocates memory outside the heap for every hash, which costs
// more than the hashing.
const HASH_SLAB_BYTES = 8 * 1024;
let hashSlab = new ArrayBuffer(0);
let hashSlabUsed = 0;
const hexWrite = (Buffer.prototype as unknown as { hexWrite(this: Uint8Array, text: string, offset: number, length: number): number }).hexWrite;

function hashBytes(hex: string): Buffer {
  if (hashSlabUsed + 32 > hashSlab.byteLength) {
    hashSlab = new ArrayBuffer(HASH_SLAB_BYTES);
    hashSlabUsed = 0;
  }
  const out = Buffer.from(hashSlab, hashSlabUsed, 32);
  hashSlabUsed += 32;
  hexWrite.call(out, hex, 0, 32);
  return out;
}

export function decodeTx(bytes: Uint8Array, params: ChainParams, options: DecodeOptions = {}): DecodedTx {
  if (bytes.length === 0) throw sdkError("txDecode", "empty transaction");
  if (bytes.length > params.maxTxBytes) throw sdkError("txTooLarge", `tx of ${bytes.length} bytes exceeds the limit of ${params.maxTxBytes}`);
  const r = new WireReader(bytes);
  let raw: TxRawParts;
  let body: TxBodyParts;
  let authInfo: AuthInfoParts;
  try {
    raw = parseTxRaw(r);
  } catch (error) {
    throw parseError("TxRaw", error);
  }
  try {
    r.pos = raw.bodyStart;
    r.end = raw.bodyEnd;
    body = parseTxBody(r);
  } catch (error) {
    throw parseError("TxBody", error);
  }
  try {
    r.pos = raw.authInfoStart;
    r.end = raw.authInfoEnd;
    authInfo = parseAuthInfo(r);
  } catch (error) {
    throw parseError("AuthInfo", error);
  }

  if (body.messages.length === 0) throw sdkError("invalidRequest", "must contain at least one message");
  if (body.memo.length > params.maxMemoChars) throw sdkError("memoTooLarge", `maximum number of characters is ${params.maxMemoChars} but received ${body.memo.length} characters`);
  if (body.timeoutHeight !== 0n) throw sdkError("invalidRequest", "timeout_height is not supported");
  if (body.timeoutTimestamp) throw sdkError("invalidRequest", "timeout_timestamp is not supported");
  if (body.unordered) throw sdkError("invalidRequest", "unordered transactions are not supported");
  if (body.extensionOptions > 0) throw sdkError("invalidRequest", "extension options are not supported");
  const messages: SequencerMsg[] = [];
  for (const any of body.messages) messages.push(decodeMessage(bytes, any, params));

  let signer = messages[0].signer;
  for (let i = 1; i < messages.length; i++) if (messages[i].signer !== signer) throw sdkError("unauthorized", "all messages must have the same signer");
  if (authInfo.signerInfos.length !== 1) throw sdkError("unauthorized", `wrong number of signers; expected 1, got ${authInfo.signerInfos.length}`);
  if (raw.signatures.length !== 1) {
    throw raw.signatures.length === 0 ? sdkError("noSignatures") : sdkError("unauthorized", `wrong number of signatures; expected 1, got ${raw.signatures.length}`);
  }
  if (authInfo.tip) throw sdkError("invalidRequest", "tips are not supported");
  const signerInfo = authInfo.signerInfos[0];
  if (!options.simulate && signerInfo.mode !== SIGN_MODE_DIRECT) throw sdkError("unauthorized", "only SIGN_MODE_DIRECT is supported");

  let pubKey: Uint8Array | undefined;
  const publicKey = signerInfo.publicKey;
  if (publicKey) {
    if (!bytesEqual(bytes, publicKey.typeUrlStart, publicKey.typeUrlEnd, SECP256K1_PUBKEY_BYTES)) {
      throw sdkError("invalidPubKey", `unsupported key type ${utf8String(bytes, publicKey.typeUrlStart, publicKey.typeUrlEnd)}`);
    }
    try {
      r.pos = publicKey.valueStart;
      r.end = publicKey.valueEnd;
      pubKey = parsePubKey(r);
    } catch (error) {
      throw parseError("PubKey", error);
    }
    if (pubKey.length !== 33) throw sdkError("invalidPubKey", `secp256k1 key must be 33 bytes, got ${pubKey.length}`);
    const known = knownKey(pubKey);
    if (known.address !== signer) {
      checkAddress(signer, "signer");
      throw sdkError("invalidPubKey", `pubKey does not match signer address ${signer} with signer index: 0`);
    }
    // The account's own copies, equal to these: a pending transaction then keeps no key or address of its own.
    pubKey = known.pubKey;
    signer = known.address;
    for (const m of messages) m.signer = signer;
  } else if (options.simulate) {
    checkAddress(signer, "signer");
  } else {
    throw sdkError("invalidPubKey", "signer info carries no public key");
  }

  const fee = authInfo.fee;
  const coins = fee ? fee.amount : [];
  for (const c of coins) {
    if (!isFeeDenomAmount(bytes, c)) throw sdkError("insufficientFee", `fees must be paid in ${FEE_DENOM}`);
  }
  if (coins.length > 1) throw sdkError("invalidCoins", "fee must be a single coin");
  const gasLimit = fee ? fee.gasLimit : 0n;
  if (!options.simulate && gasLimit === 0n) throw sdkError("invalidGasLimit", "gas limit must be positive");
  if (fee?.payerOrGranter) throw sdkError("invalidRequest", "fee payer and granter are not supported");

  const hex = hash("sha256", bytes, "hex");
  return {
    bytes,
    hash: hashBytes(hex),
    hashHex: hex.toUpperCase(),
    bodyBytes: bytes.subarray(raw.bodyStart, raw.bodyEnd),
    authInfoBytes: bytes.subarray(raw.authInfoStart, raw.authInfoEnd),
    signature: raw.signatures[0],
    messages,
    memo: body.memo,
    pubKey,
    signer,
    sequence: signerInfo.sequence,
    gasLimit,
    fee: coins.length === 1 ? coinAmount(bytes, coins[0]) : 0n,
  };
}
