// Metro's own methods: C0 receipts, a rollup's transactions in a block with the proofs a rollup
// node checks against the header, and the rollup transactions a sequencer transaction carried.
import { toBase64, toHexUpper } from "../../cometbft/hash.ts";
import { blockIdJson } from "../../cometbft/header.ts";
import { collectRollupData, proveRollupTxs } from "../block/rollup-data.ts";
import { rollupTxsOf, validateSecondaryChainId } from "../tx/messages.ts";
import { TxError } from "../tx/errors.ts";
import type { ChainView } from "./chain-view.ts";
import { daStatusJson, type DaStatus } from "../relayer/da-status.ts";
import { internalError, invalidParams, method, type RpcMethod } from "./json-rpc.ts";
import { merkleProofJson, receiptJson, sequencerHeaderJson, type ReceiptJson, type RollupTxsJson } from "./json.ts";

export interface TxRollupJson {
  hash: string;
  height: string;
  index: number;
  /** In message order; `hash` is sha256 of the rollup transaction's data. */
  rollup_txs: { secondary_chain_id: string; hash: string }[];
}

function required<T>(name: string, value: T | undefined): T {
  if (value === undefined) throw invalidParams(`${name}: required`);
  return value;
}

async function receipt(view: ChainView, hash: Uint8Array): Promise<ReceiptJson> {
  const r = await view.node.receipt(toHexUpper(hash));
  if (!r) throw internalError(`no receipt for tx ${toHexUpper(hash)}: this node never admitted it`);
  return receiptJson(r);
}

async function rollupTxs(view: ChainView, height: number, secondaryChainId: string): Promise<RollupTxsJson> {
  try {
    validateSecondaryChainId(secondaryChainId);
  } catch (error) {
    if (error instanceof TxError) throw invalidParams(`secondary_chain_id: ${error.message}`);
    throw error;
  }
  const { committed, txs } = await view.blockWithResults(view.resolveHeight(height));
  const data = collectRollupData(txs);
  const proof = proveRollupTxs(data, secondaryChainId);
  return {
    height: String(height),
    secondary_chain_id: secondaryChainId,
    block_id: blockIdJson(committed.blockId),
    header: sequencerHeaderJson(committed.block.header),
    entries: (proof?.entries ?? []).map(toBase64),
    proof: proof ? merkleProofJson(proof.leafProof) : null,
    rollup_ids: data.rollups.map((r) => r.secondaryChainId),
  };
}

async function txRollup(view: ChainView, hash: Uint8Array): Promise<TxRollupJson> {
  const loc = await view.txLocation(hash);
  if (!loc) throw internalError(`tx (${toHexUpper(hash)}) not found`);
  const { txs, results } = await view.blockWithResults(loc.height);
  const rollupTxs = txs[loc.index].messages.flatMap(rollupTxsOf);
  const hashes = results[loc.index].rollupTxHashes;
  return {
    hash: toHexUpper(hash),
    height: String(loc.height),
    index: loc.index,
    rollup_txs: rollupTxs.map((r, i) => ({ secondary_chain_id: r.secondaryChainId, hash: toHexUpper(hashes[i]) })),
  };
}

/** The DA-final level (C3a) of sequencer heights and transactions, from a relayer. */
export interface DaStatusSource {
  daStatus(height: number): Promise<DaStatus>;
  daStatusOfTx(hash: Uint8Array): Promise<(DaStatus & { txHeight: number }) | undefined>;
}

async function daStatus(source: DaStatusSource | undefined, height: number | undefined, hash: Uint8Array | undefined) {
  if (!source) throw internalError("this node runs no relayer; ask the node or relayer that posts this chain to Celestia");
  if (hash !== undefined) {
    const status = await source.daStatusOfTx(hash);
    if (!status) throw internalError(`tx (${toHexUpper(hash)}) not found`);
    return { ...daStatusJson(status), tx_height: String(status.txHeight) };
  }
  return daStatusJson(await source.daStatus(required("height or hash", height)));
}

export function metroMethods(view: ChainView, daStatusSource?: DaStatusSource): [string, RpcMethod][] {
  return [
    ["metro_da_status", method({ height: "int", hash: "hash" }, (a) => daStatus(daStatusSource, a.height, a.hash))],
    ["metro_receipt", method({ hash: "hash" }, (a) => receipt(view, required("hash", a.hash)))],
    ["metro_rollup_txs", method({ height: "int", secondary_chain_id: "string" }, (a) => rollupTxs(view, required("height", a.height), required("secondary_chain_id", a.secondary_chain_id)))],
    ["metro_tx_rollup", method({ hash: "hash" }, (a) => txRollup(view, required("hash", a.hash)))],
  ];
}
