// The token rollup's hand-written wire format against protobufjs: what protobufjs writes is exactly
// what the strict reader accepts, the account encoding is protobufjs's, and anything the reader
// accepts protobufjs re-encodes to the same bytes (canonical means one encoding).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { metro } from "../../proto/index.ts";
import { toLong, fromLong, MAX_UINT64 } from "../../lazy-rollup-node/uint64.ts";
import { encodeAccount } from "../../lazy-rollup-node/token/account.ts";
import { decodeTokenTx, encodeTokenTx, encodeTransferBody } from "../../lazy-rollup-node/token/tx.ts";
import { readCanonical } from "../../lazy-rollup-node/token/wire.ts";

const SEED = Number(process.env.FC_SEED ?? 20_261_122);
const { Account, Tx, TxBody } = metro.rollup.token.v1;
const uint64 = fc.bigInt(0n, MAX_UINT64);
const pubkey = new Uint8Array(33).fill(2);
const signature = new Uint8Array(64).fill(1);

describe("token wire format", () => {
  it("reads back every body protobufjs writes, with the same values", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), uint64, fc.string({ unit: "grapheme", maxLength: 60 }), uint64, (chainId, nonce, to, amount) => {
        const bodyBytes = encodeTransferBody({ chainId, nonce, to, amount });
        const tx = decodeTokenTx(encodeTokenTx({ bodyBytes, pubkey, signature }));
        expect(tx).toMatchObject({ body: { chainId, nonce, to, amount } });
        const viaProtobufjs = TxBody.decode(bodyBytes);
        expect([viaProtobufjs.chainId, fromLong(viaProtobufjs.nonce), viaProtobufjs.transfer?.to, fromLong(viaProtobufjs.transfer?.amount)]).toEqual([chainId, nonce, to, amount]);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it("encodes accounts exactly as protobufjs does", () => {
    fc.assert(
      fc.property(uint64, uint64, (balance, nonce) => {
        const mine = encodeAccount({ balance, nonce });
        const theirs = Account.encode({ balance: toLong(balance), nonce: toLong(nonce) }).finish();
        expect(mine ?? new Uint8Array()).toEqual(Uint8Array.from(theirs));
      }),
      { seed: SEED, numRuns: 300 },
    );
    expect(() => encodeAccount({ balance: MAX_UINT64 + 1n, nonce: 0n })).toThrow(RangeError);
  });

  it("whatever it accepts is canonical for protobufjs too; it never throws", () => {
    // Inputs built from valid fields, shuffled, repeated, with zero/empty/unknown fields thrown in.
    const field = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 40 }).map((b) => Tx.encode({ body: b }).finish()),
      fc.uint8Array({ minLength: 0, maxLength: 40 }).map((b) => Tx.encode({ pubkey: b }).finish()),
      fc.uint8Array({ minLength: 0, maxLength: 70 }).map((b) => Tx.encode({ signature: b }).finish()),
      fc.constantFrom(Uint8Array.of(0x0a, 0x00), Uint8Array.of(0x20, 0x01), Uint8Array.of(0x08, 0x80, 0x00), Uint8Array.of(0x12, 0x05)),
    );
    fc.assert(
      fc.property(fc.array(field, { maxLength: 5 }), fc.uint8Array({ maxLength: 8 }), (fields, tail) => {
        const bytes = Uint8Array.from([...fields.flatMap((f) => [...f]), ...tail]);
        const read = readCanonical(bytes, ["bytes", "bytes", "bytes"]);
        if (typeof read === "string") return;
        expect(Uint8Array.from(Tx.encode(Tx.decode(bytes)).finish())).toEqual(bytes);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });
});
