// Rollup headers (proto/metro/rollup/v1/header.proto), derived lazily: a node executes blocks as soon
// as the sequencer has them, and derives a block's header only once the block is firm (read back
// from Celestia), so a header also commits to where its data sits on the DA layer.
//
// A header's hash is sha256 of its canonical proto3 encoding (fields in order, zeros omitted). Every
// header is re-encoded from its fields for hashing, and decoding refuses any other encoding, so a
// header has exactly one hash.
import { sha256 } from "../celestia/sha256.ts";
import { metro, type MetroProto } from "../proto/index.ts";
import { plainBytes } from "./plain-bytes.ts";
import type { BlockRecord } from "./rollup-store.ts";
import { fromLong, toLong } from "./uint64.ts";

const pb = metro.rollup.v1;

export interface RollupHeader {
  /** The rollup's secondary chain id. */
  chainId: string;
  height: bigint;
  /** headerHash of the header at height - 1; empty at height 1. */
  parentHash: Uint8Array;
  /** The sequencer block's time, Unix milliseconds. */
  timeMs: number;
  stateRoot: Uint8Array;
  /** RFC 6962 root over the block's entries: the entries_root of the rollup's leaf in the sequencer block. */
  txsRoot: Uint8Array;
  sequencerHeight: bigint;
  sequencerBlockHash: Uint8Array;
  /** Where the block was confirmed from on Celestia. */
  daHeight: bigint;
  daCommitment: Uint8Array;
}

/**
 * The Celestia blob a block was confirmed from: the rollup's batch blob when the block had
 * transactions for the rollup, otherwise the sequencer batch blob whose rollup id list proves it had
 * none. For a batch split over several blobs, the one holding this block.
 */
export interface DaLocation {
  height: bigint;
  commitment: Uint8Array;
}

export class HeaderFormatError extends Error {
  override name = "HeaderFormatError";
}

export function headerToProto(h: RollupHeader): MetroProto.rollup.v1.Header.$Properties {
  return {
    chainId: h.chainId,
    height: toLong(h.height),
    parentHash: h.parentHash,
    timeMs: toLong(BigInt(h.timeMs)),
    stateRoot: h.stateRoot,
    txsRoot: h.txsRoot,
    sequencerHeight: toLong(h.sequencerHeight),
    sequencerBlockHash: h.sequencerBlockHash,
    daHeight: toLong(h.daHeight),
    daCommitment: h.daCommitment,
  };
}

export function headerFromProto(p: MetroProto.rollup.v1.Header.$Properties): RollupHeader {
  const bytes = plainBytes;
  return {
    chainId: p.chainId ?? "",
    height: fromLong(p.height),
    parentHash: bytes(p.parentHash),
    timeMs: Number(fromLong(p.timeMs)),
    stateRoot: bytes(p.stateRoot),
    txsRoot: bytes(p.txsRoot),
    sequencerHeight: fromLong(p.sequencerHeight),
    sequencerBlockHash: bytes(p.sequencerBlockHash),
    daHeight: fromLong(p.daHeight),
    daCommitment: bytes(p.daCommitment),
  };
}

export function encodeHeader(h: RollupHeader): Uint8Array {
  return pb.Header.encode(headerToProto(h)).finish();
}

/** Throws HeaderFormatError unless `bytes` is a header in its canonical encoding. */
export function decodeHeader(bytes: Uint8Array): RollupHeader {
  let decoded;
  try {
    decoded = pb.Header.decode(bytes);
  } catch (error) {
    throw new HeaderFormatError(`not a rollup header: ${(error as Error).message}`);
  }
  const header = headerFromProto(decoded);
  if (Object.hasOwn(decoded, "$unknowns") || Buffer.compare(encodeHeader(header), bytes) !== 0) throw new HeaderFormatError("rollup header is not in canonical encoding");
  return header;
}

export function headerHash(h: RollupHeader): Uint8Array {
  return sha256(encodeHeader(h));
}

/**
 * The header of an executed block, once it is firm. Pure: the block record comes from the store, the
 * parent is the header derived at height - 1 (none at height 1), and `da` from the firm path.
 */
export function deriveHeader(chainId: string, block: BlockRecord, parent: RollupHeader | undefined, da: DaLocation): RollupHeader {
  if (block.height < 1n) throw new RangeError("height 0 is the genesis state: it has no header");
  if (block.height === 1n ? parent !== undefined : parent?.height !== block.height - 1n || parent.chainId !== chainId) {
    throw new RangeError(`header ${block.height} of ${chainId} needs the parent header at height ${block.height - 1n} of the same chain`);
  }
  return {
    chainId,
    height: block.height,
    parentHash: parent === undefined ? new Uint8Array() : headerHash(parent),
    timeMs: block.timeMs,
    stateRoot: block.stateRoot,
    txsRoot: block.txsRoot,
    sequencerHeight: block.sequencerHeight,
    sequencerBlockHash: block.sequencerBlockHash,
    daHeight: da.height,
    daCommitment: da.commitment,
  };
}
