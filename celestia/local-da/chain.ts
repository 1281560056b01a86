// The local DA network: one validator that makes a block every block time, empty or not, like
// Celestia. A submission (one pay-for-blobs) waits in a queue, goes into the next block that has
// room for all of its blobs, and is answered with that height once the block is on disk.
import { EventEmitter } from "node:events";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { merkleRoot } from "../merkle.ts";
import { sha256 } from "../../cometbft/hash.ts";
import { headerHash, headerJson, EMPTY_BLOCK_ID, type BlockID, type Header } from "../../cometbft/header.ts";
import { generateKeyFile, keyFromJson, type PrivValidatorKeyJson } from "../../cometbft/key-file.ts";
import { ed25519Sign, type Ed25519Key } from "../../cometbft/ed25519.ts";
import { timestampFromMs, timestampToMs, parseRfc3339 } from "../../cometbft/time.ts";
import { validatorAddress, validatorJson, validatorSetHash } from "../../cometbft/validator-set.ts";
import { commitFromJson, commitHash, commitJson, voteSignBytes, PRECOMMIT, type Commit } from "../../cometbft/vote.ts";
import type { Blob } from "../blob.ts";
import { buildDataSquare, type DataSquare } from "../data-square.ts";
import { dahJson, type ExtendedHeaderJson } from "../header.ts";
import { layoutSquare, SquareTooSmallError } from "../square-layout.ts";
import { sparseSharesNeeded } from "../share.ts";
import { quoteFee } from "./fees.ts";
import type { TxConfigJson } from "../tx-config.ts";
import { LocalDaStore, type StoredBlockData } from "./store.ts";

export interface LocalDaConfig {
  home: string;
  chainId: string;
  blockTimeMs: number;
  /** Largest original square width (Celestia mainnet: 128). */
  maxSquareSize: number;
  /** Largest total blob data in one submission, in bytes (Celestia: MaxTxSize, 8 MiB). */
  maxBlobBytes: number;
  /** utia per gas. */
  minGasPrice: number;
  /** utia the node's account starts with. */
  initialBalance: bigint;
  logger: Logger;
}

export const DEFAULT_LOCAL_DA: Omit<LocalDaConfig, "home" | "logger"> = {
  chainId: "metro-local-da",
  blockTimeMs: 1000,
  maxSquareSize: 128,
  maxBlobBytes: 8 * 1024 * 1024,
  minGasPrice: 0.004,
  initialBalance: 1_000_000_000_000n,
};

const CELESTIA_APP_VERSION = 9n;
const EMPTY_HASH = merkleRoot([]);
/** How many recent squares to keep for proofs; older ones are rebuilt from their blobs on demand. */
const SQUARE_CACHE = 8;

interface Pending {
  blobs: Blob[];
  fee: bigint;
  resolve: (height: number) => void;
  reject: (error: Error) => void;
}

export class SubmitError extends Error {
  override name = "SubmitError";
}

function sharesOf(blob: Blob): number {
  return sparseSharesNeeded(blob.data.length, blob.shareVersion === 1);
}

export class LocalDaChain {
  readonly config: LocalDaConfig;
  readonly #store: LocalDaStore;
  readonly #key: Ed25519Key;
  readonly #events = new EventEmitter<{ header: [ExtendedHeaderJson] }>();
  readonly #squares = new Map<number, DataSquare>();
  #queue: Pending[] = [];
  #head = 0;
  #balance: bigint;
  #lastBlockId: BlockID = EMPTY_BLOCK_ID;
  #lastCommit: Commit | undefined;
  #lastTimeMs = 0;
  #timer: NodeJS.Timeout | undefined;
  #producing: Promise<void> = Promise.resolve();
  #running = false;

  private constructor(config: LocalDaConfig, store: LocalDaStore, key: Ed25519Key, balance: bigint) {
    this.config = config;
    this.#store = store;
    this.#key = key;
    this.#balance = balance;
    this.#events.setMaxListeners(0);
  }

  static async open(config: LocalDaConfig): Promise<LocalDaChain> {
    mkdirSync(config.home, { recursive: true });
    const keyPath = join(config.home, "priv_validator_key.json");
    const key = existsSync(keyPath) ? keyFromJson(JSON.parse(readFileSync(keyPath, "utf8")) as PrivValidatorKeyJson) : generateKeyFile(keyPath);
    const store = new LocalDaStore(join(config.home, "blocks"));
    await store.open();
    const meta = await store.meta();
    const chain = new LocalDaChain(config, store, key, meta?.balance ?? config.initialBalance);
    if (meta) {
      const last = (await store.header(meta.head))!;
      chain.#head = meta.head;
      chain.#lastCommit = commitFromJson(last.commit);
      chain.#lastBlockId = chain.#lastCommit.blockId;
      chain.#lastTimeMs = timestampToMs(parseRfc3339(last.header.time));
      config.logger.info({ height: meta.head }, "local DA resumed");
    }
    return chain;
  }

  get head(): number {
    return this.#head;
  }

  get balance(): bigint {
    return this.#balance;
  }

  start(): void {
    this.#running = true;
    this.#schedule();
  }

  /** Stops making blocks; queued submissions are refused. */
  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    await this.#producing;
    for (const p of this.#queue.splice(0)) p.reject(new SubmitError("the DA server is shutting down"));
    await this.#store.close();
  }

  onHeader(listener: (header: ExtendedHeaderJson) => void): () => void {
    this.#events.on("header", listener);
    return () => this.#events.off("header", listener);
  }

  /** Queues one pay-for-blobs; resolves with the height of the block that includes it. */
  submit(blobs: Blob[], txConfig: TxConfigJson): Promise<number> {
    if (!this.#running) return Promise.reject(new SubmitError("the DA server is shutting down"));
    if (blobs.length === 0) return Promise.reject(new SubmitError("state: no blobs provided"));
    const total = blobs.reduce((n, b) => n + b.data.length, 0);
    if (total > this.config.maxBlobBytes) {
      return Promise.reject(new SubmitError(`blob(s) too large: the blobs in this MsgPayForBlobs total ${total} bytes, more than the maximum of ${this.config.maxBlobBytes}`));
    }
    const shares = blobs.map(sharesOf);
    try {
      layoutSquare(shares, { maxSquareSize: this.config.maxSquareSize });
    } catch (error) {
      if (!(error instanceof SquareTooSmallError)) throw error;
      const capacity = this.config.maxSquareSize ** 2;
      return Promise.reject(
        new SubmitError(`the number of shares occupied by blobs in this MsgPayForBlobs ${error.neededShares} exceeds the max number of shares available for blob data ${capacity}: blob(s) too large`),
      );
    }
    let fee: bigint;
    try {
      fee = quoteFee(shares, txConfig, this.config.minGasPrice).fee;
    } catch (error) {
      return Promise.reject(new SubmitError((error as Error).message));
    }
    const committed = this.#queue.reduce((n, p) => n + p.fee, 0n);
    if (this.#balance - committed < fee) {
      return Promise.reject(new SubmitError(`spendable balance ${this.#balance - committed}utia is smaller than ${fee}utia: insufficient funds`));
    }
    return new Promise((resolve, reject) => this.#queue.push({ blobs, fee, resolve, reject }));
  }

  async header(height: number): Promise<ExtendedHeaderJson | undefined> {
    return this.#store.header(height);
  }

  async block(height: number): Promise<StoredBlockData | undefined> {
    return this.#store.block(height);
  }

  /** The extended square of `height` (rebuilt from its blobs when not cached). */
  async square(height: number): Promise<DataSquare | undefined> {
    const cached = this.#squares.get(height);
    if (cached) return cached;
    const block = await this.#store.block(height);
    if (!block) return undefined;
    const square = buildDataSquare(block.blobs, this.config.maxSquareSize);
    this.#cacheSquare(height, square);
    return square;
  }

  /** Resolves when `height` exists; rejects when `signal` aborts. */
  waitForHeight(height: number, signal?: AbortSignal): Promise<ExtendedHeaderJson> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (height > this.#head) return false;
        this.#store.header(height).then((h) => (h ? resolve(h) : reject(new Error(`header ${height} is missing`))), reject);
        return true;
      };
      if (check()) return;
      const off = this.onHeader(() => {
        if (check()) cleanup();
      });
      const onAbort = () => {
        cleanup();
        reject(signal?.reason ?? new Error("aborted"));
      };
      const cleanup = () => {
        off();
        signal?.removeEventListener("abort", onAbort);
      };
      signal?.addEventListener("abort", onAbort);
    });
  }

  #cacheSquare(height: number, square: DataSquare): void {
    this.#squares.set(height, square);
    for (const old of this.#squares.keys()) {
      if (this.#squares.size <= SQUARE_CACHE) break;
      this.#squares.delete(old);
    }
  }

  #schedule(): void {
    if (!this.#running) return;
    const now = Date.now();
    const next = Math.max(this.#lastTimeMs + this.config.blockTimeMs, now);
    this.#timer = setTimeout(() => {
      this.#producing = this.#produce()
        .catch((error) => this.config.logger.error({ err: error }, "making a block failed"))
        .finally(() => this.#schedule());
    }, next - now);
  }

  // The submissions, oldest first, that fit one square together.
  #takeFitting(): Pending[] {
    const taken: Pending[] = [];
    const shares: { shares: number; namespace: Uint8Array }[] = [];
    while (this.#queue.length > 0) {
      const candidate = this.#queue[0];
      const more = candidate.blobs.map((b) => ({ shares: sharesOf(b), namespace: b.namespace }));
      try {
        layoutSquare([...shares, ...more], { maxSquareSize: this.config.maxSquareSize });
      } catch (error) {
        if (error instanceof SquareTooSmallError && taken.length > 0) break;
        throw error;
      }
      shares.push(...more);
      taken.push(this.#queue.shift()!);
    }
    return taken;
  }

  async #produce(): Promise<void> {
    const taken = this.#takeFitting();
    try {
      const height = this.#head + 1;
      const timeMs = Math.max(Date.now(), this.#lastTimeMs + 1);
      const square = buildDataSquare(taken.flatMap((p) => p.blobs), this.config.maxSquareSize);
      const fees = taken.reduce((n, p) => n + p.fee, 0n);
      const { json, blockId, commit } = this.#seal(height, timeMs, square, this.#balance - fees);
      await this.#store.putBlock(json, { height, squareSize: square.k, blobs: square.blobs }, { head: height, balance: this.#balance - fees });
      this.#head = height;
      this.#balance -= fees;
      this.#lastBlockId = blockId;
      this.#lastCommit = commit;
      this.#lastTimeMs = timeMs;
      this.#cacheSquare(height, square);
      for (const p of taken) p.resolve(height);
      this.#events.emit("header", json);
    } catch (error) {
      for (const p of taken) p.reject(error as Error);
      throw error;
    }
  }

  // The header, its commit by the single validator, and the ExtendedHeader JSON.
  #seal(height: number, timeMs: number, square: DataSquare, balance: bigint): { json: ExtendedHeaderJson; blockId: BlockID; commit: Commit } {
    const validator = { pubKey: this.#key.publicKey, votingPower: 1000n };
    const proposer = validatorAddress(this.#key.publicKey);
    const valsHash = validatorSetHash([validator]);
    const header: Header = {
      version: { block: 11n, app: CELESTIA_APP_VERSION },
      chainId: this.config.chainId,
      height: BigInt(height),
      time: timestampFromMs(timeMs),
      lastBlockId: this.#lastBlockId,
      lastCommitHash: commitHash(this.#lastCommit),
      dataHash: merkleRoot([...square.rowRoots, ...square.columnRoots]),
      validatorsHash: valsHash,
      nextValidatorsHash: valsHash,
      consensusHash: EMPTY_HASH,
      appHash: sha256(new TextEncoder().encode(`balance:${balance}`)),
      lastResultsHash: EMPTY_HASH,
      evidenceHash: EMPTY_HASH,
      proposerAddress: proposer,
    };
    const hash = headerHash(header);
    // The local network gossips no block parts; its block id names a single part derived from the header.
    const blockId: BlockID = { hash, partSetHeader: { total: 1, hash: merkleRoot([hash]) } };
    const timestamp = timestampFromMs(timeMs);
    const signature = ed25519Sign(this.#key, voteSignBytes({ chainId: this.config.chainId, type: PRECOMMIT, height: header.height, round: 0, blockId, timestamp }));
    const commit: Commit = { height: header.height, round: 0, blockId, signatures: [{ blockIdFlag: 2, validatorAddress: proposer, timestamp, signature }] };
    const v = validatorJson(validator);
    return { json: { header: headerJson(header), validator_set: { validators: [v], proposer: v }, commit: commitJson(commit), dah: dahJson(square) }, blockId, commit };
  }
}

