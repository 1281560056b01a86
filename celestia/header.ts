// celestia-node's ExtendedHeader: a CometBFT header, its commit and validator set, and the data
// availability header (row and column roots of the extended square) that data_hash commits to.
import type { HeaderJson } from "../cometbft/header.ts";
import type { CommitJson } from "../cometbft/vote.ts";
import type { ValidatorJson } from "../cometbft/validator-set.ts";
import { fromBase64, fromHex, toBase64 } from "../cometbft/hash.ts";
import { parseRfc3339, timestampToMs } from "../cometbft/time.ts";
import { merkleRoot } from "./merkle.ts";

export interface ExtendedHeaderJson {
  header: HeaderJson;
  validator_set: { validators: ValidatorJson[]; proposer: ValidatorJson };
  commit: CommitJson;
  dah: { row_roots: string[]; column_roots: string[] };
}

/** The parts of an ExtendedHeader Metro uses, decoded. */
export interface ExtendedHeader {
  chainId: string;
  height: number;
  timeMs: number;
  hash: Uint8Array;
  dataHash: Uint8Array;
  rowRoots: Uint8Array[];
  columnRoots: Uint8Array[];
  json: ExtendedHeaderJson;
}

export interface DataAvailabilityHeader {
  rowRoots: Uint8Array[];
  columnRoots: Uint8Array[];
}

/** data_hash = RFC 6962 root over row roots then column roots. */
export function dataHash(dah: DataAvailabilityHeader): Uint8Array {
  return merkleRoot([...dah.rowRoots, ...dah.columnRoots]);
}

export function dahJson(dah: DataAvailabilityHeader): ExtendedHeaderJson["dah"] {
  return { row_roots: dah.rowRoots.map(toBase64), column_roots: dah.columnRoots.map(toBase64) };
}

export function parseExtendedHeader(json: ExtendedHeaderJson): ExtendedHeader {
  const { header, dah, commit } = json;
  if (!header || !dah || !commit) throw new Error("malformed ExtendedHeader: missing header, dah or commit");
  return {
    chainId: header.chain_id,
    height: Number(header.height),
    timeMs: timestampToMs(parseRfc3339(header.time)),
    hash: fromHex(commit.block_id.hash),
    dataHash: fromHex(header.data_hash),
    rowRoots: dah.row_roots.map(fromBase64),
    columnRoots: dah.column_roots.map(fromBase64),
    json,
  };
}

/** Throws unless the header's row and column roots hash to its data_hash. */
export function verifyDataHash(header: ExtendedHeader): void {
  const computed = dataHash(header);
  if (Buffer.compare(Buffer.from(computed), Buffer.from(header.dataHash)) !== 0) {
    throw new Error(`header ${header.height}: row and column roots do not match data_hash`);
  }
}
