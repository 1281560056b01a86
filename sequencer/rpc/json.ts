// The JSON shapes CometBFT 0.38's RPC writes (and cosmjs's Comet38 decoders read) for Metro's blocks,
// transactions and results, plus the parsers a client needs to verify what Metro's own methods return.
// Hashes are upper-case hex, byte strings base64, 64-bit integers decimal strings.
import { toBase64, toHexUpper, fromBase64, fromHex } from "../../cometbft/hash.ts";
import { headerJson, type BlockID, type BlockIdJson, type HeaderJson } from "../../cometbft/header.ts";
import { parseRfc3339, formatRfc3339Nano, timestampFromMs, timestampToMs } from "../../cometbft/time.ts";
import { commitJson, type CommitJson } from "../../cometbft/vote.ts";
import type { MerkleProof } from "../../celestia/merkle.ts";
import type { Block, SequencerHeader } from "../block/block.ts";
import type { RollupTxsProof } from "../block/rollup-data.ts";
import type { Receipt } from "../receipt.ts";

export interface EventJson {
  type: string;
  attributes: { key: string; value: string; index: boolean }[];
}

export interface TxResultJson {
  code: number;
  data: string;
  log: string;
  info: string;
  gas_wanted: string;
  gas_used: string;
  events: EventJson[];
  codespace: string;
}

export interface SequencerHeaderJson extends HeaderJson {
  rollup_txs_root: string;
  rollup_ids_root: string;
}

export interface BlockJson {
  header: SequencerHeaderJson;
  data: { txs: string[] };
  evidence: { evidence: [] };
  last_commit: CommitJson;
}

export interface MerkleProofJson {
  total: string;
  index: string;
  leaf_hash: string;
  aunts: string[];
}

export const EMPTY_BLOCK_ID_JSON: BlockIdJson = { hash: "", parts: { total: 0, hash: "" } };

/** What CometBFT writes for "no commit" (the first block's last_commit). */
const NO_COMMIT_JSON: CommitJson = { height: "0", round: 0, block_id: EMPTY_BLOCK_ID_JSON, signatures: [] };

/** A Metro header: CometBFT's fields plus the two rollup roots (cosmjs ignores keys it does not know). */
export function sequencerHeaderJson(h: SequencerHeader): SequencerHeaderJson {
  return { ...headerJson(h), rollup_txs_root: toHexUpper(h.rollupTxsRoot), rollup_ids_root: toHexUpper(h.rollupIdsRoot) };
}

/** The inverse of sequencerHeaderJson, so a client can recompute a block hash from JSON. */
export function sequencerHeaderFromJson(j: SequencerHeaderJson): SequencerHeader {
  return {
    version: { block: BigInt(j.version.block), app: BigInt(j.version.app) },
    chainId: j.chain_id,
    height: BigInt(j.height),
    time: parseRfc3339(j.time),
    lastBlockId: blockIdFromJson(j.last_block_id),
    lastCommitHash: fromHex(j.last_commit_hash),
    dataHash: fromHex(j.data_hash),
    validatorsHash: fromHex(j.validators_hash),
    nextValidatorsHash: fromHex(j.next_validators_hash),
    consensusHash: fromHex(j.consensus_hash),
    appHash: fromHex(j.app_hash),
    lastResultsHash: fromHex(j.last_results_hash),
    evidenceHash: fromHex(j.evidence_hash),
    proposerAddress: fromHex(j.proposer_address),
    rollupTxsRoot: fromHex(j.rollup_txs_root),
    rollupIdsRoot: fromHex(j.rollup_ids_root),
  };
}

export function blockIdFromJson(j: BlockIdJson): BlockID {
  return { hash: fromHex(j.hash), partSetHeader: { total: j.parts.total, hash: fromHex(j.parts.hash) } };
}

export function blockJson(block: Block): BlockJson {
  return {
    header: sequencerHeaderJson(block.header),
    data: { txs: block.txs.map(toBase64) },
    evidence: { evidence: [] },
    last_commit: block.lastCommit ? commitJson(block.lastCommit) : NO_COMMIT_JSON,
  };
}

export function eventsJson(events: readonly { type: string; attributes: readonly { key: string; value: string }[] }[]): EventJson[] {
  return events.map((e) => ({ type: e.type, attributes: e.attributes.map((a) => ({ key: a.key, value: a.value, index: true })) }));
}

/** An included transaction's result: every included transaction succeeded (code 0). */
export function txResultJson(r: { data: Uint8Array; gasWanted: bigint; gasUsed: bigint; events: Parameters<typeof eventsJson>[0] }): TxResultJson {
  return {
    code: 0,
    data: toBase64(r.data),
    log: "",
    info: "",
    gas_wanted: String(r.gasWanted),
    gas_used: String(r.gasUsed),
    events: eventsJson(r.events),
    codespace: "",
  };
}

/** CheckTx's answer in broadcast_tx_commit (`data` empty: cosmjs reads it as base64). */
export function checkTxJson(r: { code: number; codespace: string; log: string }) {
  return { code: r.code, data: "", log: r.log, info: "", gas_wanted: "0", gas_used: "0", events: [], codespace: r.codespace };
}

export function merkleProofJson(p: MerkleProof): MerkleProofJson {
  return { total: String(p.total), index: String(p.index), leaf_hash: toBase64(p.leafHash), aunts: p.aunts.map(toBase64) };
}

export function merkleProofFromJson(j: MerkleProofJson): MerkleProof {
  return { total: Number(j.total), index: Number(j.index), leafHash: fromBase64(j.leaf_hash), aunts: j.aunts.map(fromBase64) };
}

export interface ReceiptJson {
  chain_id: string;
  tx_hash: string;
  received_at: string;
  node_pub_key: { type: "tendermint/PubKeyEd25519"; value: string };
  signature: string;
}

export function receiptJson(r: Receipt): ReceiptJson {
  return {
    chain_id: r.chainId,
    tx_hash: toHexUpper(r.txHash),
    received_at: formatRfc3339Nano(timestampFromMs(r.receivedAtMs)),
    node_pub_key: { type: "tendermint/PubKeyEd25519", value: toBase64(r.nodePubKey) },
    signature: toBase64(r.signature),
  };
}

/** The inverse of receiptJson, for verifyReceipt. */
export function receiptFromJson(j: ReceiptJson): Receipt {
  return {
    chainId: j.chain_id,
    txHash: fromHex(j.tx_hash),
    receivedAtMs: timestampToMs(parseRfc3339(j.received_at)),
    nodePubKey: fromBase64(j.node_pub_key.value),
    signature: fromBase64(j.signature),
  };
}

export interface RollupTxsJson {
  height: string;
  secondary_chain_id: string;
  block_id: BlockIdJson;
  header: SequencerHeaderJson;
  /** Encoded RollupTxEntry messages, base64, in block order. */
  entries: string[];
  /** The rollup's leaf in rollup_txs_root; null when the rollup has nothing in the block. */
  proof: MerkleProofJson | null;
  /** Every rollup in the block, sorted: the leaves of rollup_ids_root. */
  rollup_ids: string[];
}

/** The proof in a metro_rollup_txs answer, for verifyRollupTxs; undefined for an absent rollup. */
export function rollupTxsProofFromJson(j: RollupTxsJson): RollupTxsProof | undefined {
  if (!j.proof) return undefined;
  return { secondaryChainId: j.secondary_chain_id, entries: j.entries.map(fromBase64), leafProof: merkleProofFromJson(j.proof) };
}

