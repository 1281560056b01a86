// Signed sequencer blocks without a running node, for the relayer's pure tests: headers with real
// rollup roots, commits signed by three of four validators (the fourth absent), and the rollup data
// the relayer posts for them.
import { randomBytes } from "node:crypto";
import { ed25519FromSeed, ed25519Sign } from "../../cometbft/ed25519.ts";
import { EMPTY_BLOCK_ID, type BlockID } from "../../cometbft/header.ts";
import { sha256 } from "../../cometbft/hash.ts";
import { timestampFromMs } from "../../cometbft/time.ts";
import { validatorAddress, validatorSetHash } from "../../cometbft/validator-set.ts";
import { PRECOMMIT, voteSignBytes, type Commit, type CommitSig } from "../../cometbft/vote.ts";
import { blockHash, type SequencerHeader } from "../../sequencer/block/block.ts";
import { collectRollupData } from "../../sequencer/block/rollup-data.ts";
import { MSG_SUBMIT_BUNDLE, MSG_SUBMIT_ROLLUP_TX, type RollupTx, type SequencerMsg } from "../../sequencer/tx/messages.ts";
import type { SequencerChain } from "../../sequencer/relayer/reader.ts";
import type { SourceBlock } from "../../sequencer/relayer/source.ts";

export const FIXTURE_KEYS = [1, 2, 3, 4].map((i) => ed25519FromSeed(new Uint8Array(32).fill(i)));
const validators = FIXTURE_KEYS.map((k) => ({ pubKey: k.publicKey, votingPower: 10n }));
const SIGNERS = 3;

export const FIXTURE_CHAIN: SequencerChain = { chainId: "metro-fixture-1", validators };

/** A sequencer transaction: one rollup tx, or a bundle when given several. */
export type FixtureTx = RollupTx | RollupTx[];

function messages(tx: FixtureTx): SequencerMsg[] {
  return Array.isArray(tx) ? [{ type: MSG_SUBMIT_BUNDLE, signer: "metro1fixture", txs: tx }] : [{ type: MSG_SUBMIT_ROLLUP_TX, signer: "metro1fixture", tx }];
}

function sign(header: SequencerHeader, blockId: BlockID): Commit {
  const signatures: CommitSig[] = FIXTURE_KEYS.map((key, i) => {
    if (i >= SIGNERS) return { blockIdFlag: 1, validatorAddress: new Uint8Array(), timestamp: { seconds: 0n, nanos: 0 }, signature: new Uint8Array() };
    const timestamp = header.time;
    const signature = ed25519Sign(key, voteSignBytes({ chainId: header.chainId, type: PRECOMMIT, height: header.height, round: 0, blockId, timestamp }));
    return { blockIdFlag: 2, validatorAddress: validatorAddress(key.publicKey), timestamp, signature };
  });
  return { height: header.height, round: 0, blockId, signatures };
}

/** Blocks 1..n, block i holding the sequencer transactions `blocks[i - 1]`. */
export function fixtureBlocks(blocks: readonly FixtureTx[][]): SourceBlock[] {
  let lastBlockId = EMPTY_BLOCK_ID;
  return blocks.map((txs, i) => {
    const height = i + 1;
    const data = collectRollupData(txs.map((tx, j) => ({ hash: sha256(Uint8Array.of(height, j)), messages: messages(tx) })));
    const header: SequencerHeader = {
      version: { block: 11n, app: 1n },
      chainId: FIXTURE_CHAIN.chainId,
      height: BigInt(height),
      time: timestampFromMs(1_700_000_000_000 + height * 1000),
      lastBlockId,
      lastCommitHash: sha256(Uint8Array.of(1, height)),
      dataHash: sha256(Uint8Array.of(2, height)),
      validatorsHash: validatorSetHash(validators),
      nextValidatorsHash: validatorSetHash(validators),
      consensusHash: sha256(Uint8Array.of(3)),
      appHash: sha256(Uint8Array.of(4, height)),
      lastResultsHash: sha256(Uint8Array.of(5, height)),
      evidenceHash: sha256(new Uint8Array()),
      proposerAddress: validatorAddress(FIXTURE_KEYS[0].publicKey),
      rollupTxsRoot: data.rollupTxsRoot,
      rollupIdsRoot: data.rollupIdsRoot,
    };
    const hash = blockHash(header);
    const blockId = { hash, partSetHeader: { total: 1, hash: sha256(hash) } };
    lastBlockId = blockId;
    const rollupDataBytes = txs.flat().reduce((n, t) => n + t.data.length, 0);
    return { height, block: { header, txs: [], lastCommit: undefined }, blockId, commit: sign(header, blockId), rollupData: data, rollupDataBytes };
  });
}

export function randomTx(secondaryChainId: string, size: number): RollupTx {
  return { secondaryChainId, data: randomBytes(size) };
}

/** A JSON token transfer, as a rollup that speaks JSON would send it (addresses from a small set, a random signature). */
export function transferTx(secondaryChainId: string, n: number): RollupTx {
  const account = (i: number) => `0x${Buffer.from(sha256(Uint8Array.of(i % 50))).toString("hex", 0, 20)}`;
  const json = { type: "transfer", from: account(n), to: account(n * 7 + 3), token: "USDC", amount: String(1000 + ((n * 7919) % 100_000)), nonce: n, sig: randomBytes(65).toString("hex") };
  return { secondaryChainId, data: new TextEncoder().encode(JSON.stringify(json)) };
}
