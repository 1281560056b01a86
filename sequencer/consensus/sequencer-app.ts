// The sequencer application as the consensus engine sees it. Validation adds to the app's own
// (every header field re-derived, every transaction executed) what only consensus can check: the
// bytes are the block the proposal signed, the proposer is a validator, and the previous block's
// commit inside the block carries +2/3 valid precommits.
import { verifyCommit } from "../../cometbft/verify-commit.ts";
import type { Commit } from "../../cometbft/vote.ts";
import { ProposalError, type ExecutedBlock, type SequencerApp } from "../app.ts";
import { blockIdOf, decodeBlock, type Block } from "../block/block.ts";
import type { ChainHead } from "../store/chain-store.ts";
import { validatorAddress } from "../../cometbft/validator-set.ts";
import type { ConsensusApp } from "./engine.ts";
import { blockKey } from "./messages.ts";
import type { Value } from "./state-machine.ts";

export interface SequencerConsensusAppOptions {
  /** After each block is on disk, with what the node reports (metrics, subscriptions). */
  onCommit?: (head: ChainHead, executed: ExecutedBlock, commit: Commit) => void;
}

function decode(bytes: Uint8Array): Block | undefined {
  try {
    return decodeBlock(bytes);
  } catch {
    return undefined;
  }
}

export function sequencerConsensusApp(app: SequencerApp, options: SequencerConsensusAppOptions = {}): ConsensusApp {
  const chainId = app.genesis.chainId;
  const addresses = new Set(app.validators.map((v) => Buffer.from(validatorAddress(v.pubKey)).toString("hex")));
  return {
    chainId,
    validators: app.validators,
    // The app numbers its first block 1 (its head is 0 at genesis).
    initialHeight: 1n,
    async committed() {
      const head = app.head;
      return { height: BigInt(head.height), commit: head.height > 0 ? await app.store.commit(head.height) : undefined };
    },
    blockIdOf(bytes) {
      const block = decode(bytes);
      return block && blockIdOf(block, bytes);
    },
    async buildBlock({ height, proposerAddress, lastCommit, timeMs }) {
      const { block, encoded } = await app.prepareProposal(timeMs, proposerAddress, lastCommit);
      if (block.header.height !== height) throw new Error(`asked for a block at height ${height}, but the application is at ${block.header.height}`);
      return { blockId: blockIdOf(block, encoded), block: encoded };
    },
    async validateBlock(height, value: Value) {
      const block = decode(value.block);
      if (!block || block.header.height !== height) return false;
      const id = blockIdOf(block, value.block);
      if (blockKey(id) !== blockKey(value.blockId)) return false;
      if (!addresses.has(Buffer.from(block.header.proposerAddress).toString("hex"))) return false;
      const head = app.head;
      // Its presence and hash are the app's to check; its signatures are consensus's.
      if (block.lastCommit) {
        try {
          verifyCommit(chainId, app.validators, BigInt(head.height), head.blockId, block.lastCommit);
        } catch {
          return false;
        }
      }
      try {
        await app.processProposal(block, value.block);
      } catch (error) {
        if (error instanceof ProposalError) return false;
        throw error;
      }
      return true;
    },
    async commitBlock(height, value, commit) {
      const block = decodeBlock(value.block);
      if (block.header.height !== height) throw new Error(`committing a block for height ${block.header.height} at height ${height}`);
      const { head, executed } = await app.finalizeBlock(block, commit);
      options.onCommit?.(head, executed, commit);
    },
  };
}
