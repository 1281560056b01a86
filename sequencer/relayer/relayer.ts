// The relayer: follows a sequencer (its own node, or any node's RPC) and posts every committed block
// to Celestia, batched, compressed and proven, so that rollups can read their transactions with
// nothing but the sequencer's genesis. This file is the I/O shell: pulling blocks from the source,
// deciding when to flush, submitting, recording progress, and telling the sequencer when posting
// falls behind. What goes into a batch is decided by the pure functions in planner.ts.
import { EventEmitter } from "node:events";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { newBlob } from "../../celestia/blob.ts";
import { DaClient, type DaClientOptions } from "../../celestia/da-client.ts";
import { namespaceFromSecondaryChainId, type Namespace } from "../../celestia/namespace.ts";
import { relayBlock, type RelayBlock } from "./block-records.ts";
import { DEFAULT_COMPRESSION, type CompressionChoice } from "./compression.ts";
import { CELESTIA_MAINNET_LIMITS, type DaLimits } from "./da-limits.ts";
import { daStatusOf, type DaStatus } from "./da-status.ts";
import { relayerMetrics, type RelayerMetrics } from "./metrics.ts";
import { planBatch, type BatchStats, type PlannedBatch } from "./planner.ts";
import { ProgressStore, type PostedBlobRecord } from "./progress-store.ts";
import type { BlockSource, ChainTip } from "./source.ts";
import { backoffDelay, SubmissionTooLargeError, Submitter, type Backoff, type FailureReason } from "./submitter.ts";

export interface BackPressureEvent {
  /** True when posting fell behind by more than maxLagBlocks; false once it caught up to half that. */
  active: boolean;
  lagBlocks: number;
}

export interface PostedEvent {
  firstHeight: number;
  lastHeight: number;
  /** DA height of each submission of the batch (usually one). */
  daHeights: number[];
  stats: BatchStats;
}

export interface RelayerEvents {
  posted: [PostedEvent];
  /** A submission attempt failed; it is retried (metrics count these by reason too). */
  submitFailed: [{ reason: FailureReason; error: unknown }];
  backPressure: [BackPressureEvent];
}

export interface RelayerOptions {
  /** Where blocks come from; the relayer owns it from here on and closes it. */
  source: BlockSource;
  /** The celestia-node (or local DA server) to post to. */
  da: DaClientOptions;
  /** Progress is kept in <home>/data/relayer. */
  home: string;
  logger: Logger;
  limits?: Partial<DaLimits>;
  compression?: CompressionChoice;
  /** Flush once the pending blocks' blobs would reach this many bytes. */
  targetSubmissionBytes?: number;
  /** Flush a batch at the latest this long after its first block arrived. Default: the DA's block time. */
  flushIntervalMs?: number;
  /** How long one submission may wait for inclusion before it is submitted again. */
  submitTimeoutMs?: number;
  /** utia per gas to start from, and the most the relayer will pay. */
  gasPrice?: number;
  maxGasPrice?: number;
  /** Blocks behind the sequencer's head at which back-pressure starts. */
  maxLagBlocks?: number;
  /** The hook a node uses to slow block production while posting is behind. */
  onBackPressure?: (event: BackPressureEvent) => void;
  /** Encoded bytes of blocks pulled but not yet posted, at most (at least one block is always held). */
  maxBufferedBytes?: number;
  backoff?: Partial<Backoff>;
}

export const RELAYER_DEFAULTS = {
  /** About what Astria posts per submission. */
  targetSubmissionBytes: 1536 * 1024,
  submitTimeoutMs: 60_000,
  /** Celestia's default minimum gas price, and a cap 25 times that. */
  gasPrice: 0.004,
  maxGasPrice: 0.1,
  maxLagBlocks: 300,
  backoff: { baseDelayMs: 500, maxDelayMs: 30_000 },
  /** Celestia's block time under app v6-v8, when the DA's cannot be measured at start. */
  flushIntervalMs: 6_000,
} as const;

interface Pending {
  block: RelayBlock;
  arrivedAtMs: number;
}

/** The DA's block time from its two newest headers, or undefined when they cannot be read now. */
async function measureDaBlockTime(da: DaClient): Promise<number | undefined> {
  try {
    const head = await da.networkHead({ timeoutMs: 2_000, retry: false });
    if (head.height < 2) return undefined;
    const previous = await da.headerByHeight(head.height - 1, { timeoutMs: 2_000, retry: false });
    const ms = head.timeMs - previous.timeMs;
    return ms > 0 ? ms : undefined;
  } catch {
    return undefined;
  }
}

export class Relayer {
  readonly metrics: RelayerMetrics;
  readonly sequencerNamespace: Namespace;
  readonly flushIntervalMs: number;
  readonly #o: RelayerOptions;
  readonly #source: BlockSource;
  readonly #store: ProgressStore;
  readonly #da: DaClient;
  readonly #submitter: Submitter;
  readonly #logger: Logger;
  readonly #events = new EventEmitter<RelayerEvents>();
  readonly #stop = new AbortController();
  readonly #waiters = new Set<() => void>();
  readonly #backoff: Backoff;
  #limits: DaLimits;
  #pending: Pending[] = [];
  #pendingBytes = 0;
  #pullError: unknown;
  /** Blob bytes per encoded byte of the last batch: how large pending blocks will be once posted. */
  #storedPerEncoded = 1;
  #backPressure = false;
  #running: Promise<void> = Promise.resolve();
  #offTip: () => void = () => {};

  private constructor(o: RelayerOptions, store: ProgressStore, da: DaClient, flushIntervalMs: number) {
    this.#o = o;
    this.#source = o.source;
    this.#store = store;
    this.#da = da;
    this.#logger = o.logger;
    this.#limits = { ...CELESTIA_MAINNET_LIMITS, ...o.limits };
    this.#backoff = { ...RELAYER_DEFAULTS.backoff, ...o.backoff };
    this.flushIntervalMs = flushIntervalMs;
    this.sequencerNamespace = namespaceFromSecondaryChainId(o.source.chainId);
    this.metrics = relayerMetrics();
    this.#events.setMaxListeners(0);
    const m = this.metrics;
    this.#submitter = new Submitter({
      da,
      gasPrice: o.gasPrice ?? RELAYER_DEFAULTS.gasPrice,
      maxGasPrice: o.maxGasPrice ?? Math.max(RELAYER_DEFAULTS.maxGasPrice, o.gasPrice ?? 0),
      timeoutMs: o.submitTimeoutMs ?? RELAYER_DEFAULTS.submitTimeoutMs,
      backoff: this.#backoff,
      logger: o.logger,
      onFailure: (reason, error) => {
        m.retries.inc({ reason });
        this.#events.emit("submitFailed", { reason, error });
      },
      onGasPrice: (price) => m.gasPrice.set(price),
    });
    m.gasPrice.set(this.#submitter.gasPrice);
    m.postedHeight.set(store.lastPostedHeight);
  }

  static async start(o: RelayerOptions): Promise<Relayer> {
    const store = await ProgressStore.open(join(o.home, "data", "relayer"), o.source.chainId);
    const da = new DaClient(o.da);
    const measured = o.flushIntervalMs === undefined ? await measureDaBlockTime(da) : undefined;
    const relayer = new Relayer(o, store, da, o.flushIntervalMs ?? measured ?? RELAYER_DEFAULTS.flushIntervalMs);
    relayer.#offTip = o.source.onTip((tip) => relayer.#updateLag(tip));
    relayer.#updateLag(o.source.tip());
    relayer.#running = relayer.#run();
    o.logger.info(
      { postedHeight: store.lastPostedHeight, namespace: Buffer.from(relayer.sequencerNamespace).toString("hex"), flushIntervalMs: relayer.flushIntervalMs, measuredDaBlockTime: measured !== undefined },
      "relayer started",
    );
    return relayer;
  }

  /** Last sequencer height whose batch landed on the DA layer. */
  get postedHeight(): number {
    return this.#store.lastPostedHeight;
  }

  get gasPrice(): number {
    return this.#submitter.gasPrice;
  }

  /** The DA-final status of a sequencer height. */
  async daStatus(height: number): Promise<DaStatus> {
    return daStatusOf(height, await this.#store.batchContaining(height), this.#source.tip().height);
  }

  /** The DA-final status of the block that committed a transaction, or undefined if the source does not know it. */
  async daStatusOfTx(hash: Uint8Array): Promise<(DaStatus & { txHeight: number }) | undefined> {
    const height = await this.#source.txHeight(hash);
    return height === undefined ? undefined : { ...(await this.daStatus(height)), txHeight: height };
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof RelayerEvents>(event: E, listener: (...args: RelayerEvents[E]) => void): () => void {
    this.#events.on(event, listener as never);
    return () => this.#events.off(event, listener as never);
  }

  /** Stops following and posting (a submission in flight is abandoned: it may still land). */
  async close(): Promise<void> {
    this.#stop.abort();
    this.#offTip();
    await this.#running;
    await this.#source.close();
    await this.#da.close();
    await this.#store.close();
  }

  #notify(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  /** Resolves at the next notify, after `timeoutMs`, or when `signal` aborts. */
  #nextChange(signal: AbortSignal, timeoutMs?: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = timeoutMs === undefined ? undefined : setTimeout(done, Math.max(0, timeoutMs));
      this.#waiters.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    let failures = 0;
    while (!signal.aborted) {
      const postedBefore = this.#store.lastPostedHeight;
      try {
        await this.#follow(signal);
      } catch (error) {
        if (signal.aborted) break;
        // Failures in a row back off further; progress since the last one starts the count again.
        failures = this.#store.lastPostedHeight > postedBefore ? 1 : failures + 1;
        const delayMs = backoffDelay(failures, this.#backoff);
        this.#logger.error({ err: error, delayMs }, "relaying failed; resuming from the last posted height");
        await sleep(delayMs, undefined, { signal }).catch(() => {});
      }
    }
  }

  /** Pulls blocks in the background and posts batches until something fails or the relayer stops. */
  async #follow(stop: AbortSignal): Promise<void> {
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#pullError = undefined;
    const pulling = new AbortController();
    const signal = AbortSignal.any([stop, pulling.signal]);
    const puller = this.#pull(this.#store.lastPostedHeight + 1, signal).catch((error) => {
      this.#pullError = error;
      this.#notify();
    });
    try {
      for (;;) {
        await this.#untilFlushDue(signal);
        const plan = planBatch(
          this.#pending.map((p) => p.block),
          { limits: this.#limits, compression: this.#o.compression ?? DEFAULT_COMPRESSION, sequencerNamespace: this.sequencerNamespace, storedPerEncoded: this.#storedPerEncoded },
        );
        try {
          await this.#post(plan, signal);
        } catch (error) {
          if (!(error instanceof SubmissionTooLargeError)) throw error;
          this.#shrinkLimits(plan, error);
        }
      }
    } finally {
      pulling.abort();
      await puller;
    }
  }

  async #pull(fromHeight: number, signal: AbortSignal): Promise<void> {
    const maxBuffered = this.#o.maxBufferedBytes ?? 2 * this.#limits.maxSubmissionBytes;
    for await (const source of this.#source.blocks(fromHeight, signal)) {
      const block = relayBlock(source);
      this.#pending.push({ block, arrivedAtMs: Date.now() });
      this.#pendingBytes += block.encodedBytes;
      this.#notify();
      while (this.#pendingBytes >= maxBuffered && !signal.aborted) await this.#nextChange(signal);
    }
  }

  async #untilFlushDue(signal: AbortSignal): Promise<void> {
    const target = this.#o.targetSubmissionBytes ?? RELAYER_DEFAULTS.targetSubmissionBytes;
    const maxBuffered = this.#o.maxBufferedBytes ?? 2 * this.#limits.maxSubmissionBytes;
    for (;;) {
      signal.throwIfAborted();
      if (this.#pullError !== undefined) throw this.#pullError;
      const oldest = this.#pending[0];
      if (oldest === undefined) {
        await this.#nextChange(signal);
        continue;
      }
      const waited = Date.now() - oldest.arrivedAtMs;
      if (this.#pendingBytes * this.#storedPerEncoded >= target || this.#pendingBytes >= maxBuffered || waited >= this.flushIntervalMs) return;
      await this.#nextChange(signal, this.flushIntervalMs - waited);
    }
  }

  async #post(plan: PlannedBatch, signal: AbortSignal): Promise<void> {
    const m = this.metrics;
    const landed: PostedBlobRecord[] = [];
    const daHeights: number[] = [];
    for (const submission of plan.submissions) {
      const blobs = submission.map((b) => newBlob({ namespace: b.namespace, data: b.data, shareVersion: 0 }));
      const started = performance.now();
      const daHeight = await this.#submitter.submit(blobs, signal);
      m.submitSeconds.observe((performance.now() - started) / 1000);
      m.submissions.inc();
      daHeights.push(daHeight);
      submission.forEach((b, i) => landed.push({ kind: b.kind, namespace: b.namespace, commitment: blobs[i].commitment, daHeight, part: b.part, parts: b.parts }));
    }
    const first = plan.blocks[0];
    const last = plan.blocks.at(-1)!;
    await this.#store.recordBatch({ firstHeight: first.height, lastHeight: last.height, blobs: landed, postedAtMs: Date.now() }, last.timeMs);

    this.#pending.splice(0, plan.blocks.length);
    this.#pendingBytes -= plan.blocks.reduce((n, b) => n + b.encodedBytes, 0);
    const { stats } = plan;
    this.#storedPerEncoded = stats.blobBytes / stats.encodedBytes;
    m.batches.inc();
    m.postedHeight.set(last.height);
    plan.submissions.flat().forEach((b) => m.blobBytes.inc({ kind: b.kind }, b.data.length));
    m.encodedBytes.inc(stats.encodedBytes);
    m.rollupDataBytes.inc(stats.rollupDataBytes);
    m.squareBytes.inc(stats.squareBytes);
    m.compressionRatio.set(stats.blobBytes / stats.encodedBytes);
    m.sharePaddingRatio.set(stats.squareBytes / stats.blobBytes);
    if (stats.rollupDataBytes > 0) m.bytesPerRollupByte.set(stats.blobBytes / stats.rollupDataBytes);
    this.#logger.info(
      { heights: `${first.height}..${last.height}`, daHeights, blobs: landed.length, blobBytes: stats.blobBytes, rollupDataBytes: stats.rollupDataBytes, compression: +(stats.blobBytes / stats.encodedBytes).toFixed(3) },
      "posted batch",
    );
    this.#updateLag(this.#source.tip());
    this.#notify();
    this.#events.emit("posted", { firstHeight: first.height, lastHeight: last.height, daHeights, stats });
  }

  /** The DA refused a submission as too large: its real limit is below what was configured. */
  #shrinkLimits(plan: PlannedBatch, error: SubmissionTooLargeError): void {
    const largest = Math.max(...plan.submissions.map((s) => s.reduce((n, b) => n + b.data.length, 0)));
    const maxSubmissionBytes = Math.max(64 * 1024, Math.floor(Math.min(largest, this.#limits.maxSubmissionBytes) * 0.75));
    this.#limits = { ...this.#limits, maxSubmissionBytes, maxBlobBytes: Math.min(this.#limits.maxBlobBytes, maxSubmissionBytes) };
    this.#logger.warn({ answer: error.message, maxSubmissionBytes }, "the DA refused a submission as too large; planning smaller ones");
  }

  #updateLag(tip: ChainTip): void {
    const m = this.metrics;
    const posted = this.#store.lastPostedHeight;
    const lag = Math.max(0, tip.height - posted);
    m.sequencerHeight.set(tip.height);
    m.lagBlocks.set(lag);
    m.lagSeconds.set(lag > 0 && this.#store.lastPostedTimeMs > 0 ? Math.max(0, (tip.timeMs - this.#store.lastPostedTimeMs) / 1000) : 0);
    const maxLag = this.#o.maxLagBlocks ?? RELAYER_DEFAULTS.maxLagBlocks;
    const active = this.#backPressure ? lag > maxLag / 2 : lag > maxLag;
    if (active === this.#backPressure) return;
    this.#backPressure = active;
    m.backPressure.set(active ? 1 : 0);
    if (active) this.#logger.warn({ lagBlocks: lag, maxLagBlocks: maxLag }, "posting to the DA layer fell behind; asking the sequencer to slow down");
    else this.#logger.info({ lagBlocks: lag }, "posting caught up; back-pressure released");
    this.#o.onBackPressure?.({ active, lagBlocks: lag });
    this.#events.emit("backPressure", { active, lagBlocks: lag });
  }
}

export function startRelayer(o: RelayerOptions): Promise<Relayer> {
  return Relayer.start(o);
}
