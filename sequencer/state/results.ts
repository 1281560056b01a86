// Per-transaction results as clients read them (TxMsgData with one response per message) and the
// deterministic results hash the next header commits to, as CometBFT's ABCIResults.Hash.
import { ExecTxResult } from "cosmjs-types/tendermint/abci/types";
import { TxMsgData } from "cosmjs-types/cosmos/base/abci/v1beta1/abci";
import { merkleRoot } from "../../celestia/merkle.ts";
import { metro } from "../../proto/index.ts";
import { MSG_SEND, MSG_SUBMIT_BUNDLE, MSG_SUBMIT_ROLLUP_TX, type SequencerMsg } from "../tx/messages.ts";

const pb = metro.sequencer.v1;

/** TxMsgData for a transaction's messages, given its rollup tx hashes in message order. */
export function txMsgData(messages: readonly SequencerMsg[], rollupTxHashes: readonly Uint8Array[]): Uint8Array {
  let next = 0;
  const msgResponses = messages.map((msg) => {
    switch (msg.type) {
      case MSG_SEND:
        return { typeUrl: "/cosmos.bank.v1beta1.MsgSendResponse", value: new Uint8Array() };
      case MSG_SUBMIT_ROLLUP_TX:
        return { typeUrl: "/metro.sequencer.v1.MsgSubmitRollupTxResponse", value: pb.MsgSubmitRollupTxResponse.encode({ rollupTxHash: rollupTxHashes[next++] }).finish() };
      case MSG_SUBMIT_BUNDLE: {
        const hashes = rollupTxHashes.slice(next, next + msg.txs.length);
        next += msg.txs.length;
        return { typeUrl: "/metro.sequencer.v1.MsgSubmitBundleResponse", value: pb.MsgSubmitBundleResponse.encode({ rollupTxHashes: hashes }).finish() };
      }
    }
  });
  return TxMsgData.encode({ data: [], msgResponses }).finish();
}

export function resultsHash(results: readonly { data: Uint8Array; gasWanted: bigint; gasUsed: bigint }[]): Uint8Array {
  return merkleRoot(
    results.map((r) => ExecTxResult.encode({ code: 0, data: r.data, log: "", info: "", gasWanted: r.gasWanted, gasUsed: r.gasUsed, events: [], codespace: "" }).finish()),
  );
}
