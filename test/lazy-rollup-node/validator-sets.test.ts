// The validator set tracked per sequencer height, at the level of the verification core: the history
// (a set carries on, a header hands over, a set with the wrong hash or a conflicting header is
// refused), its storage (a change survives a reopen and is fetched once however many paths ask), the
// firm assembler holding blocks until their set is known, and bundle proofs checked with the set of
// their height.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Level } from "level";
import { afterEach, describe, expect, it } from "vitest";
import { newBlob } from "../../celestia/blob.ts";
import { namespaceFromSecondaryChainId } from "../../celestia/namespace.ts";
import { sha256 } from "../../cometbft/hash.ts";
import { ed25519Sign, type Ed25519Key } from "../../cometbft/ed25519.ts";
import { validatorAddress, validatorSetHash, type Validator } from "../../cometbft/validator-set.ts";
import { PRECOMMIT, voteSignBytes } from "../../cometbft/vote.ts";
import { FirmAssembler } from "../../lazy-rollup-node/firm-assembler.ts";
import { SequencerValidatorSets } from "../../lazy-rollup-node/sequencer-validator-sets.ts";
import { ValidatorSetConflictError, ValidatorSetHistory, type NeededValidatorSet } from "../../lazy-rollup-node/validator-sets.ts";
import type { Db } from "../../merkle-store/index.ts";
import { blockHash, type SequencerHeader } from "../../sequencer/block/block.ts";
import { relayBlock } from "../../sequencer/relayer/block-records.ts";
import { CELESTIA_MAINNET_LIMITS } from "../../sequencer/relayer/da-limits.ts";
import { planBatch } from "../../sequencer/relayer/planner.ts";
import type { SourceBlock } from "../../sequencer/relayer/source.ts";
import { FIXTURE_CHAIN, FIXTURE_KEYS, fixtureBlocks, randomTx } from "../relayer/fixtures.ts";
import { NEW_KEYS, NEW_SET } from "./changing-validators.ts";

const OLD_SET = FIXTURE_CHAIN.validators;
const OLD_HASH = validatorSetHash(OLD_SET);
const NEW_HASH = validatorSetHash(NEW_SET);
const header = (height: number, next: Uint8Array) => ({ height: BigInt(height), nextValidatorsHash: next });
const keysOf = (set: readonly Validator[] | undefined) => set?.map((v) => Buffer.from(v.pubKey).toString("hex"));

describe("validator set history", () => {
  it("carries a set on while headers name it, and hands over to the named set once it is given", () => {
    const h = new ValidatorSetHistory(OLD_SET, [], 1);
    expect(h.at(2)).toBeUndefined(); // header 1 not followed yet
    expect(h.follow(header(1, OLD_HASH))).toBeUndefined();
    expect(h.knownThrough).toBe(2);
    const needed = h.follow(header(2, NEW_HASH))!;
    expect(needed).toEqual({ height: 3, hash: NEW_HASH });
    expect(h.at(3)).toBeUndefined();
    expect(() => h.accept(needed, NEW_SET.slice(0, 2))).toThrow(/is not the named set/);
    h.accept(needed, NEW_SET);
    expect(keysOf(h.at(2))).toEqual(keysOf(OLD_SET));
    expect(keysOf(h.at(3))).toEqual(keysOf(NEW_SET));
    expect(h.changes.map((c) => c.height)).toEqual([3]);
    // The same header again is fine; another header at 2 naming another set is a conflict.
    expect(h.follow(header(2, NEW_HASH))).toBeUndefined();
    expect(() => h.follow(header(2, OLD_HASH))).toThrow(ValidatorSetConflictError);
    // Under the new set, a header naming it carries it on.
    expect(h.follow(header(3, NEW_HASH))).toBeUndefined();
    expect(keysOf(h.at(4))).toEqual(keysOf(NEW_SET));
    expect(() => h.follow(header(9, NEW_HASH))).toThrow(/not known/);
  });

  it("starts again from stored changes: known through the last change and the node's next height", () => {
    const h = new ValidatorSetHistory(OLD_SET, [{ height: 5, validators: NEW_SET }], 3);
    expect(h.knownThrough).toBe(5);
    expect(keysOf(h.at(4))).toEqual(keysOf(OLD_SET));
    expect(keysOf(h.at(5))).toEqual(keysOf(NEW_SET));
    expect(h.at(6)).toBeUndefined();
  });
});

describe("sequencer validator sets on disk", () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  async function openDb() {
    const dir = mkdtempSync(join(tmpdir(), "metro-valsets-"));
    dirs.push(dir);
    const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
    await db.open();
    return { dir, db };
  }

  it("fetches a change once for both paths, stores it before the history moves to it, and finds it after a reopen", async () => {
    const { dir, db } = await openDb();
    const asked: NeededValidatorSet[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const fetch = async (needed: NeededValidatorSet) => {
      asked.push(needed);
      await gate;
      return NEW_SET;
    };
    const sets = await SequencerValidatorSets.open({ db: db as unknown as Db, genesis: OLD_SET, knownThrough: 3, fetch });
    const signal = new AbortController().signal;
    const soft = sets.follow(header(3, NEW_HASH), signal);
    const firm = sets.follow(header(3, NEW_HASH), signal);
    expect(sets.at(4)).toBeUndefined();
    release();
    await Promise.all([soft, firm]);
    expect(asked).toEqual([{ height: 4, hash: NEW_HASH }]);
    expect(keysOf(sets.at(4))).toEqual(keysOf(NEW_SET));
    await db.close();

    // As after a crash right after the change was stored: the node's head still below the change.
    const again = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
    await again.open();
    const reopened = await SequencerValidatorSets.open({ db: again as unknown as Db, genesis: OLD_SET, knownThrough: 3 });
    expect(keysOf(reopened.at(4))).toEqual(keysOf(NEW_SET));
    await reopened.follow(header(3, NEW_HASH), signal); // no fetch: there is none to call
    await expect(reopened.follow(header(3, OLD_HASH), signal)).rejects.toThrow(ValidatorSetConflictError);
    await again.close();
  });

  it("moves to a fetched set only once it is on disk", async () => {
    const { db } = await openDb();
    // Fault injection: the store's write is held until released, to look at the sets meanwhile.
    let releaseWrite!: () => void;
    const writeGate = new Promise<void>((resolve) => (releaseWrite = resolve));
    let writeBegun!: () => void;
    const writing = new Promise<void>((resolve) => (writeBegun = resolve));
    const bound = (target: object, prop: string | symbol) => {
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    };
    const gated = new Proxy(db, {
      get(target, prop) {
        if (prop !== "sublevel") return bound(target, prop);
        return (...args: unknown[]) =>
          new Proxy((target.sublevel as (...a: unknown[]) => object)(...args), {
            get(sub, p) {
              if (p !== "put") return bound(sub, p);
              return async (...a: unknown[]) => {
                writeBegun();
                await writeGate;
                return (bound(sub, "put") as (...x: unknown[]) => Promise<void>)(...a);
              };
            },
          });
      },
    });
    const sets = await SequencerValidatorSets.open({ db: gated as unknown as Db, genesis: OLD_SET, knownThrough: 3, fetch: async () => NEW_SET });
    let followed = false;
    const following = sets.follow(header(3, NEW_HASH), new AbortController().signal).then(() => (followed = true));
    await writing;
    expect(sets.at(4)).toBeUndefined();
    expect(followed).toBe(false);
    releaseWrite();
    await following;
    expect(keysOf(sets.at(4))).toEqual(keysOf(NEW_SET));
    await db.close();
  });
});

/** Fixture blocks as a chain whose set changes at `change`: block change-1 names the new set, later blocks are the new set's. */
function changingFixture(count: number, change: number): SourceBlock[] {
  return fixtureBlocks(Array.from({ length: count }, () => [randomTx("rollup-a", 40)])).map((b) => {
    if (b.height < change - 1) return b;
    const keys: Ed25519Key[] = b.height === change - 1 ? FIXTURE_KEYS : NEW_KEYS;
    const h: SequencerHeader = { ...b.block.header, validatorsHash: b.height === change - 1 ? OLD_HASH : NEW_HASH, nextValidatorsHash: NEW_HASH };
    const hash = blockHash(h);
    const blockId = { hash, partSetHeader: { total: 1, hash: sha256(hash) } };
    const signBytes = voteSignBytes({ chainId: h.chainId, type: PRECOMMIT, height: h.height, round: 0, blockId, timestamp: h.time });
    const signatures = keys.map((k) => ({ blockIdFlag: 2 as const, validatorAddress: validatorAddress(k.publicKey), timestamp: h.time, signature: ed25519Sign(k, signBytes) }));
    return { ...b, block: { ...b.block, header: h }, blockId, commit: { height: h.height, round: 0, blockId, signatures } };
  });
}

describe("firm assembler across a validator set change", () => {
  const SEQ_NS = namespaceFromSecondaryChainId(FIXTURE_CHAIN.chainId);
  const ROLLUP_NS = namespaceFromSecondaryChainId("rollup-a");
  const blobOf = (blocks: SourceBlock[]) => {
    const planned = planBatch(blocks.map(relayBlock), { limits: CELESTIA_MAINNET_LIMITS, compression: { codec: "zstd", level: 3 }, sequencerNamespace: SEQ_NS, storedPerEncoded: 1 });
    return planned.submissions.flat().filter((b) => Buffer.compare(b.namespace, SEQ_NS) === 0 || Buffer.compare(b.namespace, ROLLUP_NS) === 0).map((b) => newBlob({ namespace: b.namespace, data: b.data, shareVersion: 0 }));
  };

  it("holds the blocks past a header it has not followed, verifies them once their set is known, and refuses the old set's after the change", () => {
    const CHANGE = 4;
    const chain = changingFixture(6, CHANGE);
    const sets = new ValidatorSetHistory(OLD_SET, [], 1);
    const a = new FirmAssembler({ chainId: FIXTURE_CHAIN.chainId, validatorSets: sets, rollupId: "rollup-a", sequencerNamespace: SEQ_NS, rollupNamespace: ROLLUP_NS });
    for (const blob of blobOf(chain)) expect(a.add(blob, 10)).toMatchObject({ accepted: true });
    expect(a.ready(1)).toBeDefined();
    expect(a.ready(2)).toBeUndefined(); // held: header 1 not followed
    // The old set's own block 5 (the chain without the change), read later: it must not verify under the new set.
    const oldFive = fixtureBlocks(Array.from({ length: 5 }, () => [randomTx("rollup-a", 40)]))[4];
    for (const blob of blobOf([oldFive])) a.add(blob, 11);

    const refused: Error[] = [];
    for (let height = 1; height <= 6; height++) {
      refused.push(...a.verifyHeld().refused);
      const firm = a.ready(height)!;
      expect(Buffer.from(firm.block.hash)).toEqual(Buffer.from(chain[height - 1].blockId.hash));
      expect(firm.da.height).toBe(10n);
      const needed = sets.follow(firm.block.header);
      if (needed) sets.accept(needed, NEW_SET); // what the node fetches and checks
      a.forget(height);
      // Held blocks keep their DA height for a restart; at the end only the refused block's rollup record (never matched) remains.
      expect(a.resumeDaHeight(11)).toBe(height < 6 ? 9 : 10);
    }
    expect(sets.changes.map((c) => c.height)).toEqual([CHANGE]);
    expect(refused.map((e) => e.message)).toEqual([expect.stringMatching(/sequencer block 5: validators_hash/)]);
  });
});
