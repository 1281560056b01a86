// The relayer's formats and batching as pure functions: batches that decode and verify with only the
// validator set, every tampered byte refused, compression chosen per batch (raw for random data),
// batches kept inside the DA limits, and a block larger than a submission split and reassembled.
import { describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { namespaceFromSecondaryChainId } from "../../celestia/namespace.ts";
import { sha256 } from "../../cometbft/hash.ts";
import { metro } from "../../proto/index.ts";
import { blockIdOf } from "../../sequencer/block/block.ts";
import { relayBlock, type RelayBlock } from "../../sequencer/relayer/block-records.ts";
import { compressBatch, COMPRESSION, decompressBatch } from "../../sequencer/relayer/compression.ts";
import { CELESTIA_MAINNET_LIMITS, largestBlobBytes, submissionFits, type DaLimits } from "../../sequencer/relayer/da-limits.ts";
import { encodeBlobPart, joinRecords, splitIntoParts } from "../../sequencer/relayer/format.ts";
import { parseFeeTooLow, raiseGasPrice } from "../../sequencer/relayer/gas-price.ts";
import { planBatch, type PlannedBatch } from "../../sequencer/relayer/planner.ts";
import {
  openBatch,
  readBlobPart,
  readRollupBlob,
  readSequencerBlob,
  RelayerFormatError,
  RelayerVerificationError,
  rollupTxsInBlock,
  verifySequencerBlock,
  type VerifiedBlock,
} from "../../sequencer/relayer/reader.ts";
import { FIXTURE_CHAIN, fixtureBlocks, randomTx, transferTx, type FixtureTx } from "./fixtures.ts";
import { StreamReader } from "./stream-reader.ts";

const SEQ_NS = namespaceFromSecondaryChainId(FIXTURE_CHAIN.chainId);
const plan = (blocks: RelayBlock[], o: { limits?: Partial<DaLimits>; codec?: "zstd" | "brotli" | "none" } = {}): PlannedBatch =>
  planBatch(blocks, {
    limits: { ...CELESTIA_MAINNET_LIMITS, ...o.limits },
    compression: { codec: o.codec ?? "zstd", level: o.codec === "brotli" ? 5 : 3 },
    sequencerNamespace: SEQ_NS,
    storedPerEncoded: 1,
  });

/** Three blocks: rollup-a in all, rollup-b in the first two (once in a bundle with rollup-c), the last with nothing for rollup-c. */
function smallChain(size = 40): FixtureTx[][] {
  return [
    [randomTx("rollup-a", size), randomTx("rollup-b", size), [randomTx("rollup-b", size), randomTx("rollup-c", size)]],
    [randomTx("rollup-a", size), randomTx("rollup-b", size), randomTx("rollup-a", size)],
    [randomTx("rollup-a", size)],
  ];
}

/** Byte strings as hex, so that comparisons neither care whether a value is a Buffer nor print megabytes. */
const hex = (list: readonly Uint8Array[] | undefined) => list?.map((b) => Buffer.from(b).toString("hex"));

function byHash(blocks: VerifiedBlock[]) {
  return (hash: Uint8Array) => blocks.find((b) => Buffer.compare(b.hash, hash) === 0);
}

/** Reads one planned single-submission batch back: the verified blocks and every rollup record's entries. */
function readBack(batch: PlannedBatch) {
  const [submission] = batch.submissions;
  const seq = submission.filter((b) => b.kind === "sequencer");
  expect(seq).toHaveLength(1);
  const blocks = readSequencerBlob(seq[0].data, FIXTURE_CHAIN);
  const rollups = submission.filter((b) => b.kind === "rollup").flatMap((b) => {
    const { verified, unmatched } = readRollupBlob(b.data, byHash(blocks));
    expect(unmatched).toEqual([]);
    return verified;
  });
  return { blocks, rollups };
}

describe("batches", () => {
  it("decode and verify with only the validator set, rollup by rollup", () => {
    const source = fixtureBlocks(smallChain());
    const batch = plan(source.map(relayBlock));
    expect(batch.blocks.map((b) => b.height)).toEqual([1, 2, 3]);
    expect(batch.submissions).toHaveLength(1);
    // One blob per namespace: the sequencer's and one per rollup.
    expect(batch.submissions[0].map((b) => b.kind)).toEqual(["sequencer", "rollup", "rollup", "rollup"]);

    const { blocks, rollups } = readBack(batch);
    expect(blocks.map((b) => b.height)).toEqual([1, 2, 3]);
    expect(blocks.map((b) => Buffer.from(b.hash).toString("hex"))).toEqual(source.map((s) => Buffer.from(s.blockId.hash).toString("hex")));
    for (const [i, s] of source.entries()) {
      expect(blocks[i].rollupIds).toEqual(s.rollupData.rollups.map((r) => r.secondaryChainId));
      for (const r of s.rollupData.rollups) {
        const found = rollups.find((v) => v.height === s.height && v.secondaryChainId === r.secondaryChainId);
        expect(hex(rollupTxsInBlock(blocks[i], r.secondaryChainId, found))).toEqual(hex(r.entries));
      }
    }
    // Block 3 provably has nothing for rollup-b or rollup-c, without any record.
    expect(rollupTxsInBlock(blocks[2], "rollup-b", undefined)).toEqual([]);
    expect(rollupTxsInBlock(blocks[2], "rollup-c", undefined)).toEqual([]);
    // ...but rollup-a's record is needed.
    expect(rollupTxsInBlock(blocks[2], "rollup-a", undefined)).toBeUndefined();
  });

  it("joinRecords writes exactly what protobuf writes for the batch", () => {
    const relay = fixtureBlocks([[randomTx("rollup-a", 10)], [randomTx("rollup-a", 70_000), randomTx("rollup-a", 70_000)]]).map(relayBlock);
    for (const [records, message] of [
      [relay.map((b) => b.meta), metro.relayer.v1.SequencerBatch],
      [relay.flatMap((b) => b.rollups.map((r) => r.bytes)), metro.relayer.v1.RollupBatch],
    ] as const) {
      const ours = joinRecords(records);
      const decoded = message.decode(ours);
      expect(decoded.blocks).toHaveLength(2);
      expect(Buffer.from(message.encode(decoded).finish()).equals(ours)).toBe(true);
    }
  });

  it("refuses blocks signed by too few validators, from another chain, or with ids that do not match", () => {
    const [source] = fixtureBlocks(smallChain());
    const meta = { header: source.block.header, commit: source.commit, rollupIds: source.rollupData.rollups.map((r) => r.secondaryChainId) };
    expect(verifySequencerBlock(meta, FIXTURE_CHAIN).height).toBe(1);
    const oneSigner = { ...source.commit, signatures: source.commit.signatures.map((s, i) => (i === 0 ? s : { ...s, blockIdFlag: 1 as const, validatorAddress: new Uint8Array(), signature: new Uint8Array(), timestamp: { seconds: 0n, nanos: 0 } })) };
    expect(() => verifySequencerBlock({ ...meta, commit: oneSigner }, FIXTURE_CHAIN)).toThrow(/more than 2\/3/);
    expect(() => verifySequencerBlock(meta, { ...FIXTURE_CHAIN, chainId: "other" })).toThrow(RelayerVerificationError);
    expect(() => verifySequencerBlock({ ...meta, rollupIds: meta.rollupIds.slice(1) }, FIXTURE_CHAIN)).toThrow(/rollup_ids_root/);
    expect(() => verifySequencerBlock({ ...meta, rollupIds: [...meta.rollupIds].reverse() }, FIXTURE_CHAIN)).toThrow(/rollup_ids_root/);
  });
});

describe("tampering", () => {
  const source = fixtureBlocks(smallChain(8));
  const batch = plan(source.map(relayBlock), { codec: "none" });
  const [seqBlob, ...rollupBlobs] = batch.submissions[0];
  const verified = readSequencerBlob(seqBlob.data, FIXTURE_CHAIN);

  const fingerprint = (v: { blockHash: Uint8Array; secondaryChainId: string; entries: Uint8Array[] }) => [Buffer.from(v.blockHash).toString("hex"), v.secondaryChainId, ...hex(v.entries)!].join("/");
  const originals = new Set(rollupBlobs.flatMap((b) => readRollupBlob(b.data, byHash(verified)).verified.map(fingerprint)));

  /**
   * True when reading `data` as `kind` ends in a refusal; for a rollup batch, also when a record is
   * left unmatched (its block hash no longer names a verified block). A changed record that verifies
   * fails the test outright.
   */
  const refused = (kind: "sequencer" | "rollup", data: Uint8Array): boolean => {
    try {
      if (kind === "sequencer") {
        readSequencerBlob(data, FIXTURE_CHAIN);
        return false;
      }
      const { verified: records, unmatched } = readRollupBlob(data, byHash(verified));
      if (records.some((r) => !originals.has(fingerprint(r)))) throw new Error("a changed rollup record verified");
      return unmatched.length > 0;
    } catch (error) {
      if (error instanceof RelayerFormatError || error instanceof RelayerVerificationError) return true;
      throw error;
    }
  };

  const flips = (data: Uint8Array) => Array.from({ length: data.length }, (_, i) => {
    const copy = new Uint8Array(data); // a copy: Buffer's slice() would be a view
    copy[i] ^= 1 << (i % 8);
    return copy;
  });

  it("refuses every blob with any byte changed", () => {
    for (const blob of [seqBlob, ...rollupBlobs]) {
      expect(refused(blob.kind, blob.data)).toBe(false);
      for (const tampered of flips(blob.data)) expect(refused(blob.kind, tampered)).toBe(true);
    }
  });

  // An attacker rewraps a changed batch in a consistent envelope (hash and size fixed up): the batch's
  // own content must then fail against the signatures and roots.
  it("refuses a batch with any byte changed, even in a consistent envelope", () => {
    for (const blob of [seqBlob, ...rollupBlobs]) {
      const raw = openBatchBytes(blob.data);
      for (const tampered of flips(raw)) {
        const [part] = splitIntoParts(blob.kind, { compression: COMPRESSION.none, bytes: tampered }, tampered.length, 1 << 20);
        const rewrapped = encodeBlobPart(part);
        const isRefused = refused(blob.kind, rewrapped);
        if (!isRefused) throw new Error(`a changed byte in the ${blob.kind} batch was accepted`);
      }
    }
  });

  it("reads compressed blobs whose bytes were changed as refused, or as exactly the original", () => {
    const compressed = plan(fixtureBlocks([[transferTx("rollup-a", 1), transferTx("rollup-a", 2)]]).map(relayBlock), { codec: "brotli" });
    const blob = compressed.submissions[0][0];
    expect(readBlobPart(blob.data).compression).toBe(COMPRESSION.brotli);
    const original = readSequencerBlob(blob.data, FIXTURE_CHAIN);
    for (const tampered of flips(blob.data)) {
      try {
        expect(readSequencerBlob(tampered, FIXTURE_CHAIN)).toEqual(original);
      } catch (error) {
        expect(error instanceof RelayerFormatError || error instanceof RelayerVerificationError).toBe(true);
      }
    }
  });
});

/** The uncompressed batch inside a single-part blob. */
function openBatchBytes(data: Uint8Array): Uint8Array {
  const part = readBlobPart(data);
  expect(part.compression).toBe(COMPRESSION.none);
  openBatch([part]);
  return part.data;
}

describe("compression", () => {
  it("is chosen per batch: zstd or Brotli for data that compresses, raw for random data", () => {
    const json = new TextEncoder().encode(JSON.stringify(Array.from({ length: 500 }, (_, i) => ({ type: "transfer", amount: i, token: "USDC" }))));
    const zstd = compressBatch(json, { codec: "zstd", level: 3 });
    const brotli = compressBatch(json, { codec: "brotli", level: 5 });
    expect(zstd.compression).toBe(COMPRESSION.zstd);
    expect(brotli.compression).toBe(COMPRESSION.brotli);
    expect(zstd.bytes.length).toBeLessThan(json.length / 5);
    expect(Buffer.from(decompressBatch(zstd.bytes, zstd.compression, json.length))).toEqual(Buffer.from(json));
    expect(Buffer.from(decompressBatch(brotli.bytes, brotli.compression, json.length))).toEqual(Buffer.from(json));
    const random = randomBytes(100_000);
    expect(compressBatch(random, { codec: "zstd", level: 3 })).toEqual({ compression: COMPRESSION.none, bytes: random });
  });

  it("never inflates past the size the blob states", () => {
    const zeros = compressBatch(new Uint8Array(10_000_000), { codec: "zstd", level: 3 });
    expect(zeros.bytes.length).toBeLessThan(10_000);
    expect(() => decompressBatch(zeros.bytes, zeros.compression, 1000)).toThrow(RelayerFormatError);
    expect(() => decompressBatch(zeros.bytes, zeros.compression, 10_000_001)).toThrow(/decompresses to 10000000 bytes/);
    expect(() => decompressBatch(zeros.bytes, 7, 10_000_000)).toThrow(/unknown compression 7/);
  });
});

describe("splitting", () => {
  // A small DA: 256 KiB per submission, a 32 x 32 square (about 470 KB of blob data).
  const limits: DaLimits = { maxSubmissionBytes: 256 * 1024, maxBlobBytes: 200 * 1024, maxSquareSize: 32, reservedShares: 16 };

  it("keeps every blob and submission inside the limits, and posts every block exactly once", () => {
    const source = fixtureBlocks(Array.from({ length: 30 }, (_, i) => Array.from({ length: 40 }, (_, j) => randomTx(`rollup-${(i + j) % 5}`, 600))));
    let pending = source.map(relayBlock);
    const reader = new StreamReader(FIXTURE_CHAIN);
    const batches: PlannedBatch[] = [];
    while (pending.length > 0) {
      const batch = plan(pending, { limits });
      batches.push(batch);
      for (const submission of batch.submissions) {
        expect(submissionFits(submission.map((b) => ({ namespace: b.namespace, bytes: b.data.length })), limits)).toBe(true);
        for (const blob of submission) reader.add(blob.data);
      }
      pending = pending.slice(batch.blocks.length);
    }
    expect(batches.length).toBeGreaterThan(3);
    expect(batches.flatMap((b) => b.blocks.map((x) => x.height))).toEqual(source.map((s) => s.height));
    expect(reader.rejected).toEqual([]);
    expect(reader.completeTo(30)).toBe(true);
    for (const s of source) for (const r of s.rollupData.rollups) expect(hex(reader.entriesAt(s.height, r.secondaryChainId))).toEqual(hex(r.entries));
  });

  it("spreads a block larger than a submission over several, and a reader reassembles it", () => {
    const source = fixtureBlocks([Array.from({ length: 12 }, () => randomTx("rollup-big", 100_000)), [randomTx("rollup-big", 10)]]);
    const batch = plan(source.map(relayBlock), { limits });
    expect(batch.blocks.map((b) => b.height)).toEqual([1]);
    expect(batch.submissions.length).toBeGreaterThanOrEqual(5);
    const parts = batch.submissions.flat().filter((b) => b.kind === "rollup");
    expect(parts.length).toBeGreaterThan(5);
    expect(parts.every((p) => p.data.length <= largestBlobBytes(limits))).toBe(true);

    // Parts arrive over several DA heights, in any order, and twice: the reader still rebuilds the block.
    const reader = new StreamReader(FIXTURE_CHAIN);
    const blobs = batch.submissions.flat();
    for (const blob of [...blobs].reverse()) reader.add(blob.data);
    for (const blob of blobs) reader.add(blob.data);
    expect(reader.rejected).toEqual([]);
    const rebuilt = reader.entriesAt(1, "rollup-big");
    expect(rebuilt?.length).toBe(12);
    expect(hex(rebuilt)!.join() === hex(source[0].rollupData.rollups[0].entries)!.join()).toBe(true);
    expect(reader.duplicateBlocks).toBe(1);
  });
});

describe("duplicates", () => {
  it("the same block posted twice (a retry) reads once", () => {
    const source = fixtureBlocks(smallChain());
    const reader = new StreamReader(FIXTURE_CHAIN);
    const first = plan(source.slice(0, 2).map(relayBlock));
    const again = plan(source.map(relayBlock)); // after a restart: blocks 1 and 2 again, then 3
    for (const blob of [...first.submissions.flat(), ...again.submissions.flat()]) reader.add(blob.data);
    expect(reader.duplicateBlocks).toBe(2);
    expect(reader.completeTo(3)).toBe(true);
    expect(hex(reader.entriesAt(2, "rollup-a"))).toEqual(hex(source[1].rollupData.rollups[0].entries));
  });
});

describe("gas price", () => {
  it("reads the required fee from Celestia's answers and raises within the cap", () => {
    const network = "insufficient gas price for the network; got: 80utia, required: 320utia (min gas price: 0.004 utia/gas): insufficient fee";
    const node = "insufficient minimum gas price for this node; got: 100 required at least: 250: insufficient fee";
    expect(parseFeeTooLow(network)).toEqual({ offered: 80, required: 320, minGasPrice: 0.004 });
    expect(parseFeeTooLow(node)).toEqual({ offered: 100, required: 250, minGasPrice: undefined });
    expect(parseFeeTooLow("blob: not found")).toBeUndefined();
    expect(raiseGasPrice(0.001, parseFeeTooLow(network)!, 1)).toBeCloseTo(0.004 * 1.02);
    expect(raiseGasPrice(0.002, parseFeeTooLow(node)!, 1)).toBeCloseTo(0.005 * 1.02);
    expect(raiseGasPrice(0.001, parseFeeTooLow(network)!, 0.003)).toBe(0.003);
    expect(raiseGasPrice(0.003, parseFeeTooLow(network)!, 0.003)).toBeUndefined();
    expect(raiseGasPrice(0.01, { }, 1)).toBe(0.02);
  });
});

it("block ids of fixture blocks hash like real ones", () => {
  const [s] = fixtureBlocks(smallChain());
  expect(blockIdOf(s.block).hash).toEqual(s.blockId.hash);
  expect(sha256(s.blockId.hash)).toEqual(s.blockId.partSetHeader.hash);
});
