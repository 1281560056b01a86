// Bundle proofs: a bundle member executed by the rollup node proves that every member landed in the
// same sequencer block, checkable with only the sequencer's validator set; any tampering with the
// members, their leaf proofs, the header or the commit is refused.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sha256 } from "../../celestia/sha256.ts";
import { ed25519Generate, ed25519Sign } from "../../cometbft/ed25519.ts";
import { EMPTY_BLOCK_ID } from "../../cometbft/header.ts";
import { validatorSetHash } from "../../cometbft/validator-set.ts";
import { PRECOMMIT, voteSignBytes, type Commit } from "../../cometbft/vote.ts";
import { blockHash, type SequencerHeader } from "../../sequencer/block/block.ts";
import { collectRollupData, encodeEntry, encodeLeaf, rollupIdsRoot, type BlockRollupData } from "../../sequencer/block/rollup-data.ts";
import { merkleRoot } from "../../celestia/merkle.ts";
import { MSG_SUBMIT_BUNDLE, MSG_SUBMIT_ROLLUP_TX, type SequencerMsg } from "../../sequencer/tx/messages.ts";
import {
  BundleProofError,
  decodeBundleProof,
  encodeBundleProof,
  executeRollupBlock,
  proveBundle,
  signTokenTransfer,
  verifyBundleProof,
  type BundleProof,
  type BundleRef,
  type CommittedSequencerBlock,
  ValidatorSetHistory,
} from "../../lazy-rollup-node/index.ts";
import { BundleIndex } from "../../lazy-rollup-node/bundle-index.ts";
import type { ExtraWrites, StoreBatch } from "../../lazy-rollup-node/rollup-store.ts";
import type { Db } from "../../merkle-store/index.ts";
import { CHAIN_ID, MACHINE, Node, addressOfKey, testKey } from "./harness.ts";

const SEQUENCER_CHAIN = "metro-test-1";
const HEIGHT = 12n;
const keys = [0, 1, 2, 3].map(() => ed25519Generate());
const validators = keys.map((k) => ({ pubKey: k.publicKey, votingPower: 10n }));
const others4 = [0, 1, 2, 3].map(() => ({ pubKey: ed25519Generate().publicKey, votingPower: 10n }));
const alice = testKey(0);
const data = (text: string) => new TextEncoder().encode(text);

/** A sequencer block with `rollupData`, signed by three of the four validators (30 of 40: more than 2/3). */
function sequencerBlock(rollupData: BlockRollupData): CommittedSequencerBlock {
  const header: SequencerHeader = {
    version: { block: 11n, app: 0n },
    chainId: SEQUENCER_CHAIN,
    height: HEIGHT,
    time: { seconds: 1_700_000_000n, nanos: 0 },
    lastBlockId: EMPTY_BLOCK_ID,
    lastCommitHash: new Uint8Array(),
    dataHash: sha256(data("txs")),
    validatorsHash: validatorSetHash(validators),
    nextValidatorsHash: validatorSetHash(validators),
    consensusHash: new Uint8Array(),
    appHash: sha256(data("app")),
    lastResultsHash: new Uint8Array(),
    evidenceHash: new Uint8Array(),
    proposerAddress: new Uint8Array(20),
    rollupTxsRoot: rollupData.rollupTxsRoot,
    rollupIdsRoot: rollupData.rollupIdsRoot,
  };
  const blockId = { hash: blockHash(header), partSetHeader: { total: 1, hash: sha256(data("parts")) } };
  const timestamp = { seconds: 1_700_000_001n, nanos: 0 };
  const signBytes = voteSignBytes({ chainId: SEQUENCER_CHAIN, type: PRECOMMIT, height: HEIGHT, round: 0, blockId, timestamp });
  const commit: Commit = {
    height: HEIGHT,
    round: 0,
    blockId,
    signatures: keys.map((k, i) =>
      i < 3
        ? { blockIdFlag: 2 as const, validatorAddress: sha256(k.publicKey).subarray(0, 20), timestamp, signature: ed25519Sign(k, signBytes) }
        : { blockIdFlag: 1 as const, validatorAddress: new Uint8Array(), timestamp: { seconds: 0n, nanos: 0 }, signature: new Uint8Array() },
    ),
  };
  return { header, commit, rollupData };
}

const submit = (secondaryChainId: string, payload: Uint8Array): SequencerMsg => ({ type: MSG_SUBMIT_ROLLUP_TX, signer: "metro1sender", tx: { secondaryChainId, data: payload } });
const bundleMsg = (...txs: [string, Uint8Array][]): SequencerMsg => ({ type: MSG_SUBMIT_BUNDLE, signer: "metro1sender", txs: txs.map(([secondaryChainId, d]) => ({ secondaryChainId, data: d })) });

const flip = (bytes: Uint8Array) => Uint8Array.from(bytes, (b, i) => (i === bytes.length - 1 ? b ^ 1 : b));

describe("bundle proofs", () => {
  let node: Node;
  let block: CommittedSequencerBlock;
  let bundle: BundleRef;
  const bundleTxHash = sha256(data("bundle tx"));

  beforeEach(async () => {
    node = new Node();
    await node.init({ accounts: [{ address: addressOfKey(alice), balance: 100n }] });
    // One sequencer block: a plain tx for rollup-b, a bundle (this rollup, rollup-b, this rollup again),
    // a plain tx for this rollup, another bundle.
    const transfer = (nonce: bigint) => signTokenTransfer(alice, { chainId: CHAIN_ID, nonce, to: addressOfKey(testKey(1)), amount: 1n });
    const txs = [
      { hash: sha256(data("plain b")), messages: [submit("rollup-b", data("b0"))] },
      { hash: bundleTxHash, messages: [bundleMsg([CHAIN_ID, transfer(0n)], ["rollup-b", data("b1")], [CHAIN_ID, transfer(1n)])] },
      { hash: sha256(data("plain")), messages: [submit(CHAIN_ID, transfer(2n))] },
      { hash: sha256(data("other bundle")), messages: [bundleMsg(["rollup-c", data("c1")], ["rollup-b", data("b2")])] },
    ];
    block = sequencerBlock(collectRollupData(txs));

    // The rollup node executes its entries and learns the bundle from its results.
    const entries = block.rollupData.rollups.find((r) => r.secondaryChainId === CHAIN_ID)!.entries;
    const { results } = await executeRollupBlock(node.store, MACHINE, { ...node.input([...entries]), sequencerBlockHash: blockHash(block.header) });
    expect(results.map((r) => r.ok)).toEqual([true, true, true]);
    expect(results[2].bundle).toBeUndefined();
    bundle = results[0].bundle!;
    expect(bundle).toEqual({ bundleId: bundleTxHash, memberChainIds: [CHAIN_ID, "rollup-b", CHAIN_ID] });
  });
  afterEach(() => node.dispose());

  const verify = (proof: BundleProof) => verifyBundleProof(proof, SEQUENCER_CHAIN, { at: () => validators });

  it("proves every member landed in the block, checkable with the validator set alone, also from its encoding", () => {
    const proof = proveBundle(block, bundle);
    expect(proof.members.map((m) => m.secondaryChainId)).toEqual([CHAIN_ID, "rollup-b"]);
    expect(() => verify(proof)).not.toThrow();
    const decoded = decodeBundleProof(encodeBundleProof(proof));
    expect(() => verify(decoded)).not.toThrow();
    expect(decoded.bundle).toEqual(bundle);
  });

  it("are stored with the block's shared parts once and read back whole, until a rollback drops them", async () => {
    const other = { bundleId: sha256(data("other bundle")), memberChainIds: ["rollup-c", "rollup-b"] };
    const proofs = [proveBundle(block, bundle), proveBundle(block, other)];
    const index = new BundleIndex(node.db.sublevel("node") as unknown as Db);
    const write = async (writes: ExtraWrites) => {
      const batch = node.db.batch();
      writes(batch as unknown as StoreBatch);
      await batch.write();
    };
    await write(index.writes(5n, proofs));
    for (const proof of proofs) {
      const stored = (await index.proof(proof.bundle.bundleId))!;
      expect(stored.members.map((m) => m.secondaryChainId)).toEqual(proof.members.map((m) => m.secondaryChainId));
      expect(() => verify(stored)).not.toThrow();
      expect(await index.encodedProof(proof.bundle.bundleId)).toEqual(encodeBundleProof(proof));
    }
    await write(await index.dropAbove(5n));
    expect(await index.proof(bundle.bundleId)).toBeDefined();
    await write(await index.dropAbove(4n));
    for (const proof of proofs) expect(await index.proof(proof.bundle.bundleId)).toBeUndefined();
  });

  it("cannot be built for a bundle whose members are not in the block", () => {
    expect(() => proveBundle(block, { ...bundle, memberChainIds: [CHAIN_ID, "rollup-z"] })).toThrow(/no transactions for bundle member rollup-z/);
  });

  describe("refuses", () => {
    const tampered: [string, (p: BundleProof) => BundleProof, RegExp][] = [
      ["a tampered member entry", (p) => ({ ...p, members: [p.members[0], { ...p.members[1], entries: p.members[1].entries.map((e, i) => (i === 1 ? flip(e) : e)) }] }), /entries of rollup-b do not match/],
      ["a member entry left out", (p) => ({ ...p, members: [p.members[0], { ...p.members[1], entries: p.members[1].entries.slice(0, 1) }] }), /entries of rollup-b do not match/],
      ["a member left out", (p) => ({ ...p, members: p.members.slice(0, 1) }), /the proof covers \[tokens-1\], the bundle's members are \[tokens-1, rollup-b\]/],
      ["members swapped", (p) => ({ ...p, members: [p.members[1], p.members[0]] }), /the proof covers/],
      ["another rollup's entries in a member's place", (p) => ({ ...p, members: [p.members[0], { ...proveBundle(block, { bundleId: p.bundle.bundleId, memberChainIds: ["rollup-c"] }).members[0], secondaryChainId: "rollup-b" }] }), /entries of rollup-b do not match/],
      ["a tampered leaf proof", (p) => ({ ...p, members: [{ ...p.members[0], leafProof: { ...p.members[0].leafProof, aunts: p.members[0].leafProof.aunts.map(flip) } }, p.members[1]] }), /entries of tokens-1 do not match/],
      ["a leaf proof at another index", (p) => ({ ...p, members: [{ ...p.members[0], leafProof: { ...p.members[0].leafProof, index: p.members[0].leafProof.index ^ 1 } }, p.members[1]] }), /entries of tokens-1 do not match/],
      ["a member dropped from the bundle's list", (p) => ({ ...p, bundle: { ...p.bundle, memberChainIds: [CHAIN_ID, CHAIN_ID] }, members: p.members.slice(0, 1) }), /names the bundle with members \[tokens-1, rollup-b, tokens-1\]/],
      ["another bundle id", (p) => ({ ...p, bundle: { ...p.bundle, bundleId: sha256(data("other bundle")) } }), /tokens-1 has 0 of the bundle's entries in the block, the bundle has 2/],
      ["an empty bundle", (p) => ({ ...p, bundle: { ...p.bundle, memberChainIds: [] }, members: [] }), /names no members/],
      ["a tampered header", (p) => ({ ...p, sequencerHeader: { ...p.sequencerHeader, appHash: flip(p.sequencerHeader.appHash) } }), /commit: commit is for block/],
      ["a header with another rollup_txs_root", (p) => ({ ...p, sequencerHeader: { ...p.sequencerHeader, rollupTxsRoot: sha256(data("x")) } }), /commit: commit is for block/],
      ["a forged commit signature", (p) => ({ ...p, commit: { ...p.commit, signatures: p.commit.signatures.map((s, i) => (i === 1 ? { ...s, signature: flip(s.signature) } : s)) } }), /commit: invalid signature from validator 1/],
      ["a commit without +2/3", (p) => ({ ...p, commit: { ...p.commit, signatures: p.commit.signatures.map((s, i) => (i === 2 ? { ...p.commit.signatures[3] } : s)) } }), /commit: only 20 of 40 voting power signed/],
      ["a commit for another height", (p) => ({ ...p, commit: { ...p.commit, height: HEIGHT + 1n } }), /commit: commit is for height 13/],
    ];

    it.each(tampered)("%s", (_name, change, message) => {
      const proof = change(proveBundle(block, bundle));
      expect(() => verify(proof)).toThrow(BundleProofError);
      expect(() => verify(proof)).toThrow(message);
    });

    it("another sequencer chain or validator set", () => {
      const proof = proveBundle(block, bundle);
      expect(() => verifyBundleProof(proof, "metro-other", { at: () => validators })).toThrow(/the header is of chain/);
      const others = [0, 1, 2, 3].map(() => ({ pubKey: ed25519Generate().publicKey, votingPower: 10n }));
      expect(() => verifyBundleProof(proof, SEQUENCER_CHAIN, { at: () => others })).toThrow(/validators_hash/);
    });

    it("is checked with the validator set of its block's height, where the sets change", () => {
      const proof = proveBundle(block, bundle);
      // The block's set signs from height 12 on: verified. From 13 on: at 12 the other set was still signing.
      expect(() => verifyBundleProof(proof, SEQUENCER_CHAIN, new ValidatorSetHistory(others4, [{ height: 12, validators }], 12))).not.toThrow();
      expect(() => verifyBundleProof(proof, SEQUENCER_CHAIN, new ValidatorSetHistory(others4, [{ height: 13, validators }], 13))).toThrow(/validators_hash is not that of the validator set of height 12/);
      expect(() => verifyBundleProof(proof, SEQUENCER_CHAIN, new ValidatorSetHistory(validators, [], 11))).toThrow(/validator set of sequencer height 12 is not known/);
    });

    it("an entry naming the bundle with another member list, even in a validly signed block", () => {
      // Only a faulty sequencer writes this; the proof still must not pass.
      const entries = [encodeEntry({ data: data("a"), bundle: { bundleId: bundleTxHash, memberChainIds: [CHAIN_ID, "rollup-b"] } })];
      const bEntries = [encodeEntry({ data: data("b"), bundle: { bundleId: bundleTxHash, memberChainIds: ["rollup-b", CHAIN_ID] } })];
      const faulty = sequencerBlock(rollupDataFromEntries([[CHAIN_ID, entries], ["rollup-b", bEntries]]));
      const proof = proveBundle(faulty, { bundleId: bundleTxHash, memberChainIds: [CHAIN_ID, "rollup-b"] });
      expect(() => verify(proof)).toThrow(/an entry of rollup-b names the bundle with members \[rollup-b, tokens-1\]/);
    });
  });
});

/** BlockRollupData straight from per-rollup entries, as only a faulty sequencer would build it. */
function rollupDataFromEntries(rollups: [string, Uint8Array[]][]): BlockRollupData {
  const sorted = [...rollups].sort(([a], [b]) => (a < b ? -1 : 1)).map(([secondaryChainId, entries]) => ({ secondaryChainId, entries, entriesRoot: merkleRoot(entries) }));
  return {
    rollups: sorted,
    rollupTxsRoot: merkleRoot(sorted.map((r) => encodeLeaf(r.secondaryChainId, r.entriesRoot, r.entries.length))),
    rollupIdsRoot: rollupIdsRoot(sorted.map((r) => r.secondaryChainId)),
  };
}
