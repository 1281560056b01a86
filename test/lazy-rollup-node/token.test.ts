// The token rollup: transfers move balances and bump nonces; every kind of bad transaction reverts
// with its reason and leaves the state root exactly as it was; account proofs verify, tampered ones
// do not; one wallet key is one account on Metro and on the rollup.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fromBech32, toBech32 } from "@cosmjs/encoding";
import { Bip39, EnglishMnemonic, Slip10, Slip10Curve } from "@cosmjs/crypto";
import { makeCosmoshubPath } from "@cosmjs/amino";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import secp256k1 from "secp256k1";
import { sha256 } from "../../celestia/sha256.ts";
import { metro } from "../../proto/index.ts";
import { Secp256k1Signer } from "../../sequencer/client/signer.ts";
import { applyBlock, executeRollupBlock, initRollup, proveAccount, signTokenTransfer, verifyAccountProof, type StateMachine, type TokenGenesis } from "../../lazy-rollup-node/index.ts";
import { publicKeyOf, signDigest } from "../../lazy-rollup-node/secp256k1-key.ts";
import { parseRollupAddress, rollupAddress, senderOf } from "../../lazy-rollup-node/token/address.ts";
import { encodeTokenTx, encodeTransferBody } from "../../lazy-rollup-node/token/tx.ts";
import { addressBytes } from "../../sequencer/tx/address.ts";
import { CHAIN_ID, MACHINE, Node, PREFIX, addressOfKey, entry, testKey } from "./harness.ts";

const { Tx } = metro.rollup.token.v1;

const alice = testKey(0);
const bob = testKey(1);
const carol = testKey(2); // no genesis account
const ALICE = addressOfKey(alice);
const BOB = addressOfKey(bob);
const CAROL = addressOfKey(carol);
const GENESIS: TokenGenesis = { accounts: [{ address: ALICE, balance: 1000n }, { address: BOB, balance: 500n }] };

const transfer = (key: Uint8Array, to: string, amount: bigint, nonce = 0n, chainId = CHAIN_ID) => signTokenTransfer(key, { chainId, nonce, to, amount });

/** The Tx with one field replaced, re-encoded canonically. */
function withTx(tx: Uint8Array, change: Partial<{ body: Uint8Array; pubkey: Uint8Array; signature: Uint8Array }>): Uint8Array {
  const decoded = Tx.decode(tx);
  return Tx.encode({ body: decoded.body, pubkey: decoded.pubkey, signature: decoded.signature, ...change }).finish();
}

/** A body of this chain with `nonceField` (raw bytes) for its nonce and a transfer of 1 to BOB. */
function bodyWith(nonceField: Uint8Array): Uint8Array {
  const canonical = encodeTransferBody({ chainId: CHAIN_ID, nonce: 0n, to: BOB, amount: 1n });
  const chain = 2 + CHAIN_ID.length;
  return Uint8Array.from([...canonical.subarray(0, chain), ...nonceField, ...canonical.subarray(chain)]);
}

/** A Tx over arbitrary body bytes, validly signed: only the body's encoding is wrong. */
function resign(key: Uint8Array, body: Uint8Array): Uint8Array {
  return encodeTokenTx({ bodyBytes: body, pubkey: publicKeyOf(key), signature: signDigest(key, sha256(body)) });
}

const N = BigInt("0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141");

/** The same signature with s replaced by n - s: valid for textbook ECDSA, refused as malleable. */
function highS(signature: Uint8Array): Uint8Array {
  const s = BigInt("0x" + Buffer.from(signature.subarray(32)).toString("hex"));
  const out = Uint8Array.from(signature);
  out.set(Buffer.from((N - s).toString(16).padStart(64, "0"), "hex"), 32);
  return out;
}

describe("token rollup", () => {
  let node: Node;
  beforeEach(async () => {
    node = new Node();
    await node.init(GENESIS);
  });
  afterEach(() => node.dispose());

  const account = async (address: string) => {
    const { balance, nonce } = await proveAccount(node.store, address, PREFIX);
    return { balance, nonce };
  };

  it("moves balances and bumps the sender's nonce", async () => {
    const genesisRoot = node.store.head!.stateRoot;
    const tx = transfer(alice, BOB, 100n);
    const { block, results } = await node.next([tx, transfer(alice, CAROL, 1n, 1n), transfer(bob, ALICE, 600n)]);
    expect(results.map((r) => (r.ok ? "ok" : r.reason))).toEqual(["ok", "ok", "ok"]);
    expect(results[0]).toMatchObject({ index: 0, hash: sha256(tx), ok: true });
    expect(results[0].ok && results[0].events).toEqual([
      { type: "transfer", attributes: [{ key: "sender", value: ALICE }, { key: "recipient", value: BOB }, { key: "amount", value: "100" }, { key: "nonce", value: "0" }] },
    ]);
    expect(await account(ALICE)).toEqual({ balance: 1000n - 100n - 1n + 600n, nonce: 2n });
    expect(await account(BOB)).toEqual({ balance: 500n + 100n - 600n, nonce: 1n });
    expect(await account(CAROL)).toEqual({ balance: 1n, nonce: 0n });
    expect(block.stateRoot).not.toEqual(genesisRoot);
    expect(block).toMatchObject({ height: 1n, sequencerHeight: 1n, txCount: 3 });
  });

  it("a transfer to oneself only bumps the nonce", async () => {
    const { results } = await node.next([transfer(alice, ALICE, 1000n)]);
    expect(results[0].ok).toBe(true);
    expect(await account(ALICE)).toEqual({ balance: 1000n, nonce: 1n });
  });

  describe("reverts, leaving the state root unchanged", () => {
    const valid = () => transfer(alice, BOB, 100n);
    const cases: [string, () => Uint8Array, string | RegExp][] = [
      ["garbage bytes", () => Uint8Array.of(0xff, 0xff, 0xff, 0xff), /^malformed tx: /],
      ["an empty tx", () => new Uint8Array(), "malformed tx: missing body"],
      ["a truncated proto", () => valid().subarray(0, valid().length - 10), "malformed tx: field 3 is truncated"],
      ["an unknown trailing field", () => Uint8Array.from([...valid(), 0x20, 0x01]), "malformed tx: unknown field 4"],
      ["fields out of order", () => { const d = Tx.decode(valid()); return Uint8Array.from([...Tx.encode({ pubkey: d.pubkey, signature: d.signature }).finish(), ...Tx.encode({ body: d.body }).finish()]); }, "malformed tx: field 1 out of order or repeated"],
      ["a field given twice", () => { const d = Tx.decode(valid()); return Uint8Array.from([...Tx.encode({ body: d.body }).finish(), ...Tx.encode({ body: d.body, pubkey: d.pubkey, signature: d.signature }).finish()]); }, "malformed tx: field 1 out of order or repeated"],
      ["a field with the wrong wire type", () => Uint8Array.from([0x08, 0x01, ...valid()]), "malformed tx: field 1 has wire type 0"],
      ["a body that is not a TxBody", () => withTx(valid(), { body: Uint8Array.of(0x0a, 0x7f) }), "malformed tx: body: field 1 is truncated"],
      ["an explicit zero nonce (proto3 omits it)", () => resign(alice, Uint8Array.from([0x10, 0x00, ...encodeTransferBody({ chainId: CHAIN_ID, nonce: 0n, to: BOB, amount: 1n })])), "malformed tx: body: field 2 is zero (proto3 omits it)"],
      ["a nonce varint that is not minimal", () => resign(alice, bodyWith(Uint8Array.of(0x10, 0x80, 0x00))), "malformed tx: body: field 2: varint not minimally encoded"],
      ["a nonce beyond 64 bits", () => resign(alice, bodyWith(Uint8Array.of(0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f))), "malformed tx: body: field 2: varint exceeds 64 bits"],
      ["a chain id that is not UTF-8", () => resign(alice, Uint8Array.from([0x0a, 0x02, 0xc3, 0x28, 0x1a, 0x00])), "malformed tx: body: a string is not valid UTF-8"],
      ["an empty transfer", () => resign(alice, Uint8Array.from([...bodyWith(new Uint8Array()).subarray(0, 2 + CHAIN_ID.length), 0x1a, 0x00])), "zero amount"],
      ["a body without a transfer", () => encodeTokenTx({ bodyBytes: metro.rollup.token.v1.TxBody.encode({ chainId: CHAIN_ID }).finish(), pubkey: publicKeyOf(alice), signature: new Uint8Array(64) }), "malformed tx: body: missing transfer"],
      ["an uncompressed pubkey", () => withTx(valid(), { pubkey: new Uint8Array(65).fill(4) }), "malformed tx: pubkey must be 33 bytes (compressed secp256k1), got 65"],
      ["a pubkey that is not a curve point", () => withTx(valid(), { pubkey: new Uint8Array(33).fill(5) }), "malformed tx: pubkey is not a valid compressed secp256k1 key"],
      ["a short signature", () => withTx(valid(), { signature: new Uint8Array(63).fill(1) }), "malformed tx: signature must be 64 bytes (r||s), got 63"],
      ["a wrong chain id", () => transfer(alice, BOB, 100n, 0n, "other-1"), 'wrong chain id: expected "tokens-1", got "other-1"'],
      ["a bad signature", () => { const d = Tx.decode(valid()); const sig = Uint8Array.from(d.signature); sig[10] ^= 1; return withTx(valid(), { signature: sig }); }, "bad signature"],
      ["a high-S signature", () => withTx(valid(), { signature: highS(Tx.decode(valid()).signature) }), "bad signature: high S (only low-S signatures are valid)"],
      ["another key's pubkey (sender/signer mismatch)", () => withTx(valid(), { pubkey: publicKeyOf(bob) }), "bad signature"],
      ["a signature over another body", () => withTx(valid(), { body: encodeTransferBody({ chainId: CHAIN_ID, nonce: 0n, to: BOB, amount: 999n }) }), "bad signature"],
      ["a wrong nonce", () => transfer(alice, BOB, 100n, 5n), "wrong nonce: expected 0, got 5"],
      ["a zero amount", () => transfer(alice, BOB, 0n), "zero amount"],
      ["an insufficient balance", () => transfer(alice, BOB, 1001n), "insufficient balance: have 1000, need 1001"],
      ["a sender without an account", () => transfer(carol, BOB, 1n), "insufficient balance: have 0, need 1"],
      ["a recipient with another prefix", () => transfer(alice, addressOfKey(bob, "metro"), 1n), /^invalid recipient: "metro1\w+" has prefix "metro", expected "tok"$/],
      ["a recipient that is not bech32", () => transfer(alice, "bob", 1n), /^invalid recipient: "bob" is not bech32/],
      ["a recipient of 32 bytes", () => transfer(alice, toBech32(PREFIX, new Uint8Array(32)), 1n), /^invalid recipient: "tok1\w+" holds 32 bytes, expected 20$/],
    ];

    it.each(cases)("%s", async (_name, make, reason) => {
      const before = node.store.head!.stateRoot;
      const { block, results } = await node.next([make()]);
      expect(results).toHaveLength(1);
      const [result] = results;
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason).toMatch(typeof reason === "string" ? new RegExp(`^${reason.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`) : reason);
      expect(block.stateRoot).toEqual(before);
      expect(await account(ALICE)).toEqual({ balance: 1000n, nonce: 0n });
    });

    it("an entry that is not a RollupTxEntry", async () => {
      const before = node.store.head!.stateRoot;
      const bytes = Uint8Array.of(0x0a, 0x05, 0x01);
      const { block, results } = await executeRollupBlock(node.store, MACHINE, node.input([bytes]));
      expect(results[0]).toMatchObject({ ok: false, hash: sha256(bytes), reason: expect.stringMatching(/^malformed entry: /) });
      expect(block.stateRoot).toEqual(before);
    });

    it("a replay in the same block: the copy has a used nonce", async () => {
      const tx = valid();
      const { results } = await node.next([tx, tx]);
      expect(results.map((r) => (r.ok ? "ok" : r.reason))).toEqual(["ok", "wrong nonce: expected 1, got 0"]);
    });

    it("a revert with a valid signature does not bump the nonce: the sender reuses it", async () => {
      const { results } = await node.next([transfer(alice, BOB, 5000n, 0n), transfer(alice, BOB, 10n, 0n)]);
      expect(results.map((r) => (r.ok ? "ok" : r.reason))).toEqual(["insufficient balance: have 1000, need 5000", "ok"]);
      expect(await account(ALICE)).toEqual({ balance: 990n, nonce: 1n });
    });

    it("a block of valid and invalid transactions reaches the root of its valid ones alone", async () => {
      const good = [transfer(alice, BOB, 1n), transfer(bob, CAROL, 2n), transfer(alice, CAROL, 3n, 1n)];
      const mixed = [Uint8Array.of(1, 2, 3), good[0], transfer(alice, BOB, 1n, 7n), transfer(carol, ALICE, 1n), good[1], good[2], transfer(alice, BOB, 0n, 2n)];
      const other = new Node();
      try {
        await other.init(GENESIS);
        const a = await node.next(mixed);
        const b = await other.next(good);
        expect(a.results.filter((r) => r.ok)).toHaveLength(3);
        expect(a.block.stateRoot).toEqual(b.block.stateRoot);
      } finally {
        await other.dispose();
      }
    });
  });

  it("a state machine's writes before it reverts are dropped", async () => {
    const key = Uint8Array.of(9, 9);
    const sloppy: StateMachine<TokenGenesis> = {
      initGenesis: MACHINE.initGenesis,
      async applyTx(state) {
        state.set(key, Uint8Array.of(1));
        expect(await state.get(key)).toEqual(Uint8Array.of(1)); // read-your-writes within the transaction
        return { ok: false, reason: "changed my mind" };
      },
    };
    const before = node.store.head!.stateRoot;
    const { block, results } = await executeRollupBlock(node.store, sloppy, node.input([entry(Uint8Array.of(1))]));
    expect(results[0]).toMatchObject({ ok: false, reason: "changed my mind" });
    expect(block.stateRoot).toEqual(before);
    expect(await node.store.committed.get(key)).toBeUndefined();
  });

  it("a reverted transaction's overwrites and deletions of earlier writes in its block are undone", async () => {
    const [a, b, c] = [Uint8Array.of(7, 1), Uint8Array.of(7, 2), Uint8Array.of(7, 3)];
    // Each tx says what to do: 1 writes a and b, 2 rewrites a, deletes b, adds c and reverts, 3 adds c.
    const scripted: StateMachine<TokenGenesis> = {
      initGenesis: MACHINE.initGenesis,
      async applyTx(state, txBytes) {
        if (txBytes[0] === 1) {
          state.set(a, Uint8Array.of(1));
          state.set(b, Uint8Array.of(2));
          return { ok: true, events: [] };
        }
        if (txBytes[0] === 2) {
          state.set(a, Uint8Array.of(9));
          state.set(a, Uint8Array.of(8));
          state.delete(b);
          state.set(c, Uint8Array.of(9));
          expect([await state.get(a), await state.get(b), await state.get(c)]).toEqual([Uint8Array.of(8), undefined, Uint8Array.of(9)]);
          return { ok: false, reason: "changed my mind" };
        }
        state.set(c, Uint8Array.of(3));
        return { ok: true, events: [] };
      },
    };
    const withRevert = await applyBlock(node.store.committed, scripted, node.input([entry(Uint8Array.of(1)), entry(Uint8Array.of(2)), entry(Uint8Array.of(3))]));
    const without = await applyBlock(node.store.committed, scripted, node.input([entry(Uint8Array.of(1)), entry(Uint8Array.of(3))]));
    // The same net writes in the same order, as if the reverted transaction had never run.
    expect(withRevert.writes).toEqual(without.writes);
    expect(withRevert.writes.map((w) => [...w.key, ...(w.value ?? [])])).toEqual([[7, 1, 1], [7, 2, 2], [7, 3, 3]]);
  });

  it("a state machine that throws aborts the block with nothing committed", async () => {
    const broken: StateMachine<TokenGenesis> = { initGenesis: MACHINE.initGenesis, applyTx: async () => { throw new Error("bug"); } };
    const head = node.store.head!;
    await expect(executeRollupBlock(node.store, broken, node.input([entry(Uint8Array.of(1))]))).rejects.toThrow("bug");
    expect(node.store.head).toBe(head);
    expect((await node.next([transfer(alice, BOB, 1n)])).results[0].ok).toBe(true);
  });

  it("applyBlock is pure: it commits nothing and gives the same result twice", async () => {
    const input = node.input([entry(transfer(alice, BOB, 1n)), entry(transfer(alice, BOB, 1n))]);
    const first = await applyBlock(node.store.committed, MACHINE, input);
    const second = await applyBlock(node.store.committed, MACHINE, input);
    expect(second).toEqual(first);
    expect(node.store.head!.height).toBe(0n);
  });

  describe("genesis", () => {
    it("refuses duplicate accounts, foreign addresses and a supply beyond uint64", async () => {
      const attempt = async (genesis: TokenGenesis) => {
        const fresh = new Node();
        try {
          await fresh.init(genesis);
        } finally {
          await fresh.dispose();
        }
      };
      await expect(attempt({ accounts: [{ address: ALICE, balance: 1n }, { address: ALICE, balance: 2n }] })).rejects.toThrow(/listed twice/);
      await expect(attempt({ accounts: [{ address: addressOfKey(alice, "metro"), balance: 1n }] })).rejects.toThrow(/prefix "metro"/);
      await expect(attempt({ accounts: [{ address: ALICE, balance: 2n ** 63n }, { address: BOB, balance: 2n ** 63n }] })).rejects.toThrow(/exceeds 2\^64 - 1/);
    });

    it("a store holds one rollup: a second genesis is refused", async () => {
      await expect(initRollup(node.store, { chainId: CHAIN_ID, sequencerStartHeight: 1n }, MACHINE, GENESIS)).rejects.toThrow(/already holds tokens-1/);
    });
  });

  describe("account proofs", () => {
    it("verify against the state root for funded, emptied and unknown accounts; tampered ones do not", async () => {
      await node.next([transfer(bob, ALICE, 500n)]); // bob: balance 0, nonce 1
      const root = node.store.head!.stateRoot;
      for (const address of [ALICE, BOB, CAROL]) {
        const proof = await proveAccount(node.store, address, PREFIX);
        expect(proof.stateRoot).toEqual(root);
        expect(verifyAccountProof(root, proof, PREFIX)).toBe(true);
        expect(verifyAccountProof(root, { ...proof, balance: proof.balance + 1n }, PREFIX)).toBe(false);
        expect(verifyAccountProof(root, { ...proof, nonce: proof.nonce + 1n }, PREFIX)).toBe(false);
        expect(verifyAccountProof(root, { ...proof, address: address === ALICE ? BOB : ALICE }, PREFIX)).toBe(false);
        expect(verifyAccountProof(root, { ...proof, balance: -1n }, PREFIX)).toBe(false);
        expect(verifyAccountProof(node.store.head!.txsRoot, proof, PREFIX)).toBe(false);
        const siblings = proof.proof.siblings.map((s, i) => (i === 0 ? Uint8Array.from(s, (b, j) => (j === 0 ? b ^ 1 : b)) : s));
        expect(verifyAccountProof(root, { ...proof, proof: { ...proof.proof, siblings } }, PREFIX)).toBe(false);
      }
      expect(await proveAccount(node.store, BOB, PREFIX)).toMatchObject({ balance: 0n, nonce: 1n });
      expect(await proveAccount(node.store, CAROL, PREFIX)).toMatchObject({ balance: 0n, nonce: 0n, proof: { leaf: expect.anything() } });
      await expect(proveAccount(node.store, addressOfKey(bob, "metro"), PREFIX)).rejects.toThrow(/invalid address/);
    });
  });

  describe("keys", () => {
    it("signs with a Secp256k1Signer: the rollup account is the signer's Metro account", async () => {
      const signer = Secp256k1Signer.random();
      const rollupAddress = toBech32(PREFIX, fromBech32(signer.address, 90).data);
      await node.next([transfer(alice, rollupAddress, 50n)]);
      const { results } = await node.next([signTokenTransfer(signer, { chainId: CHAIN_ID, nonce: 0n, to: BOB, amount: 20n })]);
      expect(results[0].ok && results[0].events[0].attributes[0]).toEqual({ key: "sender", value: rollupAddress });
      expect(await account(rollupAddress)).toEqual({ balance: 30n, nonce: 1n });
    });

    it("a cosmjs wallet's key signs on the rollup as the same 20-byte account", async () => {
      const mnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
      const [metroAccount] = await (await DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: "metro" })).getAccounts();
      const seed = await Bip39.mnemonicToSeed(new EnglishMnemonic(mnemonic));
      const { privkey } = Slip10.derivePath(Slip10Curve.Secp256k1, seed, makeCosmoshubPath(0));
      expect(publicKeyOf(privkey)).toEqual(metroAccount.pubkey);
      const rollupAddress = toBech32(PREFIX, fromBech32(metroAccount.address, 90).data);
      await node.next([transfer(alice, rollupAddress, 5n)]);
      const { results } = await node.next([transfer(privkey, BOB, 5n)]);
      expect(results[0].ok).toBe(true);
      expect(await account(rollupAddress)).toEqual({ balance: 0n, nonce: 1n });
    });

    it("encodes and parses 20-byte addresses as @cosmjs/encoding does, reasons included", () => {
      const reference = (address: string, prefix: string): string => {
        try {
          const { prefix: found, data } = fromBech32(address, 90);
          if (found !== prefix) return `prefix ${found}`;
          return data.length === 20 ? `bytes ${Buffer.from(data).toString("hex")}` : `length ${data.length}`;
        } catch {
          return "not bech32";
        }
      };
      const ours = (address: string, prefix: string): string => {
        const parsed = parseRollupAddress(address, prefix);
        if (typeof parsed !== "string") return `bytes ${Buffer.from(parsed).toString("hex")}`;
        return parsed.includes("is not bech32") ? "not bech32" : parsed.includes("has prefix") ? `prefix ${/has prefix "([^"]*)"/.exec(parsed)![1]}` : `length ${/holds (\d+)/.exec(parsed)![1]}`;
      };
      const sha = (text: string) => sha256(new TextEncoder().encode(text));
      // Prefixes the fast codec takes and ones it leaves to cosmjs (upper case, too long for 20 bytes).
      for (const prefix of [PREFIX, "metro", "a", "x1y", "Tok", "p".repeat(51), "p".repeat(52)]) {
        for (let i = 0; i < 150; i++) {
          const bytes = sha(`${prefix} ${i}`).subarray(0, 20);
          const expected = prefix.length + 39 > 90 ? undefined : toBech32(prefix, bytes);
          if (expected !== undefined) expect(rollupAddress(bytes, prefix)).toBe(expected);
          const address = expected ?? `${prefix.toLowerCase()}1${"q".repeat(38)}`;
          const noise = sha(`noise ${prefix} ${i}`);
          const at = noise[0] % address.length;
          const variants = [
            address,
            address.toUpperCase(),
            address.slice(0, at) + address[at].toUpperCase() + address.slice(at + 1),
            address.slice(0, at) + "qpzry9x8gf2tvdw0s3jn54khce6mua7lbio1"[noise[1] % 36] + address.slice(at + 1),
            address.slice(0, at) + address.slice(at + 1),
            address + "q",
            toBech32(prefix.toLowerCase(), sha(`${i}`).subarray(0, 19 + (noise[2] % 3)), 200),
            toBech32("other", bytes),
          ];
          for (const variant of variants) {
            for (const expectedPrefix of [prefix, prefix.toLowerCase()]) expect(ours(variant, expectedPrefix), `${variant} for ${expectedPrefix}`).toBe(reference(variant, expectedPrefix));
          }
        }
      }
    });

    it("derives the sender's account as the sequencer does", () => {
      for (let i = 0; i < 50; i++) {
        const pubkey = publicKeyOf(testKey(100 + i));
        const sender = senderOf(pubkey, PREFIX);
        expect(sender.bytes).toEqual(addressBytes(pubkey));
        expect(sender.address).toBe(toBech32(PREFIX, addressBytes(pubkey)));
        expect(senderOf(pubkey, PREFIX)).toBe(sender);
      }
    });

    it("signatures are low-S and deterministic", () => {
      const a = Uint8Array.from(Tx.decode(transfer(alice, BOB, 7n)).signature);
      expect(Uint8Array.from(Tx.decode(transfer(alice, BOB, 7n)).signature)).toEqual(a);
      expect(secp256k1.signatureNormalize(Uint8Array.from(a))).toEqual(a);
    });
  });
});
