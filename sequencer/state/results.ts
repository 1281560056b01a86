// Per-transaction results as clients read them (TxMsgData with one response per message) and the
// deterministic results hash the next header commits to, as CometBFT's ABCIResults.Hash.
//
// Both are encoded with protobufjs's pooled Writer: they run once per transaction in every block,
// and cosmjs-types' writer allocates an 8 KiB slab per message.
import protobuf from "protobufjs/minimal.js";
import Long from "long";
import { merkleRoot } from "../../celestia/merkle.ts";
import { metro } from "../../proto/index.ts";
import { MSG_SEND, MSG_SUBMIT_BUNDLE, MSG_SUBMIT_ROLLUP_TX, type SequencerMsg } from "../tx/messages.ts";

const pb = metro.sequencer.v1;
const { Writer } = protobuf;

function msgResponse(msg: SequencerMsg, hashes: readonly Uint8Array[]): { typeUrl: string; value: Uint8Array } {
  switch (msg.type) {
    case MSG_SEND:
      return { typeUrl: "/cosmos.bank.v1beta1.MsgSendResponse", value: new Uint8Array() };
    case MSG_SUBMIT_ROLLUP_TX:
      return { typeUrl: "/metro.sequencer.v1.MsgSubmitRollupTxResponse", value: pb.MsgSubmitRollupTxResponse.encode({ rollupTxHash: hashes[0] }).finish() };
    case MSG_SUBMIT_BUNDLE:
      return { typeUrl: "/metro.sequencer.v1.MsgSubmitBundleResponse", value: pb.MsgSubmitBundleResponse.encode({ rollupTxHashes: [...hashes] }).finish() };
  }
}

/** TxMsgData{msg_responses = 2: Any[]} for a transaction's messages, given its rollup tx hashes in message order. */
export function txMsgData(messages: readonly SequencerMsg[], rollupTxHashes: readonly Uint8Array[]): Uint8Array {
  const w = Writer.create();
  let next = 0;
  for (const msg of messages) {
    const count = msg.type === MSG_SUBMIT_ROLLUP_TX ? 1 : msg.type === MSG_SUBMIT_BUNDLE ? msg.txs.length : 0;
    const { typeUrl, value } = msgResponse(msg, rollupTxHashes.slice(next, next + count));
    next += count;
    w.uint32(0x12).fork().uint32(0x0a).string(typeUrl);
    if (value.length > 0) w.uint32(0x12).bytes(value);
    w.ldelim();
  }
  return w.finish();
}

/**
 * A uint64 or int64 as the Long protobufjs writes: from its two 32-bit halves, where
 * Long.fromString(value.toString()) would format and parse a decimal string per field per transaction.
 */
export function toLong(value: bigint, unsigned = true): Long {
  return Long.fromBits(Number(BigInt.asUintN(32, value)), Number(BigInt.asUintN(32, value >> 32n)), unsigned);
}

/** ExecTxResult{code=1, data=2, gas_wanted=5, gas_used=6}: the fields CometBFT's results hash keeps. */
function deterministicResult(r: { data: Uint8Array; gasWanted: bigint; gasUsed: bigint }): Uint8Array {
  const w = Writer.create();
  if (r.data.length > 0) w.uint32(0x12).bytes(r.data);
  if (r.gasWanted !== 0n) w.uint32(0x28).int64(toLong(r.gasWanted, false));
  if (r.gasUsed !== 0n) w.uint32(0x30).int64(toLong(r.gasUsed, false));
  return w.finish();
}

export function resultsHash(results: readonly { data: Uint8Array; gasWanted: bigint; gasUsed: bigint }[]): Uint8Array {
  return merkleRoot(results.map(deterministicResult));
}
