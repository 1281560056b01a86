// A sequencer node: the chain store, application, mempool and consensus engine of one home
// directory, and the operations the RPC offers on them (admit, simulate, wait, receipts).
import { EventEmitter } from "node:events";
import { mkdirSync } from "node:fs";
import type { Logger } from "pino";
import { fromHex, sha256, toHexUpper } from "../cometbft/hash.ts";
import type { Commit } from "../cometbft/vote.ts";
import { parseRfc3339, timestampToMs } from "../cometbft/time.ts";
import { SequencerApp, type ExecutedBlock } from "./app.ts";
import { homePaths, loadConfig, type NodeConfig } from "./config.ts";
import { loadGenesis, type Genesis, type GenesisJson } from "./genesis.ts";
import { Mempool } from "./mempool/mempool.ts";
import { sequencerMetrics, type SequencerMetrics } from "./metrics.ts";
import { gasUsed } from "./params.ts";
import { PrivValidator } from "./consensus/privval.ts";
import { SoloEngine } from "./consensus/solo.ts";
import { startCommittee, type Committee } from "./consensus/committee.ts";
import { signReceipt, type Receipt } from "./receipt.ts";
import { ChainStore, type ChainHead } from "./store/chain-store.ts";
import { decodeTx } from "./tx/decode.ts";
import { TxError } from "./tx/errors.ts";

export interface CommittedEvent {
  head: ChainHead;
  executed: ExecutedBlock;
  commit: Commit;
}

export interface CheckTxResult {
  code: number;
  codespace: string;
  log: string;
  hash: string;
}

/** How long admitted transactions' receive times may wait before they are written to disk. */
const RECEIPT_FLUSH_MS = 100;

export interface NodeOptions {
  logger: Logger;
  /** Settings that win over config/config.json. */
  config?: Partial<NodeConfig>;
  now?: () => number;
}

export class SequencerNode {
  readonly home: string;
  readonly config: NodeConfig;
  readonly genesis: Genesis;
  readonly genesisJson: GenesisJson;
  readonly store: ChainStore;
  readonly mempool: Mempool;
  readonly app: SequencerApp;
  readonly privval: PrivValidator;
  readonly metrics: SequencerMetrics;
  readonly logger: Logger;
  readonly #events = new EventEmitter<{ committed: [CommittedEvent] }>();
  /** A single validator produces blocks alone; a committee runs BFT over the validator network. */
  readonly #solo: SoloEngine | undefined;
  #committee: Committee | undefined;
  readonly #now: () => number;
  /** Receive times not yet on disk, by hex tx hash; flushed in batches off the admission path. */
  readonly #unflushedReceipts = new Map<string, { hash: Uint8Array; receivedAtMs: number }>();
  #receiptFlush: NodeJS.Timeout | undefined;

  private constructor(args: {
    home: string;
    config: NodeConfig;
    genesis: Genesis;
    genesisJson: GenesisJson;
    store: ChainStore;
    privval: PrivValidator;
    options: NodeOptions;
  }) {
    this.home = args.home;
    this.config = args.config;
    this.genesis = args.genesis;
    this.genesisJson = args.genesisJson;
    this.store = args.store;
    this.privval = args.privval;
    this.logger = args.options.logger;
    this.#now = args.options.now ?? Date.now;
    this.metrics = sequencerMetrics();
    this.mempool = new Mempool(this.config.mempool);
    this.app = new SequencerApp(this.genesis, this.store, this.mempool);
    this.#events.setMaxListeners(0);
    this.#solo = this.#isCommittee() ? undefined : new SoloEngine({
      app: this.app,
      privval: this.privval,
      walPath: homePaths(this.home).soloWal,
      blockTimeMs: this.config.blockTimeMs,
      now: this.#now,
      onCommit: (head, executed, commit) => this.#committed({ head, executed, commit }),
      onError: (error) => this.logger.error({ err: error }, "block production failed"),
    });
  }

  static async open(home: string, options: NodeOptions): Promise<SequencerNode> {
    const paths = homePaths(home);
    const fileConfig = loadConfig(home);
    const config = { ...fileConfig, ...options.config, rpc: { ...fileConfig.rpc, ...options.config?.rpc }, mempool: { ...fileConfig.mempool, ...options.config?.mempool } };
    const { genesis, json } = loadGenesis(paths.genesis);
    mkdirSync(paths.data, { recursive: true });
    const store = await ChainStore.open(paths.chainDb, config.indexedEvents);
    if (!store.head) {
      await store.initGenesis(genesis.accounts, timestampToMs(parseRfc3339(json.genesis_time)));
      options.logger.info({ chainId: genesis.chainId, accounts: genesis.accounts.length }, "initialized state from genesis");
    }
    const privval = new PrivValidator(paths.privValidatorKey, paths.privValidatorState);
    return new SequencerNode({ home, config, genesis, genesisJson: json, store, privval, options });
  }

  get chainId(): string {
    return this.genesis.chainId;
  }

  get head(): ChainHead {
    return this.app.head;
  }

  #isCommittee(): boolean {
    return this.genesis.validators.length > 1 || this.config.p2p.persistentPeers.length > 0;
  }

  /** The validator network's peer id and addresses, when this node is in a committee. */
  get network(): { peerId: string; addresses: string[] } | undefined {
    return this.#committee && { peerId: this.#committee.network.peerId, addresses: this.#committee.network.addresses };
  }

  async start(): Promise<void> {
    this.metrics.height.set(this.head.height);
    if (this.#solo) {
      await this.#solo.start();
    } else {
      const paths = homePaths(this.home);
      this.#committee = await startCommittee({
        app: this.app,
        privval: this.privval,
        nodeKeyPath: paths.nodeKey,
        walPath: paths.consensusWal,
        p2p: this.config.p2p,
        blockTimeMs: this.config.blockTimeMs,
        timeouts: this.config.consensus,
        registry: this.metrics.registry,
        logger: this.logger,
        onCommit: (head, executed, commit) => this.#committed({ head, executed, commit }),
        admit: async (tx) => void (await this.checkTx(tx, { fromPeer: true })),
      });
    }
    this.logger.info({ height: this.head.height, blockTimeMs: this.config.blockTimeMs, validators: this.genesis.validators.length }, "sequencer started");
  }

  async stop(): Promise<void> {
    await this.#solo?.stop();
    await this.#committee?.stop();
    clearTimeout(this.#receiptFlush);
    await this.#flushReceipts();
    await this.store.close();
  }

  async #flushReceipts(): Promise<void> {
    this.#receiptFlush = undefined;
    const entries = [...this.#unflushedReceipts.values()];
    if (entries.length === 0) return;
    await this.store.putReceivedTimes(entries.map((e) => [e.hash, e.receivedAtMs] as const));
    for (const e of entries) this.#unflushedReceipts.delete(toHexUpper(e.hash));
  }

  onCommitted(listener: (event: CommittedEvent) => void): () => void {
    this.#events.on("committed", listener);
    return () => this.#events.off("committed", listener);
  }

  #committed(event: CommittedEvent): void {
    const { head, executed } = event;
    const m = this.metrics;
    m.height.set(head.height);
    m.blockTxs.observe(executed.txs.length);
    m.blockBytes.observe(executed.block.txs.reduce((n, t) => n + t.length, 0));
    m.rollupTxs.inc(executed.execution.outcomes.reduce((n, o) => n + o.rollupTxHashes.length, 0));
    m.mempoolSize.set(this.mempool.size);
    m.mempoolBytes.set(this.mempool.bytes);
    this.logger.debug({ height: head.height, txs: executed.txs.length }, "committed block");
    this.#events.emit("committed", event);
  }

  /** CheckTx: admits a transaction to the mempool and signs its C0 receipt, or says why not. */
  async checkTx(bytes: Uint8Array, origin: { fromPeer?: boolean } = {}): Promise<CheckTxResult> {
    let hash: string | undefined;
    try {
      const tx = decodeTx(bytes, this.genesis.params);
      hash = tx.hashHex;
      const account = await this.store.account(tx.signer);
      this.mempool.admit(tx, hash, account, { chainId: this.chainId, params: this.genesis.params });
      this.app.markVerified(hash, account!.accountNumber);
      this.#unflushedReceipts.set(hash, { hash: tx.hash, receivedAtMs: this.#now() });
      this.#receiptFlush ??= setTimeout(() => {
        this.#flushReceipts().catch((error) => this.logger.error({ err: error }, "persisting receipt times failed"));
      }, RECEIPT_FLUSH_MS);
      this.metrics.txsAdmitted.inc({ result: "ok" });
      // Full mesh: whoever admits a transaction first tells every other validator, once.
      if (!origin.fromPeer) this.#committee?.gossipTx(bytes);
      return { code: 0, codespace: "", log: "", hash };
    } catch (error) {
      if (!(error instanceof TxError)) throw error;
      this.metrics.txsAdmitted.inc({ result: error.codespace === "sdk" ? `sdk_${error.code}` : `${error.codespace}_${error.code}` });
      return { code: error.code, codespace: error.codespace, log: error.message, hash: hash ?? toHexUpper(sha256(bytes)) };
    }
  }

  /** Gas a transaction uses: a pure function of its size; signatures are not checked. */
  simulate(bytes: Uint8Array): { gasUsed: bigint } {
    decodeTx(bytes, this.genesis.params, { simulate: true });
    return { gasUsed: gasUsed(this.genesis.params, bytes.length) };
  }

  /**
   * The C0 receipt of an admitted transaction, signed now over the time it was received (the
   * signature is deterministic, so asking twice gives the same receipt).
   */
  async receipt(hashHex: string): Promise<Receipt | undefined> {
    const hash = fromHex(hashHex);
    const receivedAtMs = this.#unflushedReceipts.get(toHexUpper(hash))?.receivedAtMs ?? (await this.store.receivedTime(hash));
    return receivedAtMs === undefined ? undefined : signReceipt(this.privval.key, this.chainId, hash, receivedAtMs);
  }

  /** Resolves with the height once a transaction is committed, or undefined after `timeoutMs`. */
  async waitForTx(hashHex: string, timeoutMs: number, signal?: AbortSignal): Promise<number | undefined> {
    const hash = fromHex(hashHex);
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        unsubscribe();
        signal?.removeEventListener("abort", onAbort);
      };
      const done = (height: number | undefined) => {
        cleanup();
        resolve(height);
      };
      const onAbort = () => done(undefined);
      const timer = setTimeout(() => done(undefined), timeoutMs);
      // Listen before looking in the store: a block committed while the lookup runs is still seen.
      const unsubscribe = this.onCommitted(({ head, executed }) => {
        if (executed.txs.some((t) => Buffer.compare(t.hash, hash) === 0)) done(head.height);
      });
      signal?.addEventListener("abort", onAbort);
      if (signal?.aborted) onAbort();
      this.store.txLocation(hash).then(
        (found) => found && done(found.height),
        (error) => {
          cleanup();
          reject(error);
        },
      );
    });
  }
}

