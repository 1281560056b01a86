// Watching the confirmation levels as they happen: commits from a validator's NewBlock events, and
// soft, firm and header heights from every rollup node's /v1/status, polled often. Each records
// the time it first saw a height; a transaction reached a level when its block's height was reached.
import http from "node:http";
import { WebSocket } from "ws";

/** Sequencer heights a node reached at a level, each with the time it was first seen; heights only grow. */
export class HeightClock {
  readonly #heights: number[] = [];
  readonly #times: number[] = [];

  observe(height: number, at: number): void {
    if (height > (this.#heights.at(-1) ?? 0)) {
      this.#heights.push(height);
      this.#times.push(at);
    }
  }

  get height(): number {
    return this.#heights.at(-1) ?? 0;
  }

  /** When a height at or above `height` was first seen, or undefined if not yet. */
  reachedAt(height: number): number | undefined {
    let lo = 0;
    let hi = this.#heights.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#heights[mid] >= height) hi = mid;
      else lo = mid + 1;
    }
    return this.#times[lo];
  }
}

export const ROLLUP_LEVELS = ["soft", "firm", "header"] as const;
export type RollupLevel = (typeof ROLLUP_LEVELS)[number];

interface RollupStatus {
  sequencer_start_height: number;
  soft: { sequencer_height: number };
  firm: { height: number };
  latest_header: { sequencer_height: number } | null;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function getJson<T>(url: string): Promise<T> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as T);
          } catch (error) {
            reject(error);
          }
        });
        res.on("error", reject);
      })
      .on("error", reject);
  });
}

/**
 * One rollup node's soft, firm and header heights, polled every `intervalMs` (a rollup block per
 * sequencer block, so rollup height h is sequencer height h + start - 1). The node's API pushes
 * transaction events only per subscribed hash (at most 1,000 a connection), so polling its status is
 * how thousands of transactions a second are followed; a level is seen at most one interval late.
 */
export class RollupWatcher {
  readonly url: string;
  readonly levels: Record<RollupLevel, HeightClock> = { soft: new HeightClock(), firm: new HeightClock(), header: new HeightClock() };
  #running = true;
  readonly #done: Promise<void>;

  constructor(url: string, intervalMs: number) {
    this.url = url;
    this.#done = this.#poll(intervalMs);
  }

  async #poll(intervalMs: number): Promise<void> {
    while (this.#running) {
      const asked = performance.now();
      try {
        const s = await getJson<RollupStatus>(`${this.url}/v1/status`);
        const at = performance.now();
        this.levels.soft.observe(s.soft.sequencer_height, at);
        if (s.firm.height > 0) this.levels.firm.observe(s.firm.height + s.sequencer_start_height - 1, at);
        if (s.latest_header) this.levels.header.observe(s.latest_header.sequencer_height, at);
      } catch {
        // A busy node answering late or not at all shows up as late levels, which is what it is.
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, intervalMs - (performance.now() - asked))));
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#done;
  }
}

interface NewBlockMessage {
  result?: { data?: { value?: { block?: { header: { height: string }; data?: { txs?: string[] | null } } } } };
}

/** A validator's NewBlock events: each transaction's block height and when the commit was seen. */
export class CommitWatcher {
  readonly #socket: WebSocket;
  /** base64 TxRaw -> the callback for the transaction being watched. */
  readonly #watched = new Map<string, (height: number, at: number) => void>();

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.on("message", (raw) => {
      const at = performance.now();
      const block = (JSON.parse(String(raw)) as NewBlockMessage).result?.data?.value?.block;
      if (!block) return;
      const height = Number(block.header.height);
      for (const tx of block.data?.txs ?? []) {
        const committed = this.#watched.get(tx);
        if (committed === undefined) continue;
        this.#watched.delete(tx);
        committed(height, at);
      }
    });
  }

  static async connect(websocketUrl: string): Promise<CommitWatcher> {
    // A block of a few thousand transactions is megabytes of JSON.
    const socket = new WebSocket(websocketUrl, { maxPayload: 256 * 1024 * 1024 });
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    socket.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "subscribe", params: { query: "tm.event='NewBlock'" } }));
    return new CommitWatcher(socket);
  }

  watch(base64Tx: string, committed: (height: number, at: number) => void): void {
    this.#watched.set(base64Tx, committed);
  }

  close(): void {
    this.#socket.close();
  }
}
