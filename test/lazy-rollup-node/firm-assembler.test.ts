// The firm path's assembly of blobs into firm blocks, as a pure function of the blobs in DA height
// order: each block with this rollup's entries (none when its id list proves none) and the DA location
// its header will name; a batch split over several DA heights complete only with its last part; the
// first copy read winning over later duplicates; the resume cursor never past data still pending.
import { describe, expect, it } from "vitest";
import { newBlob, type Blob } from "../../celestia/blob.ts";
import { namespaceFromSecondaryChainId } from "../../celestia/namespace.ts";
import { relayBlock } from "../../sequencer/relayer/block-records.ts";
import { CELESTIA_MAINNET_LIMITS, type DaLimits } from "../../sequencer/relayer/da-limits.ts";
import { planBatch, type PlannedBlob } from "../../sequencer/relayer/planner.ts";
import type { SourceBlock } from "../../sequencer/relayer/source.ts";
import { FirmAssembler } from "../../lazy-rollup-node/firm-assembler.ts";
import { FIXTURE_CHAIN, fixtureBlocks, randomTx } from "../relayer/fixtures.ts";

const ROLLUP = "rollup-a";
const SEQ_NS = namespaceFromSecondaryChainId(FIXTURE_CHAIN.chainId);
const ROLLUP_NS = namespaceFromSecondaryChainId(ROLLUP);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function assembler() {
  return new FirmAssembler({ chainId: FIXTURE_CHAIN.chainId, validatorSets: { at: () => FIXTURE_CHAIN.validators }, rollupId: ROLLUP, sequencerNamespace: SEQ_NS, rollupNamespace: ROLLUP_NS });
}

/** The batch's submissions as DA blobs (only the sequencer's and this rollup's namespaces, as blob.GetAll returns them). */
function submissions(source: SourceBlock[], limits: Partial<DaLimits> = {}): Blob[][] {
  const batch = planBatch(source.map(relayBlock), { limits: { ...CELESTIA_MAINNET_LIMITS, ...limits }, compression: { codec: "zstd", level: 3 }, sequencerNamespace: SEQ_NS, storedPerEncoded: 1 });
  const ours = (b: PlannedBlob) => Buffer.compare(b.namespace, SEQ_NS) === 0 || Buffer.compare(b.namespace, ROLLUP_NS) === 0;
  return batch.submissions.map((s) => s.filter(ours).map((b) => newBlob({ namespace: b.namespace, data: b.data, shareVersion: 0 })));
}

const entriesOf = (s: SourceBlock) => (s.rollupData.rollups.find((r) => r.secondaryChainId === ROLLUP)?.entries ?? []).map(hex);

describe("firm assembler", () => {
  it("gives each block its entries and DA location: the rollup blob, or the sequencer blob when the rollup had nothing", () => {
    const source = fixtureBlocks([[randomTx(ROLLUP, 50), randomTx("rollup-b", 50)], [randomTx("rollup-b", 50)], [randomTx(ROLLUP, 50), randomTx(ROLLUP, 60)]]);
    const [blobs] = submissions(source);
    const a = assembler();
    for (const blob of blobs) expect(a.add(blob, 7)).toMatchObject({ accepted: true });
    const rollupBlob = blobs.find((b) => Buffer.compare(b.namespace, ROLLUP_NS) === 0)!;
    const seqBlob = blobs.find((b) => Buffer.compare(b.namespace, SEQ_NS) === 0)!;
    for (const s of source) {
      const firm = a.ready(s.height)!;
      expect(hex(firm.block.hash)).toBe(hex(s.blockId.hash));
      expect(firm.entries.map(hex)).toEqual(entriesOf(s));
      expect(firm.da.height).toBe(7n);
      expect(hex(firm.da.commitment)).toBe(hex((entriesOf(s).length > 0 ? rollupBlob : seqBlob).commitment));
    }
    expect(a.resumeDaHeight(7)).toBe(6); // nothing applied yet: a restart reads height 7 again
    a.forget(3);
    expect(a.resumeDaHeight(7)).toBe(7);
    expect(a.ready(1)).toBeUndefined();
  });

  it("waits for a rollup record read before its block, and keeps the first copy of a duplicate", () => {
    const source = fixtureBlocks([[randomTx(ROLLUP, 50)]]);
    const [blobs] = submissions(source);
    const rollupBlob = blobs.find((b) => Buffer.compare(b.namespace, ROLLUP_NS) === 0)!;
    const seqBlob = blobs.find((b) => Buffer.compare(b.namespace, SEQ_NS) === 0)!;
    const a = assembler();
    a.add(rollupBlob, 1);
    expect(a.ready(1)).toBeUndefined();
    expect(a.resumeDaHeight(1)).toBe(0);
    a.add(seqBlob, 2);
    a.add(rollupBlob, 3); // a relayer retry
    const again = a.add(seqBlob, 3);
    expect(again).toMatchObject({ accepted: true, equivocations: [] });
    const firm = a.ready(1)!;
    expect(firm.da).toEqual({ height: 1n, commitment: rollupBlob.commitment });
    expect(firm.entries.map(hex)).toEqual(entriesOf(source[0]));
  });

  it("joins a batch split over several DA heights once its last part is read", () => {
    const limits: DaLimits = { maxSubmissionBytes: 256 * 1024, maxBlobBytes: 200 * 1024, maxSquareSize: 32, reservedShares: 16 };
    const source = fixtureBlocks([Array.from({ length: 8 }, () => randomTx(ROLLUP, 100_000))]);
    const subs = submissions(source, limits);
    expect(subs.length).toBeGreaterThan(2);
    const a = assembler();
    subs.forEach((blobs, i) => {
      for (const blob of blobs) a.add(blob, 10 + i);
      if (i < subs.length - 1) {
        expect(a.ready(1)).toBeUndefined();
        expect(a.resumeDaHeight(10 + i)).toBe(9);
      }
    });
    const firm = a.ready(1)!;
    expect(firm.entries.map(hex)).toEqual(entriesOf(source[0]));
    const last = subs.at(-1)!.findLast((b) => Buffer.compare(b.namespace, ROLLUP_NS) === 0)!;
    expect(firm.da).toEqual({ height: BigInt(10 + subs.length - 1), commitment: last.commitment });
  });

  it("refuses blobs that are not the relayer's, or in the wrong namespace, and drops junk that never completes", () => {
    const source = fixtureBlocks([[randomTx(ROLLUP, 50)]]);
    const [blobs] = submissions(source);
    const seqBlob = blobs.find((b) => Buffer.compare(b.namespace, SEQ_NS) === 0)!;
    const a = assembler();
    expect(a.add(newBlob({ namespace: ROLLUP_NS, data: new Uint8Array([1, 2, 3]), shareVersion: 0 }), 1)).toMatchObject({ accepted: false, reason: "format" });
    expect(a.add({ ...seqBlob, namespace: ROLLUP_NS }, 1)).toMatchObject({ accepted: false, reason: "format" });
    // A part of a batch that never completes holds the cursor for the retention window only.
    const limits: DaLimits = { maxSubmissionBytes: 256 * 1024, maxBlobBytes: 200 * 1024, maxSquareSize: 32, reservedShares: 16 };
    const [firstPart] = submissions(fixtureBlocks([Array.from({ length: 8 }, () => randomTx(ROLLUP, 100_000))]), limits);
    for (const blob of firstPart.filter((b) => Buffer.compare(b.namespace, ROLLUP_NS) === 0)) expect(a.add(blob, 2)).toMatchObject({ accepted: true });
    expect(a.resumeDaHeight(100)).toBe(1);
    a.expire(2 + 600 + 1);
    expect(a.resumeDaHeight(700)).toBe(700);
  });
});
