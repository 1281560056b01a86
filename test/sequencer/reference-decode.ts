// The transaction decoder as it was before the hand-written one (cosmjs-types and protobufjs, which
// skip unknown fields), kept as an oracle: on every transaction the new decoder accepts, the two must
// agree exactly, and on well-formed transactions they must refuse with the same error.
import { AuthInfo, TxBody, TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { PubKey } from "cosmjs-types/cosmos/crypto/secp256k1/keys";
import { MsgSend } from "cosmjs-types/cosmos/bank/v1beta1/tx";
import type { Any } from "cosmjs-types/google/protobuf/any";
import { hash } from "node:crypto";
import { metro } from "../../proto/index.ts";
import type { ChainParams } from "../../sequencer/params.ts";
import { FEE_DENOM } from "../../sequencer/params.ts";
import { sdkError, sequencerError } from "../../sequencer/tx/errors.ts";
import { checkAddress, MSG_SEND, MSG_SUBMIT_BUNDLE, MSG_SUBMIT_ROLLUP_TX, validateSecondaryChainId, type RollupTx, type SequencerMsg } from "../../sequencer/tx/messages.ts";
import { addressOf } from "../../sequencer/tx/address.ts";
import type { DecodeOptions, DecodedTx } from "../../sequencer/tx/decode.ts";

const { MsgSubmitRollupTx, MsgSubmitBundle } = metro.sequencer.v1;
const SECP256K1_PUBKEY = "/cosmos.crypto.secp256k1.PubKey";
const SIGN_MODE_DIRECT = 1;

function decodeOrThrow<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    throw sdkError("txDecode", `decoding ${what}: ${(error as Error).message}`);
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

function decodeMessage(any: Any, params: ChainParams): SequencerMsg {
  const msg = decodeUnchecked(any, params);
  if (msg.type === MSG_SEND) checkAddress(msg.to, "recipient");
  return msg;
}

function decodeUnchecked(any: Any, params: ChainParams): SequencerMsg {
  switch (any.typeUrl) {
    case MSG_SEND: {
      const msg = decodeOrThrow(any.typeUrl, () => MsgSend.decode(any.value));
      if (msg.amount.length !== 1 || msg.amount[0].denom !== FEE_DENOM || !/^\d+$/.test(msg.amount[0].amount)) {
        throw sdkError("invalidCoins", `MsgSend must move exactly one ${FEE_DENOM} amount`);
      }
      const amount = BigInt(msg.amount[0].amount);
      if (amount === 0n) throw sdkError("invalidCoins", "MsgSend amount must be positive");
      return { type: MSG_SEND, signer: msg.fromAddress, to: msg.toAddress, amount };
    }
    case MSG_SUBMIT_ROLLUP_TX: {
      const msg = decodeOrThrow(any.typeUrl, () => MsgSubmitRollupTx.decode(any.value));
      return { type: MSG_SUBMIT_ROLLUP_TX, signer: msg.signer, tx: checkRollupTx({ secondaryChainId: msg.secondaryChainId, data: msg.data }, params) };
    }
    case MSG_SUBMIT_BUNDLE: {
      const msg = decodeOrThrow(any.typeUrl, () => MsgSubmitBundle.decode(any.value));
      if (msg.txs.length === 0) throw sequencerError("emptyBundle", "a bundle needs at least one transaction");
      if (msg.txs.length > params.maxBundleTxs) {
        throw sequencerError("bundleTooLarge", `${msg.txs.length} transactions exceed the limit of ${params.maxBundleTxs}`);
      }
      const txs = msg.txs.map((tx) => checkRollupTx({ secondaryChainId: tx.secondaryChainId ?? "", data: tx.data ?? new Uint8Array() }, params));
      return { type: MSG_SUBMIT_BUNDLE, signer: msg.signer, txs };
    }
    default:
      throw sdkError("txDecode", `unable to resolve type URL ${any.typeUrl}`);
  }
}

export function referenceDecodeTx(bytes: Uint8Array, params: ChainParams, options: DecodeOptions = {}): DecodedTx {
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

  const txHash = hash("sha256", bytes, "buffer");
  return {
    bytes,
    hash: txHash,
    hashHex: txHash.toString("hex").toUpperCase(),
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
