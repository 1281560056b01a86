// The consensus engine: drives the pure state machine with real effects. It turns the machine's
// outputs into signatures (through the double-sign guard), broadcasts, timers and application calls,
// and feeds their results back as inputs, one at a time, in order. Every accepted input is logged
// ahead of its effects; the log is fsynced before anything is signed and again with the signed
// message, so a restart replays the current height into the same state and re-signs nothing new.
//
// Around the machine it handles what one height cannot see: messages for the next height are
// buffered (a bounded number per validator) and fed once the node gets there, older ones are
// dropped (but tell us a peer is behind, which we help with the last block and its commit), and
// when more than a third of the power is seen at later heights the node reports that it is behind,
// so block sync can bring it forward through applySyncedBlock.
import type { BlockID } from "../../cometbft/header.ts";
import { timestampFromMs } from "../../cometbft/time.ts";
import type { Validator } from "../../cometbft/validator-set.ts";
import { verifyCommit } from "../../cometbft/verify-commit.ts";
import type { Commit } from "../../cometbft/vote.ts";
import { systemClock, type Clock } from "./clock.ts";
import { blockKey, decodeMessage, encodeMessage, messageHeight, verifyProposalSignature, verifyVoteSignature, type ConsensusMessage } from "./messages.ts";
import { DoubleSignError, type PrivValidator } from "./privval.ts";
import { nextHeightPriorities, prioritiesAtHeight, proposerIndex, type ProposerPriorities } from "./proposer.ts";
import { signRequest } from "./signing.ts";
import {
  afterSyncedBlock,
  catchUpMessages,
  gossipMessages,
  initialState,
  machineConfig,
  proposerOf,
  roundMessages,
  step,
  type ConsensusState,
  type DuplicateVoteEvidence,
  type MachineConfig,
  type MachineInput,
  type MachineOutput,
  type SignRequest,
  type Step,
  type Value,
} from "./state-machine.ts";
import { DEFAULT_TIMEOUTS, STEP_COMMIT_TIMEOUT, validateTimeouts, type Timeout, type TimeoutConfig } from "./timeouts.ts";
import type { ConsensusTransport, PeerId } from "./transport.ts";
import type { EndHeight, LoggedInput, Wal, WalEntry } from "./wal.ts";
import { exceedsOneThird } from "./vote-set.ts";

/** The application as consensus needs it (the sequencer's SequencerApp through sequencer-app.ts). */
export interface ConsensusApp {
  readonly chainId: string;
  /** In commit order. */
  readonly validators: readonly Validator[];
  /** The chain's first height. */
  readonly initialHeight: bigint;
  /** The last committed height (initialHeight - 1 before any block) and its commit. */
  committed(): Promise<{ height: bigint; commit: Commit | undefined }>;
  /** The id a block's bytes hash to, or undefined if they are not a block. Must be a pure function. */
  blockIdOf(block: Uint8Array): BlockID | undefined;
  /** A block for `height` from this node as proposer, carrying the previous height's commit. */
  buildBlock(request: { height: bigint; round: number; proposerAddress: Uint8Array; lastCommit: Commit | undefined; timeMs: number }): Promise<Value>;
  /** Whether `value` is a valid block for `height`; the previous height is committed when this is asked. */
  validateBlock(height: bigint, value: Value): Promise<boolean>;
  /** Commits a block with +2/3 precommits; it is durable when the promise resolves. */
  commitBlock(height: bigint, value: Value, commit: Commit): Promise<void>;
}

export interface CommittedBlock {
  height: bigint;
  round: number;
  value: Value;
  commit: Commit;
  /** Committed through applySyncedBlock rather than decided by this node's consensus. */
  synced: boolean;
}

export interface EngineStatus {
  height: bigint;
  round: number;
  step: Step;
  lockedRound: number;
  validRound: number;
  committedHeight: bigint;
}

export interface EngineOptions {
  app: ConsensusApp;
  /** This node's signer; without one the node follows consensus without voting. */
  privval?: PrivValidator;
  wal: Wal;
  transport: ConsensusTransport;
  clock?: Clock;
  timeouts?: Partial<TimeoutConfig>;
  /** How often this node re-broadcasts its votes of the current round (messages get lost). */
  gossipIntervalMs?: number;
  /** Every this many gossip rounds the block-carrying messages (proposals) are re-sent too. */
  blockGossipEvery?: number;
  /**
   * Re-broadcast each vote and commit the first time it is accepted, which is the paper's gossip
   * (what a correct node receives, all do): it is how everyone sees a vote a faulty validator showed
   * only some. Proposals are not relayed (blocks are large); the gossip rounds repeat them.
   */
  relay?: boolean;
  /** How long more than 1/3 of the power must be seen ahead before onBehind fires. */
  syncGraceMs?: number;
  /** Next-height messages buffered per validator. */
  futureMessagesPerValidator?: number;
  /** Received messages waiting to be processed before new ones are dropped. */
  maxPendingMessages?: number;
  onCommit?: (committed: CommittedBlock) => void;
  /** The node is behind: it needs committed blocks from `fromHeight` on (idempotent; may repeat). */
  onBehind?: (fromHeight: bigint) => void;
  onEvidence?: (evidence: DuplicateVoteEvidence) => void;
  onError?: (error: unknown) => void;
}

const DEFAULT_GOSSIP_INTERVAL_MS = 1000;
const DEFAULT_BLOCK_GOSSIP_EVERY = 5;
const DEFAULT_SYNC_GRACE_MS = 2000;
const DEFAULT_FUTURE_PER_VALIDATOR = 16;
const DEFAULT_MAX_PENDING = 10_000;
const MAX_EVIDENCE_KEPT = 1000;
const MAX_FUTURE_PROPOSAL_ROUND = 16;
/** Bounds the memory later-height gossip can take while this node is stuck at one height. */
const MAX_FUTURE_SEEN = 10_000;

export class SyncedBlockError extends Error {
  override name = "SyncedBlockError";
}

function inputOf(m: ConsensusMessage): LoggedInput {
  switch (m.kind) {
    case "proposal":
      return { type: "proposal", proposal: m.proposal };
    case "vote":
      return { type: "vote", vote: m.vote };
    case "commit":
      return { type: "commit", commit: m.commit };
  }
}

function inputHeight(input: LoggedInput): bigint {
  switch (input.type) {
    case "proposal":
      return input.proposal.height;
    case "vote":
      return input.vote.height;
    case "commit":
      return input.commit.height;
    case "timeout":
      return input.timeout.height;
    case "built":
    case "validated":
      return input.height;
    case "signed":
      return input.message.kind === "proposal" ? input.message.proposal.height : input.message.vote.height;
  }
}

export class ConsensusEngine {
  readonly #o: EngineOptions;
  readonly #clock: Clock;
  readonly #config: MachineConfig;
  readonly #gossipIntervalMs: number;
  readonly #syncGraceMs: number;
  #state!: ConsensusState;
  #committedHeight = 0n;
  #running = false;
  #replaying = false;
  /** Timeouts the machine asked for while replaying, armed once replay ends. */
  #replayedTimeouts: { timeout: Timeout; delayMs: number }[] = [];
  /** Inputs run one at a time, in arrival order. */
  #queue: Promise<unknown> = Promise.resolve();
  #pending = 0;
  /** Application calls never overlap (a validation must not race a commit). */
  #appQueue: Promise<unknown> = Promise.resolve();
  readonly #timers = new Set<() => void>();
  /** Verified next-height messages, by the validator that signed them ("commit" for relayed commits). */
  #future = new Map<number | "commit", ConsensusMessage[]>();
  /** Signatures of later-height messages already looked at, so gossip repeats cost no verification. */
  #futureSeen = new Set<string>();
  /** Highest later height each validator was seen at. */
  #ahead = new Map<number, bigint>();
  #commitAhead = 0n;
  #behindTimerFor: bigint | undefined;
  /** Peers helped from one height back (the first help is the commit alone), and when last. */
  #catchUpMs = new Map<PeerId, number>();
  /** When this node entered the current height: the block time runs from there. */
  #heightStartedMs = 0;
  /** When each earlier round of this height was last re-sent. */
  #roundHelpMs = new Map<number, number>();
  readonly #evidence: DuplicateVoteEvidence[] = [];

  constructor(options: EngineOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    validateTimeouts(timeouts);
    this.#gossipIntervalMs = options.gossipIntervalMs ?? DEFAULT_GOSSIP_INTERVAL_MS;
    this.#syncGraceMs = options.syncGraceMs ?? DEFAULT_SYNC_GRACE_MS;
    const { app } = options;
    this.#config = machineConfig({ chainId: app.chainId, validators: app.validators, selfPubKey: options.privval?.key.publicKey, timeouts, blockIdOf: (b) => app.blockIdOf(b) });
    if (options.privval && this.#config.self === undefined) throw new Error("the validator key is not in the validator set");
  }

  /** Replays the current height from the log, then joins consensus. */
  async start(): Promise<void> {
    const { app, wal } = this.#o;
    const committed = await app.committed();
    this.#committedHeight = committed.height;
    const height = committed.height + 1n;
    const { entries } = wal.open();
    this.#state = initialState(this.#config, { height, priorities: this.#prioritiesFor(height, entries), lastCommit: committed.commit });
    this.#heightStartedMs = this.#clock.now();
    this.#running = true;
    this.#replaying = true;
    await this.#feed({ type: "start" });
    for (const entry of entries) {
      if (entry.kind === "input" && inputHeight(entry.input) === this.#state.height) await this.#feed(entry.input);
    }
    this.#replaying = false;
    await this.#resume();
    this.#o.transport.onMessage((from, bytes) => this.#onMessage(from, bytes));
    this.#o.transport.onPeerConnected?.(() => this.#post(() => this.#gossip(true)));
    this.#gossipLoop(0);
  }

  async stop(): Promise<void> {
    this.#running = false;
    for (const cancel of this.#timers) cancel();
    this.#timers.clear();
    await this.#queue;
    await this.#appQueue.catch(() => {});
  }

  status(): EngineStatus {
    const s = this.#state;
    return { height: s.height, round: s.round, step: s.step, lockedRound: s.lockedRound, validRound: s.validRound, committedHeight: this.#committedHeight };
  }

  /** Duplicate votes seen (the most recent ones). */
  get evidence(): readonly DuplicateVoteEvidence[] {
    return this.#evidence;
  }

  /** The machine's state, for tests and diagnostics. */
  get state(): ConsensusState {
    return this.#state;
  }

  /**
   * Commits a block obtained by block sync: its commit must carry +2/3 valid precommits for exactly
   * this block at the height consensus is on. Resolves false if consensus got there first.
   */
  applySyncedBlock(block: Uint8Array, commit: Commit): Promise<boolean> {
    return this.#enqueue(async () => {
      const s = this.#state;
      if (commit.height !== s.height || s.decision) return false;
      const blockId = this.#o.app.blockIdOf(block);
      if (!blockId || blockKey(blockId) !== blockKey(commit.blockId)) throw new SyncedBlockError(`synced block at height ${commit.height} does not match its commit's block id`);
      verifyCommit(this.#config.chainId, this.#config.validators, s.height, blockId, commit);
      const value = { blockId, block };
      await this.#commit({ height: s.height, round: commit.round, value, commit, synced: true });
      const result = afterSyncedBlock(this.#state, commit);
      await this.#advance(result.state, result.outputs);
      return true;
    });
  }

  // ---- the input loop ----

  #enqueue<T>(task: () => Promise<T> | T): Promise<T> {
    this.#pending++;
    const run = this.#queue.then(task).finally(() => this.#pending--);
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Enqueues a task nobody awaits; its failure goes to onError. */
  #post(task: () => Promise<unknown> | unknown): void {
    this.#enqueue(task).catch((error) => this.#o.onError?.(error));
  }

  #onMessage(from: PeerId, bytes: Uint8Array): void {
    if (!this.#running || this.#pending >= (this.#o.maxPendingMessages ?? DEFAULT_MAX_PENDING)) return;
    this.#post(() => this.#receive(from, bytes));
  }

  async #receive(from: PeerId, bytes: Uint8Array): Promise<void> {
    if (!this.#running) return;
    let message: ConsensusMessage;
    try {
      message = decodeMessage(bytes);
    } catch {
      return;
    }
    const height = messageHeight(message);
    const current = this.#state.height;
    if (height < current) {
      if (height === current - 1n) this.#helpCatchUp(from);
      return;
    }
    if (height > current) {
      this.#noteFuture(message);
      return;
    }
    if ((await this.#feed(inputOf(message))) && message.kind !== "proposal" && this.#o.relay !== false) this.#o.transport.broadcast(bytes);
    if (message.kind === "commit") this.#checkBehind();
    this.#maybeHelpRound(message);
  }

  /** Helps only a signer that was seen in no later round: others' re-sent old messages prove nothing. */
  #maybeHelpRound(message: ConsensusMessage): void {
    const s = this.#state;
    if (message.kind === "commit" || messageHeight(message) !== s.height) return;
    const round = message.kind === "proposal" ? message.proposal.round : message.vote.round;
    if (round >= s.round) return;
    const signer = message.kind === "proposal" ? proposerOf(s, round) : message.vote.validatorIndex;
    if (signer < s.highestRound.length && s.highestRound[signer] <= round) this.#helpRound(round);
  }

  /**
   * Someone is still in an earlier round of this height: re-send what we sent there (at most once per
   * gossip interval per round). Without it a node whose round-r precommit was lost after it moved on
   * could leave the others waiting forever for +2/3 precommits in round r.
   */
  #helpRound(round: number): void {
    const now = this.#clock.now();
    if (now - (this.#roundHelpMs.get(round) ?? -Infinity) < this.#gossipIntervalMs) return;
    this.#roundHelpMs.set(round, now);
    for (const message of roundMessages(this.#state, round)) this.#o.transport.broadcast(encodeMessage(message));
  }

  /** For inputs that arrive late (timers, application results): nothing once stopped. */
  async #feedIfRunning(input: MachineInput): Promise<void> {
    if (this.#running) await this.#feed(input);
  }

  /** One input through the machine; accepted inputs are logged before their effects. True if accepted. */
  async #feed(input: MachineInput): Promise<boolean> {
    const before = this.#state;
    const { state, outputs } = step(before, input);
    if (state === before) return false;
    if (!this.#replaying && input.type !== "start" && input.type !== "signed") this.#o.wal.append({ kind: "input", input });
    await this.#advance(state, outputs);
    return true;
  }

  /** Installs a new machine state and carries out its outputs. */
  async #advance(state: ConsensusState, outputs: MachineOutput[]): Promise<void> {
    const previousHeight = this.#state.height;
    this.#state = state;
    if (state.height !== previousHeight) this.#o.wal.endHeight({ height: previousHeight, priorities: [...state.priorities.priorities], proposer: state.priorities.proposer });
    for (const output of outputs) await this.#perform(output);
    if (state.height !== previousHeight) await this.#enteredHeight();
  }

  async #perform(output: MachineOutput): Promise<void> {
    switch (output.type) {
      case "sign":
        if (!this.#replaying) await this.#sign(output.request);
        return;
      case "broadcast":
        if (!this.#replaying) this.#o.transport.broadcast(encodeMessage(output.message));
        return;
      case "schedule":
        if (this.#replaying) this.#replayedTimeouts.push(output);
        else this.#schedule(output.timeout, output.delayMs);
        return;
      case "build":
        if (!this.#replaying) this.#build(output.height, output.round, output.lastCommit);
        return;
      case "validate":
        if (!this.#replaying) this.#validate(output.height, output.value);
        return;
      case "decide": {
        const d = output.decision;
        await this.#commit({ height: d.height, round: d.round, value: d.value, commit: d.commit, synced: false });
        return;
      }
      case "evidence":
        this.#evidence.push(output.evidence);
        if (this.#evidence.length > MAX_EVIDENCE_KEPT) this.#evidence.shift();
        this.#o.onEvidence?.(output.evidence);
        return;
    }
  }

  /** After replay: the requests the machine is still waiting on, and the timers it asked for. */
  async #resume(): Promise<void> {
    const s = this.#state;
    for (const request of s.pendingSigns) await this.#sign(request);
    if (this.#state.building) this.#build(this.#state.height, this.#state.round, this.#state.lastCommit);
    for (const [key, verdict] of this.#state.verdicts) {
      const held = this.#state.values.get(key);
      if (verdict === "pending" && held) this.#validate(this.#state.height, held.value);
    }
    for (const { timeout, delayMs } of this.#replayedTimeouts.splice(0)) this.#schedule(timeout, delayMs);
  }

  async #sign(request: SignRequest): Promise<void> {
    const { privval, wal } = this.#o;
    if (!privval) return;
    // The inputs that led to this signature are durable before it exists.
    wal.sync();
    let message;
    try {
      message = signRequest(privval, this.#config.chainId, request, timestampFromMs(this.#clock.now()));
    } catch (error) {
      if (error instanceof DoubleSignError) {
        this.#o.onError?.(error);
        return;
      }
      throw error;
    }
    wal.append({ kind: "input", input: { type: "signed", message } });
    wal.sync();
    await this.#feed({ type: "signed", message });
  }

  async #commit(c: CommittedBlock): Promise<void> {
    if (c.height <= this.#committedHeight) return;
    try {
      await this.#app(() => this.#o.app.commitBlock(c.height, c.value, c.commit));
    } catch (error) {
      // The chain cannot go on without this block on disk; stop rather than vote on a stale head.
      this.#running = false;
      for (const cancel of this.#timers) cancel();
      throw error;
    }
    this.#committedHeight = c.height;
    this.#o.onCommit?.(c);
  }

  #app<T>(call: () => Promise<T>): Promise<T> {
    const run = this.#appQueue.then(call);
    this.#appQueue = run.catch(() => {});
    return run;
  }

  #build(height: bigint, round: number, lastCommit: Commit | undefined): void {
    const proposerAddress = this.#config.validators[this.#config.self!].address;
    this.#app(() => this.#o.app.buildBlock({ height, round, proposerAddress, lastCommit, timeMs: this.#clock.now() })).then(
      (value) => this.#post(() => this.#feedIfRunning({ type: "built", height, round, value })),
      (error) => this.#o.onError?.(error),
    );
  }

  #validate(height: bigint, value: Value): void {
    this.#app(() => this.#o.app.validateBlock(height, value)).then(
      (valid) => this.#post(() => this.#feedIfRunning({ type: "validated", height, blockId: value.blockId, valid })),
      (error) => {
        this.#o.onError?.(error);
        this.#post(() => this.#feedIfRunning({ type: "validated", height, blockId: value.blockId, valid: false }));
      },
    );
  }

  #schedule(timeout: Timeout, delayMs: number): void {
    if (!this.#running) return;
    // The block time is the interval between heights, not a pause added after each one: a height
    // whose consensus and commit took part of it waits only for the rest. Under load this proposes
    // as soon as the previous block is in, and blocks stay as small as the rate allows; idle, blocks
    // still come one block time apart.
    if (timeout.step === STEP_COMMIT_TIMEOUT) delayMs = Math.max(0, delayMs - (this.#clock.now() - this.#heightStartedMs));
    const cancel = this.#clock.setTimer(delayMs, () => {
      this.#timers.delete(cancel);
      this.#post(() => this.#feedIfRunning({ type: "timeout", timeout }));
    });
    this.#timers.add(cancel);
  }

  #gossip(blocks: boolean): void {
    if (!this.#running) return;
    for (const message of gossipMessages(this.#state, blocks)) this.#o.transport.broadcast(encodeMessage(message));
  }

  #gossipLoop(tick: number): void {
    if (!this.#running) return;
    const every = this.#o.blockGossipEvery ?? DEFAULT_BLOCK_GOSSIP_EVERY;
    this.#post(() => this.#gossip(tick % every === 0));
    const cancel = this.#clock.setTimer(this.#gossipIntervalMs, () => {
      this.#timers.delete(cancel);
      this.#gossipLoop(tick + 1);
    });
    this.#timers.add(cancel);
  }

  // ---- other heights ----

  /** The proposer priorities for `height`: from the log's last height marker if it fits, else from genesis. */
  #prioritiesFor(height: bigint, entries: readonly WalEntry[]): ProposerPriorities {
    const validators = this.#config.validators;
    const marker = entries.findLast((e): e is EndHeight => e.kind === "endHeight");
    const usable = marker && marker.height < height && marker.priorities.length === validators.length && marker.proposer < validators.length;
    if (!usable) return prioritiesAtHeight(validators, this.#o.app.initialHeight, height);
    // The marker holds the set of the height after it; a crash between a commit and its marker leaves it one behind.
    let set: ProposerPriorities = { validators, priorities: marker.priorities, proposer: marker.proposer };
    for (let h = marker.height + 1n; h < height; h++) set = nextHeightPriorities(set);
    return set;
  }

  /** A message for a later height: evidence that we may be behind, and kept if it is for the next height. */
  #noteFuture(message: ConsensusMessage): void {
    const s = this.#state;
    const height = messageHeight(message);
    const validators = this.#config.validators;
    if (message.kind !== "commit") {
      const signature = Buffer.from(message.kind === "vote" ? message.vote.signature : message.proposal.signature).toString("hex");
      if (this.#futureSeen.has(signature) || this.#futureSeen.size >= MAX_FUTURE_SEEN) return;
      this.#futureSeen.add(signature);
    }
    let sender: number | "commit";
    if (message.kind === "vote") {
      const v = message.vote;
      if (v.validatorIndex >= validators.length || !verifyVoteSignature(this.#config.chainId, validators[v.validatorIndex].pubKey, v)) return;
      sender = v.validatorIndex;
      if ((this.#ahead.get(sender) ?? 0n) < height) this.#ahead.set(sender, height);
    } else if (message.kind === "proposal") {
      // Only the next height's proposer is known before getting there.
      if (height !== s.height + 1n) return;
      const p = message.proposal;
      // The proposer computation is linear in the round: only early rounds are worth it here.
      if (p.round > MAX_FUTURE_PROPOSAL_ROUND) return;
      sender = proposerIndex(nextHeightPriorities(s.priorities), p.round);
      if (!verifyProposalSignature(this.#config.chainId, validators[sender].pubKey, p)) return;
      if ((this.#ahead.get(sender) ?? 0n) < height) this.#ahead.set(sender, height);
    } else {
      if (height <= this.#commitAhead) return;
      try {
        verifyCommit(this.#config.chainId, validators, height, message.commit.blockId, message.commit);
      } catch {
        return;
      }
      sender = "commit";
      this.#commitAhead = height;
    }
    if (height === s.height + 1n) {
      const kept = this.#future.get(sender) ?? [];
      if (kept.length < (this.#o.futureMessagesPerValidator ?? DEFAULT_FUTURE_PER_VALIDATOR)) this.#future.set(sender, [...kept, message]);
    }
    this.#checkBehind();
  }

  #checkBehind(): void {
    const s = this.#state;
    const height = s.height;
    if (this.#behindTimerFor === height) return;
    let power = 0n;
    for (const [index, seen] of this.#ahead) if (seen > height) power += this.#config.validators[index].votingPower;
    // More than 1/3 of the power at later heights includes a correct validator, which only moves on
    // after a commit; a verified commit for a later height says the same; and a verified commit for
    // this height whose block never came means the block must be fetched.
    const blockMissing = s.certificate !== undefined && !s.decision && !s.values.has(blockKey(s.certificate.blockId));
    if (!exceedsOneThird(power, this.#config.totalPower) && this.#commitAhead <= height && !blockMissing) return;
    this.#behindTimerFor = height;
    const cancel = this.#clock.setTimer(this.#syncGraceMs, () => {
      this.#timers.delete(cancel);
      this.#post(() => {
        if (!this.#running || this.#state.height !== height) return;
        // Re-armed by the next later-height message, so a sync that fails is asked for again.
        this.#behindTimerFor = undefined;
        this.#o.onBehind?.(height);
      });
    });
    this.#timers.add(cancel);
  }

  /**
   * A peer is one height back: send it what decided that height, at most once per gossip interval.
   * First the commit alone: a peer that sent an old message is most often just finishing that height
   * with the block in hand (a late vote, a relay), and re-sending it a whole block every height was
   * most of the committee's traffic. Only a peer still behind after that gets the block as well.
   */
  #helpCatchUp(peer: PeerId): void {
    const now = this.#clock.now();
    const helpedMs = this.#catchUpMs.get(peer);
    if (helpedMs !== undefined && now - helpedMs < this.#gossipIntervalMs) return;
    this.#catchUpMs.set(peer, now);
    const { transport } = this.#o;
    for (const message of catchUpMessages(this.#state, helpedMs !== undefined)) {
      const bytes = encodeMessage(message);
      if (transport.sendTo) transport.sendTo(peer, bytes);
      else transport.broadcast(bytes);
    }
  }

  /** On a new height: forget what is now history, feed what was buffered for it, re-check whether we are behind. */
  async #enteredHeight(): Promise<void> {
    const height = this.#state.height;
    this.#heightStartedMs = this.#clock.now();
    this.#catchUpMs = new Map();
    for (const [index, seen] of this.#ahead) if (seen <= height) this.#ahead.delete(index);
    const buffered = [...this.#future.values()].flat();
    this.#future = new Map();
    this.#futureSeen = new Set();
    this.#roundHelpMs = new Map();
    for (const message of buffered) {
      if (messageHeight(message) === this.#state.height) await this.#feed(inputOf(message));
    }
    this.#checkBehind();
  }
}
