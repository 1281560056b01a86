// Block production by a single validator holding more than 2/3 of the voting power: every block time
// it proposes from the mempool, signs its own precommit (through the double-sign guard) and commits.
// The BFT committee replaces this engine; the application does not change.
//
// The proposal is written to a write-ahead file before it is signed: a validator killed between
// signing and committing finds the same block on restart and commits it, rather than proposing a
// different one for a height it already signed (which its double-sign guard would refuse).
import { existsSync, readFileSync } from "node:fs";
import { blockIdOf, decodeBlock, type Block } from "../block/block.ts";
import { voteSignBytes, PRECOMMIT, type Commit } from "../../cometbft/vote.ts";
import type { SequencerApp, ExecutedBlock } from "../app.ts";
import type { ChainHead } from "../store/chain-store.ts";
import { writeFileDurably } from "../../cometbft/key-file.ts";
import { STEP_PRECOMMIT, type PrivValidator } from "./privval.ts";

export interface SoloEngineOptions {
  app: SequencerApp;
  privval: PrivValidator;
  /** Write-ahead file for the proposal being committed. */
  walPath: string;
  blockTimeMs: number;
  now?: () => number;
  onCommit?: (head: ChainHead, executed: ExecutedBlock, commit: Commit) => void;
  onError?: (error: unknown) => void;
}

export class SoloEngine {
  readonly #o: SoloEngineOptions;
  #lastCommit: Commit | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #producing: Promise<void> = Promise.resolve();

  constructor(options: SoloEngineOptions) {
    this.#o = options;
    const { app, privval } = options;
    const total = app.validators.reduce((sum, v) => sum + v.votingPower, 0n);
    const mine = app.validators.find((v) => Buffer.compare(v.pubKey, privval.key.publicKey) === 0);
    if (!mine || mine.votingPower * 3n <= total * 2n) {
      throw new Error("a single validator can only produce blocks when it holds more than 2/3 of the voting power in genesis");
    }
  }

  async start(): Promise<void> {
    const head = this.#o.app.head;
    this.#lastCommit = head.height > 0 ? await this.#o.app.store.commit(head.height) : undefined;
    this.#running = true;
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    await this.#producing;
  }

  #schedule(): void {
    if (!this.#running) return;
    const now = this.#now();
    const next = Math.max(this.#o.app.head.timeMs + this.#o.blockTimeMs, now);
    this.#timer = setTimeout(() => {
      this.#producing = this.#produce()
        .catch((error) => this.#o.onError?.(error))
        .finally(() => this.#schedule());
    }, next - now);
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  // A proposal for the next height left by a run that stopped before committing it.
  #pendingProposal(): { block: Block; encoded: Uint8Array } | undefined {
    if (!existsSync(this.#o.walPath)) return undefined;
    const encoded = new Uint8Array(readFileSync(this.#o.walPath));
    const block = decodeBlock(encoded);
    return block.header.height === BigInt(this.#o.app.head.height + 1) ? { block, encoded } : undefined;
  }

  async #produce(): Promise<void> {
    const { app, privval } = this.#o;
    const proposal = this.#pendingProposal() ?? (await app.prepareProposal(this.#now(), privval.address, this.#lastCommit));
    const { block, encoded } = proposal;
    writeFileDurably(this.#o.walPath, encoded);
    const blockId = blockIdOf(block, encoded);
    const timestamp = block.header.time;
    const signBytes = voteSignBytes({ chainId: app.genesis.chainId, type: PRECOMMIT, height: block.header.height, round: 0, blockId, timestamp });
    const signature = privval.sign(block.header.height, 0, STEP_PRECOMMIT, signBytes);
    const commit: Commit = {
      height: block.header.height,
      round: 0,
      blockId,
      signatures: app.validators.map((v) =>
        Buffer.compare(v.pubKey, privval.key.publicKey) === 0
          ? { blockIdFlag: 2 as const, validatorAddress: privval.address, timestamp, signature }
          : { blockIdFlag: 1 as const, validatorAddress: new Uint8Array(), timestamp: { seconds: 0n, nanos: 0 }, signature: new Uint8Array() },
      ),
    };
    const { head, executed } = await app.finalizeBlock(block, commit);
    this.#lastCommit = commit;
    this.#o.onCommit?.(head, executed, commit);
  }
}
