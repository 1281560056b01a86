// The relayer's blob format (proto/metro/relayer/v1/relayer.proto), both ways: records per block, the
// batches that join them, and the RelayerBlob envelope that carries a batch, or one part of a batch
// too large for one blob. Writers and readers share this file; decoding is strict and canonical.
import { metro } from "../../proto/index.ts";
import { sha256 } from "../../cometbft/hash.ts";
import type { Commit } from "../../cometbft/vote.ts";
import { commitFromProto, commitToProto, headerFromProto, headerToProto, type SequencerHeader } from "../block/block.ts";
import { RelayerFormatError } from "./errors.ts";
import type { CompressionFlag, Stored } from "./compression.ts";

const pb = metro.relayer.v1;

export const FORMAT_VERSION = 1;

/** RelayerBlob.kind: which batch message the parts hold. */
export const BATCH_KIND = { sequencer: 1, rollup: 2 } as const;
export type BatchKind = keyof typeof BATCH_KIND;

/** An upper bound on the bytes RelayerBlob adds around a part's data. */
export const ENVELOPE_OVERHEAD_BYTES = 64;

const HASH_SIZE = 32;

/** What the sequencer namespace carries per block. */
export interface SequencerBlockMeta {
  header: SequencerHeader;
  /** The block's own commit (+2/3 precommits for it). */
  commit: Commit;
  /** Sorted ids of every rollup with transactions in the block. */
  rollupIds: string[];
}

/** What a rollup namespace carries per block and rollup. */
export interface RollupBlockTxs {
  blockHash: Uint8Array;
  secondaryChainId: string;
  /** Encoded RollupTxEntry messages, in block order. */
  entries: Uint8Array[];
  /** Sibling hashes from the rollup's leaf up to rollup_txs_root. */
  aunts: Uint8Array[];
}

/** One RelayerBlob, decoded. */
export interface BlobPart {
  kind: BatchKind;
  compression: number;
  /** Size of the batch's encoding after decompression. */
  batchSize: number;
  /** sha256 of the stored batch (all parts joined). */
  batchHash: Uint8Array;
  part: number;
  parts: number;
  data: Uint8Array;
}

export function encodeSequencerBlockMeta(m: SequencerBlockMeta): Uint8Array {
  return pb.SequencerBlockMeta.encode({ header: headerToProto(m.header), commit: commitToProto(m.commit), rollupIds: m.rollupIds }).finish();
}

export function encodeRollupBlockTxs(r: RollupBlockTxs): Uint8Array {
  return pb.RollupBlockTxs.encode({ blockHash: r.blockHash, secondaryChainId: r.secondaryChainId, entries: r.entries, aunts: r.aunts }).finish();
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

function writeVarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[at++] = n;
  return at;
}

/** Bytes a record adds to a batch: its field key, its length and itself. */
export function framedSize(recordBytes: number): number {
  return 1 + varintSize(recordBytes) + recordBytes;
}

/**
 * Encoded records -> the batch message holding them as field 1 (SequencerBatch.blocks or
 * RollupBatch.blocks): exactly what protobuf writes for the same records, without re-encoding them.
 */
export function joinRecords(records: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(records.reduce((n, r) => n + framedSize(r.length), 0));
  let at = 0;
  for (const record of records) {
    out[at++] = 0x0a; // field 1, length-delimited
    at = writeVarint(out, at, record.length);
    out.set(record, at);
    at += record.length;
  }
  return out;
}

/** Decodes, then insists that encoding the result gives back exactly the same bytes. */
function canonical<T>(what: string, bytes: Uint8Array, decode: (b: Uint8Array) => T, encode: (m: T) => Uint8Array): T {
  let decoded: T;
  try {
    decoded = decode(bytes);
  } catch (error) {
    throw new RelayerFormatError(`${what} does not decode: ${(error as Error).message}`);
  }
  if (Buffer.compare(encode(decoded), bytes) !== 0) throw new RelayerFormatError(`${what} is not in canonical form`);
  return decoded;
}

export function decodeSequencerBatch(bytes: Uint8Array): SequencerBlockMeta[] {
  const batch = canonical("sequencer batch", bytes, (b) => pb.SequencerBatch.decode(b), (m) => pb.SequencerBatch.encode(m).finish());
  return batch.blocks.map((m, i) => {
    if (!m.header || !m.commit) throw new RelayerFormatError(`sequencer batch block ${i} has no ${m.header ? "commit" : "header"}`);
    return { header: headerFromProto(m.header), commit: commitFromProto(m.commit), rollupIds: m.rollupIds ?? [] };
  });
}

export function decodeRollupBatch(bytes: Uint8Array): RollupBlockTxs[] {
  const batch = canonical("rollup batch", bytes, (b) => pb.RollupBatch.decode(b), (m) => pb.RollupBatch.encode(m).finish());
  return batch.blocks.map((r, i) => {
    const blockHash = r.blockHash ?? new Uint8Array();
    if (blockHash.length !== HASH_SIZE) throw new RelayerFormatError(`rollup batch block ${i}: block hash of ${blockHash.length} bytes`);
    return { blockHash, secondaryChainId: r.secondaryChainId ?? "", entries: r.entries ?? [], aunts: r.aunts ?? [] };
  });
}

export function encodeBlobPart(p: BlobPart): Uint8Array {
  return pb.RelayerBlob.encode({
    version: FORMAT_VERSION,
    kind: BATCH_KIND[p.kind],
    compression: p.compression,
    batchSize: p.batchSize,
    batchHash: p.batchHash,
    part: p.part,
    parts: p.parts,
    data: p.data,
  }).finish();
}

export function decodeBlobPart(bytes: Uint8Array): BlobPart {
  const m = canonical("relayer blob", bytes, (b) => pb.RelayerBlob.decode(b), (m) => pb.RelayerBlob.encode(m).finish());
  if (m.version !== FORMAT_VERSION) throw new RelayerFormatError(`relayer blob format version ${m.version}; this reader knows ${FORMAT_VERSION}`);
  const kind = (Object.keys(BATCH_KIND) as BatchKind[]).find((k) => BATCH_KIND[k] === m.kind);
  if (kind === undefined) throw new RelayerFormatError(`unknown batch kind ${m.kind}`);
  if (m.batchHash.length !== HASH_SIZE) throw new RelayerFormatError(`batch hash of ${m.batchHash.length} bytes`);
  if (m.parts < 1 || m.part >= m.parts) throw new RelayerFormatError(`part ${m.part} of ${m.parts}`);
  if (m.data.length === 0) throw new RelayerFormatError("empty part");
  return { kind, compression: m.compression, batchSize: m.batchSize, batchHash: m.batchHash, part: m.part, parts: m.parts, data: m.data };
}

/** A stored batch cut into parts of at most `maxPartBytes` of data each. */
export function splitIntoParts(kind: BatchKind, stored: Stored, batchSize: number, maxPartBytes: number): BlobPart[] {
  if (maxPartBytes < 1) throw new RangeError(`maxPartBytes must be positive, got ${maxPartBytes}`);
  const batchHash = sha256(stored.bytes);
  const parts = Math.max(1, Math.ceil(stored.bytes.length / maxPartBytes));
  return Array.from({ length: parts }, (_, part) => ({
    kind,
    compression: stored.compression,
    batchSize,
    batchHash,
    part,
    parts,
    data: stored.bytes.subarray(part * maxPartBytes, (part + 1) * maxPartBytes),
  }));
}

export interface JoinedBatch {
  kind: BatchKind;
  compression: CompressionFlag | number;
  batchSize: number;
  batchHash: Uint8Array;
  stored: Uint8Array;
}

/** Every part of one batch (any order) -> the stored batch, checked against its hash. */
export function joinParts(parts: readonly BlobPart[]): JoinedBatch {
  if (parts.length === 0) throw new RelayerFormatError("no parts");
  const [first] = parts;
  const sorted = [...parts].sort((a, b) => a.part - b.part);
  sorted.forEach((p, i) => {
    if (p.part !== i || p.parts !== first.parts || p.kind !== first.kind || p.compression !== first.compression || p.batchSize !== first.batchSize || Buffer.compare(p.batchHash, first.batchHash) !== 0) {
      throw new RelayerFormatError(`part ${p.part} of ${p.parts} does not belong with part ${first.part} of ${first.parts}`);
    }
  });
  if (sorted.length !== first.parts) throw new RelayerFormatError(`${sorted.length} of ${first.parts} parts`);
  const stored = sorted.length === 1 ? sorted[0].data : new Uint8Array(Buffer.concat(sorted.map((p) => p.data)));
  if (Buffer.compare(sha256(stored), first.batchHash) !== 0) throw new RelayerFormatError("the joined parts do not match the batch hash");
  return { kind: first.kind, compression: first.compression, batchSize: first.batchSize, batchHash: first.batchHash, stored };
}
