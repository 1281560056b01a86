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
import { encodeReceipt, signReceipt, decodeReceipt, type Receipt } from "./receipt.ts";
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
  receipt?: Receipt;
}

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
  readonly #engine: SoloEngine;
  readonly #now: () => number;

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
    this.#engine = new SoloEngine({
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
    const store = await ChainStore.open(paths.chainDb);
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

  async start(): Promise<void> {
    this.metrics.height.set(this.head.height);
    await this.#engine.start();
    this.logger.info({ height: this.head.height, blockTimeMs: this.config.blockTimeMs }, "sequencer started");
  }

  async stop(): Promise<void> {
    await this.#engine.stop();
    await this.store.close();
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
  async checkTx(bytes: Uint8Array): Promise<CheckTxResult> {
    const hash = toHexUpper(sha256(bytes));
    try {
      const tx = decodeTx(bytes, this.genesis.params);
      const account = await this.store.account(tx.signer);
      this.mempool.admit(tx, hash, account, { chainId: this.chainId, params: this.genesis.params });
      this.app.markVerified(hash, account!.accountNumber);
      const receipt = signReceipt(this.privval.key, this.chainId, tx.hash, this.#now());
      await this.store.putReceipt(tx.hash, encodeReceipt(receipt));
      this.metrics.txsAdmitted.inc({ result: "ok" });
      return { code: 0, codespace: "", log: "", hash, receipt };
    } catch (error) {
      if (!(error instanceof TxError)) throw error;
      this.metrics.txsAdmitted.inc({ result: error.codespace === "sdk" ? `sdk_${error.code}` : `${error.codespace}_${error.code}` });
      return { code: error.code, codespace: error.codespace, log: error.message, hash };
    }
  }

  /** Gas a transaction uses: a pure function of its size; signatures are not checked. */
  simulate(bytes: Uint8Array): { gasUsed: bigint } {
    decodeTx(bytes, this.genesis.params, { simulate: true });
    return { gasUsed: gasUsed(this.genesis.params, bytes.length) };
  }

  async receipt(hashHex: string): Promise<Receipt | undefined> {
    const raw = await this.store.receipt(fromHex(hashHex));
    return raw && decodeReceipt(raw);
  }

  /** Resolves with the height once a transaction is committed, or undefined after `timeoutMs`. */
  async waitForTx(hashHex: string, timeoutMs: number, signal?: AbortSignal): Promise<number | undefined> {
    const hash = fromHex(hashHex);
    const found = await this.store.txLocation(hash);
    if (found) return found.height;
    return new Promise((resolve) => {
      const done = (height: number | undefined) => {
        clearTimeout(timer);
        unsubscribe();
        signal?.removeEventListener("abort", onAbort);
        resolve(height);
      };
      const onAbort = () => done(undefined);
      const timer = setTimeout(() => done(undefined), timeoutMs);
      const unsubscribe = this.onCommitted(({ head, executed }) => {
        if (executed.txs.some((t) => Buffer.compare(t.hash, hash) === 0)) done(head.height);
      });
      signal?.addEventListener("abort", onAbort);
    });
  }
}

