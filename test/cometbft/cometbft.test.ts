// CometBFT structures against the test vectors in CometBFT's own test suite (types/vote_test.go,
// types/block_test.go).
import { describe, expect, it } from "vitest";
import { headerHash } from "../../cometbft/header.ts";
import { voteSignBytes, PRECOMMIT, PREVOTE } from "../../cometbft/vote.ts";
import { formatRfc3339Nano, parseRfc3339 } from "../../cometbft/time.ts";
import { sha256, toHexUpper } from "../../cometbft/hash.ts";
import { EMPTY_BLOCK_ID } from "../../cometbft/header.ts";

const GO_ZERO_TIME = { seconds: -62135596800n, nanos: 0 };
const ZERO_TIME_BYTES = [0x2a, 0xb, 0x8, 0x80, 0x92, 0xb8, 0xc3, 0x98, 0xfe, 0xff, 0xff, 0xff, 0x1];
const ONE_FIXED64 = [0x1, 0, 0, 0, 0, 0, 0, 0];

describe("vote sign bytes", () => {
  it("precommit at height 1 round 1 with an empty chain id", () => {
    const bytes = voteSignBytes({ chainId: "", type: PRECOMMIT, height: 1n, round: 1, blockId: EMPTY_BLOCK_ID, timestamp: GO_ZERO_TIME });
    expect([...bytes]).toEqual([0x21, 0x8, 0x2, 0x11, ...ONE_FIXED64, 0x19, ...ONE_FIXED64, ...ZERO_TIME_BYTES]);
  });

  it("prevote with a chain id", () => {
    const bytes = voteSignBytes({ chainId: "test_chain_id", type: PREVOTE, height: 1n, round: 1, blockId: EMPTY_BLOCK_ID, timestamp: GO_ZERO_TIME });
    const chainId = [0x32, 0xd, ...Buffer.from("test_chain_id")];
    expect([...bytes]).toEqual([0x30, 0x8, 0x1, 0x11, ...ONE_FIXED64, 0x19, ...ONE_FIXED64, ...ZERO_TIME_BYTES, ...chainId]);
  });
});

describe("header hash", () => {
  it("reproduces CometBFT's TestHeaderHash vector", () => {
    const h = (s: string) => sha256(Buffer.from(s));
    const hash = headerHash({
      version: { block: 1n, app: 2n },
      chainId: "chainId",
      height: 3n,
      time: parseRfc3339("2019-10-13T16:14:44Z"),
      lastBlockId: { hash: new Uint8Array(32), partSetHeader: { total: 6, hash: new Uint8Array(32) } },
      lastCommitHash: h("last_commit_hash"),
      dataHash: h("data_hash"),
      validatorsHash: h("validators_hash"),
      nextValidatorsHash: h("next_validators_hash"),
      consensusHash: h("consensus_hash"),
      appHash: h("app_hash"),
      lastResultsHash: h("last_results_hash"),
      evidenceHash: h("evidence_hash"),
      proposerAddress: h("proposer_address").subarray(0, 20),
    });
    expect(toHexUpper(hash)).toBe("F740121F553B5418C3EFBD343C2DBFE9E007BB67B0D020A0741374BAB65242A4");
  });
});

describe("RFC 3339 times", () => {
  it("round-trips nanoseconds and drops trailing zeros like Go", () => {
    const t = parseRfc3339("2023-02-25T12:10:28.067566292Z");
    expect(t.nanos).toBe(67566292);
    expect(formatRfc3339Nano(t)).toBe("2023-02-25T12:10:28.067566292Z");
    expect(formatRfc3339Nano(parseRfc3339("2023-02-25T12:10:28.500Z"))).toBe("2023-02-25T12:10:28.5Z");
    expect(formatRfc3339Nano(parseRfc3339("2023-02-25T12:10:28Z"))).toBe("2023-02-25T12:10:28Z");
  });

  it("rejects ten fractional digits and junk", () => {
    expect(() => parseRfc3339("2023-02-25T12:10:28.0675662921Z")).toThrow(/invalid RFC 3339/);
    expect(() => parseRfc3339("yesterday")).toThrow(/invalid RFC 3339/);
  });
});

describe("commit verification", () => {
  it("accepts +2/3 valid precommits and rejects too few, a forged one, and another block", async () => {
    const { ed25519Generate, ed25519Sign } = await import("../../cometbft/ed25519.ts");
    const { validatorAddress } = await import("../../cometbft/validator-set.ts");
    const { verifyCommit, CommitVerificationError } = await import("../../cometbft/verify-commit.ts");
    const keys = [ed25519Generate(), ed25519Generate(), ed25519Generate(), ed25519Generate()];
    const validators = keys.map((k) => ({ pubKey: k.publicKey, votingPower: 10n }));
    const blockId = { hash: sha256(Buffer.from("block")), partSetHeader: { total: 1, hash: sha256(Buffer.from("parts")) } };
    const timestamp = parseRfc3339("2026-01-01T00:00:00Z");
    const sig = (i: number, id = blockId) => ({
      blockIdFlag: 2 as const,
      validatorAddress: validatorAddress(keys[i].publicKey),
      timestamp,
      signature: ed25519Sign(keys[i], voteSignBytes({ chainId: "c", type: PRECOMMIT, height: 5n, round: 0, blockId: id, timestamp })),
    });
    const absent = { blockIdFlag: 1 as const, validatorAddress: new Uint8Array(), timestamp: { seconds: 0n, nanos: 0 }, signature: new Uint8Array() };
    const commit = { height: 5n, round: 0, blockId, signatures: [sig(0), sig(1), sig(2), absent] };
    expect(() => verifyCommit("c", validators, 5n, blockId, commit)).not.toThrow();
    expect(() => verifyCommit("c", validators, 5n, blockId, { ...commit, signatures: [sig(0), sig(1), absent, absent] })).toThrow(/more than 2\/3/);
    const forged = { ...sig(2), signature: sig(2).signature.map((b, i) => (i === 0 ? b ^ 1 : b)) };
    expect(() => verifyCommit("c", validators, 5n, blockId, { ...commit, signatures: [sig(0), sig(1), forged, absent] })).toThrow(CommitVerificationError);
    const other = { ...blockId, hash: sha256(Buffer.from("other")) };
    expect(() => verifyCommit("c", validators, 5n, other, commit)).toThrow(/commit is for block/);
    expect(() => verifyCommit("other-chain", validators, 5n, blockId, commit)).toThrow(/invalid signature/);
  });
});
