// The rollup node's state and the only writer of it: blocks executed soft from verified sequencer
// blocks, confirmed (made firm) from Celestia, rolled back when Celestia disagrees, and the headers
// derived lazily once blocks are firm. The soft and firm followers call in from their own loops; every
// change runs in one serial lane, so the two paths never interleave inside a block.
//
// On disk (one LevelDB): the rollup store and its headers under `rollup`, the node's own records
// under `node` (tx results and bundle proofs, written in each block's commit batch; firm records,
// written with the block when it is executed from firm data or on their own when they confirm a soft
// block; the DA cursor; alarms; the sequencer validator set changes followed). The soft cursor is the store's head and the firm cursor its latest
// firm record, so both are on disk exactly when the blocks are.
import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import { merkleRoot } from "../celestia/merkle.ts";
import { toHexUpper } from "../cometbft/hash.ts";
import { timestampToMs } from "../cometbft/time.ts";
import type { Db } from "../merkle-store/index.ts";
import type { Genesis as SequencerGenesis } from "../sequencer/genesis.ts";
import type { VerifiedBlock } from "../sequencer/relayer/reader.ts";
import type { SourceBlock } from "../sequencer/relayer/source.ts";
import type { RollupTxsProof } from "../sequencer/block/rollup-data.ts";
import { AlarmStore, type Alarm, type AlarmKind } from "./alarms.ts";
import { BundleIndex } from "./bundle-index.ts";
import { BundleProofError, proveBundle, type BundleProof } from "./bundle-proof.ts";
import { executeRollupBlock, type RollupBlockInput, type RollupTxResult } from "./execute-block.ts";
import type { FirmBlock } from "./firm-assembler.ts";
import { FirmStore } from "./firm-store.ts";
import { initRollup } from "./genesis.ts";
import { deriveHeader, type DaLocation } from "./header.ts";
import { signHeader, type SignedHeader } from "./header-signature.ts";
import { HeaderStore } from "./header-store.ts";
import type { RollupMetrics } from "./metrics.ts";
import { RollupStore, type BlockRecord, type RollupChain, type RollupStoreOptions } from "./rollup-store.ts";
import { publicKeyOf, type SigningKey } from "./secp256k1-key.ts";
import type { BundleRef, StateMachine } from "./state-machine.ts";
import { SequencerValidatorSets } from "./sequencer-validator-sets.ts";
import { TxIndex } from "./tx-index.ts";
import type { FetchValidatorSet } from "./validator-set-rpc.ts";

export interface RollupNodeOptions<G> {
  /** The node's LevelDB (a Level database or a sublevel). */
  db: Db;
  machine: StateMachine<G>;
  chain: RollupChain;
  /** Committed as height 0 when the store is empty. */
  genesis: G;
  /** The sequencer chain whose blocks are followed: its id, and the genesis validator set the sets are followed from. */
  sequencer: Pick<SequencerGenesis, "chainId" | "validators">;
  /** Where validator sets that committed headers hand over to are fetched from (the sequencer RPC). */
  fetchValidatorSet?: FetchValidatorSet;
  /** secp256k1 key the node signs its headers with. */
  headerKey: SigningKey;
  /** Soft execution waits while it is this many blocks ahead of firm. Default 300. */
  maxSoftAheadBlocks?: number;
  store?: RollupStoreOptions;
  logger: Logger;
  metrics: RollupMetrics;
}

export type ExecutionPath = "soft" | "firm";

export interface ExecutedEvent {
  block: BlockRecord;
  results: RollupTxResult[];
  /** Where the block's data came from: the sequencer stream, or Celestia (then it is firm at once). */
  path: ExecutionPath;
}

export interface RollupNodeEvents {
  executed: [ExecutedEvent];
  firm: [{ height: bigint; da: DaLocation }];
  header: [SignedHeader];
  rollback: [{ fromHeight: bigint; toHeight: bigint }];
  alarm: [Alarm];
}

export const DEFAULT_MAX_SOFT_AHEAD_BLOCKS = 300;
/** Undo logs and old state versions below the firm height are dropped this often (they are never needed again). */
const PRUNE_EVERY_BLOCKS = 256n;

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

export class RollupNode<G = unknown> {
  readonly chain: RollupChain;
  readonly store: RollupStore;
  readonly headers: HeaderStore;
  readonly txs: TxIndex;
  readonly bundles: BundleIndex;
  readonly firm: FirmStore;
  readonly alarms: AlarmStore;
  /** The sequencer's validator set at each height: every sequencer commit is verified against its height's set. */
  readonly validatorSets: SequencerValidatorSets;
  readonly headerSigner: Uint8Array;
  readonly maxSoftAheadBlocks: bigint;
  readonly metrics: RollupMetrics;
  readonly #o: RollupNodeOptions<G>;
  readonly #log: Logger;
  readonly #events = new EventEmitter<RollupNodeEvents>();
  #lane: Promise<unknown> = Promise.resolve();
  #prunedAt = 0n;

  private constructor(o: RollupNodeOptions<G>, stores: { store: RollupStore; headers: HeaderStore; firm: FirmStore; alarms: AlarmStore; validatorSets: SequencerValidatorSets }) {
    this.#o = o;
    this.chain = o.chain;
    this.store = stores.store;
    this.headers = stores.headers;
    this.firm = stores.firm;
    this.alarms = stores.alarms;
    this.validatorSets = stores.validatorSets;
    const records = o.db.sublevel("node") as unknown as Db;
    this.txs = new TxIndex(records);
    this.bundles = new BundleIndex(records);
    this.headerSigner = publicKeyOf(o.headerKey);
    this.maxSoftAheadBlocks = BigInt(o.maxSoftAheadBlocks ?? DEFAULT_MAX_SOFT_AHEAD_BLOCKS);
    this.metrics = o.metrics;
    this.#log = o.logger;
    this.#events.setMaxListeners(0);
  }

  /** Opens the node's stores, committing the genesis state first if they are empty, and derives any header a crash left underived. */
  static async open<G>(o: RollupNodeOptions<G>): Promise<RollupNode<G>> {
    const state = o.db.sublevel("rollup") as unknown as Db;
    const records = o.db.sublevel("node") as unknown as Db;
    const store = await RollupStore.open(state, o.store);
    if (store.chain === undefined) await initRollup(store, o.chain, o.machine, o.genesis);
    const chain = store.chain!;
    if (chain.chainId !== o.chain.chainId || chain.sequencerStartHeight !== o.chain.sequencerStartHeight) {
      throw new Error(`the store holds ${chain.chainId} from sequencer height ${chain.sequencerStartHeight}, not ${o.chain.chainId} from ${o.chain.sequencerStartHeight}`);
    }
    // Every executed block's header was followed before it was executed, so the set after the head is known.
    const validatorSets = await SequencerValidatorSets.open({ db: records, genesis: o.sequencer.validators, knownThrough: Number(chain.sequencerStartHeight + store.head!.height), fetch: o.fetchValidatorSet });
    const node = new RollupNode(o, { store, headers: await HeaderStore.open(state), firm: await FirmStore.open(records), alarms: await AlarmStore.open(records), validatorSets });
    await node.#serial(() => node.#deriveHeaders());
    node.#updateGauges();
    return node;
  }

  get softHeight(): bigint {
    return this.store.head!.height;
  }

  get firmHeight(): bigint {
    return this.firm.height;
  }

  /** The sequencer height soft execution needs next. */
  get nextSoftSequencerHeight(): number {
    return Number(this.chain.sequencerStartHeight + this.softHeight);
  }

  /** The sequencer height firm confirmation needs next. */
  get nextFirmSequencerHeight(): number {
    return Number(this.chain.sequencerStartHeight + this.firmHeight);
  }

  /** True while soft execution must wait for firm confirmation to catch up. */
  get softAhead(): boolean {
    return this.softHeight - this.firmHeight >= this.maxSoftAheadBlocks;
  }

  on<E extends keyof RollupNodeEvents>(event: E, listener: (...args: RollupNodeEvents[E]) => void): () => void {
    this.#events.on(event, listener as never);
    return () => this.#events.off(event, listener as never);
  }

  /** Resolves at the next firm confirmation, or when `signal` aborts. */
  waitForFirm(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        off();
        signal.removeEventListener("abort", done);
        resolve();
      };
      const off = this.on("firm", done);
      signal.addEventListener("abort", done, { once: true });
      if (signal.aborted) done();
    });
  }

  /**
   * Executes a verified sequencer block soft, if it is the next one and soft execution is not too far
   * ahead of firm. False when it was not executed: the caller restarts its stream at
   * nextSoftSequencerHeight (the firm path may have moved the head), or waits for firm.
   */
  executeSoft(source: SourceBlock): Promise<boolean> {
    return this.#serial(async () => {
      if (source.height !== this.nextSoftSequencerHeight || this.softAhead) return false;
      const rollup = source.rollupData.rollups.find((r) => r.secondaryChainId === this.chain.chainId);
      const input = this.#input(source.height, source.blockId.hash, timestampToMs(source.block.header.time), rollup?.entries ?? []);
      const full = { header: source.block.header, commit: source.commit, rollupData: source.rollupData };
      await this.#execute(input, "soft", undefined, (bundle) => proveBundle(full, bundle));
      return true;
    });
  }

  /**
   * Confirms the next block from firm data: marks the soft block firm when it is the same block, rolls
   * back and executes the firm data when it is not (Celestia wins), or executes it when soft execution
   * has not reached it. `members` are the bundle members' entries in the block, for bundle proofs.
   */
  applyFirm(firm: FirmBlock, members: readonly RollupTxsProof[] = []): Promise<void> {
    return this.#serial(async () => {
      const height = this.#rollupHeight(firm.block.height);
      if (height !== this.firmHeight + 1n) throw new RangeError(`firm block ${height} does not follow the firm height ${this.firmHeight}`);
      if (height <= this.softHeight) {
        const soft = (await this.store.block(height))!;
        if (sameBytes(soft.sequencerBlockHash, firm.block.hash) && sameBytes(soft.txsRoot, merkleRoot(firm.entries))) {
          await this.firm.mark(height, firm.da);
          this.#confirmed(soft, firm.da);
          await this.#afterFirm();
          return;
        }
        await this.raiseAlarm("soft-firm-mismatch", `rollup block ${height} executed soft from sequencer block ${toHexUpper(soft.sequencerBlockHash)}, Celestia has ${toHexUpper(firm.block.hash)}; rolled back to ${height - 1n} and executed the firm data`, {
          sequencerHeight: firm.block.height,
          softBlockHash: toHexUpper(soft.sequencerBlockHash),
          firmBlockHash: toHexUpper(firm.block.hash),
          softTxsRoot: toHexUpper(soft.txsRoot),
          firmTxsRoot: toHexUpper(merkleRoot(firm.entries)),
          daHeight: Number(firm.da.height),
        }, height);
        await this.#rollbackTo(height - 1n);
      }
      const input = this.#input(firm.block.height, firm.block.hash, timestampToMs(firm.block.header.time), firm.entries);
      await this.#execute(input, "firm", firm.da, (bundle) => proveFromMembers(firm.block, members, bundle));
      await this.#afterFirm();
    });
  }

  /**
   * Celestia's committed header at `sequencerHeight` names another next validator set than the header
   * the soft path followed there: the soft blocks from that height on are not Celestia's. Rolls them
   * back and forgets the sets their headers named, so the firm data is followed instead (Celestia wins).
   */
  disownSoftFrom(sequencerHeight: number, reason: string): Promise<void> {
    return this.#serial(async () => {
      const height = this.#rollupHeight(sequencerHeight);
      await this.raiseAlarm("soft-firm-mismatch", reason, { sequencerHeight }, height);
      if (height <= this.softHeight) await this.#rollbackTo(height - 1n);
      await this.validatorSets.forgetHeadersFrom(sequencerHeight);
    });
  }

  /** A verified block read on Celestia at an already firm height: anything but the block confirmed there is an equivocation. */
  async checkFirmBlock(block: VerifiedBlock): Promise<void> {
    const height = this.#rollupHeight(block.height);
    if (height < 1n || height > this.firmHeight) return;
    const firm = await this.store.block(height);
    if (firm === undefined || sameBytes(firm.sequencerBlockHash, block.hash)) return;
    await this.raiseAlarm("equivocation", `two committed sequencer blocks at height ${block.height}: ${toHexUpper(firm.sequencerBlockHash)} (firm) and ${toHexUpper(block.hash)}`, {
      sequencerHeight: block.height,
      firmBlockHash: toHexUpper(firm.sequencerBlockHash),
      otherBlockHash: toHexUpper(block.hash),
    }, height);
  }

  async raiseAlarm(kind: AlarmKind, message: string, details: Record<string, unknown>, height?: bigint): Promise<Alarm> {
    const alarm = await this.alarms.raise(kind, message, details, height);
    this.metrics.alarms.inc({ kind });
    this.#log.error({ alarm: alarm.id, kind, height: alarm.height, ...details }, `ALARM: ${message}`);
    this.#events.emit("alarm", alarm);
    return alarm;
  }

  saveDaCursor(daHeight: number): Promise<void> {
    return this.#serial(async () => {
      await this.firm.saveDaCursor(daHeight);
      this.metrics.daHeight.set(daHeight);
    });
  }

  /** The node's signed header at `height` (signatures are deterministic, so signing again gives the same bytes). */
  async signedHeader(height: bigint): Promise<SignedHeader | undefined> {
    const header = await this.headers.header(height);
    return header === undefined ? undefined : signHeader(header, this.#o.headerKey);
  }

  /** Waits for the change in progress, if any. */
  async idle(): Promise<void> {
    await this.#lane.catch(() => {});
  }

  #serial<T>(run: () => Promise<T>): Promise<T> {
    const result = this.#lane.then(run);
    this.#lane = result.catch(() => {});
    return result;
  }

  #rollupHeight(sequencerHeight: number): bigint {
    return BigInt(sequencerHeight) - this.chain.sequencerStartHeight + 1n;
  }

  #input(sequencerHeight: number, blockHash: Uint8Array, blockTimeMs: number, entries: Uint8Array[]): RollupBlockInput {
    return { rollupHeight: this.#rollupHeight(sequencerHeight), sequencerHeight: BigInt(sequencerHeight), sequencerBlockHash: blockHash, blockTimeMs, entries };
  }

  /** Executes and commits one block with its tx results, bundle proofs and (from firm data) firm record in one batch. */
  async #execute(input: RollupBlockInput, path: ExecutionPath, firmDa: DaLocation | undefined, prove: (bundle: BundleRef) => BundleProof): Promise<void> {
    const height = input.rollupHeight;
    const { block, results } = await executeRollupBlock(this.store, this.#o.machine, input, (results) => {
      const proofs = this.#bundleProofs(results, prove);
      return (batch) => {
        this.txs.writes(height, results)(batch);
        this.bundles.writes(height, proofs)(batch);
        if (firmDa !== undefined) this.firm.writes(height, firmDa)(batch);
      };
    });
    const m = this.metrics;
    m.blocks.inc({ path });
    // One increment per result label, not per transaction: a labelled inc costs a lookup each.
    const ok = results.reduce((n, r) => n + (r.ok ? 1 : 0), 0);
    if (ok > 0) m.txs.inc({ result: "ok" }, ok);
    if (results.length > ok) m.txs.inc({ result: "reverted" }, results.length - ok);
    if (path === "soft") m.softLatency.observe(Math.max(0, Date.now() - block.timeMs) / 1000);
    this.#updateGauges();
    this.#events.emit("executed", { block, results, path });
    if (firmDa !== undefined) {
      this.firm.advanced(height);
      this.#confirmed(block, firmDa);
    }
  }

  /** One proof per distinct bundle among the results; a bundle that cannot be proven is logged and skipped. */
  #bundleProofs(results: readonly RollupTxResult[], prove: (bundle: BundleRef) => BundleProof): BundleProof[] {
    const seen = new Set<string>();
    const proofs: BundleProof[] = [];
    for (const { bundle } of results) {
      if (bundle === undefined) continue;
      const id = toHexUpper(bundle.bundleId);
      if (seen.has(id)) continue;
      seen.add(id);
      try {
        proofs.push(prove(bundle));
      } catch (error) {
        if (!(error instanceof BundleProofError)) throw error;
        this.#log.warn({ bundle: toHexUpper(bundle.bundleId), err: error.message }, "no proof for this bundle");
      }
    }
    return proofs;
  }

  #confirmed(block: BlockRecord, da: DaLocation): void {
    this.metrics.firmLatency.observe(Math.max(0, Date.now() - block.timeMs) / 1000);
    this.#updateGauges();
    this.#events.emit("firm", { height: block.height, da });
  }

  async #rollbackTo(height: bigint): Promise<void> {
    const fromHeight = this.softHeight;
    const dropTxs = await this.txs.dropAbove(height);
    const dropBundles = await this.bundles.dropAbove(height);
    await this.store.rollbackTo(height, (batch) => {
      dropTxs(batch);
      dropBundles(batch);
    });
    this.metrics.rollbacks.inc();
    this.#updateGauges();
    this.#log.warn({ fromHeight, toHeight: height }, "rolled back to the firm state");
    this.#events.emit("rollback", { fromHeight, toHeight: height });
  }

  async #afterFirm(): Promise<void> {
    await this.#deriveHeaders();
    if (this.firmHeight - this.#prunedAt >= PRUNE_EVERY_BLOCKS) {
      await this.store.prune(this.firmHeight);
      this.#prunedAt = this.firmHeight;
    }
  }

  /** Derives, stores and announces the header of every firm block that has none yet, in order. */
  async #deriveHeaders(): Promise<void> {
    for (let height = (this.headers.latest?.height ?? 0n) + 1n; height <= this.firmHeight; height++) {
      const [block, da] = await Promise.all([this.store.block(height), this.firm.location(height)]);
      if (block === undefined || da === undefined) throw new Error(`firm block ${height} has no ${block === undefined ? "block record" : "firm record"}`);
      const header = deriveHeader(this.chain.chainId, block, this.headers.latest, da);
      await this.headers.append(header);
      this.metrics.headerHeight.set(Number(height));
      this.#events.emit("header", signHeader(header, this.#o.headerKey));
    }
  }

  #updateGauges(): void {
    this.metrics.softHeight.set(Number(this.softHeight));
    this.metrics.firmHeight.set(Number(this.firmHeight));
  }
}

/**
 * A bundle proof from firm data: the header and commit from the sequencer batch, and each member's
 * entries with its leaf proof as read from that member's namespace.
 */
function proveFromMembers(block: { header: VerifiedBlock["header"]; commit: VerifiedBlock["commit"] }, members: readonly RollupTxsProof[], bundle: BundleRef): BundleProof {
  const proofs = [...new Set(bundle.memberChainIds)].map((id) => {
    const member = members.find((m) => m.secondaryChainId === id);
    if (member === undefined) throw new BundleProofError(`the entries of bundle member ${id} were not read from Celestia`);
    return member;
  });
  return { sequencerHeader: block.header, commit: block.commit, bundle, members: proofs };
}
