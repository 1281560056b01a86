// Consensus messages: proposal sign bytes equal CometBFT's CanonicalProposal (checked against a
// hand-written protobuf encoding of CometBFT's TestProposalSignable proposal), and the wire
// encoding round-trips and rejects malformed messages.
import { describe, expect, it } from "vitest";
import { proposalSignBytes } from "../../cometbft/proposal.ts";
import { parseRfc3339 } from "../../cometbft/time.ts";
import { decodeMessage, encodeMessage, MalformedMessageError, PREVOTE, type ConsensusMessage } from "../../sequencer/consensus/messages.ts";
import { metro } from "../../proto/index.ts";
import { machine, prevote, proposal, value } from "./harness.ts";

function varint(v: bigint): number[] {
  let x = BigInt.asUintN(64, v);
  const out: number[] = [];
  do {
    const byte = Number(x & 0x7fn);
    x >>= 7n;
    out.push(x > 0n ? byte | 0x80 : byte);
  } while (x > 0n);
  return out;
}
const fixed64 = (v: bigint) => [...Array(8).keys()].map((i) => Number((BigInt.asUintN(64, v) >> BigInt(8 * i)) & 0xffn));
const field = (n: number, wire: number) => varint(BigInt((n << 3) | wire));
const bytesField = (n: number, b: number[]) => [...field(n, 2), ...varint(BigInt(b.length)), ...b];
const ascii = (s: string) => [...new TextEncoder().encode(s)];

describe("proposal sign bytes", () => {
  it("are CometBFT's length-delimited CanonicalProposal", () => {
    const hash = ascii("--June_15_2020_amino_was_removed");
    const timestamp = parseRfc3339("2018-02-11T07:09:22.765Z");
    const canonical = [
      ...field(1, 0), ...varint(32n),
      ...field(2, 1), ...fixed64(12345n),
      ...field(3, 1), ...fixed64(23456n),
      ...field(4, 0), ...varint(-1n),
      ...bytesField(5, [...bytesField(1, hash), ...bytesField(2, [...field(1, 0), ...varint(111n), ...bytesField(2, hash)])]),
      ...bytesField(6, [...field(1, 0), ...varint(timestamp.seconds), ...field(2, 0), ...varint(BigInt(timestamp.nanos))]),
      ...bytesField(7, ascii("test_chain_id")),
    ];
    const expected = Uint8Array.from([...varint(BigInt(canonical.length)), ...canonical]);
    const actual = proposalSignBytes({
      chainId: "test_chain_id",
      height: 12345n,
      round: 23456,
      polRound: -1,
      blockId: { hash: Uint8Array.from(hash), partSetHeader: { total: 111, hash: Uint8Array.from(hash) } },
      timestamp,
    });
    expect(Buffer.from(actual).toString("hex")).toBe(Buffer.from(expected).toString("hex"));
  });
});

describe("consensus message encoding", () => {
  const state = machine(0);
  const A = value("A");

  it("round-trips proposals, votes (nil included) and commits", () => {
    const messages: ConsensusMessage[] = [
      { kind: "proposal", proposal: proposal(state, 3, A, 1) },
      { kind: "vote", vote: prevote(2, 4, A) },
      { kind: "vote", vote: prevote(1, 0, undefined) },
      { kind: "commit", commit: { height: 7n, round: 2, blockId: A.blockId, signatures: [{ blockIdFlag: 1, validatorAddress: new Uint8Array(), timestamp: { seconds: 0n, nanos: 0 }, signature: new Uint8Array() }] } },
    ];
    // Decoded byte fields are Buffers; compare as plain data.
    const plain = (v: unknown): unknown =>
      v instanceof Uint8Array ? Buffer.from(v).toString("hex") : Array.isArray(v) ? v.map(plain) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)])) : v;
    for (const m of messages) expect(plain(decodeMessage(encodeMessage(m)))).toEqual(plain(m));
  });

  it("rejects malformed messages", () => {
    const pb = metro.consensus.v1;
    const vote = { type: PREVOTE, height: 1, round: 0, blockId: { hash: new Uint8Array(32), partSetHeader: { total: 1, hash: new Uint8Array(32) } }, signature: new Uint8Array(64) };
    const encode = (m: object) => pb.ConsensusMessage.encode(m).finish();
    expect(() => decodeMessage(encode({ vote }))).not.toThrow();
    expect(() => decodeMessage(encode({ vote: { ...vote, type: 3 } }))).toThrow(MalformedMessageError);
    expect(() => decodeMessage(encode({ vote: { ...vote, height: 0 } }))).toThrow(MalformedMessageError);
    expect(() => decodeMessage(encode({ vote: { ...vote, round: -1 } }))).toThrow(MalformedMessageError);
    expect(() => decodeMessage(encode({ vote: { ...vote, signature: new Uint8Array(10) } }))).toThrow(MalformedMessageError);
    expect(() => decodeMessage(encode({ vote: { ...vote, blockId: { hash: new Uint8Array(5) } } }))).toThrow(MalformedMessageError);
    const p = { height: 1, round: 2, polRound: 2, blockId: vote.blockId, signature: new Uint8Array(64), block: new Uint8Array(3) };
    expect(() => decodeMessage(encode({ proposal: p }))).toThrow(/rounds out of range/);
    expect(() => decodeMessage(encode({ proposal: { ...p, blockId: {} } }))).toThrow(MalformedMessageError);
    expect(() => decodeMessage(encode({}))).toThrow(MalformedMessageError);
    expect(() => decodeMessage(Uint8Array.of(0xff, 0xff, 0xff))).toThrow();
  });
});
