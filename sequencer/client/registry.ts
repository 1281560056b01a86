// cosmjs support for Metro's messages: a Registry that knows MsgSubmitRollupTx and MsgSubmitBundle,
// for SigningStargateClient and any SIGN_MODE_DIRECT signer.
import { Registry, type GeneratedType } from "@cosmjs/proto-signing";
import { defaultRegistryTypes } from "@cosmjs/stargate";
import { metro } from "../../proto/index.ts";
import { MSG_SUBMIT_BUNDLE, MSG_SUBMIT_ROLLUP_TX } from "../tx/messages.ts";

const { MsgSubmitRollupTx, MsgSubmitBundle } = metro.sequencer.v1;

/** protobufjs classes have fromObject where cosmjs expects ts-proto's fromPartial. */
function generated<T>(type: { encode(m: T): { finish(): Uint8Array }; decode(b: Uint8Array): T; fromObject(o: Record<string, unknown>): T }): GeneratedType {
  return {
    encode: (message: T) => type.encode(message),
    decode: (bytes: Uint8Array) => type.decode(bytes),
    fromPartial: (object: Record<string, unknown>) => type.fromObject(object),
  } as unknown as GeneratedType;
}

export function metroRegistry(): Registry {
  return new Registry([
    ...defaultRegistryTypes,
    [MSG_SUBMIT_ROLLUP_TX, generated(MsgSubmitRollupTx)],
    [MSG_SUBMIT_BUNDLE, generated(MsgSubmitBundle)],
  ]);
}

export interface RollupTxInput {
  secondaryChainId: string;
  data: Uint8Array;
}

export function submitRollupTxMsg(signer: string, tx: RollupTxInput) {
  return { typeUrl: MSG_SUBMIT_ROLLUP_TX, value: { signer, secondaryChainId: tx.secondaryChainId, data: tx.data } };
}

export function submitBundleMsg(signer: string, txs: readonly RollupTxInput[]) {
  return { typeUrl: MSG_SUBMIT_BUNDLE, value: { signer, txs: txs.map((t) => ({ secondaryChainId: t.secondaryChainId, data: t.data })) } };
}
