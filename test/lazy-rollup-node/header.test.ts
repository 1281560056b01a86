// Lazily derived headers: chained by parent hash, committed to the sequencer's entries root, signed
// and verified; a tampered header or signature fails; a conflicting signed header becomes evidence
// that the header store keeps.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Level } from "level";
import { merkleRoot } from "../../celestia/merkle.ts";
import { sha256 } from "../../celestia/sha256.ts";
import { collectRollupData } from "../../sequencer/block/rollup-data.ts";
import { MSG_SUBMIT_ROLLUP_TX } from "../../sequencer/tx/messages.ts";
import { metro } from "../../proto/index.ts";
import {
  compareHeaders,
  decodeHeader,
  decodeSignedHeader,
  deriveHeader,
  encodeHeader,
  encodeSignedHeader,
  HeaderFormatError,
  headerHash,
  HeaderStore,
  signHeader,
  signTokenTransfer,
  verifySignedHeader,
  type RollupHeader,
} from "../../lazy-rollup-node/index.ts";
import { publicKeyOf } from "../../lazy-rollup-node/secp256k1-key.ts";
import { CHAIN_ID, Node, addressOfKey, entry, testKey } from "./harness.ts";

const signerKey = testKey(10);
const signerPub = publicKeyOf(signerKey);
const alice = testKey(0);
const GENESIS = { accounts: [{ address: addressOfKey(alice), balance: 100n }] };
const DA = (height: bigint) => ({ height: 5000n + height, commitment: sha256(new TextEncoder().encode(`blob ${height}`)) });

const flip = (bytes: Uint8Array) => Uint8Array.from(bytes, (b, i) => (i === 0 ? b ^ 1 : b));

describe("rollup headers", () => {
  let node: Node;
  let headers: RollupHeader[];
  let txs: Uint8Array[];

  beforeEach(async () => {
    node = new Node();
    await node.init(GENESIS);
    txs = [signTokenTransfer(alice, { chainId: CHAIN_ID, nonce: 0n, to: addressOfKey(testKey(1)), amount: 7n }), Uint8Array.of(1, 2, 3)];
    headers = [];
    for (const block of [txs, [], [signTokenTransfer(alice, { chainId: CHAIN_ID, nonce: 1n, to: addressOfKey(testKey(2)), amount: 1n })]]) {
      const executed = await node.next(block);
      headers.push(deriveHeader(CHAIN_ID, executed.block, headers.at(-1), DA(executed.block.height)));
    }
  });
  afterEach(() => node.dispose());

  it("derives headers from executed blocks, chained by parent hash", async () => {
    const [h1, h2, h3] = headers;
    const b1 = (await node.store.block(1n))!;
    expect(h1).toEqual({
      chainId: CHAIN_ID,
      height: 1n,
      parentHash: new Uint8Array(),
      timeMs: b1.timeMs,
      stateRoot: b1.stateRoot,
      txsRoot: merkleRoot(txs.map(entry)),
      sequencerHeight: 1n,
      sequencerBlockHash: b1.sequencerBlockHash,
      daHeight: 5001n,
      daCommitment: DA(1n).commitment,
    });
    expect(h2.parentHash).toEqual(headerHash(h1));
    expect(h3.parentHash).toEqual(headerHash(h2));
    expect(h2.txsRoot).toEqual(sha256(new Uint8Array())); // an empty block still has a header
    expect(() => deriveHeader(CHAIN_ID, b1, h1, DA(1n))).toThrow(/parent header at height 0/);
    const [b0, b2] = [(await node.store.block(0n))!, (await node.store.block(2n))!];
    expect(() => deriveHeader(CHAIN_ID, b2, undefined, DA(2n))).toThrow(/parent header at height 1/);
    expect(() => deriveHeader("other-1", b2, h1, DA(2n))).toThrow(/same chain/);
    expect(() => deriveHeader(CHAIN_ID, b0, undefined, DA(0n))).toThrow(/genesis/);
  });

  it("commits to the entries root the sequencer put in its block for this rollup", () => {
    const sequencerTxs = [
      { hash: sha256(Uint8Array.of(1)), messages: [{ type: MSG_SUBMIT_ROLLUP_TX, signer: "metro1x", tx: { secondaryChainId: "another-rollup", data: Uint8Array.of(9) } }] },
      ...txs.map((data, i) => ({ hash: sha256(Uint8Array.of(2, i)), messages: [{ type: MSG_SUBMIT_ROLLUP_TX, signer: "metro1x", tx: { secondaryChainId: CHAIN_ID, data } }] })),
    ] as Parameters<typeof collectRollupData>[0];
    const leaf = collectRollupData(sequencerTxs).rollups.find((r) => r.secondaryChainId === CHAIN_ID)!;
    expect(headers[0].txsRoot).toEqual(leaf.entriesRoot);
  });

  it("encodes canonically and refuses other encodings", () => {
    const bytes = encodeHeader(headers[1]);
    expect(decodeHeader(bytes)).toEqual(headers[1]);
    expect(() => decodeHeader(Uint8Array.from([...bytes, 0x58, 0x01]))).toThrow(HeaderFormatError); // unknown field 11
    expect(() => decodeHeader(Uint8Array.from([0x10, 0x00, ...bytes]))).toThrow(/canonical/); // an explicit zero, out of order
    expect(() => decodeHeader(bytes.subarray(0, bytes.length - 3))).toThrow(HeaderFormatError);
    const zeros = metro.rollup.v1.Header.encode({ chainId: CHAIN_ID }).finish();
    expect(decodeHeader(zeros)).toMatchObject({ chainId: CHAIN_ID, height: 0n, stateRoot: new Uint8Array() });
  });

  describe("signatures", () => {
    it("verify with the signer's key, not with another, and survive the wire", () => {
      const signed = signHeader(headers[2], signerKey);
      expect(verifySignedHeader(signed, signerPub)).toBe(true);
      expect(verifySignedHeader(signed, publicKeyOf(testKey(11)))).toBe(false);
      expect(decodeSignedHeader(encodeSignedHeader(signed))).toEqual(signed);
      expect(() => decodeSignedHeader(Uint8Array.from([...encodeSignedHeader(signed), 0x18, 0x01]))).toThrow(/canonical/);
    });

    it("a tampered header, signature or key is detected", () => {
      const signed = signHeader(headers[2], signerKey);
      const tampered: Partial<RollupHeader>[] = [
        { stateRoot: flip(signed.header.stateRoot) },
        { txsRoot: flip(signed.header.txsRoot) },
        { parentHash: flip(signed.header.parentHash) },
        { height: 4n },
        { timeMs: signed.header.timeMs + 1 },
        { sequencerHeight: 4n },
        { sequencerBlockHash: flip(signed.header.sequencerBlockHash) },
        { daHeight: signed.header.daHeight + 1n },
        { daCommitment: flip(signed.header.daCommitment) },
        { chainId: "tokens-2" },
        { height: 2n ** 64n }, // does not encode: still just false
      ];
      for (const change of tampered) expect(verifySignedHeader({ ...signed, header: { ...signed.header, ...change } }, signerPub)).toBe(false);
      expect(verifySignedHeader({ ...signed, signature: flip(signed.signature) }, signerPub)).toBe(false);
      expect(verifySignedHeader({ ...signed, signature: signed.signature.subarray(0, 63) }, signerPub)).toBe(false);
      expect(verifySignedHeader(signed, flip(signerPub))).toBe(false);
    });
  });

  describe("comparison with received headers", () => {
    it("a matching header matches; an unsigned one is no evidence", () => {
      expect(compareHeaders(headers[0], signHeader(headers[0], signerKey), signerPub)).toEqual({ kind: "match" });
      const forged = { header: { ...headers[0], stateRoot: flip(headers[0].stateRoot) }, signature: signHeader(headers[0], signerKey).signature };
      expect(compareHeaders(headers[0], forged, signerPub)).toEqual({ kind: "invalid-signature" });
      expect(compareHeaders(headers[0], signHeader(headers[0], testKey(11)), signerPub)).toEqual({ kind: "invalid-signature" });
    });

    it("a signed header with another state root at the same height raises the alarm with its evidence", () => {
      const wrong = signHeader({ ...headers[1], stateRoot: sha256(Uint8Array.of(7)) }, signerKey);
      const result = compareHeaders(headers[1], wrong, signerPub);
      expect(result).toEqual({ kind: "conflict", stateRootDiffers: true, evidence: { local: headers[1], received: wrong, signerPubKey: signerPub, fields: ["stateRoot"] } });
      const other = compareHeaders(headers[1], signHeader({ ...headers[1], daHeight: 1n, daCommitment: sha256(Uint8Array.of(8)) }, signerKey), signerPub);
      expect(other).toMatchObject({ kind: "conflict", stateRootDiffers: false, evidence: { fields: ["daHeight", "daCommitment"] } });
      expect(() => compareHeaders(headers[1], signHeader(headers[2], signerKey), signerPub)).toThrow(/cannot compare/);
    });
  });

  describe("header store", () => {
    it("appends headers in order, chained, and reopens at the latest; keeps evidence once", async () => {
      const db = new Level<string, string>(node.dir + "-headers");
      try {
        const store = await HeaderStore.open(db.sublevel("rollup"));
        expect(store.latest).toBeUndefined();
        await expect(store.append(headers[1])).rejects.toThrow(/does not follow/);
        await store.append(headers[0]);
        await expect(store.append({ ...headers[1], parentHash: flip(headers[1].parentHash) })).rejects.toThrow(/does not chain/);
        await store.append(headers[1]);
        await store.append(headers[2]);
        await expect(store.append(headers[2])).rejects.toThrow(/does not follow/);

        const wrong = signHeader({ ...headers[1], stateRoot: sha256(Uint8Array.of(7)) }, signerKey);
        const result = compareHeaders((await store.header(2n))!, wrong, signerPub);
        if (result.kind !== "conflict") throw new Error("expected a conflict");
        await store.putEvidence(result.evidence);
        await store.putEvidence(result.evidence);

        await db.close();
        await db.open();
        const reopened = await HeaderStore.open(db.sublevel("rollup"));
        expect(reopened.latest).toEqual(headers[2]);
        expect(await reopened.header(1n)).toEqual(headers[0]);
        expect(await reopened.header(4n)).toBeUndefined();
        expect(await reopened.evidence()).toEqual([result.evidence]);
      } finally {
        await db.close();
      }
    });
  });
});
