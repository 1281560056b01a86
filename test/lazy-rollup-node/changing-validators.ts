// A sequencer chain that changes its validator set, built from a real sequencer's blocks (whose set
// never changes): block changeHeight-1 is signed by the genesis set (the sequencer's key) with a
// next_validators_hash naming a new set of three validators, and every block from changeHeight on
// names the new set and is signed by all three of it. Signatures are deterministic, so the tampering
// RPC and the relayer's source below serve the same blocks. Headers' last_block_id still name the
// original blocks: nothing on the rollup node's paths links headers.
import { ed25519FromSeed, ed25519Sign, type Ed25519Key } from "../../cometbft/ed25519.ts";
import { fromBase64, sha256, toBase64, toHexUpper } from "../../cometbft/hash.ts";
import { blockIdJson, type BlockID } from "../../cometbft/header.ts";
import { validatorAddress, validatorSetHash, type Validator } from "../../cometbft/validator-set.ts";
import { PRECOMMIT, voteSignBytes, type Commit } from "../../cometbft/vote.ts";
import { blockIdOf, decodeBlock, decodeCommit, encodeBlock, encodeCommit, type Block } from "../../sequencer/block/block.ts";
import type { SequencerNode } from "../../sequencer/node.ts";
import { nodeSource } from "../../sequencer/relayer/node-source.ts";
import { sourceBlock, type BlockSource } from "../../sequencer/relayer/source.ts";
import type { StreamedBlockJson } from "../../sequencer/rpc/block-stream.ts";

export const NEW_KEYS: Ed25519Key[] = [1, 2, 3].map((i) => ed25519FromSeed(sha256(new TextEncoder().encode(`new sequencer validator ${i}`))));
export const NEW_SET: Validator[] = NEW_KEYS.map((k) => ({ pubKey: k.publicKey, votingPower: 10n }));

/** `block` signed by every one of `keys`, in their order, at the original commit's round and time. */
export function signedBy(block: Block, original: Commit, keys: readonly Ed25519Key[]): { block: Block; blockId: BlockID; commit: Commit; encoded: Uint8Array } {
  const encoded = encodeBlock(block);
  const blockId = blockIdOf(block, encoded);
  const { timestamp } = original.signatures.find((s) => s.blockIdFlag === 2)!;
  const signBytes = voteSignBytes({ chainId: block.header.chainId, type: PRECOMMIT, height: block.header.height, round: original.round, blockId, timestamp });
  const signatures = keys.map((key) => ({ blockIdFlag: 2 as const, validatorAddress: validatorAddress(key.publicKey), timestamp, signature: ed25519Sign(key, signBytes) }));
  return { block, blockId, commit: { ...original, blockId, signatures }, encoded };
}

type SignedBlock = ReturnType<typeof signedBy>;

/** A signed block as metro_subscribe_blocks streams it. */
export function streamedJson(b: SignedBlock): StreamedBlockJson {
  return { height: String(b.block.header.height), block_id: blockIdJson(b.blockId), block: toBase64(b.encoded), commit: toBase64(encodeCommit(b.commit)) };
}

export interface ChangingChain {
  changeHeight: number;
  /** The set of each height on this chain. */
  validatorsAt(height: number): readonly Validator[];
  /** The real block at `json.height` -> this chain's block there. */
  rewrite(json: StreamedBlockJson): StreamedBlockJson;
  /** This chain's block at `height` (hash in upper-case hex), once the real one is committed. */
  blockHash(height: number): Promise<string>;
  /** The real sequencer's blocks as this chain has them, for a relayer. */
  source(): BlockSource;
}

export function changingChain(node: SequencerNode, changeHeight: number): ChangingChain {
  const oldKey = node.privval.key;
  const newHash = validatorSetHash(NEW_SET);
  const rewriteBlock = (block: Block, commit: Commit): SignedBlock => {
    const height = Number(block.header.height);
    if (height < changeHeight - 1) {
      const encoded = encodeBlock(block);
      return { block, blockId: blockIdOf(block, encoded), commit, encoded };
    }
    if (height === changeHeight - 1) return signedBy({ ...block, header: { ...block.header, nextValidatorsHash: newHash } }, commit, [oldKey]);
    return signedBy({ ...block, header: { ...block.header, validatorsHash: newHash, nextValidatorsHash: newHash } }, commit, NEW_KEYS);
  };
  return {
    changeHeight,
    validatorsAt: (height) => (height < changeHeight ? node.genesis.validators : NEW_SET),
    rewrite: (json) => streamedJson(rewriteBlock(decodeBlock(fromBase64(json.block)), decodeCommit(fromBase64(json.commit)))),
    async blockHash(height) {
      const real = (await node.store.block(height))!;
      return toHexUpper(rewriteBlock(real.block, (await node.store.commit(height))!).blockId.hash);
    },
    source() {
      const real = nodeSource(node);
      return {
        ...real,
        async *blocks(fromHeight, signal) {
          for await (const b of real.blocks(fromHeight, signal)) {
            const out = rewriteBlock(b.block, b.commit);
            yield sourceBlock(out.block, out.blockId, out.commit, node.genesis.params);
          }
        },
      };
    },
  };
}
