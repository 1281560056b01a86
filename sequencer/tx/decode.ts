// TxRaw bytes -> a decoded, statelessly checked transaction. Everything that can be known without
// state is checked here, once, when a transaction first arrives.
import { AuthInfo, TxBody, TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { PubKey } from "cosmjs-types/cosmos/crypto/secp256k1/keys";
import { hash } from "node:crypto";
import type { ChainParams } from "../params.ts";
import { FEE_DENOM } from "../params.ts";
import { sdkError } from "./errors.ts";
import { checkAddress, decodeMessage, type SequencerMsg } from "./messages.ts";
import { addressOf } from "./address.ts";

const SECP256K1_PUBKEY = "/cosmos.crypto.secp256k1.PubKey";
const SIGN_MODE_DIRECT = 1;

export interface DecodedTx {
  bytes: Uint8Array;
  /** sha256(TxRaw), the CometBFT tx hash. */
  hash: Uint8Array;
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

function decodeOrThrow<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    throw sdkError("txDecode", `decoding ${what}: ${(error as Error).message}`);
  }
}

export interface DecodeOptions {
  /** Simulate requests carry an empty signature and may omit the public key. */
  simulate?: boolean;
}

export function decodeTx(bytes: Uint8Array, params: ChainParams, options: DecodeOptions = {}): DecodedTx {
  if (bytes.length === 0) throw sdkError("txDecode", "empty transaction");
  if (bytes.length > params.maxTxBytes) throw sdkError("txTooLarge", `tx of ${bytes.length} bytes exceeds the limit of ${params.maxTxBytes}`);
  const raw = decodeOrThrow("TxRaw", () => TxRaw.decode(bytes));
  const body = decodeOrThrow("TxBody", () => TxBody.decode(raw.bodyBytes));
  const authInfo = decodeOrThrow("AuthInfo", () => AuthInfo.decode(raw.authInfoBytes));

  if (body.messages.length === 0) throw sdkError("invalidRequest", "must contain at least one message");
  if (body.memo.length > params.maxMemoChars) throw sdkError("memoTooLarge", `maximum number of characters is ${params.maxMemoChars} but received ${body.memo.length} characters`);
  if (body.timeoutHeight !== 0n) throw sdkError("invalidRequest", "timeout_height is not supported");
  if (body.extensionOptions.length > 0 || body.nonCriticalExtensionOptions.length > 0) throw sdkError("invalidRequest", "extension options are not supported");
  const messages = body.messages.map((any) => decodeMessage(any, params));

  const signer = messages[0].signer;
  if (messages.some((m) => m.signer !== signer)) throw sdkError("unauthorized", "all messages must have the same signer");
  if (authInfo.signerInfos.length !== 1) throw sdkError("unauthorized", `wrong number of signers; expected 1, got ${authInfo.signerInfos.length}`);
  if (raw.signatures.length !== 1) {
    throw raw.signatures.length === 0 ? sdkError("noSignatures") : sdkError("unauthorized", `wrong number of signatures; expected 1, got ${raw.signatures.length}`);
  }
  const signerInfo = authInfo.signerInfos[0];
  if (!options.simulate && signerInfo.modeInfo?.single?.mode !== SIGN_MODE_DIRECT) throw sdkError("unauthorized", "only SIGN_MODE_DIRECT is supported");

  let pubKey: Uint8Array | undefined;
  if (signerInfo.publicKey) {
    if (signerInfo.publicKey.typeUrl !== SECP256K1_PUBKEY) throw sdkError("invalidPubKey", `unsupported key type ${signerInfo.publicKey.typeUrl}`);
    pubKey = decodeOrThrow("PubKey", () => PubKey.decode(signerInfo.publicKey!.value)).key;
    if (pubKey.length !== 33) throw sdkError("invalidPubKey", `secp256k1 key must be 33 bytes, got ${pubKey.length}`);
    if (addressOf(pubKey) !== signer) {
      checkAddress(signer, "signer");
      throw sdkError("invalidPubKey", `pubKey does not match signer address ${signer} with signer index: 0`);
    }
  } else if (options.simulate) {
    checkAddress(signer, "signer");
  } else {
    throw sdkError("invalidPubKey", "signer info carries no public key");
  }

  const fee = authInfo.fee;
  const coins = fee?.amount ?? [];
  if (coins.some((c) => c.denom !== FEE_DENOM || !/^\d+$/.test(c.amount))) throw sdkError("insufficientFee", `fees must be paid in ${FEE_DENOM}`);
  if (coins.length > 1) throw sdkError("invalidCoins", "fee must be a single coin");
  const gasLimit = fee?.gasLimit ?? 0n;
  if (!options.simulate && gasLimit === 0n) throw sdkError("invalidGasLimit", "gas limit must be positive");
  if (fee?.payer || fee?.granter) throw sdkError("invalidRequest", "fee payer and granter are not supported");

  return {
    bytes,
    hash: hash("sha256", bytes, "buffer"),
    bodyBytes: raw.bodyBytes,
    authInfoBytes: raw.authInfoBytes,
    signature: raw.signatures[0],
    messages,
    memo: body.memo,
    pubKey,
    signer,
    sequence: signerInfo.sequence,
    gasLimit,
    fee: coins.length === 1 ? BigInt(coins[0].amount) : 0n,
  };
}
