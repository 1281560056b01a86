// CometBFT block headers: the hash validators sign (a merkle root over the protobuf encoding of each
// field, as CometBFT's Header.Hash does) and the JSON shape RPC clients read.
import { BlockID, Header } from "cosmjs-types/tendermint/types/types";
import { Consensus } from "cosmjs-types/tendermint/version/types";
import { Timestamp } from "cosmjs-types/google/protobuf/timestamp";
import { BinaryWriter } from "cosmjs-types/binary";
import { merkleRoot } from "../celestia/merkle.ts";
import { formatRfc3339Nano } from "./time.ts";
import { toHexUpper } from "./hash.ts";

export type { BlockID, Header };

export const EMPTY_BLOCK_ID: BlockID = { hash: new Uint8Array(), partSetHeader: { total: 0, hash: new Uint8Array() } };

// gogoproto wrapper messages (BytesValue, StringValue, Int64Value): field 1, omitted when empty.
function wrapBytes(value: Uint8Array): Uint8Array {
  return value.length === 0 ? value : new BinaryWriter().uint32(10).bytes(value).finish();
}
function wrapString(value: string): Uint8Array {
  return value === "" ? new Uint8Array() : new BinaryWriter().uint32(10).string(value).finish();
}
function wrapInt64(value: bigint): Uint8Array {
  return value === 0n ? new Uint8Array() : new BinaryWriter().uint32(8).int64(value).finish();
}

/** The fields CometBFT hashes, in order; `extra` lets a chain commit to more (Metro's rollup roots). */
export function headerFieldEncodings(h: Header): Uint8Array[] {
  return [
    Consensus.encode(h.version).finish(),
    wrapString(h.chainId),
    wrapInt64(h.height),
    Timestamp.encode(h.time).finish(),
    BlockID.encode(h.lastBlockId).finish(),
    wrapBytes(h.lastCommitHash),
    wrapBytes(h.dataHash),
    wrapBytes(h.validatorsHash),
    wrapBytes(h.nextValidatorsHash),
    wrapBytes(h.consensusHash),
    wrapBytes(h.appHash),
    wrapBytes(h.lastResultsHash),
    wrapBytes(h.evidenceHash),
    wrapBytes(h.proposerAddress),
  ];
}

export function headerHash(h: Header, extraFields: Uint8Array[] = []): Uint8Array {
  return merkleRoot([...headerFieldEncodings(h), ...extraFields.map(wrapBytes)]);
}

export interface BlockIdJson {
  hash: string;
  parts: { total: number; hash: string };
}

export function blockIdJson(id: BlockID): BlockIdJson {
  return { hash: toHexUpper(id.hash), parts: { total: id.partSetHeader.total, hash: toHexUpper(id.partSetHeader.hash) } };
}

export interface HeaderJson {
  version: { block: string; app: string };
  chain_id: string;
  height: string;
  time: string;
  last_block_id: BlockIdJson;
  last_commit_hash: string;
  data_hash: string;
  validators_hash: string;
  next_validators_hash: string;
  consensus_hash: string;
  app_hash: string;
  last_results_hash: string;
  evidence_hash: string;
  proposer_address: string;
}

export function headerJson(h: Header): HeaderJson {
  return {
    version: { block: String(h.version.block), app: String(h.version.app) },
    chain_id: h.chainId,
    height: String(h.height),
    time: formatRfc3339Nano(h.time),
    last_block_id: blockIdJson(h.lastBlockId),
    last_commit_hash: toHexUpper(h.lastCommitHash),
    data_hash: toHexUpper(h.dataHash),
    validators_hash: toHexUpper(h.validatorsHash),
    next_validators_hash: toHexUpper(h.nextValidatorsHash),
    consensus_hash: toHexUpper(h.consensusHash),
    app_hash: toHexUpper(h.appHash),
    last_results_hash: toHexUpper(h.lastResultsHash),
    evidence_hash: toHexUpper(h.evidenceHash),
    proposer_address: toHexUpper(h.proposerAddress),
  };
}
